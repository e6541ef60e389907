package langchaingo_test

import (
	"os"
	"testing"

	"github.com/tmc/langchaingo/callbacks"
	"github.com/tmc/langchaingo/llms/openai"

	"github.com/mlflowtrace/mlflowtrace-go/exporter"
	"github.com/mlflowtrace/mlflowtrace-go/internal/llmtest"
	"github.com/mlflowtrace/mlflowtrace-go/internal/mlflowtest"
	"github.com/mlflowtrace/mlflowtrace-go/internal/spantest"
	"github.com/mlflowtrace/mlflowtrace-go/tracing"
)

func TestMain(m *testing.M) {
	os.Exit(mlflowtest.Main(m)) // stops the shared MLflow server, then checks for leaked goroutines
}

// setup initialises tracing with an empty environment and an in-memory
// destination; the Provider is shut down when the test ends.
func setup(t *testing.T, opts ...tracing.Option) *spantest.Fixture {
	t.Helper()
	return spantest.Start(t, append([]tracing.Option{tracing.WithoutGlobalTracerProvider()}, opts...)...)
}

// byName indexes a trace's spans by name; names repeat, so each maps to all.
func byName(tr *exporter.Trace) map[string][]*exporter.Span {
	m := map[string][]*exporter.Span{}
	for _, s := range tr.Spans {
		m[s.Name] = append(m[s.Name], s)
	}
	return m
}

func one(t *testing.T, tr *exporter.Trace, name string) *exporter.Span {
	t.Helper()
	ss := byName(tr)[name]
	if len(ss) != 1 {
		t.Fatalf("want one span %q, have %d: %v", name, len(ss), names(tr))
	}
	return ss[0]
}

func names(tr *exporter.Trace) []string { return spantest.Names(tr.Spans) }

// attr decodes a span attribute's JSON (nil when absent).
var attr = spantest.Value

// newFake starts the project's fake OpenAI API (internal/llmtest) with the
// model's answers scripted: the i-th chat completion answers replies[i];
// later ones get the fake's deterministic answers.
func newFake(t *testing.T, replies ...string) *llmtest.Server {
	t.Helper()
	fake := llmtest.Start(t)
	for _, r := range replies {
		fake.Script(llmtest.Reply{Text: r})
	}
	return fake
}

// newLLM is langchaingo's OpenAI client against the fake, reporting to h.
func newLLM(t *testing.T, fake *llmtest.Server, h callbacks.Handler) *openai.LLM {
	t.Helper()
	opts := []openai.Option{openai.WithBaseURL(fake.URL + "/v1"), openai.WithToken(llmtest.OpenAIKey),
		openai.WithModel("gpt-4o-mini"), openai.WithHTTPClient(fake.Client())}
	if h != nil {
		opts = append(opts, openai.WithCallback(h))
	}
	llm, err := openai.New(opts...)
	if err != nil {
		t.Fatal(err)
	}
	return llm
}
