package mcp

import (
	"context"
	"errors"
	"reflect"
	"strconv"
	"strings"

	"github.com/modelcontextprotocol/go-sdk/jsonrpc"
	sdkmcp "github.com/modelcontextprotocol/go-sdk/mcp"
	"go.opentelemetry.io/otel/propagation"

	"github.com/mlflowtrace/mlflowtrace-go/internal/mcpspan"
	"github.com/mlflowtrace/mlflowtrace-go/tracing"
)

// Option configures the middleware.
type Option = mcpspan.Option

// WithPropagator sets how the trace context is written to and read from
// params._meta (default: W3C trace context and baggage, whatever the global
// OpenTelemetry propagator is).
func WithPropagator(p propagation.TextMapPropagator) Option { return mcpspan.WithPropagator(p) }

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
	c := mcpspan.NewConfig(opts)
	return func(next sdkmcp.MethodHandler) sdkmcp.MethodHandler {
		return func(ctx context.Context, method string, req sdkmcp.Request) (sdkmcp.Result, error) {
			params := paramsOf(req)
			if mcpspan.IsNotification(method) {
				inject(ctx, c.Propagator, params)
				return next(ctx, method, req)
			}
			m := describe(method, params)
			var span *tracing.Span
			if m.Always || mcpspan.Traced(ctx) {
				ctx, span = startSpan(ctx, m, req)
			}
			if params == nil && mcpspan.Traced(ctx) {
				params = emptyParams(method, req) // somewhere to carry _meta
			}
			inject(ctx, c.Propagator, params)
			return run(ctx, span, next, method, req)
		}
	}
}

// ReceivingMiddleware continues the trace found in each request's
// params._meta (or, without one, the trace of the handler's context) and
// records a span for the request handled, current in the context the handler
// gets.
func ReceivingMiddleware(opts ...Option) sdkmcp.Middleware {
	c := mcpspan.NewConfig(opts)
	return func(next sdkmcp.MethodHandler) sdkmcp.MethodHandler {
		return func(ctx context.Context, method string, req sdkmcp.Request) (sdkmcp.Result, error) {
			params := paramsOf(req)
			if mcpspan.IsNotification(method) {
				return next(ctx, method, req)
			}
			if params != nil {
				ctx = mcpspan.Extract(ctx, c.Propagator, params.GetMeta())
			}
			m := describe(method, params)
			if !m.Always && !mcpspan.Traced(ctx) {
				return next(ctx, method, req)
			}
			ctx, span := startSpan(ctx, m, req)
			return run(ctx, span, next, method, req)
		}
	}
}

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
	//lint:ignore SA1019 roots are deprecated (SEP-2577) but still served; their calls are traced.
	"roots/list": func() sdkmcp.Params { return &sdkmcp.ListRootsParams{} },
	"ping":       func() sdkmcp.Params { return &sdkmcp.PingParams{} },
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

// inject writes ctx's trace context into params._meta (a copy of the map, so
// a map the caller shares is not changed).
func inject(ctx context.Context, p propagation.TextMapPropagator, params sdkmcp.Params) {
	if params == nil {
		return
	}
	if m, ok := mcpspan.Inject(ctx, p, params.GetMeta()); ok {
		params.SetMeta(m)
	}
}

// describe describes a request for its span.
func describe(m string, params sdkmcp.Params) mcpspan.Method {
	switch p := params.(type) {
	case *sdkmcp.CallToolParams:
		return mcpspan.Describe(m, p.Name)
	case *sdkmcp.CallToolParamsRaw:
		return mcpspan.Describe(m, p.Name)
	case *sdkmcp.ReadResourceParams:
		return mcpspan.Describe(m, p.URI)
	case *sdkmcp.GetPromptParams:
		return mcpspan.Describe(m, p.Name)
	}
	return mcpspan.Describe(m, "")
}

// startSpan starts the span of a request.
func startSpan(ctx context.Context, m mcpspan.Method, req sdkmcp.Request) (context.Context, *tracing.Span) {
	id := ""
	if s := req.GetSession(); s != nil && !isNilValue(s) {
		id = s.ID()
	}
	return mcpspan.Start(ctx, m, id, func() any { return inputs(req.GetParams()) })
}

// run calls next in span and records its result.
func run(ctx context.Context, span *tracing.Span, next sdkmcp.MethodHandler, name string, req sdkmcp.Request) (res sdkmcp.Result, err error) {
	if span == nil {
		return next(ctx, name, req)
	}
	defer func() {
		if r := recover(); r != nil {
			mcpspan.Panicked(span, r)
			panic(r)
		}
	}()
	res, err = next(ctx, name, req)
	mcpspan.Finish(span, outcome(res, err))
	return res, err
}

// outcome is how a request ended, for mcpspan.Finish.
func outcome(res sdkmcp.Result, err error) mcpspan.Outcome {
	if err != nil {
		o := mcpspan.Outcome{Err: err}
		var we *jsonrpc.Error
		if errors.As(err, &we) {
			o.ErrCode = strconv.FormatInt(we.Code, 10)
		}
		return o
	}
	if res == nil || isNilValue(res) {
		return mcpspan.Outcome{}
	}
	o := mcpspan.Outcome{Result: res, Outputs: res}
	switch r := res.(type) {
	//lint:ignore SA1019 sampling is deprecated (SEP-2577) but still served; its calls are traced.
	case *sdkmcp.CreateMessageResult:
		o.Model = r.Model
	//lint:ignore SA1019 as above.
	case *sdkmcp.CreateMessageWithToolsResult:
		o.Model = r.Model
	case *sdkmcp.CallToolResult:
		o.ToolError = r.IsError
		o.ToolErrorText = func() string { return resultText(r) }
	case *sdkmcp.ReadResourceResult:
		o.Outputs = documents(r)
	}
	return o
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
		return mcpspan.ToolInputs(p.Arguments)
	case *sdkmcp.ReadResourceParams:
		return mcpspan.ResourceInputs(p.URI)
	case *sdkmcp.GetPromptParams:
		return mcpspan.PromptInputs(p.Name, p.Arguments)
	}
	if isNilValue(params) {
		return nil
	}
	return mcpspan.ParamsInputs(params)
}

func documents(r *sdkmcp.ReadResourceResult) []mcpspan.Document {
	out := make([]mcpspan.Document, 0, len(r.Contents))
	for _, c := range r.Contents {
		if c != nil {
			out = append(out, mcpspan.NewDocument(c.URI, c.MIMEType, c.Text, len(c.Blob)))
		}
	}
	return out
}
