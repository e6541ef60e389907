package spantest

import (
	"context"
	"encoding/json"
	"fmt"
	"os"
	"path/filepath"
	"reflect"
	"sort"
	"testing"
	"time"

	"github.com/mlflowtrace/mlflowtrace-go/exporter"
	"github.com/mlflowtrace/mlflowtrace-go/exporter/exportertest"
	"github.com/mlflowtrace/mlflowtrace-go/internal/llmtest"
	"github.com/mlflowtrace/mlflowtrace-go/tracing"
)

// Fixture is tracing initialised for one test.
type Fixture struct {
	Provider *tracing.Provider
	Recorder *exportertest.Recorder
}

// Start initialises tracing with an empty environment (getenv answers ""),
// an in-memory destination and opts; the Provider is shut down when the test
// ends.
func Start(t testing.TB, opts ...tracing.Option) *Fixture {
	t.Helper()
	f := &Fixture{Recorder: exportertest.NewRecorder()}
	base := []tracing.Option{
		tracing.WithGetenv(func(string) string { return "" }),
		tracing.WithExporterOptions(exporter.WithDestination(f.Recorder)),
	}
	p, err := tracing.Init(context.Background(), append(base, opts...)...)
	if err != nil {
		t.Fatalf("tracing.Init: %v", err)
	}
	f.Provider = p
	t.Cleanup(func() { _ = p.Shutdown(context.Background()) })
	return f
}

// Spans flushes the Provider and returns the spans of every exported trace,
// ordered by start time (traces are exported concurrently).
func (f *Fixture) Spans(t testing.TB) []*exporter.Span {
	t.Helper()
	if err := f.Provider.ForceFlush(context.Background()); err != nil {
		t.Fatal(err)
	}
	var out []*exporter.Span
	for _, tr := range f.Recorder.Traces() {
		out = append(out, tr.Spans...)
	}
	sort.SliceStable(out, func(i, j int) bool { return out[i].StartTime.Before(out[j].StartTime) })
	return out
}

// One returns the only span. A span that ends in the background (a call
// cancelled while an SDK waits to retry ends when context.AfterFunc runs)
// is waited for, up to 5s.
func (f *Fixture) One(t testing.TB) *exporter.Span {
	t.Helper()
	s := f.Spans(t)
	for deadline := time.Now().Add(5 * time.Second); len(s) == 0 && time.Now().Before(deadline); {
		time.Sleep(10 * time.Millisecond)
		s = f.Spans(t)
	}
	if len(s) != 1 {
		t.Fatalf("got %d spans, want 1: %v", len(s), Names(s))
	}
	return s[0]
}

// Traces flushes the Provider and waits up to 10s for n finished traces.
func (f *Fixture) Traces(t testing.TB, n int) []*exporter.Trace {
	t.Helper()
	ctx, cancel := context.WithTimeout(context.Background(), 10*time.Second)
	defer cancel()
	if err := f.Provider.ForceFlush(ctx); err != nil {
		t.Fatal(err)
	}
	tr, err := f.Recorder.WaitTraces(ctx, n)
	if err != nil {
		t.Fatalf("want %d traces: %v (have %d)", n, err, len(f.Recorder.Traces()))
	}
	return tr
}

// Events returns the span's events named name ("exception", "retry").
func Events(s *exporter.Span, name string) []exporter.Event {
	var out []exporter.Event
	for _, e := range s.Events {
		if e.Name == name {
			out = append(out, e)
		}
	}
	return out
}

// Names returns the spans' names.
func Names(spans []*exporter.Span) []string {
	var n []string
	for _, s := range spans {
		n = append(n, s.Name)
	}
	return n
}

// Attr decodes the JSON of a span attribute; the test fails when the span
// has no such attribute.
func Attr(t testing.TB, s *exporter.Span, key string) any {
	t.Helper()
	raw, ok := s.Attributes[key]
	if !ok {
		keys := make([]string, 0, len(s.Attributes))
		for k := range s.Attributes {
			keys = append(keys, k)
		}
		sort.Strings(keys)
		t.Fatalf("span %s has no attribute %s (has %v)", s.Name, key, keys)
	}
	var v any
	if err := json.Unmarshal([]byte(raw), &v); err != nil {
		t.Fatalf("attribute %s: %v: %s", key, err, raw)
	}
	return v
}

// Value decodes the JSON of a span attribute: nil when the span has no such
// attribute, a string "<invalid JSON ...>" when it is not JSON.
func Value(s *exporter.Span, key string) any {
	raw, ok := s.Attributes[key]
	if !ok {
		return nil
	}
	var v any
	if err := json.Unmarshal([]byte(raw), &v); err != nil {
		return fmt.Sprintf("<invalid JSON %q>", raw)
	}
	return v
}

// JSONEqual reports whether the JSON texts a and b hold the same value; the
// test fails when one is not JSON.
func JSONEqual(t testing.TB, a, b string) bool {
	t.Helper()
	var x, y any
	if json.Unmarshal([]byte(a), &x) != nil || json.Unmarshal([]byte(b), &y) != nil {
		t.Fatalf("not JSON: %s / %s", a, b)
	}
	return reflect.DeepEqual(x, y)
}

// LLM is a Fixture with llmtest's fake LLM APIs started for the test.
type LLM struct {
	*Fixture
	Fake *llmtest.Server
}

// StartLLM starts the fake APIs, then tracing as Start does.
func StartLLM(t testing.TB, opts ...tracing.Option) *LLM {
	t.Helper()
	fake := llmtest.Start(t)
	return &LLM{Fake: fake, Fixture: Start(t, opts...)}
}

// StoredSpan is a span as a local store's traces.json holds it: attribute
// values are JSON texts (`"AGENT"`).
type StoredSpan struct {
	Name         string            `json:"name"`
	ParentSpanID *string           `json:"parent_span_id"`
	Attributes   map[string]string `json:"attributes"`
}

// ReadTraceData reads the spans of the trace stored in traceDir
// (<store>/<experiment>/traces/<trace id>) from its artifacts/traces.json.
func ReadTraceData(t testing.TB, traceDir string) []StoredSpan {
	t.Helper()
	b, err := os.ReadFile(filepath.Join(traceDir, "artifacts", "traces.json"))
	if err != nil {
		t.Fatal(err)
	}
	var data struct {
		Spans []StoredSpan `json:"spans"`
	}
	if err := json.Unmarshal(b, &data); err != nil {
		t.Fatalf("%s: %v", traceDir, err)
	}
	return data.Spans
}

// NamesAndTypes returns "<name> <mlflow.spanType>" of each span, e.g.
// `get_weather "TOOL"`.
func NamesAndTypes(spans []StoredSpan) []string {
	out := make([]string, len(spans))
	for i, s := range spans {
		out[i] = s.Name + " " + s.Attributes["mlflow.spanType"]
	}
	return out
}
