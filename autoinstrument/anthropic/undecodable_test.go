package anthropic

import (
	"context"
	"testing"

	"github.com/anthropics/anthropic-sdk-go/v2/option"

	"github.com/mlflowtrace/mlflowtrace-go/internal/spantest"
)

// TestUndecodableAnswerIsAnError: a 200 answer whose body is not JSON fails
// the SDK's call (anthropic raises JSONDecodeError, anthropic-sdk-go returns
// "error parsing response json"); the span records it instead of ending OK.
func TestUndecodableAnswerIsAnError(t *testing.T) {
	for _, body := range []string{`{"id": "msg_1", "content": [`, "<html>maintenance</html>"} {
		t.Run(body[:5], func(t *testing.T) {
			f := setup(t)
			srv := spantest.ServeAnswer(t, "application/json", body)
			c := f.client(option.WithBaseURL(srv.URL), option.WithHTTPClient(srv.Client()))
			if _, err := c.Messages.New(context.Background(), params("hi")); err == nil {
				t.Fatal("the SDK decoded the answer")
			}
			spantest.WantDecodeError(t, f.One(t))
		})
	}
}
