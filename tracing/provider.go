package tracing

import (
	"context"
	"errors"
	"fmt"
	"sync"
	"sync/atomic"

	"go.opentelemetry.io/otel"
	"go.opentelemetry.io/otel/attribute"
	sdktrace "go.opentelemetry.io/otel/sdk/trace"
	"go.opentelemetry.io/otel/trace"
	"go.opentelemetry.io/otel/trace/noop"

	"github.com/mlflowtrace/mlflowtrace-go/exporter"
	"github.com/mlflowtrace/mlflowtrace-go/internal/keys"
	"github.com/mlflowtrace/mlflowtrace-go/internal/settings"
	"github.com/mlflowtrace/mlflowtrace-go/internal/tracemodel"
)

// defaultProvider is the Provider the package-level functions use. It is set
// by Init (never at import) and cleared by that Provider's Shutdown.
var defaultProvider atomic.Pointer[Provider]

// Provider is a configured MLflow tracing setup: an OpenTelemetry tracer
// provider (its own, or the caller's from WithTracerProvider) with the MLflow
// exporter registered on it. Create it with Init and call Shutdown before the
// program exits so buffered traces are written. Its methods are safe for
// concurrent use and nil-safe.
type Provider struct {
	disabled     bool
	tp           *sdktrace.TracerProvider // nil when disabled
	ownsTP       bool
	tracer       trace.Tracer
	exp          *exporter.Exporter // nil when disabled or in tests without exporter
	procs        *processorGroup
	filters      []func(*Span)
	maxValueSize int
	noContent    bool        // WithContentCapture(false)
	errorHandler func(error) // the settings' handler, when there is no exporter
	ownSampler   bool        // sampler is ParentBased: unsampled parent => unsampled child

	// feedback builds the traces client of LogFeedback lazily from the
	// Provider's own exporter options (feedback.go).
	feedback feedbackClient

	shutdown atomic.Bool
}

// Init configures MLflow tracing from the environment and opts (opts win), and
// installs the result as the default Provider used by the package-level
// functions (StartSpan, Func, Do, UpdateCurrentTrace, Wrap, ...). Unless
// WithoutGlobalTracerProvider is given, it also installs its tracer provider
// as OpenTelemetry's global one, so spans of OpenTelemetry instrumentations
// join MLflow traces, and sets the W3C trace-context + baggage propagator as
// the global propagator when none is set. A malformed environment variable
// fails Init with an error naming it. Calling Init again replaces the default
// Provider; the previous one keeps working until its Shutdown.
func Init(ctx context.Context, opts ...Option) (*Provider, error) {
	c, envAttrs, err := newConfig(opts)
	if err != nil {
		return nil, err
	}
	p := &Provider{
		disabled:     c.disabled,
		filters:      c.filters,
		maxValueSize: c.maxValueSize,
		noContent:    c.noContent,
	}
	p.feedback.opts = append([]exporter.Option{exporter.WithGetenv(c.getenv)}, c.exporterOpts...)
	if c.disabled {
		p.tracer = noop.NewTracerProvider().Tracer(keys.ScopeName)
		defaultProvider.Store(p)
		return p, nil
	}

	group := &processorGroup{}
	group.procs = append(group.procs, c.processors...)
	if !c.noExporter {
		procs, exp, handler, err := c.newExporters(ctx)
		if err != nil {
			return nil, err
		}
		p.exp, p.errorHandler = exp, handler
		group.procs = append(group.procs, procs...)
	}
	p.procs = group

	if c.userTP != nil {
		p.tp = c.userTP
		c.userTP.RegisterSpanProcessor(group)
	} else {
		res, err := c.buildResource(envAttrs)
		if err != nil {
			_ = group.Shutdown(ctx)
			return nil, err
		}
		p.tp = sdktrace.NewTracerProvider(
			sdktrace.WithResource(res),
			sdktrace.WithSampler(scopeSampler{sdktrace.ParentBased(sdktrace.TraceIDRatioBased(c.samplingRatio))}),
			sdktrace.WithSpanProcessor(group),
		)
		p.ownsTP = true
		p.ownSampler = true
	}
	p.tracer = p.tp.Tracer(keys.ScopeName)

	if !c.noGlobal {
		otel.SetTracerProvider(p.tp)
		if len(otel.GetTextMapPropagator().Fields()) == 0 {
			otel.SetTextMapPropagator(propagator)
		}
	}
	defaultProvider.Store(p)
	return p, nil
}

