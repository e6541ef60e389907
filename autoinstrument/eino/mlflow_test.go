package eino_test

import (
	"context"
	"fmt"
	"strings"
	"testing"
	"time"

	"github.com/cloudwego/eino/compose"
	"github.com/cloudwego/eino/flow/agent"

	"github.com/mlflowtrace/mlflowtrace-go/autoinstrument/eino"
	"github.com/mlflowtrace/mlflowtrace-go/internal/llmtest"
	"github.com/mlflowtrace/mlflowtrace-go/internal/mlflowtest"
	"github.com/mlflowtrace/mlflowtrace-go/tracing"
)

// TestMLflowReadsTraces sends a ReAct agent run to a real MLflow server and
// reads it back with MLflow's Python client (MlflowClient.get_trace): span
// types and parents, chat inputs and outputs, model, provider, token usage
// of the spans and the trace, previews.
func TestMLflowReadsTraces(t *testing.T) {
	srv := mlflowtest.Shared(t)
	exp := fmt.Sprintf("eino-%d", time.Now().UnixNano())
	env := map[string]string{"MLFLOW_TRACKING_URI": srv.URL, "MLFLOW_EXPERIMENT_NAME": exp}
	p, err := tracing.Init(context.Background(), tracing.WithoutGlobalTracerProvider(),
		tracing.WithGetenv(func(k string) string { return env[k] }))
	if err != nil {
		t.Fatal(err)
	}
	a := newAgent(t, llmtest.Start(t))
	if _, err := a.Generate(context.Background(), agentInput(), agent.WithComposeOptions(compose.WithCallbacks(eino.NewHandler()))); err != nil {
		t.Fatal(err)
	}
	id := tracing.LastTraceID()
	ctx, cancel := context.WithTimeout(context.Background(), time.Minute)
	defer cancel()
	if err := p.Shutdown(ctx); err != nil {
		t.Fatal(err)
	}
	expID := srv.ExperimentID(t, exp)
	tr := srv.ReadTraces(t, expID, []string{id}, nil).Traces[id]
	if tr.Error != "" {
		t.Fatalf("get_trace: %s", tr.Error)
	}
	byID := map[string]mlflowtest.SpanView{}
	var got []string
	for _, s := range tr.Spans {
		byID[s.SpanID] = s
	}
	var sumIn, sumOut int
	for _, s := range tr.Spans {
		got = append(got, s.Name+":"+s.SpanType+"<"+byID[s.ParentID].Name)
		if s.SpanType != "CHAT_MODEL" {
			continue
		}
		if s.Attributes["mlflow.llm.model"] != "gpt-4o-mini" || s.Attributes["mlflow.llm.provider"] != "openai" ||
			s.Attributes["mlflow.message.format"] != "eino" {
			t.Errorf("model attributes %v", s.Attributes)
		}
		msgs := s.Inputs.(map[string]any)["messages"].([]any)
		if m := msgs[1].(map[string]any); m["role"] != "user" || m["content"] != question {
			t.Errorf("model input %v", m)
		}
		u, _ := s.Attributes["mlflow.chat.tokenUsage"].(map[string]any)
		in, _ := u["input_tokens"].(float64)
		out, _ := u["output_tokens"].(float64)
		sumIn, sumOut = sumIn+int(in), sumOut+int(out)
	}
	want := "ReActAgent:AGENT<,ChatModel:CHAT_MODEL<ReActAgent,Tools:CHAIN<ReActAgent,get_weather:TOOL<Tools,ChatModel:CHAT_MODEL<ReActAgent"
	if strings.Join(got, ",") != want {
		t.Errorf("spans %s\nwant  %s", strings.Join(got, ","), want)
	}
	if sumIn == 0 || tr.TokenUsage["input_tokens"] != sumIn || tr.TokenUsage["output_tokens"] != sumOut {
		t.Errorf("trace usage %v, model calls %d/%d", tr.TokenUsage, sumIn, sumOut)
	}
	if tr.RequestPreview != question || !strings.Contains(tr.ResponsePreview, "18°C") {
		t.Errorf("previews %q %q", tr.RequestPreview, tr.ResponsePreview)
	}
}
