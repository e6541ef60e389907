package exporter

import (
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"strconv"
	"sync"
	"sync/atomic"
	"time"

	"github.com/mlflowtrace/mlflowtrace-go/internal/batch"
	"github.com/mlflowtrace/mlflowtrace-go/internal/databricks"
	"github.com/mlflowtrace/mlflowtrace-go/internal/settings"
	"github.com/mlflowtrace/mlflowtrace-go/internal/spool"
	"github.com/mlflowtrace/mlflowtrace-go/internal/tracemodel"
)

// ErrTraceSpooled is what AwaitExport returns (wrapped) for a trace that
// is safe in the spool but whose delivery is left to the spool's replay:
// the in-memory export queue was full, or Shutdown ended before the
// destination confirmed it.
var ErrTraceSpooled = errors.New("exporter: trace is in the spool, waiting for its destination")

var (
	errSpooledBacklog  = fmt.Errorf("%w (the export queue was full)", ErrTraceSpooled)
	errSpooledShutdown = fmt.Errorf("%w (Shutdown ended first)", ErrTraceSpooled)
)

// SpoolSync is when the spool fsyncs what it writes (MLFLOWTRACE_SPOOL_SYNC).
type SpoolSync int

const (
	// SpoolSyncBatch fsyncs every batch before its traces count as
	// accepted: an accepted trace survives a power loss ("batch").
	SpoolSyncBatch SpoolSync = iota
	// SpoolSyncInterval fsyncs on a timer: a power loss or kernel crash
	// loses at most the interval's traces; a crash of the process loses
	// none ("interval").
	SpoolSyncInterval
	// SpoolSyncNone leaves write-back to the operating system: a crash of
	// the process loses nothing, a power loss up to its write-back delay
	// ("none").
	SpoolSyncNone
)

// WithSpool keeps every finished trace in a durable spool in dir until the
// destination confirms it (MLFLOWTRACE_SPOOL_DIR): traces survive a crash
// of the process and an outage of the destination; the next process
// started on dir delivers what is left. "" turns the spool off. See the
// package documentation (Durable spool).
func WithSpool(dir string) Option {
	return option(func(s *settings.Settings) { s.SpoolDir = dir })
}

// WithSpoolMaxBytes bounds the spool on disk (MLFLOWTRACE_SPOOL_MAX_BYTES,
// default 256 MiB, at least 1 MiB). A full spool refuses new traces: they
// are still exported from memory, without the spool's guarantee.
func WithSpoolMaxBytes(n int64) Option {
	return option(func(s *settings.Settings) { s.SpoolMaxBytes = n })
}

// WithSpoolSync sets the spool's fsync policy (MLFLOWTRACE_SPOOL_SYNC) and,
// for SpoolSyncInterval, the interval
// (MLFLOWTRACE_SPOOL_SYNC_INTERVAL_MILLIS, default 1 s; a non-positive
// interval keeps the current one).
func WithSpoolSync(policy SpoolSync, interval time.Duration) Option {
	return option(func(s *settings.Settings) {
		switch policy {
		case SpoolSyncInterval:
			s.SpoolSync = "interval"
		case SpoolSyncNone:
			s.SpoolSync = "none"
		default:
			s.SpoolSync = "batch"
		}
		if interval > 0 {
			s.SpoolSyncInterval = interval
		}
	})
}

// spooler is the pipeline's spool stage. With a spool, the trace queue's
// workers assemble each finished trace, write it to the spool (fsync per
// policy) and only then count it accepted; the send queue exports it from
// memory and acknowledges it once the destination confirmed it. Records
// not exported from memory — left by a previous process, or spooled when
// the send queue was full, or left when Shutdown gave up — are the
// backlog, exported by the replay workers; a trace whose export failed
// after its retry budget becomes a dead letter, retried by them later.
// Every goroutine here belongs to the pipeline (p.bg; bgCtx ends them).
type spooler struct {
	p     *pipeline
	sp    *spool.Spool
	sendQ *batch.Batcher[*spooledTrace]

	wake atomic.Pointer[chan struct{}] // closed to wake the replay workers
	// replaying counts the replay batches in flight (from before their
	// claim until their outcome); replayed is closed (and replaced) after
	// each: Shutdown waits on them for the backlog (awaitBacklog).
	replaying atomic.Int32
	replayed  atomic.Pointer[chan struct{}]
	// hold is set while the destination fails: the replay waits for a
	// success or the retry interval instead of failing record after record.
	hold     atomic.Bool
	holdTime atomic.Int64 // unix nanos when hold was set
	// holdFresh: something other than a dead letter's retry failed since
	// the hold was set; only then does a success make the dead letters due
	// (else a trace the destination refuses, retried and failing again,
	// would be retried after every success).
	holdFresh atomic.Bool

	leftInSpool atomic.Int64 // traces left for the next process at Shutdown
	closeOnce   sync.Once
	leftOnce    sync.Once
}

