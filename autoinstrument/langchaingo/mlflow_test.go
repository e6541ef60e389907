package langchaingo_test

import (
	"context"
	"fmt"
	"reflect"
	"strings"
	"testing"
	"time"

	"github.com/tmc/langchaingo/chains"
	"github.com/tmc/langchaingo/vectorstores"

	"github.com/mlflowtrace/mlflowtrace-go/autoinstrument/langchaingo"
	"github.com/mlflowtrace/mlflowtrace-go/internal/mlflowtest"
	"github.com/mlflowtrace/mlflowtrace-go/tracing"
)

// TestMLflowReadsTraces sends an agent run, an LLMChain and a retrieval to a
// real MLflow server and reads them back with MLflow's Python client
// (MlflowClient.get_trace): span types, parents, inputs and outputs, token
// usage of spans and traces, message format.
func TestMLflowReadsTraces(t *testing.T) {
	srv := mlflowtest.Shared(t)
	exp := fmt.Sprintf("langchaingo-%d", time.Now().UnixNano())
	env := map[string]string{"MLFLOW_TRACKING_URI": srv.URL, "MLFLOW_EXPERIMENT_NAME": exp}
	p, err := tracing.Init(context.Background(), tracing.WithoutGlobalTracerProvider(),
		tracing.WithGetenv(func(k string) string { return env[k] }))
	if err != nil {
		t.Fatal(err)
	}
	h := langchaingo.NewHandler(langchaingo.WithModel("gpt-4o-mini"), langchaingo.WithProvider("openai"))
	fake := newFake(t, append(agentReplies(), "Sunny.")...)

	runAgent(t, context.Background(), h, fake)
	agentID := tracing.LastTraceID()
	if _, err := chains.Call(context.Background(), llmChain(newLLM(t, fake, h), h), map[string]any{"question": question}); err != nil {
		t.Fatal(err)
	}
	chainID := tracing.LastTraceID()
	r := vectorstores.ToRetriever(memStore{}, 2)
	r.CallbacksHandler = h
	_ = tracing.Run(context.Background(), "rag", func(ctx context.Context) error {
		_, err := r.GetRelevantDocuments(ctx, "paris weather")
		return err
	}, tracing.WithSpanType(tracing.SpanTypeAgent))
	ragID := tracing.LastTraceID()

	ctx, cancel := context.WithTimeout(context.Background(), time.Minute)
	defer cancel()
	if err := p.Shutdown(ctx); err != nil {
		t.Fatal(err)
	}
	expID := srv.ExperimentID(t, exp)
	rb := srv.ReadTraces(t, expID, []string{agentID, chainID, ragID}, nil)

	agent := rb.Traces[agentID]
	if agent.Error != "" {
		t.Fatalf("get_trace: %s", agent.Error)
	}
	types := map[string][]string{}
	byID := map[string]mlflowtest.SpanView{}
	for _, s := range agent.Spans {
		types[s.Name] = append(types[s.Name], s.SpanType)
		byID[s.SpanID] = s
	}
	want := map[string][]string{
		"agent": {"AGENT"}, "chain": {"CHAIN", "CHAIN", "CHAIN"}, "chat model": {"CHAT_MODEL", "CHAT_MODEL", "CHAT_MODEL"},
		"weather": {"TOOL"}, "calculator": {"TOOL"}, "lookup": {"RETRIEVER"},
	}
	if !reflect.DeepEqual(types, want) {
		t.Errorf("span types %v\nwant %v", types, want)
	}
	var sumIn, sumOut int
	for _, s := range agent.Spans {
		parent := byID[s.ParentID].Name
		switch s.Name {
		case "chain", "calculator":
			if parent != "agent" {
				t.Errorf("%s: parent %q", s.Name, parent)
			}
		case "chat model":
			if parent != "chain" {
				t.Errorf("chat model: parent %q", parent)
			}
			msgs := s.Inputs.(map[string]any)["messages"].([]any)
			if m := msgs[0].(map[string]any); m["role"] != "user" || !strings.Contains(m["content"].(string), "Weather in Paris") {
				t.Errorf("chat model input message %v", m)
			}
			if s.Attributes["mlflow.message.format"] != "langchain" || s.Attributes["mlflow.llm.model"] != "gpt-4o-mini" {
				t.Errorf("chat model attributes %v", s.Attributes)
			}
			u, _ := s.Attributes["mlflow.chat.tokenUsage"].(map[string]any)
			in, out := tokens(u["input_tokens"]), tokens(u["output_tokens"])
			if in == 0 || out == 0 || tokens(u["total_tokens"]) != in+out {
				t.Errorf("chat model usage %v", s.Attributes["mlflow.chat.tokenUsage"])
			}
			sumIn, sumOut = sumIn+in, sumOut+out
		case "weather":
			if parent != "agent" {
				t.Errorf("weather: parent %q", parent)
			}
			if s.Inputs != "Paris" || s.Outputs != "18°C and sunny in Paris" {
				t.Errorf("weather io %v %v", s.Inputs, s.Outputs)
			}
		}
	}
	// MLflow's trace usage is the sum of the model calls'.
	if agent.TokenUsage["input_tokens"] != sumIn || agent.TokenUsage["output_tokens"] != sumOut || agent.TokenUsage["total_tokens"] != sumIn+sumOut {
		t.Errorf("agent trace token usage %v", agent.TokenUsage)
	}
	if !strings.Contains(agent.ResponsePreview, "64.4°F") {
		t.Errorf("response preview %q", agent.ResponsePreview)
	}

	chain := rb.Traces[chainID]
	if len(chain.Spans) != 2 || chain.Spans[1].SpanType != "CHAT_MODEL" {
		t.Fatalf("chain trace %+v", chain)
	}
	out := chain.Spans[1].Outputs.(map[string]any)["choices"].([]any)[0].(map[string]any)["message"].(map[string]any)
	if out["content"] != "Sunny." || out["role"] != "assistant" {
		t.Errorf("chat outputs %v", out)
	}
	// The fake's counts for TestLLMChain's prompt (19 tokens) and "Sunny." (2).
	if chain.TokenUsage["input_tokens"] != 19 || chain.TokenUsage["total_tokens"] != 21 {
		t.Errorf("chain trace usage %v", chain.TokenUsage)
	}

	rag := rb.Traces[ragID]
	if len(rag.Spans) != 2 || rag.Spans[1].SpanType != "RETRIEVER" {
		t.Fatalf("rag trace %+v", rag)
	}
	docs := rag.Spans[1].Outputs.([]any)
	if d := docs[0].(map[string]any); d["page_content"] != "Paris is mild in spring." || d["metadata"].(map[string]any)["source"] != "guide.md" {
		t.Errorf("documents %v", docs)
	}
}
