package anthropic

import (
	"context"
	"strings"
	"testing"

	"github.com/mlflowtrace/mlflowtrace-go/exporter"
	"github.com/mlflowtrace/mlflowtrace-go/internal/llmspan"
)

// TestLargeRequestIsTraced: a request larger than llmspan.MaxBody (a long
// document in the prompt) was not traced at all; its call is now a span
// with the answer, usage, model (the answer's) and provider, without inputs.
func TestLargeRequestIsTraced(t *testing.T) {
	f := setup(t)
	if _, err := f.client().Messages.New(context.Background(), params("Summarize: "+strings.Repeat("lorem ipsum ", llmspan.MaxBody/12+1))); err != nil {
		t.Fatal(err)
	}
	s := f.One(t)
	if s.Name != "Messages.create" || s.Status.Code != exporter.StatusCodeOK {
		t.Fatalf("span %s %v", s.Name, s.Status)
	}
	if _, ok := s.Attributes["mlflow.spanInputs"]; ok {
		t.Error("inputs recorded from a cut request")
	}
	for _, k := range []string{"mlflow.spanOutputs", "mlflow.chat.tokenUsage", "mlflow.llm.model", "mlflow.llm.provider"} {
		if _, ok := s.Attributes[k]; !ok {
			t.Errorf("no %s", k)
		}
	}
}
