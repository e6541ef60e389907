package openai

import (
	"context"
	"strings"
	"testing"

	"github.com/openai/openai-go/v3"

	"github.com/mlflowtrace/mlflowtrace-go/exporter"
	"github.com/mlflowtrace/mlflowtrace-go/internal/llmspan"
)

// TestLargeRequestIsTraced: a request larger than llmspan.MaxBody (a long
// document, base64 images) was not traced at all; its call is now a span
// with the answer, usage and model (the answer's), without inputs.
func TestLargeRequestIsTraced(t *testing.T) {
	f := setup(t)
	_, err := f.client().Chat.Completions.New(context.Background(), openai.ChatCompletionNewParams{Model: "gpt-4o-mini",
		Messages: []openai.ChatCompletionMessageParamUnion{openai.SystemMessage("Context: " + strings.Repeat("lorem ipsum ", llmspan.MaxBody/12+1)),
			openai.UserMessage("Say hello")}})
	if err != nil {
		t.Fatal(err)
	}
	s := f.One(t)
	if s.Name != "Completions" || s.Status.Code != exporter.StatusCodeOK {
		t.Fatalf("span %s %v", s.Name, s.Status)
	}
	if _, ok := s.Attributes["mlflow.spanInputs"]; ok {
		t.Error("inputs recorded from a cut request")
	}
	for _, k := range []string{"mlflow.spanOutputs", "mlflow.chat.tokenUsage", "mlflow.llm.model"} {
		if _, ok := s.Attributes[k]; !ok {
			t.Errorf("no %s: %v", k, s.Attributes)
		}
	}
}
