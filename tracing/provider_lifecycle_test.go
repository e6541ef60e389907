package tracing

import (
	"context"
	"errors"
	"testing"

	sdktrace "go.opentelemetry.io/otel/sdk/trace"
	"go.uber.org/goleak"

	"github.com/mlflowtrace/mlflowtrace-go/exporter"
	"github.com/mlflowtrace/mlflowtrace-go/exporter/exportertest"
)

// blockDest blocks every export until its ctx ends, as a transport retrying
// a down server does, and records that the ctx ended.
type blockDest struct {
	entered   chan struct{}
	cancelled chan struct{}
}

func (d *blockDest) ExportTraces(ctx context.Context, _ []*exporter.Trace) error {
	select {
	case d.entered <- struct{}{}:
	default:
	}
	<-ctx.Done()
	select {
	case d.cancelled <- struct{}{}:
	default:
	}
	return ctx.Err()
}

func (d *blockDest) Shutdown(context.Context) error { return nil }

// A Provider.Shutdown whose ctx has ended cancels the export in flight; a
// second Shutdown finishes the job and no exporter goroutine remains. Stats
// shows every trace as dropped.
func TestProviderShutdownAgainFinishes(t *testing.T) {
	for _, tt := range []struct {
		name  string
		ownTP bool
	}{{"own tracer provider", true}, {"caller's tracer provider", false}} {
		t.Run(tt.name, func(t *testing.T) {
			d := &blockDest{entered: make(chan struct{}, 1), cancelled: make(chan struct{}, 1)}
			opts := []Option{WithGetenv(env{}.get), WithoutGlobalTracerProvider(),
				WithExporterOptions(exporter.WithDestination(d), exporter.WithMaxWorkers(1),
					exporter.WithBatchSize(1), exporter.WithErrorHandler(func(error) {}))}
			var userTP *sdktrace.TracerProvider
			if !tt.ownTP {
				userTP = sdktrace.NewTracerProvider()
				opts = append(opts, WithTracerProvider(userTP))
			}
			p, err := Init(context.Background(), opts...)
			if err != nil {
				t.Fatal(err)
			}
			tr := p.TracerProvider().Tracer("x")
			for range 4 {
				_, s := tr.Start(context.Background(), "x")
				s.End()
			}
			<-d.entered
			ctx, cancel := context.WithCancel(context.Background())
			cancel()
			if err := p.Shutdown(ctx); !errors.Is(err, context.Canceled) {
				t.Fatalf("Shutdown(expired) = %v, want Canceled", err)
			}
			<-d.cancelled // the destination's ctx ended
			// The job finishes; the traces cancelled or dropped are
			// reported, the same way on every later call.
			for _, call := range []string{"second", "third"} {
				err := p.Shutdown(context.Background())
				if ue, ok := errors.AsType[*exporter.UndeliveredError](err); !ok || ue.Traces != 4 || p.Stats().TracesDropped+p.Stats().TracesFailed != 4 {
					t.Fatalf("%s Shutdown = %v, want the 4 undelivered traces (%+v)", call, err, p.Stats())
				}
			}
			if userTP != nil {
				if err := userTP.Shutdown(context.Background()); err != nil {
					t.Fatal(err)
				}
			}
			goleak.VerifyNone(t)
			st := p.Stats()
			// The export Shutdown cancelled did not fail: its trace is
			// dropped at Shutdown like the queued ones (as the spool keeps
			// such a trace instead of dead-lettering it).
			if st.TracesExported != 0 || st.ExportFailures != 0 || st.TracesFailed != 0 || st.TracesDropped != 4 {
				t.Fatalf("Stats = %+v: want the 4 traces dropped at Shutdown, no export failure", st)
			}
		})
	}
}

func TestProviderStats(t *testing.T) {
	var nilP *Provider
	if st := nilP.Stats(); st != (exporter.Stats{}) {
		t.Fatalf("nil Provider Stats = %+v", st)
	}
	off, err := Init(context.Background(), WithGetenv(env{}.get), WithoutGlobalTracerProvider(), WithDisabled())
	if err != nil {
		t.Fatal(err)
	}
	defer off.Shutdown(context.Background())
	if st := off.Stats(); st != (exporter.Stats{}) {
		t.Fatalf("disabled Provider Stats = %+v", st)
	}

	rec := exportertest.NewRecorder()
	p, err := Init(context.Background(), WithGetenv(env{}.get), WithoutGlobalTracerProvider(),
		WithExporterOptions(exporter.WithDestination(rec)))
	if err != nil {
		t.Fatal(err)
	}
	ctx, root := p.TracerProvider().Tracer("x").Start(context.Background(), "root")
	_, child := p.TracerProvider().Tracer("x").Start(ctx, "child")
	child.End()
	root.End()
	if err := p.Shutdown(context.Background()); err != nil {
		t.Fatal(err)
	}
	if st := p.Stats(); st.TracesExported != 1 || st.SpansExported != 2 {
		t.Fatalf("Stats after Shutdown = %+v, want 1 trace, 2 spans", st)
	}
}