// spooledTrace is a trace on its way through the spool stage.
type spooledTrace struct {
	ts   *traceState // nil for a record read back from the spool
	t    *Trace
	ref  spool.Ref // 0: not in the spool's segments
	dead string    // the dead letter it was read from, if it was
	// spansStored is how many of the trace's span rows the destination
	// stored already, counted in the order of t.Spans; len(t.Spans) means
	// all (route.staged). The spool keeps it: a mark or a progress count on
	// the record, or a dead letter's field.
	spansStored int
}

// openSpool opens the spool of the settings, if any. A spool that cannot
// be opened (the directory cannot be written, every slot is taken) is
// reported once and the Exporter runs without one: every trace then counts
// in Stats.TracesNotSpooled.
func (p *pipeline) openSpool() {
	s := p.e.s
	if s.SpoolDir == "" {
		return
	}
	sync := spool.SyncBatch
	switch s.SpoolSync {
	case "interval":
		sync = spool.SyncInterval
	case "none":
		sync = spool.SyncNone
	}
	sp, err := spool.Open(s.SpoolDir, spool.Options{MaxBytes: s.SpoolMaxBytes, Sync: sync})
	if err != nil {
		p.spoolFailed = true
		p.report(fmt.Errorf("exporter: running without the spool %s (MLFLOWTRACE_SPOOL_DIR): %w", s.SpoolDir, err))
		return
	}
	ch, rch := make(chan struct{}), make(chan struct{})
	sc := &spooler{p: p, sp: sp}
	sc.wake.Store(&ch)
	sc.replayed.Store(&rch)
	p.spool = sc
}

// start starts the send queue, the replay workers and the janitor.
func (sc *spooler) start() {
	p, s := sc.p, sc.p.e.s
	sc.sendQ = batch.New(sc.sendTraces, batch.Config[*spooledTrace]{
		QueueSize:     s.MaxQueueSize,
		Workers:       s.MaxWorkers,
		BatchSize:     s.BatchSize,
		Interval:      traceLinger(s.BatchSize, s.BatchInterval),
		ExportTimeout: s.RetryTimeout,
		OnDrop:        sc.leaveInSpool,
	})
	for range s.MaxWorkers {
		p.bg.Add(1)
		go sc.replayWorker()
	}
	p.bg.Add(1)
	go sc.janitor()
}

// spoolAppend is spool.Spool.Append; tests replace it to make a write or
// an fsync fail.
var spoolAppend = (*spool.Spool).Append

