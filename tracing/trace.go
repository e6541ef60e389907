package tracing

import (
	"context"
	"errors"
	"fmt"
	"maps"
	"net/http"

	"go.opentelemetry.io/otel/propagation"
	"go.opentelemetry.io/otel/trace"

	"github.com/mlflowtrace/mlflowtrace-go/exporter"
	"github.com/mlflowtrace/mlflowtrace-go/internal/keys"
)

// ErrNoActiveTrace is returned by UpdateCurrentTrace when ctx holds no
// recording span of an open trace.
var ErrNoActiveTrace = errors.New("tracing: no active trace in context")

// TraceOption is one change UpdateCurrentTrace applies to the current trace.
type TraceOption interface{ applyTrace(*exporter.TraceUpdate) }

type traceOptionFunc func(*exporter.TraceUpdate)

func (f traceOptionFunc) applyTrace(u *exporter.TraceUpdate) { f(u) }

// WithTags adds trace tags (mutable key/values, searchable in MLflow).
func WithTags(tags map[string]string) TraceOption {
	return traceOptionFunc(func(u *exporter.TraceUpdate) {
		if len(tags) == 0 {
			return
		}
		if u.Tags == nil {
			u.Tags = make(map[string]string, len(tags))
		}
		maps.Copy(u.Tags, tags)
	})
}

// WithMetadata adds trace metadata (trace_metadata; immutable once logged).
func WithMetadata(md map[string]string) TraceOption {
	return traceOptionFunc(func(u *exporter.TraceUpdate) {
		for k, v := range md {
			setMetadata(u, k, v)
		}
	})
}

func setMetadata(u *exporter.TraceUpdate, k, v string) {
	if u.Metadata == nil {
		u.Metadata = make(map[string]string)
	}
	u.Metadata[k] = v
}

// WithUser sets the trace's user (metadata mlflow.trace.user).
func WithUser(id string) TraceOption {
	return traceOptionFunc(func(u *exporter.TraceUpdate) { setMetadata(u, keys.MetaUser, id) })
}

// WithSession sets the trace's session (metadata mlflow.trace.session).
func WithSession(id string) TraceOption {
	return traceOptionFunc(func(u *exporter.TraceUpdate) { setMetadata(u, keys.MetaSession, id) })
}

// WithModelID links the trace to a logged model (metadata mlflow.modelId).
func WithModelID(id string) TraceOption {
	return traceOptionFunc(func(u *exporter.TraceUpdate) {
		if id != "" {
			setMetadata(u, keys.MetaModelID, id)
		}
	})
}

// WithClientRequestID sets the trace's client_request_id.
func WithClientRequestID(id string) TraceOption {
	return traceOptionFunc(func(u *exporter.TraceUpdate) { u.ClientRequestID = id })
}

// WithRequestPreview replaces the request preview derived from the root span's
// inputs. An empty preview is ignored, as in MLflow.
func WithRequestPreview(preview string) TraceOption {
	return traceOptionFunc(func(u *exporter.TraceUpdate) {
		if preview != "" {
			u.RequestPreview = &preview
		}
	})
}

// WithResponsePreview replaces the response preview derived from the root
// span's outputs. An empty preview is ignored, as in MLflow.
func WithResponsePreview(preview string) TraceOption {
	return traceOptionFunc(func(u *exporter.TraceUpdate) {
		if preview != "" {
			u.ResponsePreview = &preview
		}
	})
}

// WithState overrides the trace state derived from the root span's status:
// exporter.StateOK ("OK") or exporter.StateError ("ERROR"); UpdateCurrentTrace
// rejects anything else, as MLflow does.
func WithState(state string) TraceOption {
	return traceOptionFunc(func(u *exporter.TraceUpdate) { u.State = state })
}

// UpdateCurrentTrace changes the trace that the span in ctx belongs to, like
// mlflow.update_current_trace: tags, metadata (user, session, ...), client
// request id, previews and state. The changes are applied when the trace is
// assembled, after its root span ends; later calls win per key. It returns
// ErrNoActiveTrace when ctx holds no open trace, an error for an invalid
// state, and nil (doing nothing) when tracing is off or the trace is not
// sampled.
func UpdateCurrentTrace(ctx context.Context, opts ...TraceOption) error {
	p, sc, err := currentTrace(ctx)
	if p == nil {
		return err
	}
	var upd exporter.TraceUpdate
	for _, o := range opts {
		if o != nil {
			o.applyTrace(&upd)
		}
	}
	switch upd.State {
	case "", exporter.StateOK, exporter.StateError:
	default:
		return fmt.Errorf("tracing: state must be %q or %q, got %q", exporter.StateOK, exporter.StateError, upd.State)
	}
	if p.exp == nil {
		return nil
	}
	ok := p.exp.UpdateTrace(sc.TraceID(), func(u *exporter.TraceUpdate) { mergeUpdate(u, &upd) })
	if !ok {
		return ErrNoActiveTrace
	}
	return nil
}

