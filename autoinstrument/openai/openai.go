package openai

import (
	"net/http"
	"strings"

	"github.com/openai/openai-go/v3/option"

	"github.com/mlflowtrace/mlflowtrace-go/internal/keys"
	"github.com/mlflowtrace/mlflowtrace-go/internal/llmspan"
	"github.com/mlflowtrace/mlflowtrace-go/tracing"
)

// Option configures RequestOption.
type Option interface{ apply(*config) }

type config struct {
	provider string
	tools    llmspan.ToolsCache
}

type optionFunc func(*config)

func (f optionFunc) apply(c *config) { f(c) }

// WithProvider records provider as the spans' mlflow.llm.provider (for
// example "databricks" or "azure" for an OpenAI-compatible endpoint). By
// default no provider is recorded, as MLflow's OpenAI autolog records none.
func WithProvider(provider string) Option {
	return optionFunc(func(c *config) { c.provider = provider })
}

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
	c := &config{}
	for _, o := range opts {
		if o != nil {
			o.apply(c)
		}
	}
	opt, _ := perCall(c)
	return opt
}

// perCall also reports whether retries are grouped into the call's span
// (see llmspan.PerCall).
func perCall(c *config) (option.RequestOption, bool) {
	route := c.route()
	return llmspan.PerCall(option.WithMiddleware, func(info llmspan.CallInfo) llmspan.Middleware {
		// openai-go ends a call when the attempt's own context (a per-request
		// timeout) is done.
		return llmspan.CallMiddleware(info, route, true)
	})
}

// kind is the API a request calls.
type kind int

const (
	kindNone kind = iota
	kindChat
	kindCompletion
	kindEmbedding
	kindResponses
)

// endpoint recognises the traced endpoints by the end of the request path
// (so any base URL works, including Azure's /openai/deployments/<name>/...).
func endpoint(r *http.Request) kind {
	if r.Method != http.MethodPost {
		return kindNone
	}
	p := strings.TrimSuffix(r.URL.Path, "/")
	switch {
	case strings.HasSuffix(p, "/chat/completions"):
		return kindChat
	case strings.HasSuffix(p, "/completions"):
		return kindCompletion
	case strings.HasSuffix(p, "/embeddings"):
		return kindEmbedding
	case strings.HasSuffix(p, "/responses"):
		return kindResponses
	}
	return kindNone
}

// Span names and types: MLflow's autolog names a span after the patched
// class (openai.resources.chat.completions.Completions -> "Completions").
var spanInfo = map[kind]struct {
	name string
	typ  tracing.SpanType
}{
	kindChat:       {"Completions", tracing.SpanTypeChatModel},
	kindCompletion: {"Completions", tracing.SpanTypeLLM},
	kindEmbedding:  {"Embeddings", tracing.SpanTypeEmbedding},
	kindResponses:  {"Responses", tracing.SpanTypeChatModel},
}

// contentKeys are request members that hold content (prompts, inputs):
// recorded only when content capture is on. MLflow records every other
// member as a span attribute of its own, and none of "messages" and "input".
var contentKeys = map[string]bool{"prompt": true, "instructions": true, "suffix": true, "prediction": true}

// route returns the traced endpoints of a request.
func (c *config) route() llmspan.Route {
	eps := make(map[kind]llmspan.Endpoint, len(spanInfo))
	for k, info := range spanInfo {
		eps[k] = llmspan.Endpoint{Name: info.name, Type: info.typ, Start: func(span *tracing.Span, fields []llmspan.Field, capture bool) llmspan.Recorder {
			return c.start(k, span, fields, capture)
		}}
	}
	return func(req *http.Request) (llmspan.Endpoint, bool) {
		ep, ok := eps[endpoint(req)]
		return ep, ok
	}
}

// start records the request's members as span attributes, as MLflow's
// autolog does, and returns the call's recorder.
func (c *config) start(k kind, span *tracing.Span, fields []llmspan.Field, capture bool) llmspan.Recorder {
	attrs := make(map[string]any, len(fields)+2)
	for _, f := range fields {
		if f.Key == "messages" || f.Key == "input" || (!capture && contentKeys[f.Key]) {
			continue
		}
		attrs[f.Key] = f.Value
	}
	if k == kindChat || k == kindCompletion || k == kindResponses {
		attrs[keys.MessageFormat] = "openai"
	}
	if c.provider != "" {
		attrs[keys.LLMProvider] = c.provider
	}
	span.SetAttributes(attrs)
	rec := newRecorder(k, fields, capture, span)
	rec.tools = &c.tools
	return rec
}
