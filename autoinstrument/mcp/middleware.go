package mcp

import (
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"reflect"
	"strconv"
	"strings"

	"github.com/modelcontextprotocol/go-sdk/jsonrpc"
	sdkmcp "github.com/modelcontextprotocol/go-sdk/mcp"
	"go.opentelemetry.io/otel/attribute"
	"go.opentelemetry.io/otel/codes"
	"go.opentelemetry.io/otel/propagation"
	"go.opentelemetry.io/otel/trace"

	"github.com/mlflowtrace/mlflowtrace-go/tracing"
)

// Option configures the middleware.
type Option interface{ apply(config) config }

type config struct {
	propagator propagation.TextMapPropagator
}

type optionFunc func(config) config

func (f optionFunc) apply(c config) config { return f(c) }

// WithPropagator sets how the trace context is written to and read from
// params._meta (default: W3C trace context and baggage, whatever the global
// OpenTelemetry propagator is).
func WithPropagator(p propagation.TextMapPropagator) Option {
	return optionFunc(func(c config) config {
		if p != nil {
			c.propagator = p
		}
		return c
	})
}

func newConfig(opts []Option) config {
	c := config{propagator: propagation.NewCompositeTextMapPropagator(propagation.TraceContext{}, propagation.Baggage{})}
	for _, o := range opts {
		if o != nil {
			c = o.apply(c)
		}
	}
	return c
}

// InstrumentClient adds SendingMiddleware and ReceivingMiddleware to c: its
// requests are traced and carry the trace to the server; requests the server
// sends it (sampling, elicitation) continue the server's trace.
func InstrumentClient(c *sdkmcp.Client, opts ...Option) {
	c.AddSendingMiddleware(SendingMiddleware(opts...))
	c.AddReceivingMiddleware(ReceivingMiddleware(opts...))
}

// InstrumentServer adds ReceivingMiddleware and SendingMiddleware to s: the
// requests it handles continue the client's trace, in a span that is current
// in the handler's context; requests it sends the client are traced.
func InstrumentServer(s *sdkmcp.Server, opts ...Option) {
	s.AddReceivingMiddleware(ReceivingMiddleware(opts...))
	s.AddSendingMiddleware(SendingMiddleware(opts...))
}

// SendingMiddleware records a span for each request sent (see the package
// documentation for which) and writes the trace context into the params'
// _meta of every request and notification.
func SendingMiddleware(opts ...Option) sdkmcp.Middleware {
	c := newConfig(opts)
	return func(next sdkmcp.MethodHandler) sdkmcp.MethodHandler {
		return func(ctx context.Context, method string, req sdkmcp.Request) (sdkmcp.Result, error) {
			params := paramsOf(req)
			if isNotification(method) {
				inject(ctx, c.propagator, params)
				return next(ctx, method, req)
			}
			m := describe(method, params)
			var span *tracing.Span
			if m.always || trace.SpanContextFromContext(ctx).IsValid() {
				ctx, span = startSpan(ctx, m, req)
			}
			if params == nil && trace.SpanContextFromContext(ctx).IsValid() {
				params = emptyParams(method, req) // somewhere to carry _meta
			}
			inject(ctx, c.propagator, params)
			return run(ctx, span, m, next, method, req)
		}
	}
}

// ReceivingMiddleware continues the trace found in each request's
// params._meta (or, without one, the trace of the handler's context) and
// records a span for the request handled, current in the context the handler
// gets.
func ReceivingMiddleware(opts ...Option) sdkmcp.Middleware {
	c := newConfig(opts)
	return func(next sdkmcp.MethodHandler) sdkmcp.MethodHandler {
		return func(ctx context.Context, method string, req sdkmcp.Request) (sdkmcp.Result, error) {
			params := paramsOf(req)
			if isNotification(method) {
				return next(ctx, method, req)
			}
			ctx = extract(ctx, c.propagator, params)
			m := describe(method, params)
			if !m.always && !trace.SpanContextFromContext(ctx).IsValid() {
				return next(ctx, method, req)
			}
			ctx, span := startSpan(ctx, m, req)
			return run(ctx, span, m, next, method, req)
		}
	}
}

func isNotification(method string) bool { return strings.HasPrefix(method, "notifications/") }

// paramsOf returns req's params, or nil when there are none.
func paramsOf(req sdkmcp.Request) sdkmcp.Params {
	if req == nil || isNilValue(req) {
		return nil
	}
	p := req.GetParams()
	if p == nil || isNilValue(p) {
		return nil
	}
	return p
}

// Params of the requests the SDK may send without params (MCP allows it),
// to carry _meta.
var paramlessMethods = map[string]func() sdkmcp.Params{
	"tools/list":               func() sdkmcp.Params { return &sdkmcp.ListToolsParams{} },
	"prompts/list":             func() sdkmcp.Params { return &sdkmcp.ListPromptsParams{} },
	"resources/list":           func() sdkmcp.Params { return &sdkmcp.ListResourcesParams{} },
	"resources/templates/list": func() sdkmcp.Params { return &sdkmcp.ListResourceTemplatesParams{} },
	"roots/list":               func() sdkmcp.Params { return &sdkmcp.ListRootsParams{} },
	"ping":                     func() sdkmcp.Params { return &sdkmcp.PingParams{} },
}

