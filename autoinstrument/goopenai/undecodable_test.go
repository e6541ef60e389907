package goopenai

import (
	"context"
	"io"
	"net/http"
	"net/http/httptest"
	"testing"

	openai "github.com/sashabaranov/go-openai"

	"github.com/mlflowtrace/mlflowtrace-go/exporter"
)

// TestUndecodableAnswerIsAnError: a 200 answer whose body is not JSON fails
// go-openai's call; the span records it (as MLflow records the
// JSONDecodeError of Python's client) instead of ending OK.
func TestUndecodableAnswerIsAnError(t *testing.T) {
	for _, body := range []string{`{"id": "chatcmpl-1", "choices": [`, "<html>maintenance</html>"} {
		t.Run(body[:5], func(t *testing.T) {
			f := setup(t)
			srv := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
				w.Header().Set("Content-Type", "application/json")
				_, _ = io.WriteString(w, body)
			}))
			defer srv.Close()
			cfg := openai.DefaultConfig("sk-test")
			cfg.BaseURL = srv.URL + "/v1"
			cfg.HTTPClient = Wrap(srv.Client())
			if _, err := openai.NewClientWithConfig(cfg).CreateChatCompletion(context.Background(), chatRequest("hi")); err == nil {
				t.Fatal("the SDK decoded the answer")
			}
			s := f.One(t)
			if ex := exceptions(s); s.Status.Code != exporter.StatusCodeError || len(ex) != 1 || ex[0].Attributes["exception.type"] != "JSONDecodeError" {
				t.Fatalf("status %v, exceptions %v: want the decoding failure", s.Status, ex)
			}
		})
	}
}
