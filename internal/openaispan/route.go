package openaispan

import (
	"net/http"
	"strings"

	"github.com/mlflowtrace/mlflowtrace-go/internal/encode"
	"github.com/mlflowtrace/mlflowtrace-go/internal/keys"
	"github.com/mlflowtrace/mlflowtrace-go/internal/llmspan"
	"github.com/mlflowtrace/mlflowtrace-go/tracing"
)

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

// client is what the calls of one instrumented client share.
type client struct {
	provider string
	tools    llmspan.ToolsCache
}

// Route returns the traced endpoints of the OpenAI API for one client:
// provider, when not empty, is recorded as mlflow.llm.provider.
func Route(provider string) llmspan.Route {
	c := &client{provider: provider}
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
func (c *client) start(k kind, span *tracing.Span, fields []llmspan.Field, capture bool) llmspan.Recorder {
	attrs := make(map[string]any, len(fields)+2)
	for _, f := range fields {
		if f.Key == "messages" || f.Key == "input" || (!capture && contentKeys[f.Key]) {
			continue
		}
		attrs[f.Key] = encode.ValidJSON(f.Value) // a member of the validated body
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

// Option configures an OpenAI API integration: autoinstrument/openai and
// autoinstrument/goopenai export it as their Option.
type Option interface{ apply(*Config) }

// Config is what the options configure.
type Config struct {
	// Provider, when not empty, is recorded as mlflow.llm.provider.
	Provider string
}

type optionFunc func(*Config)

func (f optionFunc) apply(c *Config) { f(c) }

// WithProvider sets Config.Provider.
func WithProvider(provider string) Option {
	return optionFunc(func(c *Config) { c.Provider = provider })
}

// NewConfig applies opts (nil ones ignored).
func NewConfig(opts []Option) Config {
	var c Config
	for _, o := range opts {
		if o != nil {
			o.apply(&c)
		}
	}
	return c
}
