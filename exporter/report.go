package exporter

import (
	"fmt"
	"strings"
	"sync"
	"sync/atomic"
	"time"
)

// Errors a trace's export can end with (AwaitExport), all wrapping
// ErrTraceDropped.
var (
	errEvicted        = fmt.Errorf("%w: evicted from the open-trace buffer", ErrTraceDropped)
	errOpenAtShutdown = fmt.Errorf("%w: its root span had not ended at Shutdown", ErrTraceDropped)
	errQueueFull      = fmt.Errorf("%w: the export queue was full", ErrTraceDropped)
	errShutdownGaveUp = fmt.Errorf("%w: still queued when Shutdown's context ended", ErrTraceDropped)
	// The export in flight that Shutdown cancelled when its ctx ended.
	errShutdownCancelled = fmt.Errorf("%w: its export was cancelled when Shutdown's context ended", ErrTraceDropped)
)

// ExportError is what the error handler receives when the destination fails:
// the MLflow ids of the traces involved and the destination's error.
type ExportError struct {
	TraceIDs []string // "tr-…"
	Spans    bool     // streaming spans failed (the trace itself may still be exported)
	Err      error
}

func (e *ExportError) Error() string {
	what := "traces"
	if e.Spans {
		what = "spans of traces"
	}
	ids := e.TraceIDs
	more := ""
	if len(ids) > 3 {
		more = fmt.Sprintf(" and %d more", len(ids)-3)
		ids = ids[:3]
	}
	// One line: a destination's errors.Join of per-trace failures is
	// newline-separated, which a log line would show as a literal \n.
	return fmt.Sprintf("exporter: exporting %s %v%s failed: %s", what, ids, more, oneLine(e.Err))
}

// oneLine is err's message on one line (errors.Join separates with newlines).
func oneLine(err error) string { return strings.ReplaceAll(fmt.Sprint(err), "\n", "; ") }

func (e *ExportError) Unwrap() error { return e.Err }

// UndeliveredError is what Shutdown returns when traces recorded since New
// never reached the destination: dropped (queue full, evicted, still open or
// still queued at Shutdown) or failed (the destination refused them or could
// not be reached within the retry budget). Stats has the details.
type UndeliveredError struct {
	// Traces is how many traces were not delivered.
	Traces int64
	// Destination names where they should have gone (no credentials).
	Destination string
	// Cause is the last failure seen: the destination's error, or why a
	// trace was dropped.
	Cause error
}

func (e *UndeliveredError) Error() string {
	s := fmt.Sprintf("exporter: %d %s not delivered to %s", e.Traces, plural(e.Traces, "trace was", "traces were"), e.Destination)
	if e.Cause != nil {
		s += ": " + oneLine(e.Cause) // one line, as ExportError
	}
	return s
}

func (e *UndeliveredError) Unwrap() error { return e.Cause }

func plural(n int64, one, many string) string {
	if n == 1 {
		return one
	}
	return many
}

// undelivered returns an *UndeliveredError when traces were lost, else nil.
func (e *Exporter) undelivered() error {
	st := e.counters.stats()
	n := st.TracesDropped + st.TracesFailed
	if n == 0 {
		return nil
	}
	return &UndeliveredError{Traces: n, Destination: e.route.where, Cause: e.pipe.rep.lastLoss()}
}

// gaveUp is the error of a ForceFlush or Shutdown whose ctx ended first: it
// says how many traces were still waiting, where to, and the last failure.
func (e *Exporter) gaveUp(op string, ctxErr error, pending int) error {
	msg := fmt.Sprintf("exporter: %s gave up", op)
	if pending > 0 {
		msg += fmt.Sprintf(" with %d %s still waiting to reach %s", pending, plural(int64(pending), "trace", "traces"), e.route.where)
	}
	if cause := e.pipe.rep.lastCause(); cause != nil {
		return fmt.Errorf("%s: %w (last error: %s)", msg, ctxErr, oneLine(cause))
	}
	return fmt.Errorf("%s: %w", msg, ctxErr)
}

// --- the one error path ----------------------------------------------------

// reporter hands every error of the Exporter to its error handler, once:
// background goroutines call the handler themselves, reports raised on the
// caller's path (drops, tracing.ReportError) go through the reporter's own
// goroutine, so the handler's I/O never runs there. It also remembers the
// last failure of the destination.
type reporter struct {
	e       *Exporter
	handler func(error)
	ch      chan error
	quit    chan struct{}
	done    chan struct{}
	stopped atomic.Bool
	once    sync.Once

	mu          sync.Mutex
	loss        error     // why the last lost trace was lost
	cause       error     // last failure of the destination
	waitCause   error     // last failure a request then waited to retry
	waitTime    time.Time // when it was seen
	successTime time.Time // last export the destination confirmed

	lastDropWarn [numDropKinds]atomic.Int64 // unix nanos of the last report

	// Traces (and their spans) still queued when Shutdown's ctx ended,
	// reported once.
	shutdownDropped, shutdownDroppedSpans atomic.Int64
	shutdownReported                      atomic.Bool

	waitNoted atomic.Bool // the "waiting for N traces" notice was given
	waiting   atomic.Bool // Shutdown is waiting on the destination
}