// spoolTraces is the trace queue's export function with a spool: assemble,
// write to the spool, hand over to the send queue.
func (sc *spooler) spoolTraces(_ context.Context, states []*traceState) error {
	p, e := sc.p, sc.p.e
	items := make([]*spooledTrace, len(states))
	recs := make([][]byte, len(states))
	for i, ts := range states {
		t := e.builtTrace(ts)
		items[i] = &spooledTrace{ts: ts, t: t}
		recs[i] = encodeRecord(t, 0)
	}
	refs, err := spoolAppend(sc.sp, recs)
	written := 0
	for i, r := range refs {
		items[i].ref = r
		if r != 0 {
			written++
		}
	}
	e.counters.addTracesSpooled(written)
	if written == len(items) && err != nil {
		// Written but not fsynced (SpoolSyncBatch): the traces are spooled
		// and go on; only a power loss or kernel crash could lose them.
		sc.warnFsync(err)
	}
	if n := len(items) - written; n > 0 {
		e.counters.addTracesNotSpooled(n)
		why := "the spool is full (MLFLOWTRACE_SPOOL_MAX_BYTES)"
		if !errors.Is(err, spool.ErrFull) {
			why = "the spool cannot be written: " + err.Error()
		}
		p.warnDrop(dropSpool, e.TraceID(states[0].id), "trace not spooled, exported from memory only: "+why)
	}
	for _, it := range items {
		if sc.sendQ.Enqueue(it) {
			continue
		}
		if it.ref != 0 {
			// Safe on disk: the replay delivers it.
			sc.sp.Release(it.ref)
			e.buf.settle(it.ts, errSpooledBacklog)
			sc.wakeUp()
			continue
		}
		e.dropTrace(it.ts, errQueueFull)
		p.warnDrop(dropTraceQueue, e.TraceID(it.ts.id), "trace dropped: the trace export queue is full (MLFLOWTRACE_SPOOL_MAX_BYTES reached too)")
	}
	return nil
}

// sendTraces is the send queue's export function: traces from memory.
func (sc *spooler) sendTraces(ctx context.Context, items []*spooledTrace) error {
	p, e := sc.p, sc.p.e
	if p.st != nil && !e.route.carrier {
		// As exportTraces does: the spans first.
		p.st.idle(ctx)
		var rest []*endedSpan
		for _, it := range items {
			rest = append(rest, e.buf.takeUnstreamed(it.ts)...)
		}
		if len(rest) > 0 {
			p.exportSpans(ctx, rest)
		}
	}
	err := callDestination(func() error { return sc.export(ctx, items, false) })
	sc.settle(ctx, items, err)
	return nil
}

// export calls the destination the way its route states: in steps that
// report stored span rows (route.staged), with look-ups for a replay
// (route.redeliver), or plainly.
func (sc *spooler) export(ctx context.Context, items []*spooledTrace, replay bool) error {
	r := sc.p.e.route
	traces := make([]*Trace, len(items))
	for i, it := range items {
		traces[i] = it.t
	}
	if r.staged != nil {
		stored := make([]int, len(items))
		for i, it := range items {
			stored[i] = it.spansStored
		}
		return r.staged(ctx, traces, databricks.Progress{
			SpansStored: stored,
			OnSpans:     func(idx []int) { sc.markSpans(items, idx) },
			OnSpanRows:  func(i, n int) { sc.markSpanRows(items, i, n) },
		}, replay)
	}
	if replay && r.redeliver != nil {
		return r.redeliver(ctx, traces)
	}
	return r.dest.ExportTraces(ctx, traces)
}

// markSpans notes that all the span rows of items[idx] are stored: in the
// spool (a mark on the record, or the dead letter rewritten) before the
// destination goes on, so that a crash now cannot make a replay send them
// again.
func (sc *spooler) markSpans(items []*spooledTrace, idx []int) {
	var refs []spool.Ref
	for _, i := range idx {
		if i < 0 || i >= len(items) {
			continue
		}
		it := items[i]
		it.spansStored = len(it.t.Spans)
		switch {
		case it.ref != 0:
			refs = append(refs, it.ref)
		case it.dead != "":
			_ = sc.sp.DeadLetter(0, it.dead, encodeRecord(it.t, it.spansStored), time.Now())
		}
	}
	sc.sp.Mark(refs...)
}

// markSpanRows notes, as markSpans does, that the first n span rows of
// items[i] (a trace larger than one request) are stored.
func (sc *spooler) markSpanRows(items []*spooledTrace, i, n int) {
	if i < 0 || i >= len(items) || n <= items[i].spansStored {
		return
	}
	it := items[i]
	it.spansStored = n
	switch {
	case it.ref != 0:
		sc.sp.MarkProgress(it.ref, n)
	case it.dead != "":
		_ = sc.sp.DeadLetter(0, it.dead, encodeRecord(it.t, n), time.Now())
	}
}

