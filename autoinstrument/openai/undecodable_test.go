package openai

import (
	"context"
	"testing"

	"github.com/openai/openai-go/v3"
	"github.com/openai/openai-go/v3/option"

	"github.com/mlflowtrace/mlflowtrace-go/internal/spantest"
)

// TestUndecodableAnswerIsAnError: a 200 answer whose body is not JSON fails
// the SDK's call (openai raises JSONDecodeError, openai-go returns "error
// parsing response json"); the span records it instead of ending OK.
func TestUndecodableAnswerIsAnError(t *testing.T) {
	for _, body := range []string{`{"id": "chatcmpl-1", "choices": [`, "<html>maintenance</html>"} {
		t.Run(body[:5], func(t *testing.T) {
			f := setup(t)
			srv := spantest.ServeAnswer(t, "application/json", body)
			c := f.client(option.WithBaseURL(srv.URL+"/v1/"), option.WithHTTPClient(srv.Client()))
			_, err := c.Chat.Completions.New(context.Background(), openai.ChatCompletionNewParams{Model: "gpt-4o-mini",
				Messages: []openai.ChatCompletionMessageParamUnion{openai.UserMessage("hi")}})
			if err == nil {
				t.Fatal("the SDK decoded the answer")
			}
			spantest.WantDecodeError(t, f.One(t))
		})
	}
}
