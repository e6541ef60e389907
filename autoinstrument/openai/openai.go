package openai

import (
	"bytes"
	"encoding/json"
	"io"
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
	return llmspan.PerCall(option.WithMiddleware, func(info llmspan.CallInfo) llmspan.Middleware {
		cl := &call{cfg: c, info: info}
		return cl.middleware
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

// call is one logical SDK call; its middleware sees each HTTP attempt.
type call struct {
	cfg  *config
	info llmspan.CallInfo
	lc   *llmspan.Call
}

func (c *call) middleware(req *http.Request, next llmspan.Next) (*http.Response, error) {
	if c.lc == nil {
		c.lc = c.start(req)
	}
	span := c.lc.Span()
	if span == nil {
		return next(req)
	}
	out := req.Clone(req.Context())
	llmspan.Inject(req.Context(), span, out.Header)
	return c.lc.Send(out, next)
}

// start opens the call's span from the first attempt's request.
func (c *call) start(req *http.Request) *llmspan.Call {
	k := endpoint(req)
	if k == kindNone {
		return llmspan.NewCall(nil, c.info, nil, true)
	}
	body := requestBody(req)
	fields, err := llmspan.ObjectFields(body)
	if err != nil {
		return llmspan.NewCall(nil, c.info, nil, true)
	}
	info := spanInfo[k]
	_, span := tracing.StartSpan(req.Context(), info.name, tracing.WithSpanType(info.typ))
	if span == nil {
		return llmspan.NewCall(nil, c.info, nil, true)
	}
	capture := span.CapturesContent()
	if capture {
		span.SetInputs(json.RawMessage(body))
	}
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
	if c.cfg.provider != "" {
		attrs[keys.LLMProvider] = c.cfg.provider
	}
	span.SetAttributes(attrs)
	rec := newRecorder(k, fields, capture, span)
	rec.tools = &c.cfg.tools
	// openai-go ends a call when the attempt's own context (a per-request
	// timeout) is done.
	return llmspan.NewCall(span, c.info, rec, true)
}

// requestBody reads the request's JSON body without consuming it (the SDK
// sets GetBody for its bodies).
func requestBody(req *http.Request) []byte {
	if req.GetBody == nil || req.Body == nil || req.Body == http.NoBody {
		return nil
	}
	rc, err := req.GetBody()
	if err != nil {
		return nil
	}
	defer rc.Close()
	var buf bytes.Buffer
	if _, err := io.Copy(&buf, io.LimitReader(rc, llmspan.MaxBody)); err != nil {
		return nil
	}
	return buf.Bytes()
}
