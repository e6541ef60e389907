package mcpspan

import (
	"context"
	"testing"

	"go.opentelemetry.io/otel/trace"

	"github.com/mlflowtrace/mlflowtrace-go/tracing"
)

func TestDescribe(t *testing.T) {
	tests := []struct {
		method, target string
		name           string
		typ            tracing.SpanType
		always         bool
	}{
		{"tools/call", "get_weather", "tools/call get_weather", tracing.SpanTypeTool, true},
		{"resources/read", "file:///a", "resources/read", tracing.SpanTypeRetriever, true},
		{"prompts/get", "summarize", "prompts/get summarize", tracing.SpanTypeUnknown, true},
		{"sampling/createMessage", "", "sampling/createMessage", tracing.SpanTypeChatModel, true},
		{"elicitation/create", "", "elicitation/create", tracing.SpanTypeUnknown, true},
		{"tools/list", "", "tools/list", tracing.SpanTypeUnknown, false},
	}
	for _, tt := range tests {
		t.Run(tt.method, func(t *testing.T) {
			m := Describe(tt.method, tt.target)
			if m.Name != tt.name || m.Type != tt.typ || m.Always != tt.always || m.Resource != (tt.method == "resources/read") {
				t.Errorf("%+v", m)
			}
		})
	}
	if !IsNotification("notifications/initialized") || IsNotification("tools/call") {
		t.Error("IsNotification")
	}
}

func TestInjectExtract(t *testing.T) {
	sc := trace.NewSpanContext(trace.SpanContextConfig{TraceID: trace.TraceID{1}, SpanID: trace.SpanID{2}, TraceFlags: trace.FlagsSampled})
	p := NewConfig(nil).Propagator
	if m, ok := Inject(context.Background(), p, map[string]any{"k": "v"}); ok || m["traceparent"] != nil {
		t.Fatal("injected without a span context")
	}
	shared := map[string]any{"k": "v"}
	m, ok := Inject(trace.ContextWithSpanContext(context.Background(), sc), p, shared)
	if !ok || m["k"] != "v" || m["traceparent"] == nil || shared["traceparent"] != nil {
		t.Fatalf("meta %v, the caller's %v", m, shared)
	}
	got := trace.SpanContextFromContext(Extract(context.Background(), p, m))
	if got.TraceID() != sc.TraceID() || got.SpanID() != sc.SpanID() || !got.IsRemote() {
		t.Errorf("extracted %v", got)
	}
	if ctx := Extract(context.Background(), p, map[string]any{"traceparent": "garbage"}); Traced(ctx) {
		t.Error("a bad traceparent was continued")
	}
}
