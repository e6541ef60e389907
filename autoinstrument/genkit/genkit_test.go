package genkit_test

import (
	"context"
	"fmt"
	"reflect"
	"strings"
	"testing"
	"time"

	"github.com/mlflowtrace/mlflowtrace-go/autoinstrument/genkit/internal/rootspan"

	"github.com/mlflowtrace/mlflowtrace-go/exporter"
	"github.com/mlflowtrace/mlflowtrace-go/internal/llmtest"
	"github.com/mlflowtrace/mlflowtrace-go/internal/mlflowtest"
	"github.com/mlflowtrace/mlflowtrace-go/internal/spantest"
	"github.com/mlflowtrace/mlflowtrace-go/tracing"
)

func parentName(tr *exporter.Trace, s *exporter.Span) string {
	for _, p := range tr.Spans {
		if p.SpanID == s.ParentSpanID {
			return p.Name
		}
	}
	return ""
}

// TestFlow: a real Genkit flow (generate with a tool, on Genkit's OpenAI
// plugin against the fake OpenAI API) with tracing.Init as the one line:
// the flow is a CHAIN, the generate loop CHAIN spans, each model call a
// CHAT_MODEL span with MLflow's chat messages, tools, model, provider and
// token usage, the tool a TOOL span.
func TestFlow(t *testing.T) {
	f := spantest.Start(t) // installs the global tracer provider Genkit records on
	fake := llmtest.Start(t)
	out, err := weatherFlow(t.Context(), fake.URL).Run(context.Background(), question)
	if err != nil {
		t.Fatal(err)
	}
	if !strings.Contains(out, "18°C") {
		t.Fatalf("answer %q", out)
	}
	tr := f.Traces(t, 1)[0]
	var got []string
	for _, s := range tr.Spans {
		got = append(got, s.Name+":"+fmt.Sprint(spantest.Value(s, "mlflow.spanType"))+"<"+parentName(tr, s))
	}
	want := []string{"weatherFlow:CHAIN<", "generate:CHAIN<weatherFlow", "openai/gpt-4o-mini:CHAT_MODEL<generate",
		"get_weather:TOOL<generate", "generate:CHAIN<generate", "openai/gpt-4o-mini:CHAT_MODEL<generate"}
	if !reflect.DeepEqual(got, want) {
		t.Fatalf("spans\n got %v\nwant %v", got, want)
	}
	first, second := tr.Spans[2], tr.Spans[5]
	for _, m := range []*exporter.Span{first, second} {
		for k, want := range map[string]any{"mlflow.message.format": "genkit", "mlflow.llm.model": "gpt-4o-mini", "mlflow.llm.provider": "openai"} {
			if got := spantest.Value(m, k); got != want {
				t.Errorf("%s = %v, want %v", k, got, want)
			}
		}
		u, _ := spantest.Value(m, "mlflow.chat.tokenUsage").(map[string]any)
		if u["input_tokens"] == nil || u["total_tokens"] != u["input_tokens"].(float64)+u["output_tokens"].(float64) {
			t.Errorf("usage %v", u)
		}
		if tools, _ := spantest.Value(m, "mlflow.chat.tools").([]any); len(tools) != 1 {
			t.Errorf("tools %v", tools)
		}
	}
	out1 := spantest.Value(first, "mlflow.spanOutputs").(map[string]any)["choices"].([]any)[0].(map[string]any)["message"].(map[string]any)
	call := out1["tool_calls"].([]any)[0].(map[string]any)
	if call["function"].(map[string]any)["arguments"] != `{"city": "Paris"}` {
		t.Errorf("tool call %v", call)
	}
	msgs := spantest.Value(second, "mlflow.spanInputs").(map[string]any)["messages"].([]any)
	if len(msgs) != 4 || msgs[3].(map[string]any)["role"] != "tool" || msgs[3].(map[string]any)["tool_call_id"] != call["id"] {
		t.Errorf("second call messages %v", msgs)
	}
	tool := tr.Spans[3]
	if in := spantest.Value(tool, "mlflow.spanInputs"); !reflect.DeepEqual(in, map[string]any{"city": "Paris"}) {
		t.Errorf("tool inputs %v", in)
	}
	if out := spantest.Value(tool, "mlflow.spanOutputs"); out != "18°C and sunny in Paris" {
		t.Errorf("tool outputs %v", out)
	}
	// MLflow's previews: the flow's input and output (JSON strings).
	if tr.Info.RequestPreview != `"`+question+`"` || !strings.Contains(tr.Info.ResponsePreview, "18°C") {
		t.Errorf("previews %q %q", tr.Info.RequestPreview, tr.Info.ResponsePreview)
	}
}

