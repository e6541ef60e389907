package tracing_test

import (
	"context"
	"errors"
	"path/filepath"
	"testing"
	"time"

	"github.com/mlflowtrace/mlflowtrace-go/exporter"
	"github.com/mlflowtrace/mlflowtrace-go/traces"
	"github.com/mlflowtrace/mlflowtrace-go/tracing"
)

func initLocal(t *testing.T, root string, opts ...exporter.Option) *tracing.Provider {
	t.Helper()
	p, err := tracing.Init(context.Background(), tracing.WithEnabled(), tracing.WithoutGlobalTracerProvider(),
		tracing.WithGetenv(func(string) string { return "" }),
		tracing.WithExporterOptions(append([]exporter.Option{exporter.WithTrackingURI(root), exporter.WithBatchInterval(time.Hour)}, opts...)...))
	if err != nil {
		t.Fatal(err)
	}
	return p
}

// TestLogFeedbackRightAfterTheAnswer: the feedback is logged the moment the
// root span ends, before the exporter wrote the trace; it waits for the
// export and succeeds.
func TestLogFeedbackRightAfterTheAnswer(t *testing.T) {
	ctx := context.Background()
	root := filepath.Join(t.TempDir(), "mlruns")
	p := initLocal(t, root)
	defer p.Shutdown(ctx)

	_, span := tracing.StartSpan(ctx, "answer", tracing.WithSpanType(tracing.SpanTypeAgent))
	id := span.TraceID()
	span.End(tracing.WithOutputs("42"))
	a, err := p.LogFeedback(ctx, id, traces.Feedback{Name: "user_feedback", Value: true,
		Source: exporter.AssessmentSource{Type: traces.SourceHuman, ID: "u1"}})
	if err != nil {
		t.Fatal(err)
	}
	if a.TraceID != id || a.Name != "user_feedback" || a.AssessmentID == "" {
		t.Errorf("assessment = %+v", a)
	}
	c, err := traces.NewClient(ctx, exporter.WithTrackingURI(root))
	if err != nil {
		t.Fatal(err)
	}
	defer c.Close()
	info, err := c.GetTraceInfo(ctx, id)
	if err != nil || len(info.Assessments) != 1 {
		t.Fatalf("trace info: %v, %d assessments", err, len(info.Assessments))
	}
}

// TestLogFeedbackForAnotherProcessesTrace: the trace is written by another
// "process" (a second Provider) a second after the feedback arrives; the
// not-found answer is retried until it is there.
func TestLogFeedbackForAnotherProcessesTrace(t *testing.T) {
	ctx := context.Background()
	root := filepath.Join(t.TempDir(), "mlruns")
	p := initLocal(t, root)
	defer p.Shutdown(ctx)

	other := initLocal(t, root)
	_, span := other.TracerProvider().Tracer("other-process").Start(ctx, "elsewhere")
	id := "tr-" + span.SpanContext().TraceID().String()
	done := make(chan struct{})
	go func() {
		defer close(done)
		time.Sleep(time.Second)
		span.End()
		_ = other.Shutdown(ctx)
	}()
	a, err := p.LogFeedback(ctx, id, traces.Feedback{Value: 0.9})
	<-done
	if err != nil {
		t.Fatal(err)
	}
	if a.Name != traces.DefaultFeedbackName || a.Source.Type != traces.SourceCode {
		t.Errorf("assessment = %+v", a)
	}
}

func TestLogFeedbackUnknownTraceGivesUp(t *testing.T) {
	ctx, cancel := context.WithTimeout(context.Background(), 600*time.Millisecond)
	defer cancel()
	p := initLocal(t, filepath.Join(t.TempDir(), "mlruns"))
	defer p.Shutdown(context.Background())
	_, err := p.LogFeedback(ctx, "tr-0000000000000000000000000000000f", traces.Feedback{Value: 1})
	if !errors.Is(err, context.DeadlineExceeded) {
		t.Errorf("err = %v, want the context's deadline", err)
	}
}