func newReporter(e *Exporter) *reporter {
	return &reporter{e: e, handler: e.s.ErrorHandler, ch: make(chan error, 64),
		quit: make(chan struct{}), done: make(chan struct{})}
}

func (r *reporter) start() { go r.run() }

func (r *reporter) run() {
	defer close(r.done)
	for {
		select {
		case err := <-r.ch:
			r.handler(err)
		case <-r.quit:
			for {
				select {
				case err := <-r.ch:
					r.handler(err)
				default:
					return
				}
			}
		}
	}
}

// stop drains the queue and stops the goroutine; later reports go to the
// handler directly (only background goroutines report after Shutdown).
func (r *reporter) stop() {
	r.once.Do(func() {
		r.stopped.Store(true)
		close(r.quit)
		<-r.done
	})
}

// report hands err to the handler; it runs on the calling background
// goroutine (a worker, the streamer), so a ForceFlush that returns has had
// its failures reported.
func (r *reporter) report(err error) {
	if err != nil {
		r.handler(err)
	}
}

// tryReport hands err to the handler without ever blocking (caller's path);
// when the reporter is behind, the report is lost (the event is still
// counted in Stats). After Shutdown it calls the handler itself.
func (r *reporter) tryReport(err error) {
	if r.stopped.Load() {
		r.handler(err) // after Shutdown nothing else reports: no goroutine left to do it
		return
	}
	select {
	case r.ch <- err:
	default:
	}
}

func (r *reporter) noteCause(err error) {
	if err == nil {
		return
	}
	r.mu.Lock()
	r.cause = err
	r.mu.Unlock()
}

// noteWaitCause records a failure a request waits to retry.
func (r *reporter) noteWaitCause(err error) {
	r.mu.Lock()
	r.cause, r.waitCause, r.waitTime = err, err, time.Now()
	r.mu.Unlock()
}

func (r *reporter) lastCause() error {
	r.mu.Lock()
	defer r.mu.Unlock()
	return r.cause
}

func (r *reporter) noteLoss(why error) {
	r.mu.Lock()
	r.loss = why
	r.mu.Unlock()
}

func (r *reporter) lastLoss() error {
	r.mu.Lock()
	defer r.mu.Unlock()
	return r.loss
}

// failing returns the last failure a request waited to retry when it is
// more recent than the last success (the destination is failing now), else
// nil.
func (r *reporter) failing() error {
	r.mu.Lock()
	defer r.mu.Unlock()
	if r.waitCause == nil || r.waitTime.Before(r.successTime) {
		return nil
	}
	return r.waitCause
}

func (r *reporter) noteSuccess() {
	r.mu.Lock()
	r.successTime = time.Now()
	r.mu.Unlock()
}

func (r *reporter) lastSuccessTime() time.Time {
	r.mu.Lock()
	defer r.mu.Unlock()
	return r.successTime
}

func (p *pipeline) report(err error)   { p.rep.report(err) }
func (p *pipeline) noteLoss(why error) { p.rep.noteLoss(why) }
func (e *Exporter) onRetry(cause error, wait time.Duration) {
	e.counters.addRetried(1)
	if wait <= 0 {
		e.pipe.rep.noteCause(cause)
		return
	}
	e.pipe.rep.noteWaitCause(cause)
	if e.pipe.rep.waiting.Load() {
		// A request waits before its next attempt while Shutdown waits:
		// say so now (an immediate retry — a refreshed token — is not a
		// wait).
		e.pipe.giveWaitNotice(cause)
	}
}

type dropKind int

const (
	dropTraceQueue dropKind = iota
	dropEvicted
	dropSpanCap
	dropSpool
	dropDeadLetter
	warnFsync // not a drop: spooled traces not yet durable
	numDropKinds
)

// dropWarnEvery rate-limits drop reports per kind, like MLflow's 30 s
// "queue is full" warning; every drop is counted in Stats.
const dropWarnEvery = 30 * time.Second