// TestToolError: a failing tool is a TOOL span with Genkit's exception
// event and status ERROR, and so are the spans it fails.
func TestToolError(t *testing.T) {
	f := spantest.Start(t)
	fake := llmtest.Start(t)
	fake.Script(llmtest.Reply{ToolCalls: []llmtest.ReplyToolCall{{Name: "get_weather", Arguments: `{"city":""}`}}})
	if _, err := weatherFlow(t.Context(), fake.URL).Run(context.Background(), question); err == nil {
		t.Fatal("want the tool's error")
	}
	tr := f.Traces(t, 1)[0]
	for _, s := range tr.Spans {
		if s.Name != "get_weather" {
			continue
		}
		if s.Status.Code != exporter.StatusCodeError || spantest.Value(s, "mlflow.spanType") != "TOOL" {
			t.Errorf("tool span %v %v", s.Status, s.Attributes)
		}
		return
	}
	t.Fatalf("no tool span: %v", spantest.Names(tr.Spans))
}

// TestMLflowReadsTraces sends a Genkit flow's trace to a real MLflow server
// and reads it back with MLflow's Python client.
func TestMLflowReadsTraces(t *testing.T) {
	srv := mlflowtest.Shared(t)
	exp := fmt.Sprintf("genkit-%d", time.Now().UnixNano())
	env := map[string]string{"MLFLOW_TRACKING_URI": srv.URL, "MLFLOW_EXPERIMENT_NAME": exp}
	roots := &rootspan.Recorder{}
	p, err := tracing.Init(context.Background(), tracing.WithGetenv(func(k string) string { return env[k] }),
		tracing.WithSpanProcessor(roots))
	if err != nil {
		t.Fatal(err)
	}
	if _, err := weatherFlow(t.Context(), llmtest.Start(t).URL).Run(context.Background(), question); err != nil {
		t.Fatal(err)
	}
	id := roots.TraceID()
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
	var types []string
	var sumIn int
	for _, s := range tr.Spans {
		types = append(types, s.Name+":"+s.SpanType)
		if s.SpanType != "CHAT_MODEL" {
			continue
		}
		if s.Attributes["mlflow.llm.model"] != "gpt-4o-mini" || s.Attributes["mlflow.llm.provider"] != "openai" {
			t.Errorf("model attributes %v", s.Attributes)
		}
		msgs := s.Inputs.(map[string]any)["messages"].([]any)
		if m := msgs[1].(map[string]any); m["role"] != "user" || m["content"] != question {
			t.Errorf("model input %v", m)
		}
		u, _ := s.Attributes["mlflow.chat.tokenUsage"].(map[string]any)
		in, _ := u["input_tokens"].(float64)
		sumIn += int(in)
	}
	want := "weatherFlow:CHAIN generate:CHAIN openai/gpt-4o-mini:CHAT_MODEL get_weather:TOOL generate:CHAIN openai/gpt-4o-mini:CHAT_MODEL"
	if strings.Join(types, " ") != want {
		t.Errorf("spans %v\nwant %s", types, want)
	}
	if sumIn == 0 || tr.TokenUsage["input_tokens"] != sumIn {
		t.Errorf("trace usage %v, model calls %d", tr.TokenUsage, sumIn)
	}
	if tr.RequestPreview != `"`+question+`"` {
		t.Errorf("request preview %q", tr.RequestPreview)
	}
}

// TestContentCaptureOff: with tracing.WithContentCapture(false) the Genkit
// spans keep no inputs or outputs (neither Genkit's genkit:input and
// genkit:output nor MLflow's attributes made of them) — nor the trace its
// previews — while model, provider, token usage, tools and types stay.
func TestContentCaptureOff(t *testing.T) {
	f := spantest.Start(t, tracing.WithContentCapture(false))
	fake := llmtest.Start(t)
	if _, err := weatherFlow(t.Context(), fake.URL).Run(context.Background(), question); err != nil {
		t.Fatal(err)
	}
	tr := f.Traces(t, 1)[0]
	if len(tr.Spans) != 6 {
		t.Fatalf("spans %v", spantest.Names(tr.Spans))
	}
	for _, s := range tr.Spans {
		for _, k := range []string{"genkit:input", "genkit:output", "mlflow.spanInputs", "mlflow.spanOutputs"} {
			if v, ok := s.Attributes[k]; ok {
				t.Errorf("%s: %s = %.80s", s.Name, k, v)
			}
		}
		if spantest.Value(s, "mlflow.spanType") == "CHAT_MODEL" {
			if spantest.Value(s, "mlflow.llm.model") != "gpt-4o-mini" || spantest.Value(s, "mlflow.chat.tokenUsage") == nil ||
				spantest.Value(s, "mlflow.chat.tools") == nil {
				t.Errorf("%s lost its metadata: %v", s.Name, s.Attributes)
			}
		}
	}
	if strings.Contains(tr.Info.RequestPreview, "Paris") || strings.Contains(tr.Info.ResponsePreview, "18°C") {
		t.Errorf("previews %q %q", tr.Info.RequestPreview, tr.Info.ResponsePreview)
	}
}