// leaveInSpool takes the items the send queue abandoned when Shutdown's
// ctx ended: they stay in the spool for the next process.
func (sc *spooler) leaveInSpool(items []*spooledTrace) {
	e := sc.p.e
	for _, it := range items {
		if it.ref != 0 {
			sc.sp.Release(it.ref)
			sc.leftInSpool.Add(1)
			e.buf.settle(it.ts, errSpooledShutdown)
			continue
		}
		e.dropTrace(it.ts, errShutdownGaveUp)
		sc.p.rep.shutdownDropped.Add(1)
	}
}

// settle hands the export's result to outcome. When the destination named
// the traces it could not write (only tracemodel.TraceErrors), the others
// were written: they are acknowledged and only the named ones fail.
func (sc *spooler) settle(ctx context.Context, items []*spooledTrace, err error) {
	failed, partial := tracemodel.FailedTraces(err)
	if !partial || ctx.Err() != nil {
		sc.outcome(ctx, items, err)
		return
	}
	var written, bad []*spooledTrace
	for _, it := range items {
		if failed[it.t.Info.TraceID] {
			bad = append(bad, it)
		} else {
			written = append(written, it)
		}
	}
	if len(written) > 0 {
		sc.outcome(ctx, written, nil)
	}
	if len(bad) > 0 {
		sc.outcome(ctx, bad, err)
	}
}

// outcome settles exported items: acknowledged on success; on failure
// kept as dead letters (or, when our own Shutdown cancelled the export,
// left in the spool).
func (sc *spooler) outcome(ctx context.Context, items []*spooledTrace, err error) {
	p, e := sc.p, sc.p.e
	if err == nil {
		nspans, replayed := 0, 0
		var refs []spool.Ref
		var dead []string
		for _, it := range items {
			nspans += len(it.t.Spans)
			if it.ref != 0 {
				refs = append(refs, it.ref)
			}
			if it.dead != "" {
				dead = append(dead, it.dead)
			}
			if it.ts == nil {
				replayed++
			}
		}
		// Count before acknowledging: once the records leave the spool,
		// Stats().SpoolPending can read 0, and whoever waits for that must
		// already see these traces counted.
		p.rep.noteSuccess()
		e.counters.addTracesExported(len(items))
		e.counters.addSpansExported(nspans)
		e.counters.addTracesReplayed(replayed)
		sc.sp.Ack(refs...)
		sc.sp.RemoveDead(dead...)
		for _, it := range items {
			if it.ts != nil {
				e.buf.settle(it.ts, nil)
			}
		}
		if sc.hold.CompareAndSwap(true, false) {
			// The destination answers again: retry the dead letters now.
			if sc.holdFresh.Swap(false) {
				sc.sp.DueAll()
			}
			sc.wakeUp()
		}
		return
	}
	if errors.Is(ctx.Err(), context.Canceled) {
		// Shutdown cancelled the export: nothing failed, the records stay.
		for _, it := range items {
			switch {
			case it.dead != "":
				sc.sp.RetryDeadLater(time.Now(), it.dead)
			case it.ref != 0:
				sc.sp.Release(it.ref)
				if it.ts != nil {
					sc.leftInSpool.Add(1)
					e.buf.settle(it.ts, errSpooledShutdown)
				}
			default:
				e.dropTrace(it.ts, errShutdownGaveUp)
			}
		}
		return
	}
	ids := make([]string, len(items))
	for i, it := range items {
		ids[i] = it.t.Info.TraceID
	}
	xerr := &ExportError{TraceIDs: ids, Err: err}
	e.counters.addExportFailures(1)
	p.rep.noteCause(err)
	fresh := false
	for _, it := range items {
		fresh = fresh || it.dead == ""
	}
	sc.setHold(fresh)
	retryAt := time.Now().Add(e.s.SpoolRetryInterval)
	kept, dead, lost, retried := 0, 0, 0, 0
	var deadErr error // why a dead letter could not be written
	for _, it := range items {
		switch {
		case it.dead != "":
			sc.sp.RetryDeadLater(retryAt, it.dead)
			retried++
		case it.ref != 0:
			kept++
			if derr := sc.sp.DeadLetter(it.ref, deadLetterName(it.t), encodeRecord(it.t, it.spansStored), retryAt); derr != nil {
				// Kept in the segments instead: the replay retries it.
				sc.sp.Release(it.ref)
				deadErr = derr
			} else {
				dead++
			}
		default:
			lost++
		}
		if it.ts != nil {
			e.buf.settle(it.ts, xerr)
		}
	}
	e.counters.addTracesDeadLettered(dead)
	if lost > 0 {
		e.counters.addTracesFailed(lost)
		p.noteLoss(err)
	}
	if retried == len(items) {
		return // a dead letter's retry: reported when it was dead-lettered
	}
	if kept > 0 {
		// One report per outage, not one per batch (nor per trace): the
		// dead letters are counted in Stats and visible on disk.
		if sc.p.rep.firstSince(dropDeadLetter) {
			where := "kept as dead letters in " + sc.sp.Dir() + "/dead"
			if deadErr != nil {
				where = fmt.Sprintf("kept in the spool (%v)", deadErr)
			}
			p.report(fmt.Errorf("%w; %s, retried every %v and as soon as the destination answers again (further dead letters in the next %v are only counted in Stats)",
				xerr, where, e.s.SpoolRetryInterval, dropWarnEvery))
		}
		return
	}
	if !tracemodel.OnlyRepeated(err) { // else told once already
		p.report(xerr)
	}
}

