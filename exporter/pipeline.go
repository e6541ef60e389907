package exporter

import (
	"context"
	"fmt"
	"strconv"
	"sync"
	"time"

	"go.opentelemetry.io/otel/attribute"
	"go.opentelemetry.io/otel/codes"
	"go.opentelemetry.io/otel/trace"

	"github.com/mlflowtrace/mlflowtrace-go/internal/batch"
)

// backgroundWait bounds how long New waits for the destination's
// background work (the Databricks experiment's Unity Catalog link).
const backgroundWait = 3 * time.Second

// pipeline owns every goroutine of an Exporter: the trace export queue (a
// batch.Batcher: its workers), the span streamer, the expiry ticker, the
// reporter (the one error path) and the destination's background work. Shutdown stops all of them, bounded by its
// ctx; the destination's background work and the exports in flight get
// contexts that Shutdown cancels when it gives up, so nothing the pipeline
// started outlives it for longer than they take to notice.
type pipeline struct {
	e *Exporter

	traceQ *batch.Batcher[*traceState]
	st     *streamer // nil unless the route streams spans

	rep *reporter

	// spool is the spool stage (spool.go); nil without a spool.
	// spoolFailed: a spool was configured but could not be opened.
	spool       *spooler
	spoolFailed bool

	// Background work and expiry run under bgCtx; abort and stop cancel it
	// and wait for them (bg).
	bgCtx    context.Context
	bgCancel context.CancelFunc
	bg       sync.WaitGroup

	expiryStop chan struct{} // closed by stopExpiry
	expiryOnce sync.Once
}

func newPipeline(e *Exporter) *pipeline {
	p := &pipeline{e: e, expiryStop: make(chan struct{})}
	p.bgCtx, p.bgCancel = context.WithCancel(context.Background())
	p.rep = newReporter(e)
	return p
}

// start starts the goroutines: reporter, queues, expiry, and the
// destination's background work (waited for up to backgroundWait or ctx).
func (p *pipeline) start(ctx context.Context) {
	e, s := p.e, p.e.s
	p.rep.start()
	p.openSpool()
	export, linger := p.exportTraces, traceLinger(s.BatchSize, s.BatchInterval)
	if p.spool != nil {
		// A finished trace is spooled at once; the send queue lingers.
		export, linger = p.spool.spoolTraces, 0
	}
	p.traceQ = batch.New(export, batch.Config[*traceState]{
		QueueSize:     s.MaxQueueSize,
		Workers:       s.MaxWorkers,
		BatchSize:     s.BatchSize,
		Interval:      linger,
		ExportTimeout: s.RetryTimeout,
		OnError:       p.exportPanicked,
		OnDrop:        p.droppedAtShutdown,
	})
	if e.route.spans != nil {
		p.st = newStreamer(p, s.BatchInterval)
		p.bg.Add(1)
		go func() {
			defer p.bg.Done()
			p.st.run(p.bgCtx)
		}()
	}
	if p.spool != nil {
		p.spool.start()
	}
	if s.TraceTimeout > 0 {
		p.bg.Add(1)
		go p.expiry(s.TimeoutCheck)
	}
	if work := e.route.background; work != nil {
		done := make(chan struct{})
		p.bg.Add(1)
		go func() {
			defer p.bg.Done()
			defer close(done)
			work(p.bgCtx)
		}()
		wait := time.NewTimer(backgroundWait)
		defer wait.Stop()
		select {
		case <-done:
		case <-wait.C:
		case <-ctx.Done():
		}
	}
}

// maxTraceLinger bounds how long a finished trace waits for others to share
// its export.
const maxTraceLinger = time.Second

// traceLinger is how long a finished trace waits for a batch to fill: up to
// a second (never more than the span batch interval), so that traces
// finishing a few per second share one export — one worker wake-up and one
// request for their spans — instead of paying each for their own. MLflow's
// Python SDK exports each trace at once and its spans up to 5 s later.
func traceLinger(batchSize int, batchInterval time.Duration) time.Duration {
	if batchSize <= 1 {
		return 0
	}
	return min(batchInterval, maxTraceLinger)
}

// enqueue hands a detached, finished trace to the export queue.
func (p *pipeline) enqueue(ts *traceState) {
	ts.finish(true) // finished: a watcher can have it even if the queue is full
	if p.traceQ.Enqueue(ts) {
		ts.queued.Store(true)
		return
	}
	p.e.dropTrace(ts, errQueueFull)
	p.warnDrop(dropTraceQueue, p.e.TraceID(ts.id), "trace dropped: the trace export queue is full (MLFLOW_ASYNC_TRACE_LOGGING_MAX_QUEUE_SIZE)")
}