func mergeUpdate(dst, src *exporter.TraceUpdate) {
	if len(src.Tags) > 0 {
		if dst.Tags == nil {
			dst.Tags = make(map[string]string, len(src.Tags))
		}
		maps.Copy(dst.Tags, src.Tags)
	}
	if len(src.Metadata) > 0 {
		if dst.Metadata == nil {
			dst.Metadata = make(map[string]string, len(src.Metadata))
		}
		maps.Copy(dst.Metadata, src.Metadata)
	}
	if src.ClientRequestID != "" {
		dst.ClientRequestID = src.ClientRequestID
	}
	if src.RequestPreview != nil {
		dst.RequestPreview = src.RequestPreview
	}
	if src.ResponsePreview != nil {
		dst.ResponsePreview = src.ResponsePreview
	}
	if src.State != "" {
		dst.State = src.State
	}
}

// propagator is the W3C trace-context + baggage propagator used by the HTTP
// helpers and Wrap (independent of OpenTelemetry's global propagator), and
// installed as the global one by Init when none is set. It is stateless.
var propagator propagation.TextMapPropagator = propagation.NewCompositeTextMapPropagator(
	propagation.TraceContext{}, propagation.Baggage{})

// InjectHTTPHeaders writes the trace context of ctx into h as W3C traceparent
// (and baggage) headers, so the service receiving the request can continue the
// trace (see ContextFromHTTPHeaders and Wrap): a distributed agent is one
// MLflow trace.
func InjectHTTPHeaders(ctx context.Context, h http.Header) {
	if h == nil || ctx == nil {
		return
	}
	propagator.Inject(ctx, propagation.HeaderCarrier(h))
}

// ContextFromHTTPHeaders returns ctx carrying the remote trace context found
// in h's W3C traceparent (and baggage) headers; spans started from it join
// the caller's trace. Without valid headers it returns ctx unchanged.
func ContextFromHTTPHeaders(ctx context.Context, h http.Header) context.Context {
	if h == nil {
		return ctx
	}
	if ctx == nil {
		ctx = context.Background()
	}
	return propagator.Extract(ctx, propagation.HeaderCarrier(h))
}

// WatchTrace returns a handle on the open trace the span in ctx belongs to;
// its Wait returns the finished trace, assembled as MLflow stores it (see
// exporter.Exporter.Watch), once every span of the trace has ended. Take it
// before the root span ends. It returns ErrNoActiveTrace when ctx holds no
// recording span of an open trace (also when tracing is off, the trace is not
// sampled or the Provider has no MLflow exporter).
func WatchTrace(ctx context.Context) (*exporter.TraceWatch, error) {
	p := defaultProvider.Load()
	if p == nil || p.disabled || p.exp == nil {
		return nil, ErrNoActiveTrace
	}
	sc := trace.SpanContextFromContext(ctx)
	if !sc.IsValid() || !sc.IsSampled() {
		return nil, ErrNoActiveTrace
	}
	w, err := p.exp.Watch(sc.TraceID())
	if err != nil {
		return nil, fmt.Errorf("%w: %w", ErrNoActiveTrace, err)
	}
	return w, nil
}

// currentTrace returns the Provider and the span context of the trace a
// function on the current trace (UpdateCurrentTrace, LinkPromptVersion)
// changes: a nil Provider with a nil error when there is nothing to do
// (tracing off, the trace not sampled), with ErrNoActiveTrace when ctx
// holds no span.
func currentTrace(ctx context.Context) (*Provider, trace.SpanContext, error) {
	p := defaultProvider.Load()
	if p == nil || p.disabled {
		return nil, trace.SpanContext{}, nil
	}
	sc := trace.SpanContextFromContext(ctx)
	if !sc.IsValid() {
		return nil, sc, ErrNoActiveTrace
	}
	if !sc.IsSampled() {
		return nil, sc, nil
	}
	return p, sc, nil
}