// warnFsync reports a failed fsync, at most once per dropWarnEvery: the
// traces stay spooled and are delivered, but until an fsync succeeds a
// power loss or kernel crash can lose them.
func (sc *spooler) warnFsync(err error) {
	if sc.p.rep.firstSince(warnFsync) {
		sc.p.rep.tryReport(fmt.Errorf("exporter: %w: the traces stay spooled and are delivered, but a power loss or kernel crash before the next successful fsync can lose them (reported at most every %v)",
			err, dropWarnEvery))
	}
}

func (sc *spooler) setHold(fresh bool) {
	if fresh {
		sc.holdFresh.Store(true)
	}
	if sc.hold.CompareAndSwap(false, true) {
		sc.holdTime.Store(time.Now().UnixNano())
	}
}

// wakeUp wakes the replay workers.
func (sc *spooler) wakeUp() {
	ch := make(chan struct{})
	if old := sc.wake.Swap(&ch); old != nil {
		close(*old)
	}
}

// replayWorker delivers the backlog, then the dead letters that are due.
func (sc *spooler) replayWorker() {
	p := sc.p
	defer p.bg.Done()
	for {
		wake := *sc.wake.Load()
		if p.bgCtx.Err() != nil {
			return
		}
		if !sc.hold.Load() && sc.replayOnce() {
			continue
		}
		select {
		case <-p.bgCtx.Done():
			return
		case <-wake:
		}
	}
}

// replayOnce exports one batch of the backlog or of the due dead letters;
// it reports whether there was one, or more backlog behind records it had
// to skip.
func (sc *spooler) replayOnce() bool {
	p, e := sc.p, sc.p.e
	sc.replaying.Add(1) // before the claim: awaitBacklog never sees neither
	defer func() {
		sc.replaying.Add(-1)
		rch := make(chan struct{})
		close(*sc.replayed.Swap(&rch))
	}()
	var items []*spooledTrace
	for _, r := range sc.sp.Claim(e.s.BatchSize) {
		t, stored, err := decodeRecord(r.Data)
		if err != nil {
			sc.sp.Skip(r.Ref)
			continue
		}
		stored = max(stored, r.Progress)
		if r.Marked {
			stored = len(t.Spans)
		}
		items = append(items, &spooledTrace{t: t, ref: r.Ref, spansStored: stored})
	}
	if len(items) == 0 {
		for _, d := range sc.sp.ClaimDead(time.Now(), e.s.BatchSize) {
			t, stored, err := decodeRecord(d.Data)
			if err != nil {
				// Not a trace: leave the file to the operator, look again later.
				sc.sp.RetryDeadLater(time.Now().Add(e.s.SpoolRetryInterval), d.Name)
				continue
			}
			items = append(items, &spooledTrace{t: t, dead: d.Name, spansStored: stored})
		}
	}
	if len(items) == 0 {
		// Nothing to send; when every record claimed was unusable (skipped),
		// more may wait behind them, and nothing else wakes the workers for
		// the backlog: look again.
		return sc.sp.Backlog() > 0
	}
	ctx, cancel := context.WithTimeout(p.bgCtx, e.s.RetryTimeout)
	defer cancel()
	err := callDestination(func() error { return sc.export(ctx, items, true) })
	if err != nil && p.bgCtx.Err() != nil {
		ctx = p.bgCtx // cancelled by Shutdown, not failed
	}
	sc.settle(ctx, items, err)
	return true
}