// emptyParams gives a request sent without params (a list request, say) empty
// ones, so that its _meta can carry the trace context; nil when req is not
// one of the SDK's request structs or the method is not known to allow that.
func emptyParams(method string, req sdkmcp.Request) sdkmcp.Params {
	rv := reflect.ValueOf(req)
	if rv.Kind() != reflect.Pointer || rv.IsNil() || rv.Elem().Kind() != reflect.Struct {
		return nil
	}
	f := rv.Elem().FieldByName("Params")
	if !f.IsValid() || !f.CanSet() {
		return nil
	}
	var p sdkmcp.Params
	switch {
	case f.Kind() == reflect.Pointer && f.IsNil():
		v := reflect.New(f.Type().Elem())
		if p, _ = v.Interface().(sdkmcp.Params); p == nil {
			return nil
		}
		f.Set(v)
	case f.Kind() == reflect.Interface && f.IsNil():
		mk := paramlessMethods[method]
		if mk == nil {
			return nil
		}
		p = mk()
		if !reflect.TypeOf(p).AssignableTo(f.Type()) {
			return nil
		}
		f.Set(reflect.ValueOf(p))
	}
	return p
}

func isNilValue(v any) bool {
	rv := reflect.ValueOf(v)
	return rv.Kind() == reflect.Pointer && rv.IsNil()
}

// metaCarrier reads and writes propagation keys in a _meta map.
type metaCarrier map[string]any

func (m metaCarrier) Get(k string) string { s, _ := m[k].(string); return s }
func (m metaCarrier) Set(k, v string)     { m[k] = v }
func (m metaCarrier) Keys() []string {
	out := make([]string, 0, len(m))
	for k := range m {
		out = append(out, k)
	}
	return out
}

// inject writes ctx's trace context into params._meta (a copy of the map, so
// a map the caller shares is not changed).
func inject(ctx context.Context, p propagation.TextMapPropagator, params sdkmcp.Params) {
	if params == nil || !trace.SpanContextFromContext(ctx).IsValid() {
		return
	}
	old := params.GetMeta()
	m := make(metaCarrier, len(old)+3)
	for k, v := range old {
		m[k] = v
	}
	p.Inject(ctx, m)
	params.SetMeta(m)
}

// extract returns ctx with the remote trace context of params._meta, when it
// carries a valid one.
func extract(ctx context.Context, p propagation.TextMapPropagator, params sdkmcp.Params) context.Context {
	if params == nil {
		return ctx
	}
	meta := params.GetMeta()
	if len(meta) == 0 {
		return ctx
	}
	out := p.Extract(ctx, metaCarrier(meta))
	if sc := trace.SpanContextFromContext(out); !sc.IsValid() || !sc.IsRemote() {
		return ctx
	}
	return out
}

// method describes a request for its span.
type method struct {
	name     string // span name
	typ      tracing.SpanType
	always   bool // recorded even outside a trace
	attrs    []kv
	tool     bool
	resource bool
}

type kv struct {
	k string
	v any
}

func describe(m string, params sdkmcp.Params) method {
	d := method{name: m, typ: tracing.SpanTypeUnknown, attrs: []kv{{"mcp.method.name", m}}}
	switch p := params.(type) {
	case *sdkmcp.CallToolParams:
		d.tool = true
		d.name, d.typ, d.always = m+" "+p.Name, tracing.SpanTypeTool, true
		d.attrs = append(d.attrs, kv{"gen_ai.tool.name", p.Name}, kv{"gen_ai.operation.name", "execute_tool"})
	case *sdkmcp.CallToolParamsRaw:
		d.tool = true
		d.name, d.typ, d.always = m+" "+p.Name, tracing.SpanTypeTool, true
		d.attrs = append(d.attrs, kv{"gen_ai.tool.name", p.Name}, kv{"gen_ai.operation.name", "execute_tool"})
	case *sdkmcp.ReadResourceParams:
		d.resource = true
		d.typ, d.always = tracing.SpanTypeRetriever, true
		d.attrs = append(d.attrs, kv{"mcp.resource.uri", p.URI})
	case *sdkmcp.GetPromptParams:
		d.name, d.always = m+" "+p.Name, true
		d.attrs = append(d.attrs, kv{"gen_ai.prompt.name", p.Name})
	case *sdkmcp.CreateMessageParams, *sdkmcp.CreateMessageWithToolsParams:
		d.typ, d.always = tracing.SpanTypeChatModel, true
	case *sdkmcp.ElicitParams, *sdkmcp.CompleteParams:
		d.always = true
	}
	return d
}

