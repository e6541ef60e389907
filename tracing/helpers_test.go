package tracing

import (
	"context"
	"encoding/json"
	"github.com/mlflowtrace/mlflowtrace-go/internal/assemble"
	"runtime"
	"testing"

	"go.opentelemetry.io/otel/attribute"
	sdktrace "go.opentelemetry.io/otel/sdk/trace"
	"go.opentelemetry.io/otel/sdk/trace/tracetest"
	"go.uber.org/goleak"

	"github.com/mlflowtrace/mlflowtrace-go/exporter"
	"github.com/mlflowtrace/mlflowtrace-go/exporter/exportertest"
)

func TestMain(m *testing.M) { goleak.VerifyTestMain(m) }

// env is an injectable environment.
type env map[string]string

func (e env) get(k string) string { return e[k] }

type fixture struct {
	p    *Provider
	rec  *tracetest.SpanRecorder
	dest *exportertest.Recorder
}

// setup initialises tracing with an empty environment, a span recorder and a
// recording destination; the Provider is shut down when the test ends.
func setup(t *testing.T, opts ...Option) *fixture {
	t.Helper()
	f := &fixture{rec: tracetest.NewSpanRecorder(), dest: exportertest.NewRecorder()}
	base := []Option{
		WithGetenv(env{}.get),
		WithoutGlobalTracerProvider(),
		WithSpanProcessor(f.rec),
		WithExporterOptions(exporter.WithDestination(f.dest)),
	}
	p, err := Init(context.Background(), append(base, opts...)...)
	if err != nil {
		t.Fatalf("Init: %v", err)
	}
	f.p = p
	t.Cleanup(func() { _ = p.Shutdown(context.Background()) })
	return f
}

func (f *fixture) ended() []sdktrace.ReadOnlySpan { return f.rec.Ended() }

func (f *fixture) span(t *testing.T, name string) sdktrace.ReadOnlySpan {
	t.Helper()
	for _, s := range f.rec.Ended() {
		if s.Name() == name {
			return s
		}
	}
	t.Fatalf("no ended span %q (have %d)", name, len(f.rec.Ended()))
	return nil
}

// mlflowAttrs returns the span's attributes as MLflow receives them (the
// exporter's conversion: defaults such as mlflow.spanLogLevel added).
func mlflowAttrs(s sdktrace.ReadOnlySpan) map[string]string {
	return assemble.ConvertSpan(s).Attributes
}

func attrs(s sdktrace.ReadOnlySpan) map[string]string {
	m := map[string]string{}
	for _, kv := range s.Attributes() {
		m[string(kv.Key)] = kv.Value.String()
	}
	return m
}

func eventAttrs(e sdktrace.Event) map[string]string {
	m := map[string]string{}
	for _, kv := range e.Attributes {
		m[string(kv.Key)] = kv.Value.String()
	}
	return m
}

// jsonEq reports whether two JSON documents are equal as values.
func jsonEq(t *testing.T, got, want string) {
	t.Helper()
	var g, w any
	if err := json.Unmarshal([]byte(got), &g); err != nil {
		t.Fatalf("stored value %q is not JSON: %v", got, err)
	}
	if err := json.Unmarshal([]byte(want), &w); err != nil {
		t.Fatalf("bad want %q: %v", want, err)
	}
	gb, _ := json.Marshal(g)
	wb, _ := json.Marshal(w)
	if string(gb) != string(wb) {
		t.Errorf("JSON value = %s, want %s", got, want)
	}
}

var _ = attribute.String

func runtimeGoexit() { runtime.Goexit() }
