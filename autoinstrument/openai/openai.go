package openai

import (
	"github.com/openai/openai-go/v3/option"

	"github.com/mlflowtrace/mlflowtrace-go/internal/llmspan"
	"github.com/mlflowtrace/mlflowtrace-go/internal/openaispan"
)

// Option configures RequestOption.
type Option = openaispan.Option

// WithProvider records provider as the spans' mlflow.llm.provider (for
// example "databricks" or "azure" for an OpenAI-compatible endpoint). By
// default no provider is recorded, as MLflow's OpenAI autolog records none.
func WithProvider(provider string) Option { return openaispan.WithProvider(provider) }

// RequestOption returns the openai-go client option that records every Chat
// Completions, Responses, Embeddings and (legacy) Completions call of the
// client as one MLflow span:
//
//	client := openai.NewClient(mlflowopenai.RequestOption())
//
// It is built on option.WithMiddleware and works with any base URL (OpenAI,
// Azure, Databricks serving endpoints, local OpenAI-compatible servers).
// Calls to other endpoints pass through untraced. When tracing is off or
// the call's context holds an unsampled trace, requests pass through
// without a span.
func RequestOption(opts ...Option) option.RequestOption {
	opt, _ := perCall(openaispan.NewConfig(opts))
	return opt
}

// perCall also reports whether retries are grouped into the call's span
// (see llmspan.PerCall).
func perCall(c openaispan.Config) (option.RequestOption, bool) {
	route := openaispan.Route(c.Provider)
	return llmspan.PerCall(option.RequestOption.Apply, option.WithMiddleware, func(info llmspan.CallInfo) llmspan.Middleware {
		// openai-go ends a call when the attempt's own context (a per-request
		// timeout) is done.
		return llmspan.CallMiddleware(info, route, true)
	})
}
