package exportertest

import (
	"context"
	"errors"
	"sync"
	"testing"
	"time"

	"github.com/mlflowtrace/mlflowtrace-go/exporter"
)

func TestRecorder(t *testing.T) {
	var r Recorder // zero value usable
	ctx := context.Background()
	var wg sync.WaitGroup
	for range 8 {
		wg.Add(1)
		go func() {
			defer wg.Done()
			_ = r.ExportTraces(ctx, []*exporter.Trace{{Info: exporter.TraceInfo{TraceID: "tr-1"}}})
			_ = r.ExportSpans(ctx, []*exporter.Span{{Name: "s"}})
		}()
	}
	got, err := r.WaitTraces(ctx, 8)
	if err != nil || len(got) != 8 {
		t.Fatalf("WaitTraces = %d, %v", len(got), err)
	}
	wg.Wait()
	if len(r.Spans()) != 8 || r.Trace("tr-1") == nil || r.Trace("tr-2") != nil {
		t.Fatalf("spans %d, Trace lookups wrong", len(r.Spans()))
	}
	short, cancel := context.WithTimeout(ctx, time.Millisecond)
	defer cancel()
	if _, err := r.WaitTraces(short, 9); !errors.Is(err, context.DeadlineExceeded) {
		t.Fatalf("WaitTraces beyond = %v", err)
	}
	_ = r.Shutdown(ctx)
	if !r.IsShutdown() {
		t.Fatal("Shutdown not recorded")
	}
	r.Reset()
	if len(r.Traces()) != 0 || r.IsShutdown() {
		t.Fatal("Reset kept data")
	}
}