// newExporters builds the processors that export: the MLflow exporter
// (unless an OTLP endpoint replaces it, as in MLflow) and a plain
// OpenTelemetry batch span processor for the OTLP endpoint, when one is
// configured. The exporter's settings are resolved once, here, and shared.
func (c *config) newExporters(ctx context.Context) ([]sdktrace.SpanProcessor, *exporter.Exporter, func(error), error) {
	eopts := make([]exporter.Option, 0, 2+len(c.exporterOpts))
	eopts = append(eopts, exporter.WithGetenv(c.getenv), exporter.WithContentCapture(!c.noContent))
	eopts = append(eopts, c.exporterOpts...)
	s, err := settings.Load(eopts...)
	if err != nil {
		return nil, nil, nil, fmt.Errorf("tracing: exporter: %w", err)
	}
	otlp, mlflowToo, err := newOTLPProcessor(ctx, s.Env, s.CustomTraces != nil, s.ErrorHandler)
	if err != nil {
		return nil, nil, nil, fmt.Errorf("tracing: %w", err)
	}
	var procs []sdktrace.SpanProcessor
	var exp *exporter.Exporter
	if mlflowToo {
		if exp, err = exporter.New(ctx, settings.Resolved(s)); err != nil {
			if otlp != nil {
				_ = otlp.Shutdown(ctx)
			}
			return nil, nil, nil, fmt.Errorf("tracing: %w", err) // exporter errors say "exporter: …"
		}
		procs = append(procs, exp)
	} else {
		procs = append(procs, requestIDs{})
	}
	if otlp != nil {
		procs = append(procs, otlp)
	}
	return procs, exp, s.ErrorHandler, nil
}

// requestIDs sets mlflow.traceRequestId on every span when no MLflow
// exporter does (OTLP export only), as MLflow's Python SDK does.
type requestIDs struct{}

func (requestIDs) OnStart(_ context.Context, s sdktrace.ReadWriteSpan) {
	s.SetAttributes(attribute.String(keys.TraceRequestID, `"`+tracemodel.RequestID(s.SpanContext().TraceID())+`"`))
}
func (requestIDs) OnEnd(sdktrace.ReadOnlySpan)      {}
func (requestIDs) Shutdown(context.Context) error   { return nil }
func (requestIDs) ForceFlush(context.Context) error { return nil }

// ReportError hands err to the error handler of the default Provider — the
// exporter's (exporter.WithErrorHandler; default slog.Default().Error) —
// without blocking the caller: the SDK's one path for background errors,
// used by this package (a panicking span filter), by the integrations of
// package autoinstrument and by package responsesagent. Without a default
// Provider it logs with slog.Default().Error.
func ReportError(err error) {
	if err == nil {
		return
	}
	p := defaultProvider.Load()
	switch {
	case p != nil && p.exp != nil:
		p.exp.ReportError(err)
	case p != nil && p.errorHandler != nil:
		p.errorHandler(err)
	default:
		settings.DefaultErrorHandler(err)
	}
}

// TracerProvider returns the OpenTelemetry tracer provider spans are recorded
// on (a no-op provider when tracing is disabled).
func (p *Provider) TracerProvider() trace.TracerProvider {
	if p == nil || p.tp == nil {
		return noop.NewTracerProvider()
	}
	return p.tp
}

// Enabled reports whether p records spans.
func (p *Provider) Enabled() bool { return p != nil && !p.disabled && !p.shutdown.Load() }

// CapturesContent reports whether instrumentation records the content of the
// calls it traces (WithContentCapture; true unless turned off). It is false
// for a nil or disabled Provider.
func (p *Provider) CapturesContent() bool { return p != nil && !p.disabled && !p.noContent }

// Stats returns the counters of p's MLflow exporter (zero Stats when p is
// nil, disabled or has no exporter). It keeps working after Shutdown.
func (p *Provider) Stats() exporter.Stats {
	if p == nil || p.exp == nil {
		return exporter.Stats{}
	}
	return p.exp.Stats()
}

// ForceFlush exports every finished trace buffered so far. It honours ctx
// and may be called any number of times; after Shutdown it returns nil.
func (p *Provider) ForceFlush(ctx context.Context) error {
	if p == nil || p.disabled || p.shutdown.Load() {
		return nil
	}
	if p.ownsTP {
		return p.tp.ForceFlush(ctx)
	}
	return p.procs.ForceFlush(ctx)
}