// spanEnded tells the streamer a span of an open trace ended, when the
// route streams.
func (p *pipeline) spanEnded() {
	if p.st != nil {
		p.st.spanEnded()
	}
}

// flush streams the ended spans of open traces and waits until every trace
// queued before the call is exported.
func (p *pipeline) flush(ctx context.Context) error {
	if p.st != nil {
		if err := p.st.forceRound(ctx); err != nil {
			return err
		}
	}
	if err := p.traceQ.ForceFlush(ctx); err != nil || p.spool == nil {
		return err
	}
	return p.spool.flush(ctx)
}

// drain exports what is queued and stops the trace queue; with an expired
// ctx the queue cancels its exports and drops (and counts) what is still
// queued instead of running on. It returns ctx's error when ctx ended
// first. (After beginShutdown no trace is open: the streamer has nothing
// left to stream.)
func (p *pipeline) drain(ctx context.Context) error {
	err := p.traceQ.Shutdown(ctx)
	if p.spool != nil {
		// Told to stop even when the trace queue gave up: with an expired
		// ctx what it holds stays in the spool instead of running on.
		if serr := p.spool.drain(ctx); err == nil {
			err = serr
		}
		if err == nil {
			p.spool.awaitBacklog(ctx)
		}
	}
	return err
}

// abort cancels the background work after Shutdown gave up: the exports in
// flight are cancelled by the queues themselves; the destination's
// background work ends with bgCtx.
func (p *pipeline) abort() {
	p.stopExpiry()
	if p.st != nil {
		p.st.stop()
	}
	p.bgCancel()
	p.reportShutdownDrops()
	if p.spool != nil {
		p.spool.reportLeft()
	}
	p.rep.waitNoted.Store(true) // what is left is cancelled, not waited for
	p.rep.stop()                // later reports go to the handler directly
}

// stop ends the pipeline after the queues have drained: the background
// work is cancelled and waited for (bounded by ctx), the drops of Shutdown
// are reported and the reporter stops.
func (p *pipeline) stop(ctx context.Context) error {
	p.stopExpiry()
	if p.st != nil {
		p.st.stop()
	}
	p.bgCancel()
	done := make(chan struct{})
	go func() { p.bg.Wait(); close(done) }()
	var err error
	select {
	case <-done:
	case <-ctx.Done():
		err = fmt.Errorf("exporter: the destination's background work did not stop: %w", ctx.Err())
	}
	if p.spool != nil && err == nil {
		p.spool.close()
	}
	p.reportShutdownDrops()
	p.rep.stop()
	return err
}

func (p *pipeline) stopExpiry() {
	p.expiryOnce.Do(func() { close(p.expiryStop) })
}

// --- trace expiry --------------------------------------------------------

func (p *pipeline) expiry(interval time.Duration) {
	defer p.bg.Done()
	t := time.NewTicker(interval)
	defer t.Stop()
	for {
		select {
		case <-p.expiryStop:
			return
		case <-p.bgCtx.Done():
			return
		case <-t.C:
			p.expire(p.e.s.Now())
		}
	}
}

// expire halts the traces open longer than the trace timeout, as MLflow's
// MlflowTraceTimeoutCache does: the root span gets status ERROR and an
// "exception" event with MLflow's message, then ends, so the trace is
// exported with state ERROR. Spans of the trace still open are included,
// ended at the root's end time.
func (p *pipeline) expire(now time.Time) {
	e := p.e
	for _, ts := range e.buf.due(now) {
		// Reading rootEnd without the lock would race; ending an ended span
		// is a no-op in the SDK, and so are SetStatus and AddEvent.
		msg := timeoutMessage(e.idPrefix(), ts.id, e.s.TraceTimeout)
		root := ts.root.complete()
		root.SetStatus(codes.Error, "")
		root.AddEvent("exception", trace.WithAttributes(
			attribute.String("exception.message", msg),
			attribute.String("exception.type", "MlflowTracingException"),
			attribute.String("exception.stacktrace", "mlflow.exceptions.MlflowTracingException: "+msg),
		))
		root.End() // OnEnd exports the trace unless spans are still open
		if e.buf.detach(ts) {
			p.enqueue(ts)
		}
	}
}

// timeoutMessage is MLflow's _TRACE_EXPIRATION_MSG.
func timeoutMessage(prefix string, id trace.TraceID, timeout time.Duration) string {
	return "Trace " + prefix + id.String() + " is timed out after " +
		strconv.FormatFloat(timeout.Seconds(), 'f', -1, 64) + " seconds. " +
		"The operation may be stuck or taking too long to complete. " +
		"To increase the timeout, set the environment variable MLFLOW_TRACE_TIMEOUT_SECONDS to a larger value."
}
