package anthropic

import (
	"context"
	"io"
	"net/http"
	"net/http/httptest"
	"testing"

	"github.com/anthropics/anthropic-sdk-go/v2/option"

	"github.com/mlflowtrace/mlflowtrace-go/exporter"
	"github.com/mlflowtrace/mlflowtrace-go/internal/spantest"
)

// TestUndecodableAnswerIsAnError: a 200 answer whose body is not JSON fails
// the SDK's call (anthropic raises JSONDecodeError, anthropic-sdk-go returns
// "error parsing response json"); the span records it instead of ending OK.
func TestUndecodableAnswerIsAnError(t *testing.T) {
	for _, body := range []string{`{"id": "msg_1", "content": [`, "<html>maintenance</html>"} {
		t.Run(body[:5], func(t *testing.T) {
			f := setup(t)
			srv := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
				w.Header().Set("Content-Type", "application/json")
				_, _ = io.WriteString(w, body)
			}))
			defer srv.Close()
			c := f.client(option.WithBaseURL(srv.URL), option.WithHTTPClient(srv.Client()))
			if _, err := c.Messages.New(context.Background(), params("hi")); err == nil {
				t.Fatal("the SDK decoded the answer")
			}
			s := f.One(t)
			if ex := spantest.Events(s, "exception"); s.Status.Code != exporter.StatusCodeError || len(ex) != 1 || ex[0].Attributes["exception.type"] != "JSONDecodeError" {
				t.Fatalf("status %v, exceptions %v: want the decoding failure", s.Status, ex)
			}
		})
	}
}
