package mcpgo

import (
	"context"
	"encoding/json"
	"errors"
	"strconv"
	"strings"
	"sync"

	"github.com/mark3labs/mcp-go/mcp"
	"github.com/mark3labs/mcp-go/server"
	mcptracing "github.com/mark3labs/mcp-go/tracing"

	"github.com/mlflowtrace/mlflowtrace-go/internal/mcpspan"
	"github.com/mlflowtrace/mlflowtrace-go/internal/rawjson"
	"github.com/mlflowtrace/mlflowtrace-go/tracing"
)

// ServerOption returns the option of an mcp-go server
// (server.NewMCPServer(name, version, mcpgo.ServerOption())) that records a
// span for each request the server handles (see the package documentation
// for which), current in the handler's context, continuing the trace the
// request carries in params._meta.
//
// It is built on mcp-go's own hooks: server.WithMetaPropagator (the trace
// context of params._meta), server.WithTracer (a span around the handling
// of each request) and server.Hooks (the request and its result). It adds
// its hooks to the server's Hooks: give server.WithHooks before it, or add
// hooks later through the server's GetHooks, as server.WithHooks replaces
// the Hooks. It takes the server's one tracer and one meta propagator.
func ServerOption(opts ...Option) server.ServerOption {
	c := mcpspan.NewConfig(opts)
	return func(s *server.MCPServer) {
		server.WithMetaPropagator(metaPropagator{c})(s)
		server.WithTracer(serverTracer{})(s)
		hooks := s.GetHooks()
		if hooks == nil {
			hooks = &server.Hooks{}
			server.WithHooks(hooks)(s)
		}
		hooks.AddBeforeAny(beforeAny)
		hooks.AddOnSuccess(onSuccess)
		hooks.AddOnError(onError)
	}
}

// metaPropagator reads (and writes) the trace context of params._meta.
type metaPropagator struct{ c mcpspan.Config }

func (p metaPropagator) ExtractMeta(ctx context.Context, meta *mcp.Meta) context.Context {
	if meta == nil {
		return ctx
	}
	return mcpspan.Extract(ctx, p.c.Propagator, meta.AdditionalFields)
}

func (p metaPropagator) InjectMeta(ctx context.Context, meta *mcp.Meta) *mcp.Meta {
	var fields map[string]any
	if meta != nil {
		fields = meta.AdditionalFields
	}
	m, ok := mcpspan.Inject(ctx, p.c.Propagator, fields)
	if !ok {
		return meta
	}
	out := &mcp.Meta{AdditionalFields: m}
	if meta != nil {
		out.ProgressToken = meta.ProgressToken
	}
	return out
}

// serverTracer gives each request the server handles its span: mcp-go
// starts one ("mcp.<method>", kind server) around the handling of every
// request, and ends it when the response is made.
type serverTracer struct{}

type callKey struct{}

func (serverTracer) Start(ctx context.Context, name string, kind mcptracing.SpanKind, _ ...mcptracing.Attribute) (context.Context, mcptracing.Span) {
	method, ok := strings.CutPrefix(name, "mcp.")
	if kind != mcptracing.SpanKindServer || !ok || mcpspan.IsNotification(method) {
		// mcp-go's tool span ("tool.<name>"): the request's span is the one.
		return ctx, noopSpan{}
	}
	m := mcpspan.Describe(method, "")
	if !m.Always && !mcpspan.Traced(ctx) {
		return ctx, noopSpan{}
	}
	id := ""
	if s := server.ClientSessionFromContext(ctx); s != nil {
		id = s.SessionID()
	}
	// The target (tool, prompt, URI) and the inputs come with the request
	// (beforeAny).
	ctx, span := mcpspan.Start(ctx, m, id, nil)
	if span == nil {
		return ctx, noopSpan{}
	}
	call := &serverCall{span: span}
	return context.WithValue(ctx, callKey{}, call), call
}

// serverCall is the span of one request the server handles.
type serverCall struct {
	span *tracing.Span

	mu      sync.Mutex
	began   bool // the request reached the hooks (beforeAny)
	outcome *mcpspan.Outcome
	status  string // an error response's message, when no hook saw the error
	ended   bool
}

// errNoResponse ends the span of a request whose handling began but made
// neither a result nor an error response: mcp-go ends its span on the way
// out of a handler's panic (re-raised: server.WithRecovery would answer it
// with an error response instead).
var errNoResponse = errors.New("panic: the request's handler did not return (no response was made)")

func callOf(ctx context.Context) *serverCall {
	c, _ := ctx.Value(callKey{}).(*serverCall)
	return c
}

func beforeAny(ctx context.Context, _ any, method mcp.MCPMethod, message any) {
	c := callOf(ctx)
	if c == nil {
		return
	}
	c.mu.Lock()
	c.began = true
	c.mu.Unlock()
	r := requestOf(string(method), paramsOf(message))
	mcpspan.Retarget(c.span, r.describe())
	if c.span.CapturesContent() {
		c.span.SetInputs(r.inputs())
	}
}

// paramsOf returns the params of one of mcp-go's typed requests, as JSON.
func paramsOf(message any) json.RawMessage {
	b, err := json.Marshal(message)
	if err != nil {
		return nil
	}
	// json.Marshal writes the request's "params" as mcp-go tags it.
	p, _ := rawjson.LastMember(b, "params")
	return p
}

func onSuccess(ctx context.Context, _ any, method mcp.MCPMethod, _ any, result any) {
	c := callOf(ctx)
	if c == nil {
		return
	}
	var o mcpspan.Outcome
	if b, err := json.Marshal(result); err == nil {
		o = resultOutcome(string(method), b)
	}
	c.set(o)
}

func onError(ctx context.Context, _ any, _ mcp.MCPMethod, _ any, err error) {
	c := callOf(ctx)
	if c == nil || err == nil {
		return
	}
	o := mcpspan.Outcome{Err: err}
	var rpc interface{ ToJSONRPCError() mcp.JSONRPCError }
	if errors.As(err, &rpc) {
		o.ErrCode = strconv.Itoa(rpc.ToJSONRPCError().Error.Code)
	}
	c.set(o)
}

func (c *serverCall) set(o mcpspan.Outcome) {
	c.mu.Lock()
	if c.outcome == nil {
		c.outcome = &o
	}
	c.mu.Unlock()
}

func (c *serverCall) SetAttributes(...mcptracing.Attribute) {}
func (c *serverCall) RecordError(error)                     {}

// SetStatus notes an error response (mcp-go sets its message before End).
func (c *serverCall) SetStatus(code mcptracing.StatusCode, description string) {
	if code != mcptracing.StatusError {
		return
	}
	c.mu.Lock()
	if c.status == "" {
		c.status = description
	}
	c.mu.Unlock()
}

// End records the outcome the hooks saw (or the error response) and ends
// the span.
func (c *serverCall) End() {
	c.mu.Lock()
	if c.ended {
		c.mu.Unlock()
		return
	}
	c.ended = true
	var o mcpspan.Outcome
	switch {
	case c.outcome != nil:
		o = *c.outcome
	case c.status != "":
		o = mcpspan.Outcome{Err: errors.New(c.status)}
	case c.began:
		o = mcpspan.Outcome{Err: errNoResponse}
	}
	c.mu.Unlock()
	mcpspan.Finish(c.span, o)
}

type noopSpan struct{}

func (noopSpan) SetAttributes(...mcptracing.Attribute)   {}
func (noopSpan) RecordError(error)                       {}
func (noopSpan) SetStatus(mcptracing.StatusCode, string) {}
func (noopSpan) End()                                    {}
