package mcpgo

import (
	"context"
	"strconv"

	"github.com/mark3labs/mcp-go/client/transport"
	"github.com/mark3labs/mcp-go/mcp"

	"github.com/mlflowtrace/mlflowtrace-go/internal/mcpspan"
	"github.com/mlflowtrace/mlflowtrace-go/tracing"
)

// Transport returns t instrumented, for an mcp-go client
// (client.NewClient(mcpgo.Transport(t))): every request the client sends
// becomes a span (see the package documentation for which) and carries the
// trace context in its params._meta, and so does every notification;
// requests the server sends the client (sampling, elicitation, roots)
// continue the server's trace in a span current in the handler's context.
//
// The transport keeps what t can do: it is a transport.HTTPConnection when
// t is one, and passes on the request handler, the connection-lost handler
// and the legacy-protocol requirement of t. Unwrap returns t.
func Transport(t transport.Interface, opts ...Option) transport.Interface {
	ct := &clientTransport{inner: t, c: mcpspan.NewConfig(opts)}
	if h, ok := t.(transport.HTTPConnection); ok {
		return &httpTransport{clientTransport: ct, http: h}
	}
	return ct
}

// clientTransport is the instrumented transport.
type clientTransport struct {
	inner transport.Interface
	c     mcpspan.Config
}

// httpTransport is the instrumented transport of an HTTP connection
// (mcp-go treats those differently: cancellation, protocol headers).
type httpTransport struct {
	*clientTransport
	http transport.HTTPConnection
}

var (
	_ transport.BidirectionalInterface = (*clientTransport)(nil)
	_ transport.HTTPConnection         = (*httpTransport)(nil)
)

// SetProtocolVersion passes the negotiated protocol version on.
func (t *httpTransport) SetProtocolVersion(v string) { t.http.SetProtocolVersion(v) }

// Unwrap returns the transport that was instrumented.
func (t *clientTransport) Unwrap() transport.Interface { return t.inner }

func (t *clientTransport) Start(ctx context.Context) error { return t.inner.Start(ctx) }
func (t *clientTransport) Close() error                    { return t.inner.Close() }
func (t *clientTransport) GetSessionId() string            { return t.inner.GetSessionId() }

func (t *clientTransport) SetNotificationHandler(h func(mcp.JSONRPCNotification)) {
	t.inner.SetNotificationHandler(h)
}

// SendRequest records the request's span and sends it with the trace
// context in params._meta.
func (t *clientTransport) SendRequest(ctx context.Context, req transport.JSONRPCRequest) (*transport.JSONRPCResponse, error) {
	r := newRequest(req.Method, req.Params)
	m := r.describe()
	var span *tracing.Span
	if m.Always || mcpspan.Traced(ctx) {
		ctx, span = mcpspan.Start(ctx, m, t.inner.GetSessionId(), r.inputs)
	}
	if meta, ok := mcpspan.Inject(ctx, t.c.Propagator, r.meta()); ok {
		if p, ok := r.withMeta(meta); ok {
			req.Params = p
		}
	}
	if span == nil {
		return t.inner.SendRequest(ctx, req)
	}
	defer func() {
		if v := recover(); v != nil {
			mcpspan.Panicked(span, v)
			panic(v)
		}
	}()
	res, err := t.inner.SendRequest(ctx, req)
	mcpspan.Finish(span, responseOutcome(req.Method, res, err))
	return res, err
}

// responseOutcome is how a request sent ended.
func responseOutcome(method string, res *transport.JSONRPCResponse, err error) mcpspan.Outcome {
	switch {
	case err != nil:
		return mcpspan.Outcome{Err: err}
	case res == nil:
		return mcpspan.Outcome{}
	case res.Error != nil:
		return mcpspan.Outcome{Err: res.Error.AsError(), ErrCode: strconv.Itoa(res.Error.Code)}
	}
	return resultOutcome(method, res.Result)
}

// SendNotification sends n with the trace context in params._meta.
func (t *clientTransport) SendNotification(ctx context.Context, n mcp.JSONRPCNotification) error {
	if meta, ok := mcpspan.Inject(ctx, t.c.Propagator, n.Params.Meta); ok {
		n.Params.Meta = meta
	}
	return t.inner.SendNotification(ctx, n)
}

// SetRequestHandler passes a handler of the server's requests on (when t
// takes them), wrapped to continue the server's trace.
func (t *clientTransport) SetRequestHandler(h transport.RequestHandler) {
	b, ok := t.inner.(transport.BidirectionalInterface)
	if !ok {
		return
	}
	b.SetRequestHandler(func(ctx context.Context, req transport.JSONRPCRequest) (*transport.JSONRPCResponse, error) {
		r := newRequest(req.Method, req.Params)
		ctx = mcpspan.Extract(ctx, t.c.Propagator, r.meta())
		m := r.describe()
		if !m.Always && !mcpspan.Traced(ctx) {
			return h(ctx, req)
		}
		ctx, span := mcpspan.Start(ctx, m, t.inner.GetSessionId(), r.inputs)
		if span == nil {
			return h(ctx, req)
		}
		defer func() {
			if v := recover(); v != nil {
				mcpspan.Panicked(span, v)
				panic(v)
			}
		}()
		res, err := h(ctx, req)
		mcpspan.Finish(span, responseOutcome(req.Method, res, err))
		return res, err
	})
}

// SetConnectionLostHandler passes h on when t takes it.
func (t *clientTransport) SetConnectionLostHandler(h func(error)) {
	if s, ok := t.inner.(interface{ SetConnectionLostHandler(func(error)) }); ok {
		s.SetConnectionLostHandler(h)
	}
}

// RequiresLegacyProtocol answers what t answers (false when t does not say).
func (t *clientTransport) RequiresLegacyProtocol() bool {
	l, ok := t.inner.(interface{ RequiresLegacyProtocol() bool })
	return ok && l.RequiresLegacyProtocol()
}