// awaitBacklog lets the replay deliver what is left in the spool — records
// of an earlier process, or released by this one — before Shutdown stops
// it, so that a short-lived program (a job, a CLI) empties the spool it
// found. It returns when no record or due dead letter waits for the replay
// and none is being replayed, when the destination fails
// (the hold: the rest stays for the next process, reportLeft says so), or
// when ctx ends; it keeps a tenth of what is left of ctx's time (at most a
// second) for the rest of Shutdown. Dead letters not yet due wait for their
// retry time, as they would in a running process.
func (sc *spooler) awaitBacklog(ctx context.Context) {
	if dl, ok := ctx.Deadline(); ok {
		var cancel context.CancelFunc
		ctx, cancel = context.WithDeadline(ctx, dl.Add(-min(time.Until(dl)/10, time.Second)))
		defer cancel()
	}
	sc.wakeUp()
	for {
		replayed := *sc.replayed.Load()
		if sc.hold.Load() || sc.sp.Stats().Backlog == 0 && !sc.sp.DeadDue(time.Now()) && sc.replaying.Load() == 0 {
			return
		}
		select {
		case <-replayed:
		case <-ctx.Done():
			return
		case <-sc.p.bgCtx.Done():
			return
		}
	}
}

// janitor runs the spool's timers: the interval fsync, the check that the
// directory is still there, the adoption of slots of processes that are
// gone, and the end of a hold after the retry interval.
func (sc *spooler) janitor() {
	p, s := sc.p, sc.p.e.s
	defer p.bg.Done()
	tick := time.Second
	if s.SpoolSync == "interval" {
		tick = min(tick, s.SpoolSyncInterval)
	}
	t := time.NewTicker(tick)
	defer t.Stop()
	var lastSync, lastAdopt, lastCheck time.Time
	vanished := false
	for {
		select {
		case <-p.bgCtx.Done():
			return
		case now := <-t.C:
			if s.SpoolSync == "interval" && now.Sub(lastSync) >= s.SpoolSyncInterval {
				lastSync = now
				if err := sc.sp.Sync(); err != nil {
					sc.warnFsync(fmt.Errorf("spool: fsync: %w", err))
				}
			}
			if now.Sub(lastCheck) >= 5*time.Second {
				lastCheck = now
				recreated, err := sc.sp.Check()
				switch {
				case err != nil && !vanished:
					vanished = true
					p.report(fmt.Errorf("exporter: %w", err))
				case recreated:
					vanished = false
					p.report(fmt.Errorf("exporter: the spool directory %s vanished; recreated (traces spooled before are still delivered)", sc.sp.Dir()))
					sc.wakeUp() // a free slot taken instead can hold records of a gone process
				}
			}
			if now.Sub(lastAdopt) >= s.SpoolAdoptInterval {
				lastAdopt = now
				if sc.sp.Adopt() > 0 {
					sc.wakeUp()
				}
			}
			if sc.hold.Load() && now.Sub(time.Unix(0, sc.holdTime.Load())) >= s.SpoolRetryInterval {
				sc.hold.Store(false)
				sc.wakeUp()
			} else if !sc.hold.Load() && sc.sp.DeadDue(now) {
				sc.wakeUp()
			}
		}
	}
}

// drain exports what the send queue holds, bounded by ctx (what is left
// stays in the spool).
func (sc *spooler) drain(ctx context.Context) error { return sc.sendQ.Shutdown(ctx) }

// flush waits for the send queue.
func (sc *spooler) flush(ctx context.Context) error { return sc.sendQ.ForceFlush(ctx) }

