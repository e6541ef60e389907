package exportertest

import (
	"context"
	"sync"

	"github.com/mlflowtrace/mlflowtrace-go/exporter"
)

// Recorder is an exporter.Destination and exporter.SpanStreamer that keeps
// everything it receives in memory. The zero value is ready to use; it is
// safe for concurrent use.
type Recorder struct {
	mu       sync.Mutex
	traces   []*exporter.Trace
	spans    []*exporter.Span
	shutdown bool
	changed  chan struct{} // closed and replaced on every change
}

var (
	_ exporter.Destination  = (*Recorder)(nil)
	_ exporter.SpanStreamer = (*Recorder)(nil)
)

// NewRecorder returns an empty Recorder.
func NewRecorder() *Recorder { return &Recorder{} }

// ExportTraces records traces.
func (r *Recorder) ExportTraces(_ context.Context, traces []*exporter.Trace) error {
	r.mu.Lock()
	r.traces = append(r.traces, traces...)
	r.notifyLocked()
	r.mu.Unlock()
	return nil
}

// ExportSpans records streamed spans.
func (r *Recorder) ExportSpans(_ context.Context, spans []*exporter.Span) error {
	r.mu.Lock()
	r.spans = append(r.spans, spans...)
	r.notifyLocked()
	r.mu.Unlock()
	return nil
}

// Shutdown marks the Recorder shut down; recorded data stays readable.
func (r *Recorder) Shutdown(context.Context) error {
	r.mu.Lock()
	r.shutdown = true
	r.notifyLocked()
	r.mu.Unlock()
	return nil
}

// Traces returns a copy of the list of recorded traces, in export order.
func (r *Recorder) Traces() []*exporter.Trace {
	r.mu.Lock()
	defer r.mu.Unlock()
	return append([]*exporter.Trace(nil), r.traces...)
}

// Spans returns a copy of the list of streamed spans, in export order.
func (r *Recorder) Spans() []*exporter.Span {
	r.mu.Lock()
	defer r.mu.Unlock()
	return append([]*exporter.Span(nil), r.spans...)
}

// Trace returns the recorded trace with MLflow id traceID ("tr-…"), or nil.
func (r *Recorder) Trace(traceID string) *exporter.Trace {
	r.mu.Lock()
	defer r.mu.Unlock()
	for _, t := range r.traces {
		if t.Info.TraceID == traceID {
			return t
		}
	}
	return nil
}

// IsShutdown reports whether Shutdown was called.
func (r *Recorder) IsShutdown() bool {
	r.mu.Lock()
	defer r.mu.Unlock()
	return r.shutdown
}

// Reset forgets everything recorded.
func (r *Recorder) Reset() {
	r.mu.Lock()
	r.traces, r.spans, r.shutdown = nil, nil, false
	r.notifyLocked()
	r.mu.Unlock()
}

// WaitTraces waits until at least n traces are recorded and returns them, or
// returns ctx's error.
func (r *Recorder) WaitTraces(ctx context.Context, n int) ([]*exporter.Trace, error) {
	for {
		r.mu.Lock()
		if len(r.traces) >= n {
			out := append([]*exporter.Trace(nil), r.traces...)
			r.mu.Unlock()
			return out, nil
		}
		if r.changed == nil {
			r.changed = make(chan struct{})
		}
		ch := r.changed
		r.mu.Unlock()
		select {
		case <-ch:
		case <-ctx.Done():
			return nil, ctx.Err()
		}
	}
}

func (r *Recorder) notifyLocked() {
	if r.changed != nil {
		close(r.changed)
		r.changed = nil
	}
}
