package eino_test

import (
	"context"
	"fmt"
	"os"
	"testing"

	"github.com/cloudwego/eino-ext/components/model/openai"
	"github.com/cloudwego/eino/components/tool"
	"github.com/cloudwego/eino/components/tool/utils"

	"github.com/mlflowtrace/mlflowtrace-go/exporter"
	"github.com/mlflowtrace/mlflowtrace-go/internal/llmtest"
	"github.com/mlflowtrace/mlflowtrace-go/internal/mlflowtest"
	"github.com/mlflowtrace/mlflowtrace-go/internal/spantest"
	"github.com/mlflowtrace/mlflowtrace-go/tracing"
)

func TestMain(m *testing.M) {
	os.Exit(mlflowtest.Main(m)) // stops the shared MLflow server, then checks for leaked goroutines
}

const question = "What's the weather in Paris?"

// setup initialises tracing with an empty environment and an in-memory
// destination; the Provider is shut down when the test ends.
func setup(t *testing.T, opts ...tracing.Option) *spantest.Fixture {
	t.Helper()
	return spantest.Start(t, append([]tracing.Option{tracing.WithoutGlobalTracerProvider()}, opts...)...)
}

// newModel is eino-ext's OpenAI chat model against the project's fake
// OpenAI API.
func newModel(t testing.TB, fake *llmtest.Server) *openai.ChatModel {
	t.Helper()
	m, err := openai.NewChatModel(context.Background(), &openai.ChatModelConfig{
		Model: "gpt-4o-mini", APIKey: llmtest.OpenAIKey, BaseURL: fake.URL + "/v1", HTTPClient: fake.Client(),
	})
	if err != nil {
		t.Fatal(err)
	}
	return m
}

type cityInput struct {
	City string `json:"city" jsonschema:"description=City name"`
}

// weatherTool is an Eino tool inferred from a Go function.
func weatherTool(t testing.TB) tool.InvokableTool {
	t.Helper()
	tl, err := utils.InferTool("get_weather", "Current weather of a city", func(_ context.Context, in cityInput) (string, error) {
		if in.City == "" {
			return "", fmt.Errorf("no city given")
		}
		return "18°C and sunny in " + in.City, nil
	})
	if err != nil {
		t.Fatal(err)
	}
	return tl
}

// byName indexes a trace's spans by name; names repeat, so each maps to all.
func byName(tr *exporter.Trace) map[string][]*exporter.Span {
	m := map[string][]*exporter.Span{}
	for _, s := range tr.Spans {
		m[s.Name] = append(m[s.Name], s)
	}
	return m
}

func parentName(tr *exporter.Trace, s *exporter.Span) string {
	for _, p := range tr.Spans {
		if p.SpanID == s.ParentSpanID {
			return p.Name
		}
	}
	return ""
}

var attr = spantest.Value
