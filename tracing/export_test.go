package tracing

import (
	"context"
	"encoding/json"
	"errors"
	"testing"

	"github.com/mlflowtrace/mlflowtrace-go/exporter"
	"github.com/mlflowtrace/mlflowtrace-go/internal/keys"
)

// The traces the exporter assembles from spans made through this package have
// MLflow's shape: JSON-encoded attributes, the trace id on every span, the
// trace name, previews, user/session metadata, state.
func TestExportedTrace(t *testing.T) {
	f := setup(t)
	plan := Func("plan", func(ctx context.Context, q string) ([]string, error) {
		return []string{"search", "answer"}, nil
	}, WithSpanType(SpanTypeChain))
	llm := Func("llm", func(ctx context.Context, prompt string) (string, error) {
		CurrentSpan(ctx).SetTokenUsage(TokenUsage{InputTokens: 7, OutputTokens: 3})
		return "42", nil
	}, WithSpanType(SpanTypeChatModel))
	agent := Func("agent", func(ctx context.Context, q string) (string, error) {
		if err := UpdateCurrentTrace(ctx, WithUser("alice"), WithSession("s-9")); err != nil {
			return "", err
		}
		if _, err := plan(ctx, q); err != nil {
			return "", err
		}
		return llm(ctx, q)
	}, WithSpanType(SpanTypeAgent))
	fail := Func("fail", func(ctx context.Context, q string) (string, error) { return "", errors.New("no") })

	if _, err := agent(context.Background(), "what is 6*7?"); err != nil {
		t.Fatal(err)
	}
	_, _ = fail(context.Background(), "x")
	if err := f.p.ForceFlush(context.Background()); err != nil {
		t.Fatal(err)
	}
	traces := f.dest.Traces()
	if len(traces) != 2 {
		t.Fatalf("exported %d traces, want 2", len(traces))
	}
	byName := map[string]*exporter.Trace{}
	for _, tr := range traces {
		byName[tr.Info.Tags[keys.TagTraceName]] = tr
	}
	ok, bad := byName["agent"], byName["fail"]
	if ok == nil || bad == nil {
		t.Fatalf("trace names: %v", byName)
	}
	if len(ok.Spans) != 3 || ok.Info.State != exporter.StateOK || bad.Info.State != exporter.StateError {
		t.Errorf("spans %d, states %s / %s", len(ok.Spans), ok.Info.State, bad.Info.State)
	}
	for _, s := range ok.Spans {
		var id string
		if err := json.Unmarshal([]byte(s.Attributes[keys.TraceRequestID]), &id); err != nil || id != ok.Info.TraceID {
			t.Errorf("span %s traceRequestId = %s", s.Name, s.Attributes[keys.TraceRequestID])
		}
		if s.Scope != keys.ScopeName {
			t.Errorf("span %s scope = %q", s.Name, s.Scope)
		}
		if s.Status.Code != exporter.StatusCodeOK {
			t.Errorf("span %s status = %v", s.Name, s.Status)
		}
	}
	if ok.Info.Metadata[keys.MetaUser] != "alice" || ok.Info.Metadata[keys.MetaSession] != "s-9" {
		t.Errorf("metadata = %v", ok.Info.Metadata)
	}
	if ok.Info.RequestPreview != `"what is 6*7?"` || ok.Info.ResponsePreview != `"42"` {
		t.Errorf("previews = %q / %q", ok.Info.RequestPreview, ok.Info.ResponsePreview)
	}
	jsonEq(t, ok.Info.Metadata[keys.MetaTokenUsage], `{"input_tokens":7,"output_tokens":3,"total_tokens":10}`)
	for _, s := range ok.Spans {
		if s.Name == "agent" {
			if s.Attributes[keys.SpanType] != `"AGENT"` || s.Attributes[keys.SpanInputs] != `"what is 6*7?"` {
				t.Errorf("root attributes = %v", s.Attributes)
			}
		}
	}
	if sp := bad.Spans[0]; sp.Status.Code != exporter.StatusCodeError || len(sp.Events) != 1 || sp.Events[0].Attributes["exception.type"] != "errors.errorString" {
		t.Errorf("failed span = %+v", sp)
	}
	if LastTraceID() != bad.Info.TraceID {
		t.Errorf("LastTraceID = %s, want %s", LastTraceID(), bad.Info.TraceID)
	}
}

func TestLastTraceIDSurvivesShutdown(t *testing.T) {
	f := setup(t)
	_, s := StartSpan(context.Background(), "root")
	_, c := StartSpan(ContextWithSpan(context.Background(), s), "child")
	c.End()
	if LastTraceID() == s.TraceID() {
		t.Error("a child's end set LastTraceID")
	}
	s.End()
	if err := f.p.Shutdown(context.Background()); err != nil {
		t.Fatal(err)
	}
	if LastTraceID() != s.TraceID() {
		t.Errorf("LastTraceID after Shutdown = %q, want %q", LastTraceID(), s.TraceID())
	}
}
