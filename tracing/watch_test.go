package tracing

import (
	"context"
	"errors"
	"testing"
	"time"
)

func TestWatchTrace(t *testing.T) {
	setup(t)
	if _, err := WatchTrace(context.Background()); !errors.Is(err, ErrNoActiveTrace) {
		t.Errorf("WatchTrace without a span = %v", err)
	}
	ctx, root := StartSpan(context.Background(), "agent", WithSpanType(SpanTypeAgent))
	w, err := WatchTrace(ctx)
	if err != nil {
		t.Fatalf("WatchTrace: %v", err)
	}
	UpdateCurrentTrace(ctx, WithUser("u-1"))
	root.End(WithOutputs("done"))
	wctx, cancel := context.WithTimeout(context.Background(), 10*time.Second)
	defer cancel()
	tr, err := w.Wait(wctx)
	if err != nil {
		t.Fatalf("Wait: %v", err)
	}
	if tr.Info.TraceID != root.TraceID() || tr.Info.Metadata["mlflow.trace.user"] != "u-1" || tr.Info.ResponsePreview != `"done"` {
		t.Errorf("trace %+v", tr.Info)
	}
	if _, err := WatchTrace(ctx); !errors.Is(err, ErrNoActiveTrace) {
		t.Errorf("WatchTrace after the trace finished = %v", err)
	}
}

func TestWatchTraceDisabled(t *testing.T) {
	setup(t, WithDisabled())
	ctx, _ := StartSpan(context.Background(), "agent")
	if _, err := WatchTrace(ctx); !errors.Is(err, ErrNoActiveTrace) {
		t.Errorf("WatchTrace with tracing off = %v", err)
	}
}
