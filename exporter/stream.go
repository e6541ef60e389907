package exporter

import (
	"context"
	"sync"
	"sync/atomic"
	"time"
)

// maxStreamBatch bounds the spans of one streaming request.
const maxStreamBatch = 500

// streamer streams the ended spans of traces still open to destinations
// that take spans as they end (an MLflow server's OTLP route), so a long
// trace shows its progress. It is a goroutine of the pipeline that works
// in rounds: a round takes every ended, unstreamed span of the open traces
// and exports it. A round starts BatchInterval after a span ended with
// nothing scheduled (the timer is armed on the caller's path without waking
// any goroutine), on ForceFlush, and never otherwise: a trace that finishes
// before its round — most traces of a request-response agent — costs the
// stream nothing, its spans go with the trace. MLflow's Python SDK streams
// in batches of 5 spans or every 5 s; this streams every BatchInterval
// (default 5 s, MLFLOW_ASYNC_TRACE_LOGGING_MAX_INTERVAL_MILLIS).
type streamer struct {
	p        *pipeline
	interval time.Duration

	armed    atomic.Bool // a round is scheduled
	timer    atomic.Pointer[time.Timer]
	tick     chan struct{} // cap 1: start a round
	flush    chan chan struct{}
	quit     chan struct{}
	stopOnce sync.Once

	mu   sync.Mutex
	busy chan struct{} // closed when the round in progress ends; nil when idle
}

func newStreamer(p *pipeline, interval time.Duration) *streamer {
	return &streamer{p: p, interval: interval, tick: make(chan struct{}, 1),
		flush: make(chan chan struct{}), quit: make(chan struct{})}
}

// spanEnded schedules a round (caller's path: an atomic load when one is
// scheduled already, else a runtime timer; no goroutine is woken before it
// fires).
func (st *streamer) spanEnded() {
	if st.armed.Load() || !st.armed.CompareAndSwap(false, true) {
		return
	}
	if st.interval <= 0 {
		st.kick()
		return
	}
	st.timer.Store(time.AfterFunc(st.interval, st.kick))
}

func (st *streamer) kick() {
	select {
	case st.tick <- struct{}{}:
	default:
	}
}

// run is the streamer's goroutine (owned by the pipeline).
func (st *streamer) run(ctx context.Context) {
	for {
		select {
		case <-st.quit:
			return
		case <-ctx.Done():
			return
		case <-st.tick:
			st.round(ctx)
		case done := <-st.flush:
			st.round(ctx)
			close(done)
		}
	}
}

// round streams every ended, unstreamed span of the open traces.
func (st *streamer) round(ctx context.Context) {
	st.armed.Store(false) // spans ending from now on schedule the next round
	st.mu.Lock()
	busy := make(chan struct{})
	st.busy = busy
	st.mu.Unlock()
	defer func() {
		st.mu.Lock()
		st.busy = nil
		st.mu.Unlock()
		close(busy)
	}()
	for {
		spans, more := st.p.e.buf.unstreamed(maxStreamBatch)
		if len(spans) > 0 {
			st.p.exportSpans(ctx, spans)
		}
		if !more || ctx.Err() != nil {
			return
		}
	}
}

// idle waits until no round is in progress, or ctx ends: a trace's export
// waits for the spans of it that a round took.
func (st *streamer) idle(ctx context.Context) {
	st.mu.Lock()
	busy := st.busy
	st.mu.Unlock()
	if busy == nil {
		return
	}
	select {
	case <-busy:
	case <-ctx.Done():
	}
}

// forceRound runs a round now and waits for it (ForceFlush).
func (st *streamer) forceRound(ctx context.Context) error {
	done := make(chan struct{})
	select {
	case st.flush <- done:
	case <-st.quit:
		return nil
	case <-ctx.Done():
		return ctx.Err()
	}
	select {
	case <-done:
		return nil
	case <-ctx.Done():
		return ctx.Err()
	}
}

func (st *streamer) stop() {
	st.stopOnce.Do(func() {
		close(st.quit)
		if t := st.timer.Load(); t != nil {
			t.Stop()
		}
	})
}