// Shutdown flushes and stops what Init started: the tracer provider Init
// created (or, with WithTracerProvider, only the processors Init added to the
// caller's provider, which are then detached from it). Give it a context
// with a deadline: a wait on a destination that fails or does not answer is
// announced once to the error handler (exporter.WaitNotice), and lasts until
// ctx ends or the retry budget runs out. When ctx ends first it cancels the
// exports in flight, drops (and counts) what is still queued and returns an
// error wrapping ctx's that says how many traces were waiting and why;
// calling it again finishes the job, waiting with the new ctx for the
// exporter's goroutines to stop. When it completes it returns nil, or an
// *exporter.UndeliveredError when traces recorded since Init were not
// delivered (the same on later calls). It stops p from being the package
// default. The OpenTelemetry global tracer provider is left in place; its
// spans are no-ops after Shutdown.
func (p *Provider) Shutdown(ctx context.Context) error {
	if p == nil {
		return nil
	}
	first := p.shutdown.CompareAndSwap(false, true)
	if first {
		defaultProvider.CompareAndSwap(p, nil)
	}
	p.feedback.close()
	if p.disabled {
		return nil
	}
	// The group is shut down here, with ctx, and retried on later calls;
	// the tracer provider's own Shutdown (or Unregister, which uses a
	// background context) must not do it again.
	err := p.procs.shutdown(ctx)
	if first {
		p.procs.detached.Store(true)
		if p.ownsTP {
			if terr := p.tp.Shutdown(ctx); err == nil {
				err = terr
			}
		} else {
			p.tp.UnregisterSpanProcessor(p.procs)
		}
	}
	return err
}

// lastTrace is the trace whose root span ended most recently in this process
// (process-wide, like MLflow's last active trace id; it survives Shutdown).
var lastTrace struct {
	mu  sync.Mutex
	id  trace.TraceID
	exp *exporter.Exporter // formats the id (Unity Catalog ids differ)
}

func setLastTrace(id trace.TraceID, exp *exporter.Exporter) {
	lastTrace.mu.Lock()
	lastTrace.id, lastTrace.exp = id, exp
	lastTrace.mu.Unlock()
}

// LastTraceID returns the MLflow id of the trace whose root span ended most
// recently in this process ("tr-…", or "trace:/<catalog>.<schema>/…" for
// Unity Catalog tables), or "" when there is none. It keeps its value after
// Provider.Shutdown, so a program can print or look up the trace it just
// wrote.
func LastTraceID() string {
	lastTrace.mu.Lock()
	id, exp := lastTrace.id, lastTrace.exp
	lastTrace.mu.Unlock()
	if !id.IsValid() {
		return ""
	}
	return exp.TraceID(id) // nil-safe: "tr-…"
}

// processorGroup fans span events out to the processors Init registers (the
// extra processors, then the exporter), so they can be attached to and
// detached from a caller's provider as one unit, and shut down once with the
// caller's ctx.
type processorGroup struct {
	procs    []sdktrace.SpanProcessor
	down     atomic.Bool
	detached atomic.Bool // Shutdown from the tracer provider is a no-op

	mu      sync.Mutex
	started bool
	pending []sdktrace.SpanProcessor // not shut down successfully yet
}

var _ sdktrace.SpanProcessor = (*processorGroup)(nil)

func (g *processorGroup) OnStart(parent context.Context, s sdktrace.ReadWriteSpan) {
	if g.down.Load() {
		return
	}
	for _, p := range g.procs {
		p.OnStart(parent, s)
	}
}

func (g *processorGroup) OnEnd(s sdktrace.ReadOnlySpan) {
	if g.down.Load() {
		return
	}
	for _, p := range g.procs {
		p.OnEnd(s)
	}
}

func (g *processorGroup) ForceFlush(ctx context.Context) error {
	if g.down.Load() {
		return nil
	}
	var errs []error
	for _, p := range g.procs {
		if err := ctx.Err(); err != nil {
			errs = append(errs, err)
			break
		}
		if err := p.ForceFlush(ctx); err != nil {
			errs = append(errs, err)
		}
	}
	return errors.Join(errs...)
}

// Shutdown implements sdktrace.SpanProcessor for a caller's tracer
// provider; once the Provider has taken over (detached) it does nothing.
func (g *processorGroup) Shutdown(ctx context.Context) error {
	if g.detached.Load() {
		return nil
	}
	return g.shutdown(ctx)
}

// shutdown shuts every processor down; a later call retries, with its own
// ctx, those that failed (the exporter then finishes its shutdown).
func (g *processorGroup) shutdown(ctx context.Context) error {
	g.down.Store(true)
	g.mu.Lock()
	defer g.mu.Unlock()
	if !g.started {
		g.started = true
		g.pending = append([]sdktrace.SpanProcessor(nil), g.procs...)
	}
	var errs []error
	failed := g.pending[:0]
	for _, p := range g.pending {
		if err := p.Shutdown(ctx); err != nil {
			errs = append(errs, err)
			failed = append(failed, p)
		}
	}
	g.pending = failed
	return errors.Join(errs...)
}
