package anthropic

import (
	"bytes"
	"encoding/json"
	"io"
	"net/http"
	"strings"

	"github.com/anthropics/anthropic-sdk-go/v2/option"

	"github.com/mlflowtrace/mlflowtrace-go/internal/keys"
	"github.com/mlflowtrace/mlflowtrace-go/internal/llmspan"
	"github.com/mlflowtrace/mlflowtrace-go/tracing"
)

// Option configures RequestOption.
type Option interface{ apply(*config) }

type config struct {
	sdkSpans bool
	tools    llmspan.ToolsCache
}

type optionFunc func(*config)

func (f optionFunc) apply(c *config) { f(c) }

// WithSDKSpans keeps the SDK's own OpenTelemetry spans of API calls on
// (RequestOption turns them off for the client: the MLflow span replaces
// them, and they would record every call twice).
func WithSDKSpans() Option { return optionFunc(func(c *config) { c.sdkSpans = true }) }

// RequestOption returns the anthropic-sdk-go client option that records every
// Messages call of the client (plain and streamed) as one MLflow span:
//
//	client := anthropic.NewClient(mlflowanthropic.RequestOption())
//
// Calls to other endpoints pass through untraced. When tracing is off or
// the call's context holds an unsampled trace, requests pass through without
// a span.
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

func perCall(c *config) (option.RequestOption, bool) {
	var also []option.RequestOption
	if !c.sdkSpans {
		also = append(also, option.WithOpenTelemetryTraces(false))
	}
	return llmspan.PerCall(option.WithMiddleware, func(info llmspan.CallInfo) llmspan.Middleware {
		cl := &call{info: info, cfg: c}
		return cl.middleware
	}, also...)
}

// traced reports a Messages create call (POST …/v1/messages, also the beta
// form ?beta=true), the method MLflow's autolog patches.
func traced(r *http.Request) bool {
	return r.Method == http.MethodPost && strings.HasSuffix(strings.TrimSuffix(r.URL.Path, "/"), "/messages")
}

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

func (c *call) start(req *http.Request) *llmspan.Call {
	untraced := llmspan.NewCall(nil, c.info, nil, false)
	if !traced(req) {
		return untraced
	}
	body := requestBody(req)
	fields, err := llmspan.ObjectFields(body)
	if err != nil {
		return untraced
	}
	// MLflow's Anthropic autolog: span "Messages.create", CHAT_MODEL, message
	// format "anthropic", the tools at the start; the model (the
	// request's) and provider at the end.
	_, span := tracing.StartSpan(req.Context(), "Messages.create", tracing.WithSpanType(tracing.SpanTypeChatModel))
	if span == nil {
		return untraced
	}
	capture := span.CapturesContent()
	if capture {
		span.SetInputs(json.RawMessage(body))
	}
	span.SetMessageFormat("anthropic")
	rec := &recorder{capture: capture}
	if m, ok := llmspan.Lookup(fields, "model"); ok {
		rec.model = llmspan.String(m)
	}
	if t, ok := llmspan.Lookup(fields, "tools"); ok {
		if tools, ok := c.cfg.tools.Get(t, chatTools); ok {
			span.SetAttribute(keys.ChatTools, tools)
		}
	}
	// anthropic-sdk-go retries an attempt whose own timeout expired; only the
	// caller's context ends the call.
	return llmspan.NewCall(span, c.info, rec, false)
}

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

// chatTools is MLflow's convert_tool_to_mlflow_chat_tool for every tool: name,
// description (null when absent: MLflow passes tool.get("description")) and
// input_schema as the parameters.
func chatTools(raw json.RawMessage) (json.RawMessage, bool) {
	var list []json.RawMessage
	if json.Unmarshal(raw, &list) != nil {
		return nil, false
	}
	tools := make([]llmspan.Tool, 0, len(list))
	for _, item := range list {
		fields, err := llmspan.ObjectFields(item)
		if err != nil {
			return nil, false
		}
		t := llmspan.Tool{Description: json.RawMessage("null"), Parameters: json.RawMessage("null")}
		t.Name, _ = llmspan.Lookup(fields, "name")
		if v, ok := llmspan.Lookup(fields, "description"); ok {
			t.Description = v
		}
		if v, ok := llmspan.Lookup(fields, "input_schema"); ok {
			t.Parameters = v
		}
		tools = append(tools, t)
	}
	return llmspan.ChatTools(tools)
}
