package goopenai

import (
	"net/http"

	openai "github.com/sashabaranov/go-openai"

	"github.com/mlflowtrace/mlflowtrace-go/internal/llmspan"
	"github.com/mlflowtrace/mlflowtrace-go/internal/openaispan"
)

// Option configures Wrap.
type Option = openaispan.Option

// WithProvider records provider as the spans' mlflow.llm.provider (for
// example "azure" for go-openai's Azure configuration, or "databricks" for
// an OpenAI-compatible endpoint). By default no provider is recorded, as
// MLflow's OpenAI autolog records none.
func WithProvider(provider string) Option { return openaispan.WithProvider(provider) }

// Wrap returns the HTTP client for go-openai's ClientConfig.HTTPClient that
// records every Chat Completions, Responses, Embeddings and (legacy)
// Completions call of the client as one MLflow span, and sends the request
// with next (nil: http.DefaultClient):
//
//	cfg := openai.DefaultConfig(apiKey)
//	cfg.HTTPClient = goopenai.Wrap(cfg.HTTPClient)
//	client := openai.NewClientWithConfig(cfg)
//
// Calls to other endpoints pass through untraced; so do all calls while
// tracing is off or when the call's context holds an unsampled trace.
func Wrap(next openai.HTTPDoer, opts ...Option) openai.HTTPDoer {
	if next == nil {
		next = http.DefaultClient
	}
	return &doer{next: next, route: openaispan.Route(openaispan.NewConfig(opts).Provider)}
}

// doer traces the calls it sends. go-openai sends one request per call (it
// does not retry), so each Do is one logical call.
type doer struct {
	next  openai.HTTPDoer
	route llmspan.Route
}

func (d *doer) Do(req *http.Request) (*http.Response, error) {
	// No SDK retries: the zero CallInfo predicts none. A done request
	// context ends the call.
	return llmspan.CallMiddleware(llmspan.CallInfo{}, d.route, true)(req, d.next.Do)
}
