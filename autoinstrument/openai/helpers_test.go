package openai

import (
	"context"
	"encoding/json"
	"sort"
	"testing"
	"time"

	"github.com/openai/openai-go/v3"
	"github.com/openai/openai-go/v3/option"
	"go.uber.org/goleak"

	"github.com/mlflowtrace/mlflowtrace-go/exporter"
	"github.com/mlflowtrace/mlflowtrace-go/exporter/exportertest"
	"github.com/mlflowtrace/mlflowtrace-go/internal/llmtest"
	"github.com/mlflowtrace/mlflowtrace-go/tracing"
)

func TestMain(m *testing.M) { goleak.VerifyTestMain(m) }

type fixture struct {
	p    *tracing.Provider
	dest *exportertest.Recorder
	fake *llmtest.Server
}

// setup starts the fake API and tracing into an in-memory destination.
func setup(t *testing.T, opts ...tracing.Option) *fixture {
	t.Helper()
	f := &fixture{dest: exportertest.NewRecorder(), fake: llmtest.Start(t)}
	base := []tracing.Option{
		tracing.WithGetenv(func(string) string { return "" }),
		tracing.WithoutGlobalTracerProvider(),
		tracing.WithExporterOptions(exporter.WithDestination(f.dest)),
	}
	p, err := tracing.Init(context.Background(), append(base, opts...)...)
	if err != nil {
		t.Fatal(err)
	}
	f.p = p
	t.Cleanup(func() { _ = p.Shutdown(context.Background()) })
	return f
}

func (f *fixture) client(opts ...option.RequestOption) *openai.Client {
	base := []option.RequestOption{
		option.WithBaseURL(f.fake.OpenAIBaseURL()),
		option.WithAPIKey(llmtest.OpenAIKey),
		option.WithHTTPClient(f.fake.Client()),
		RequestOption(),
	}
	c := openai.NewClient(append(base, opts...)...)
	return &c
}

// spans flushes and returns the spans of every exported trace.
func (f *fixture) spans(t *testing.T) []*exporter.Span {
	t.Helper()
	if err := f.p.ForceFlush(context.Background()); err != nil {
		t.Fatal(err)
	}
	var out []*exporter.Span
	for _, tr := range f.dest.Traces() {
		out = append(out, tr.Spans...)
	}
	// Traces are exported concurrently: order spans by start time.
	sort.SliceStable(out, func(i, j int) bool { return out[i].StartTime.Before(out[j].StartTime) })
	return out
}

// one returns the only span. A span that ends in the background (a call
// cancelled while the SDK waits to retry ends when context.AfterFunc runs)
// is waited for, up to 5s.
func (f *fixture) one(t *testing.T) *exporter.Span {
	t.Helper()
	s := f.spans(t)
	for deadline := time.Now().Add(5 * time.Second); len(s) == 0 && time.Now().Before(deadline); {
		time.Sleep(10 * time.Millisecond)
		s = f.spans(t)
	}
	if len(s) != 1 {
		t.Fatalf("got %d spans, want 1: %v", len(s), names(s))
	}
	return s[0]
}

func names(spans []*exporter.Span) []string {
	var n []string
	for _, s := range spans {
		n = append(n, s.Name)
	}
	return n
}

// attr decodes a span attribute.
func attr(t *testing.T, s *exporter.Span, key string) any {
	t.Helper()
	raw, ok := s.Attributes[key]
	if !ok {
		t.Fatalf("span %s has no attribute %s (has %v)", s.Name, key, keysOf(s.Attributes))
	}
	var v any
	if err := json.Unmarshal([]byte(raw), &v); err != nil {
		t.Fatalf("attribute %s: %v: %s", key, err, raw)
	}
	return v
}

func keysOf(m map[string]string) []string {
	var k []string
	for key := range m {
		k = append(k, key)
	}
	return k
}
