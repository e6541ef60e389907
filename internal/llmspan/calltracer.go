package llmspan

import (
	"context"
	"net/http"
	"sync"
	"sync/atomic"

	"go.opentelemetry.io/otel/trace"
	"go.opentelemetry.io/otel/trace/noop"
)

// CallTracer is the public hook of an SDK that starts an OpenTelemetry span
// of its own for each logical API call, through a TracerProvider the
// application gives it (anthropic-sdk-go: option.WithTracerProvider): the
// SDK starts that span before the call's first attempt, with the caller's
// context, runs every attempt (retries) in the span's context, and ends the
// span when the call is over — when it failed, when its response was
// decoded, or when the application finished reading the body. So the SDK
// itself says which attempts belong to one call and when it ends; nothing
// of its retry policy is predicted.
//
// A CallTracer is that TracerProvider, and Middleware is the SDK middleware
// that goes with it: an attempt finds its call's span in its request's
// context and is sent through the call's Call, which the span's end
// settles. The spans it gives the SDK are its own (they are not exported)
// or, with an inner TracerProvider, the inner provider's spans passed
// through, so that the SDK's own spans are kept.
type CallTracer struct {
	noop.TracerProvider
	inner func() trace.TracerProvider // nil: the SDK's spans are dropped
	route Route

	// fallbacks counts attempts that came without the SDK's call span:
	// each was traced as a call of its own.
	fallbacks atomic.Int64
}

var _ trace.TracerProvider = (*CallTracer)(nil)

// NewCallTracer returns a CallTracer tracing the calls route routes. inner,
// when not nil, gives the TracerProvider that records the SDK's own spans.
func NewCallTracer(route Route, inner func() trace.TracerProvider) *CallTracer {
	return &CallTracer{route: route, inner: inner}
}

// Tracer returns the tracer of the SDK's call spans.
func (t *CallTracer) Tracer(name string, opts ...trace.TracerOption) trace.Tracer {
	tr := &callTracer{t: t}
	if t.inner != nil {
		if p := t.inner(); p != nil {
			tr.inner = p.Tracer(name, opts...)
		}
	}
	return tr
}

// Fallbacks returns how many attempts came without the SDK's call span (an
// SDK that no longer starts one, or options that turn it off): each was
// traced as a call of its own, so retries were separate spans.
func (t *CallTracer) Fallbacks() int64 { return t.fallbacks.Load() }

// Middleware returns the SDK middleware of the calls: every attempt of one
// call goes through that call's Call.
func (t *CallTracer) Middleware() Middleware {
	return func(req *http.Request, next Next) (*http.Response, error) {
		cs, ok := trace.SpanFromContext(req.Context()).(*callSpan)
		if !ok || cs.t != t {
			t.fallbacks.Add(1)
			return CallMiddleware(CallInfo{}, t.route, false)(req, next)
		}
		return cs.middleware()(req, next)
	}
}

type callTracer struct {
	noop.Tracer
	t     *CallTracer
	inner trace.Tracer
}

// Start starts the SDK's span of one call.
func (tr *callTracer) Start(ctx context.Context, name string, opts ...trace.SpanStartOption) (context.Context, trace.Span) {
	cs := &callSpan{t: tr.t, caller: ctx}
	if tr.inner != nil {
		_, cs.Span = tr.inner.Start(ctx, name, opts...)
	} else {
		cs.Span = noop.Span{}
	}
	return trace.ContextWithSpan(ctx, cs), cs
}

// callSpan is the SDK's span of one call.
type callSpan struct {
	trace.Span // the inner span (noop without an inner provider)
	t          *CallTracer
	caller     context.Context

	mu   sync.Mutex
	mw   *callMiddleware
	done bool
}

func (cs *callSpan) middleware() Middleware {
	cs.mu.Lock()
	defer cs.mu.Unlock()
	if cs.mw == nil {
		cs.mw = &callMiddleware{info: CallInfo{ctx: cs.caller, sdkEnds: true}, route: cs.t.route}
	}
	return cs.mw.serve
}

// IsRecording reports true: the SDK ends only a recording span.
func (cs *callSpan) IsRecording() bool { return true }

// SpanContext is the inner span's, or without one the caller's: the MLflow
// span of the call, started in the attempts' context, is a child of the
// caller's span.
func (cs *callSpan) SpanContext() trace.SpanContext {
	if sc := cs.Span.SpanContext(); sc.IsValid() {
		return sc
	}
	return trace.SpanContextFromContext(cs.caller)
}

// End is the end of the call.
func (cs *callSpan) End(opts ...trace.SpanEndOption) {
	cs.mu.Lock()
	mw, done := cs.mw, cs.done
	cs.done = true
	cs.mu.Unlock()
	if !done && mw != nil && mw.call != nil {
		mw.call.sdkEnded(nil)
	}
	cs.Span.End(opts...)
}
