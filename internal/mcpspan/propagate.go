package mcpspan

import (
	"context"

	"go.opentelemetry.io/otel/propagation"
	"go.opentelemetry.io/otel/trace"
)

// DefaultPropagator is what carries the trace in params._meta unless an
// integration's option says otherwise: W3C trace context and baggage.
func DefaultPropagator() propagation.TextMapPropagator {
	return propagation.NewCompositeTextMapPropagator(propagation.TraceContext{}, propagation.Baggage{})
}

// carrier reads and writes propagation keys in a _meta map.
type carrier map[string]any

func (m carrier) Get(k string) string { s, _ := m[k].(string); return s }
func (m carrier) Set(k, v string)     { m[k] = v }
func (m carrier) Keys() []string {
	out := make([]string, 0, len(m))
	for k := range m {
		out = append(out, k)
	}
	return out
}

// Inject returns a copy of meta (a map the caller shares is not changed)
// with ctx's trace context written into it by p, and ok true; ok false and
// meta unchanged when ctx has no valid span context.
func Inject(ctx context.Context, p propagation.TextMapPropagator, meta map[string]any) (map[string]any, bool) {
	if !trace.SpanContextFromContext(ctx).IsValid() {
		return meta, false
	}
	m := make(carrier, len(meta)+3)
	for k, v := range meta {
		m[k] = v
	}
	p.Inject(ctx, m)
	return m, true
}

// Extract returns ctx with the remote trace context meta carries, when it
// carries a valid one (ctx otherwise).
func Extract(ctx context.Context, p propagation.TextMapPropagator, meta map[string]any) context.Context {
	if len(meta) == 0 {
		return ctx
	}
	out := p.Extract(ctx, carrier(meta))
	if sc := trace.SpanContextFromContext(out); !sc.IsValid() || !sc.IsRemote() {
		return ctx
	}
	return out
}

// Traced reports whether ctx is inside a trace (requests that are not
// Always recorded are recorded only then).
func Traced(ctx context.Context) bool { return trace.SpanContextFromContext(ctx).IsValid() }

// Option configures an MCP integration: autoinstrument/mcp and
// autoinstrument/mcpgo export it as their Option.
type Option interface{ apply(Config) Config }

// Config is what the options configure.
type Config struct {
	// Propagator writes and reads the trace context of params._meta.
	Propagator propagation.TextMapPropagator
}

type optionFunc func(Config) Config

func (f optionFunc) apply(c Config) Config { return f(c) }

// WithPropagator sets Config.Propagator (nil: unchanged).
func WithPropagator(p propagation.TextMapPropagator) Option {
	return optionFunc(func(c Config) Config {
		if p != nil {
			c.Propagator = p
		}
		return c
	})
}

// NewConfig applies opts (nil ones ignored) to the defaults:
// DefaultPropagator.
func NewConfig(opts []Option) Config {
	c := Config{Propagator: DefaultPropagator()}
	for _, o := range opts {
		if o != nil {
			c = o.apply(c)
		}
	}
	return c
}
