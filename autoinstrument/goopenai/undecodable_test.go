package goopenai

import (
	"context"
	"testing"

	openai "github.com/sashabaranov/go-openai"

	"github.com/mlflowtrace/mlflowtrace-go/internal/spantest"
)

// TestUndecodableAnswerIsAnError: a 200 answer whose body is not JSON fails
// go-openai's call; the span records it (as MLflow records the
// JSONDecodeError of Python's client) instead of ending OK.
func TestUndecodableAnswerIsAnError(t *testing.T) {
	for _, body := range []string{`{"id": "chatcmpl-1", "choices": [`, "<html>maintenance</html>"} {
		t.Run(body[:5], func(t *testing.T) {
			f := setup(t)
			srv := spantest.ServeAnswer(t, "application/json", body)
			cfg := openai.DefaultConfig("sk-test")
			cfg.BaseURL = srv.URL + "/v1"
			cfg.HTTPClient = Wrap(srv.Client())
			if _, err := openai.NewClientWithConfig(cfg).CreateChatCompletion(context.Background(), chatRequest("hi")); err == nil {
				t.Fatal("the SDK decoded the answer")
			}
			spantest.WantDecodeError(t, f.One(t))
		})
	}
}