// startSpan starts the span of a request.
func startSpan(ctx context.Context, m method, req sdkmcp.Request) (context.Context, *tracing.Span) {
	ctx, span := tracing.StartSpan(ctx, m.name, tracing.WithSpanType(m.typ))
	if span == nil {
		return ctx, nil
	}
	for _, a := range m.attrs {
		span.SetAttribute(a.k, a.v)
	}
	if s := req.GetSession(); s != nil && !isNilValue(s) {
		if id := s.ID(); id != "" {
			span.SetAttribute("mcp.session.id", id)
		}
	}
	if span.CapturesContent() {
		span.SetInputs(inputs(req.GetParams()))
	}
	return ctx, span
}

// run calls next in span and records its result.
func run(ctx context.Context, span *tracing.Span, m method, next sdkmcp.MethodHandler, name string, req sdkmcp.Request) (res sdkmcp.Result, err error) {
	if span == nil {
		return next(ctx, name, req)
	}
	defer func() {
		if r := recover(); r != nil {
			span.RecordError(fmt.Errorf("panic: %v", r))
			span.End()
			panic(r)
		}
	}()
	res, err = next(ctx, name, req)
	finish(span, m, res, err)
	return res, err
}

func finish(span *tracing.Span, m method, res sdkmcp.Result, err error) {
	content := span.CapturesContent()
	if err != nil {
		var we *jsonrpc.Error
		if errors.As(err, &we) {
			code := strconv.FormatInt(we.Code, 10)
			span.SetAttribute("error.type", code)
			span.SetAttribute("rpc.response.status_code", code)
		} else {
			span.SetAttribute("error.type", fmt.Sprintf("%T", err))
		}
		span.RecordError(err)
		span.End()
		return
	}
	if res == nil || isNilValue(res) {
		span.End()
		return
	}
	switch r := res.(type) {
	case *sdkmcp.CreateMessageResult:
		if r.Model != "" {
			span.SetModel(r.Model)
		}
	case *sdkmcp.CreateMessageWithToolsResult:
		if r.Model != "" {
			span.SetModel(r.Model)
		}
	}
	if r, ok := res.(*sdkmcp.CallToolResult); ok && r.IsError {
		span.SetAttribute("error.type", "tool_error")
		attrs := []attribute.KeyValue{attribute.String("exception.type", "tool_error")}
		status := "tool_error"
		if content {
			msg := resultText(r)
			attrs = append(attrs, attribute.String("exception.message", msg))
			status += ": " + msg
		}
		span.AddEvent("exception", attrs...)
		span.SetStatus(codes.Error, status)
	}
	if !content {
		span.End()
		return
	}
	if m.resource {
		if r, ok := res.(*sdkmcp.ReadResourceResult); ok {
			span.End(tracing.WithOutputs(documents(r)))
			return
		}
	}
	span.End(tracing.WithOutputs(res))
}

// resultText joins the text contents of a tool result.
func resultText(r *sdkmcp.CallToolResult) string {
	var parts []string
	for _, c := range r.Content {
		if t, ok := c.(*sdkmcp.TextContent); ok {
			parts = append(parts, t.Text)
		}
	}
	return strings.Join(parts, "\n")
}

// inputs is what a request's span records as inputs: a tool call's
// arguments, a resource's URI, a prompt's name and arguments, else the params
// without _meta.
func inputs(params sdkmcp.Params) any {
	switch p := params.(type) {
	case nil:
		return nil
	case *sdkmcp.CallToolParams:
		return p.Arguments
	case *sdkmcp.CallToolParamsRaw:
		if len(p.Arguments) == 0 {
			return map[string]any{}
		}
		return json.RawMessage(p.Arguments)
	case *sdkmcp.ReadResourceParams:
		return map[string]any{"uri": p.URI}
	case *sdkmcp.GetPromptParams:
		return map[string]any{"name": p.Name, "arguments": p.Arguments}
	}
	if isNilValue(params) {
		return nil
	}
	b, err := json.Marshal(params)
	if err != nil {
		return nil
	}
	var m map[string]any
	if json.Unmarshal(b, &m) != nil {
		return json.RawMessage(b)
	}
	delete(m, "_meta")
	return m
}

// document is mlflow.entities.Document, the output MLflow's UI shows for
// RETRIEVER spans.
type document struct {
	PageContent string         `json:"page_content"`
	Metadata    map[string]any `json:"metadata"`
	ID          *string        `json:"id"`
}

func documents(r *sdkmcp.ReadResourceResult) []document {
	out := make([]document, 0, len(r.Contents))
	for _, c := range r.Contents {
		if c == nil {
			continue
		}
		md := map[string]any{"uri": c.URI}
		if c.MIMEType != "" {
			md["mimeType"] = c.MIMEType
		}
		if len(c.Blob) > 0 {
			md["blob_bytes"] = len(c.Blob)
		}
		out = append(out, document{PageContent: c.Text, Metadata: md})
	}
	return out
}