// close closes the spool once the pipeline's goroutines have stopped and
// says, once, what is left in it for the next process.
func (sc *spooler) close() {
	sc.closeOnce.Do(func() {
		sc.reportLeft()
		if err := sc.sp.Close(); err != nil {
			sc.p.report(fmt.Errorf("exporter: closing the spool: %w", err))
		}
	})
}

// reportLeft says, once, what stays in the spool for the next process
// (at Shutdown, also when its ctx ended first).
func (sc *spooler) reportLeft() {
	sc.leftOnce.Do(func() {
		st := sc.sp.Stats()
		if st.Records > 0 || st.DeadLetters > 0 {
			sc.p.report(fmt.Errorf("exporter: %d %s not yet delivered to %s and %d dead %s stay in the spool %s; the next process started with MLFLOWTRACE_SPOOL_DIR=%s delivers them",
				st.Records, plural(int64(st.Records), "trace", "traces"), sc.p.e.route.where,
				st.DeadLetters, plural(int64(st.DeadLetters), "letter", "letters"), st.Dir, sc.sp.Root()))
		}
	})
}

// stats fills the spool's part of Stats.
func (sc *spooler) stats(st *Stats) {
	ss := sc.sp.Stats()
	st.SpoolDir = ss.Dir
	st.SpoolBytes = ss.Bytes
	st.SpoolPending = int64(ss.Records)
	st.SpoolDeadLetters = int64(ss.DeadLetters)
	st.SpoolRecordsSkipped = ss.Skipped
}

// --- records ---------------------------------------------------------------

// encodeRecord encodes a trace for the spool with tracemodel's JSON:
// {"info": <TraceInfo as protobuf JSON>, "data": {"spans": [<traces.json
// spans>]}} — Trace.UnmarshalJSON reads it back without loss (times in
// nanoseconds), and a dead letter is readable with jq. spansStored (see
// spooledTrace.spansStored) adds "mlflowtrace.spans_stored": true when all
// the span rows are stored (what earlier versions read too), else
// "mlflowtrace.spans_stored_count": spansStored when some are.
func encodeRecord(t *Trace, spansStored int) []byte {
	info, _ := t.Info.MarshalJSON()
	data, err := tracemodel.MarshalTraceData(t.Spans)
	if err != nil {
		data = []byte(`{"spans": []}`)
	}
	b := make([]byte, 0, len(info)+len(data)+20)
	b = append(b, `{"info": `...)
	b = append(b, info...)
	b = append(b, `, "data": `...)
	b = append(b, data...)
	switch {
	case spansStored <= 0:
	case spansStored >= len(t.Spans):
		b = append(b, `, "mlflowtrace.spans_stored": true`...)
	default:
		b = append(b, `, "mlflowtrace.spans_stored_count": `...)
		b = strconv.AppendInt(b, int64(spansStored), 10)
	}
	return append(b, '}')
}

// decodeRecord reads what encodeRecord wrote: the trace and how many of its
// span rows are stored.
func decodeRecord(b []byte) (t *Trace, spansStored int, err error) {
	t = new(Trace)
	if err := json.Unmarshal(b, t); err != nil {
		return nil, 0, err
	}
	if t.Info.TraceID == "" {
		return nil, 0, errors.New("exporter: spool record without a trace id")
	}
	var stored struct {
		All   bool `json:"mlflowtrace.spans_stored"`
		Count int  `json:"mlflowtrace.spans_stored_count"`
	}
	_ = json.Unmarshal(b, &stored)
	if stored.All {
		return t, len(t.Spans), nil
	}
	return t, min(max(stored.Count, 0), len(t.Spans)), nil
}

// deadLetterName is the file name of a trace's dead letter: its 32-hex
// OpenTelemetry trace id.
func deadLetterName(t *Trace) string {
	for _, s := range t.Spans {
		if s != nil {
			return s.TraceID.String()
		}
	}
	id := []byte(t.Info.TraceID)
	for i, c := range id {
		if !(c >= 'a' && c <= 'z' || c >= '0' && c <= '9' || c == '-') {
			id[i] = '_'
		}
	}
	return string(id)
}