// warnDrop reports a drop, at most once per dropWarnEvery and kind, without
// blocking (it runs on the caller's path).
func (p *pipeline) warnDrop(kind dropKind, traceID, what string) {
	if !p.rep.firstSince(kind) {
		return
	}
	p.rep.tryReport(fmt.Errorf("exporter: %s: %s (further drops in the next %v are only counted in Stats)",
		traceID, what, dropWarnEvery))
}

// firstSince reports whether no report of kind was given in the last
// dropWarnEvery (and claims this one).
func (r *reporter) firstSince(kind dropKind) bool {
	now := time.Now().UnixNano()
	last := r.lastDropWarn[kind].Load()
	if last != 0 && now-last < int64(dropWarnEvery) {
		return false
	}
	return r.lastDropWarn[kind].CompareAndSwap(last, now)
}

// reportShutdownDrops reports, once, the traces dropped at Shutdown.
func (p *pipeline) reportShutdownDrops() {
	r := p.rep
	n := r.shutdownDropped.Load()
	if n == 0 || !r.shutdownReported.CompareAndSwap(false, true) {
		return
	}
	spans := r.shutdownDroppedSpans.Load()
	r.report(fmt.Errorf("exporter: %d finished %s (%d %s) still queued when Shutdown's context ended %s dropped",
		n, plural(n, "trace", "traces"), spans, plural(spans, "span", "spans"), plural(n, "was", "were")))
}

// WaitNotice is what the error handler receives, once, when Shutdown waits
// on a destination that fails or does not answer: how many traces wait,
// where to, and the last failure (nil when the destination has simply not
// answered yet). It is a notice, not a loss: the traces may still arrive.
type WaitNotice struct {
	Traces      int
	Destination string
	Cause       error
	// RetryTimeout bounds the export of each of them.
	RetryTimeout time.Duration
}

func (n *WaitNotice) Error() string {
	why := "no answer yet"
	if n.Cause != nil {
		why = oneLine(n.Cause)
	}
	return fmt.Sprintf("exporter: Shutdown is waiting for %d %s to reach %s: %s (each export gives up after %v; a Shutdown context with a deadline bounds the wait)",
		n.Traces, plural(int64(n.Traces), "trace", "traces"), n.Destination, why, n.RetryTimeout)
}

func (n *WaitNotice) Unwrap() error { return n.Cause }

// Notice reports whether n is only a notice: the destination has not failed,
// it has not confirmed anything yet (no Cause). The default error handler
// logs such a WaitNotice at level Warn, one with a Cause at level Error.
func (n *WaitNotice) Notice() bool { return n.Cause == nil }

// waitNoticeAfter is how long Shutdown waits without the destination
// confirming anything before it says so.
const waitNoticeAfter = 2 * time.Second

// waiting is how many traces Shutdown waits for: those of this process
// not yet settled; when there are none, with a spool, the records the
// replay is delivering (an earlier process's, or released by this one).
func (p *pipeline) waiting() int {
	_, pending := p.e.buf.lens()
	if pending == 0 && p.spool != nil {
		pending = p.spool.sp.Stats().Records
	}
	return pending
}

// noteWait arranges for Shutdown's one WaitNotice: at once when the
// destination's last answer was a failure, at its first failure during the
// wait, or as soon as it has confirmed nothing for waitNoticeAfter while
// traces wait (a destination that does not answer). The returned func
// cancels it.
func (p *pipeline) noteWait() (cancel func()) {
	if p.waiting() == 0 {
		return func() {}
	}
	if cause := p.rep.failing(); cause != nil {
		p.giveWaitNotice(cause)
		return func() {}
	}
	p.rep.waiting.Store(true)
	var mu sync.Mutex
	stopped := false
	var t *time.Timer
	mu.Lock() // t is read by the callback; publish it under mu
	defer mu.Unlock()
	t = time.AfterFunc(waitNoticeAfter, func() {
		quiet := time.Since(p.rep.lastSuccessTime())
		if quiet >= waitNoticeAfter {
			p.giveWaitNotice(p.rep.failing())
			return
		}
		mu.Lock()
		defer mu.Unlock()
		if !stopped {
			t.Reset(waitNoticeAfter - quiet)
		}
	})
	return func() {
		p.rep.waiting.Store(false)
		mu.Lock()
		stopped = true
		mu.Unlock()
		t.Stop()
	}
}

func (p *pipeline) giveWaitNotice(cause error) {
	if p.rep.waitNoted.Load() {
		return
	}
	pending := p.waiting()
	if pending == 0 || !p.rep.waitNoted.CompareAndSwap(false, true) {
		return
	}
	p.rep.report(&WaitNotice{Traces: pending, Destination: p.e.route.where, Cause: cause, RetryTimeout: p.e.s.RetryTimeout})
}
