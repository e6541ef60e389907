package exporter_test

import (
	"context"
	"errors"
	"fmt"
	"os"
	"path/filepath"
	"strings"
	"sync"
	"sync/atomic"
	"testing"
	"time"

	"go.opentelemetry.io/otel/attribute"
	sdktrace "go.opentelemetry.io/otel/sdk/trace"

	"github.com/mlflowtrace/mlflowtrace-go/exporter"
	"github.com/mlflowtrace/mlflowtrace-go/internal/keys"
	"github.com/mlflowtrace/mlflowtrace-go/internal/spool"
)

// flakyDest is a destination that can be down (every export fails at
// once, as after an exhausted retry budget) or hang (until ctx ends), and
// counts how often it stored each trace id.
type flakyDest struct {
	down, hang atomic.Bool
	mu         sync.Mutex
	stored     map[string]int
	spans      map[string]int
	calls      atomic.Int64
}

func newFlaky() *flakyDest { return &flakyDest{stored: map[string]int{}, spans: map[string]int{}} }

func (d *flakyDest) ExportTraces(ctx context.Context, traces []*exporter.Trace) error {
	d.calls.Add(1)
	for d.hang.Load() {
		select {
		case <-ctx.Done():
			return ctx.Err()
		case <-time.After(10 * time.Millisecond):
		}
	}
	if d.down.Load() {
		return errors.New("connection refused")
	}
	d.mu.Lock()
	defer d.mu.Unlock()
	for _, t := range traces {
		d.stored[t.Info.TraceID]++
		d.spans[t.Info.TraceID] = len(t.Spans)
	}
	return nil
}

func (d *flakyDest) Shutdown(context.Context) error { return nil }

func (d *flakyDest) count() (traces, dups int) {
	d.mu.Lock()
	defer d.mu.Unlock()
	for _, n := range d.stored {
		traces++
		if n > 1 {
			dups++
		}
	}
	return traces, dups
}

type spoolRig struct {
	exp      *exporter.Exporter
	tp       *sdktrace.TracerProvider
	errs     chan error
	shutOnce atomic.Bool
}

func newSpoolRig(t *testing.T, dir string, d exporter.Destination, opts ...exporter.Option) *spoolRig {
	t.Helper()
	r := &spoolRig{errs: make(chan error, 1000)}
	base := []exporter.Option{exporter.WithGetenv(noEnv), exporter.WithDestination(d), exporter.WithSpool(dir),
		exporter.WithErrorHandler(func(err error) {
			select {
			case r.errs <- err:
			default:
			}
		})}
	exp, err := exporter.New(context.Background(), append(base, opts...)...)
	if err != nil {
		t.Fatal(err)
	}
	r.exp = exp
	r.tp = sdktrace.NewTracerProvider(sdktrace.WithSpanProcessor(exp))
	return r
}

// record records n traces of 3 spans.
func (r *spoolRig) record(n int) {
	tr := r.tp.Tracer(keys.ScopeName)
	for i := range n {
		ctx, root := tr.Start(context.Background(), fmt.Sprintf("root-%d", i))
		for j := range 2 {
			_, c := tr.Start(ctx, fmt.Sprintf("child-%d", j))
			c.End()
		}
		root.End()
	}
}

func (r *spoolRig) shutdown(t *testing.T, d time.Duration) error {
	t.Helper()
	ctx, cancel := context.WithTimeout(context.Background(), d)
	defer cancel()
	if r.shutOnce.CompareAndSwap(false, true) {
		return r.tp.Shutdown(ctx)
	}
	return r.exp.Shutdown(ctx) // the TracerProvider calls its processors once
}

func waitFor(t *testing.T, what string, cond func() bool) {
	t.Helper()
	deadline := time.Now().Add(20 * time.Second)
	for !cond() {
		if time.Now().After(deadline) {
			t.Fatalf("timed out waiting for %s", what)
		}
		time.Sleep(10 * time.Millisecond)
	}
}

// An outage: every export fails, the traces become dead letters (kept,
// visible in Stats and on disk); when the destination answers again they
// are delivered exactly once and the dead letters go away.
func TestSpoolDeadLettersAreRetriedWhenTheDestinationRecovers(t *testing.T) {
	dir := t.TempDir()
	d := newFlaky()
	d.down.Store(true)
	r := newSpoolRig(t, dir, d, exporter.WithSpoolIntervals(200*time.Millisecond, time.Hour))
	r.record(20)
	// The spool counts a dead letter when it is written, the exporter its
	// batch's after the batch: wait for both.
	waitFor(t, "20 dead letters", func() bool {
		st := r.exp.Stats()
		return st.SpoolDeadLetters == 20 && st.TracesDeadLettered == 20
	})
	st := r.exp.Stats()
	if st.TracesSpooled != 20 || st.TracesDeadLettered != 20 || st.TracesFailed != 0 {
		t.Fatalf("stats during the outage: %+v", st)
	}
	files, _ := filepath.Glob(filepath.Join(st.SpoolDir, "dead", "*.json"))
	if len(files) != 20 {
		t.Fatalf("%d dead-letter files in %s, want 20", len(files), st.SpoolDir)
	}
	d.down.Store(false)
	waitFor(t, "the dead letters delivered", func() bool { n, _ := d.count(); return n == 20 })
	waitFor(t, "no dead letter left", func() bool { return r.exp.Stats().SpoolDeadLetters == 0 })
	if err := r.shutdown(t, 10*time.Second); err != nil {
		t.Fatalf("Shutdown = %v", err)
	}
	if n, dups := d.count(); n != 20 || dups != 0 {
		t.Fatalf("stored %d traces, %d more than once", n, dups)
	}
	if st := r.exp.Stats(); st.TracesReplayed != 20 || st.TracesExported != 20 {
		t.Fatalf("stats after recovery: %+v", st)
	}
	if left, _ := os.ReadDir(dir); len(left) != 0 {
		t.Fatalf("the delivered spool left %v", left)
	}
}

// A process stopped during an outage (Shutdown gives up) leaves its
// traces in the spool; the next process on the directory delivers them,
// once, while it records traces of its own.
func TestSpoolNextProcessDeliversWhatIsLeft(t *testing.T) {
	dir := t.TempDir()
	d := newFlaky()
	d.hang.Store(true)
	a := newSpoolRig(t, dir, d)
	a.record(30)
	waitFor(t, "30 spooled", func() bool { return a.exp.Stats().TracesSpooled == 30 })
	err := a.shutdown(t, 300*time.Millisecond)
	if !errors.Is(err, context.DeadlineExceeded) {
		t.Fatalf("Shutdown = %v, want the deadline", err)
	}
	if err := a.shutdown(t, 5*time.Second); err != nil {
		t.Fatalf("second Shutdown = %v (nothing was lost)", err)
	}
	if st := a.exp.Stats(); st.TracesDropped != 0 || st.TracesFailed != 0 {
		t.Fatalf("A lost traces: %+v", st)
	}
	d.hang.Store(false)
	b := newSpoolRig(t, dir, d)
	b.record(5)
	waitFor(t, "35 delivered", func() bool { n, _ := d.count(); return n == 35 })
	if err := b.shutdown(t, 10*time.Second); err != nil {
		t.Fatal(err)
	}
	if n, dups := d.count(); n != 35 || dups != 0 {
		t.Fatalf("stored %d traces, %d more than once", n, dups)
	}
	if st := b.exp.Stats(); st.TracesReplayed != 30 {
		t.Fatalf("B replayed %d, want 30: %+v", st.TracesReplayed, st)
	}
}

// A short-lived process (a job, a CLI) that finds traces of an earlier
// process in the spool delivers them before its Shutdown returns, even when
// it records nothing itself; when the destination fails instead, Shutdown
// does not wait out its context for them: they stay for the next process.
func TestSpoolShortLivedProcessDeliversTheBacklogAtShutdown(t *testing.T) {
	dir := t.TempDir()
	d := newFlaky()
	leaveInSpool(t, dir, d, 12)
	d.hang.Store(false)

	// The destination fails: Shutdown returns at once, the 12 stay.
	d.down.Store(true)
	b := newSpoolRig(t, dir, d)
	start := time.Now()
	if err := b.shutdown(t, 20*time.Second); err != nil {
		t.Fatalf("Shutdown with the destination down = %v (nothing of its own was lost)", err)
	}
	if took := time.Since(start); took > 10*time.Second {
		t.Errorf("Shutdown waited %v on a failing destination", took)
	}
	if n, _ := d.count(); n != 0 {
		t.Fatalf("stored %d traces while down", n)
	}
	if st := b.exp.Stats(); st.SpoolPending+st.SpoolDeadLetters != 12 {
		t.Fatalf("after a failed replay: %d pending and %d dead letters, want 12 in all", st.SpoolPending, st.SpoolDeadLetters)
	}

	// The destination hangs: Shutdown waits for the backlog at most until
	// shortly before its deadline, then stops cleanly; the 12 stay.
	d.down.Store(false)
	d.hang.Store(true)
	h := newSpoolRig(t, dir, d)
	start = time.Now()
	if err := h.shutdown(t, time.Second); err != nil {
		t.Fatalf("Shutdown with the destination hanging = %v (nothing of its own was lost)", err)
	}
	if took := time.Since(start); took > 3*time.Second {
		t.Errorf("Shutdown with a 1s context took %v", took)
	}
	if st := h.exp.Stats(); st.SpoolPending+st.SpoolDeadLetters != 12 || st.TracesReplayed != 0 {
		t.Fatalf("after a hung replay: %+v, want the 12 left in the spool", st)
	}
	d.hang.Store(false)

	// The destination answers: the next process records nothing, and its
	// Shutdown delivers all 12, once.
	c := newSpoolRig(t, dir, d)
	if err := c.shutdown(t, 20*time.Second); err != nil {
		t.Fatalf("Shutdown = %v", err)
	}
	if n, dups := d.count(); n != 12 || dups != 0 {
		t.Fatalf("stored %d traces, %d more than once, want 12 once", n, dups)
	}
	if st := c.exp.Stats(); st.TracesReplayed != 12 || st.SpoolPending != 0 {
		t.Fatalf("after Shutdown: replayed %d, pending %d, want 12 and 0: %+v", st.TracesReplayed, st.SpoolPending, st)
	}
	if left, _ := os.ReadDir(dir); len(left) != 0 {
		t.Fatalf("the delivered spool left %v", left)
	}
}

// Two processes on one directory get a slot each; when the first exits
// with traces left, the second adopts its slot and delivers them.
func TestSpoolSecondProcessGetsItsOwnSlotAndAdoptsTheFirst(t *testing.T) {
	dir := t.TempDir()
	d := newFlaky()
	d.hang.Store(true)
	a := newSpoolRig(t, dir, d)
	b := newSpoolRig(t, dir, d, exporter.WithSpoolIntervals(time.Hour, 100*time.Millisecond))
	if a.exp.Stats().SpoolDir == b.exp.Stats().SpoolDir {
		t.Fatal("two exporters share a slot")
	}
	a.record(10)
	waitFor(t, "10 spooled", func() bool { return a.exp.Stats().TracesSpooled == 10 })
	a.shutdown(t, 100*time.Millisecond)
	if err := a.shutdown(t, 5*time.Second); err != nil {
		t.Fatal(err)
	}
	d.hang.Store(false)
	waitFor(t, "A's traces delivered by B", func() bool { n, _ := d.count(); return n == 10 })
	if err := b.shutdown(t, 10*time.Second); err != nil {
		t.Fatal(err)
	}
	if _, dups := d.count(); dups != 0 {
		t.Fatalf("%d traces stored twice", dups)
	}
	if left, _ := os.ReadDir(dir); len(left) != 0 {
		t.Fatalf("left %v", left)
	}
}

// A full spool refuses new traces: they are counted, reported once, and
// still exported from memory.
func TestSpoolFull(t *testing.T) {
	dir := t.TempDir()
	d := newFlaky()
	d.hang.Store(true)
	r := newSpoolRig(t, dir, d, exporter.WithSpoolMaxBytes(1<<20))
	// Traces of ~40 KB: the 1 MiB spool holds about 25.
	tr := r.tp.Tracer(keys.ScopeName)
	big := make([]byte, 40<<10)
	for i := range big {
		big[i] = 'a' + byte(i%26)
	}
	for range 60 {
		_, s := tr.Start(context.Background(), "big")
		s.SetAttributes(attribute.String(keys.SpanInputs, string(big)))
		s.End()
	}
	waitFor(t, "60 handled", func() bool { st := r.exp.Stats(); return st.TracesSpooled+st.TracesNotSpooled == 60 })
	st := r.exp.Stats()
	if st.TracesSpooled < 15 || st.TracesNotSpooled < 20 || st.SpoolBytes > 1<<20 {
		t.Fatalf("stats %+v", st)
	}
	var full int
	for len(r.errs) > 0 {
		if err := <-r.errs; err != nil && strings.Contains(err.Error(), "the spool is full") {
			full++
		}
	}
	if full != 1 {
		t.Fatalf("%d reports of the full spool, want 1", full)
	}
	d.hang.Store(false)
	if err := r.shutdown(t, 20*time.Second); err != nil {
		t.Fatal(err)
	}
	if n, dups := d.count(); n != 60 || dups != 0 {
		t.Fatalf("stored %d of 60 (%d twice)", n, dups)
	}
}

// A spool directory that cannot be used: the exporter says so once and
// runs without it; every trace counts as not spooled and is delivered.
func TestSpoolUnusableDirectory(t *testing.T) {
	file := filepath.Join(t.TempDir(), "not-a-dir")
	os.WriteFile(file, nil, 0o644)
	d := newFlaky()
	r := newSpoolRig(t, file, d)
	r.record(3)
	if err := r.shutdown(t, 10*time.Second); err != nil {
		t.Fatal(err)
	}
	if n, _ := d.count(); n != 3 {
		t.Fatalf("stored %d of 3", n)
	}
	if st := r.exp.Stats(); st.TracesNotSpooled != 3 || st.TracesSpooled != 0 {
		t.Fatalf("stats %+v", st)
	}
	err := <-r.errs
	if err == nil || !strings.Contains(err.Error(), "running without the spool") {
		t.Fatalf("first report = %v", err)
	}
}

// Dead letters that cannot be written (the disk is full, the directory
// became read-only — here "dead" is a file): the traces stay in the
// segments for the replay, the failure is reported once, not once per
// trace and retry, and Stats does not count dead letters that were never
// written.
func TestSpoolDeadLetterWriteFails(t *testing.T) {
	dir := t.TempDir()
	d := newFlaky()
	d.down.Store(true)
	r := newSpoolRig(t, dir, d, exporter.WithSpoolIntervals(100*time.Millisecond, time.Hour))
	dead := filepath.Join(r.exp.Stats().SpoolDir, "dead")
	if err := os.RemoveAll(dead); err != nil {
		t.Fatal(err)
	}
	if err := os.WriteFile(dead, nil, 0o644); err != nil {
		t.Fatal(err)
	}
	r.record(20)
	// The export of the 20 fails, then the replay retries them a few times.
	waitFor(t, "retries", func() bool { return d.calls.Load() >= 6 })
	st := r.exp.Stats()
	if st.SpoolDeadLetters != 0 || st.TracesDeadLettered != 0 || st.SpoolPending != 20 {
		t.Errorf("no dead letter could be written, but Stats says %d dead-lettered, %d dead letters, %d pending (want 0, 0, 20)",
			st.TracesDeadLettered, st.SpoolDeadLetters, st.SpoolPending)
	}
	d.down.Store(false)
	waitFor(t, "the 20 delivered", func() bool { n, _ := d.count(); return n == 20 })
	if err := r.shutdown(t, 10*time.Second); err != nil {
		t.Fatalf("Shutdown = %v", err)
	}
	reports := 0
	for len(r.errs) > 0 {
		if err := <-r.errs; strings.Contains(err.Error(), "dead letter") {
			reports++
			if reports <= 3 {
				t.Log(err)
			}
		}
	}
	if reports != 1 {
		t.Errorf("%d reports about the dead letters, want 1", reports)
	}
}

// An fsync that fails under SpoolSyncBatch: the traces are on disk (not
// durable against a power loss) and are delivered; the error is reported
// once, not per batch.
func TestSpoolFsyncFailureIsReportedOnce(t *testing.T) {
	defer exporter.FailSpoolFsync()()
	d := newFlaky()
	r := newSpoolRig(t, t.TempDir(), d)
	for range 5 {
		r.record(4)
		time.Sleep(20 * time.Millisecond)
	}
	if err := r.shutdown(t, 10*time.Second); err != nil {
		t.Fatalf("Shutdown = %v", err)
	}
	if n, dups := d.count(); n != 20 || dups != 0 {
		t.Errorf("stored %d traces (%d twice), want 20 once", n, dups)
	}
	if st := r.exp.Stats(); st.TracesSpooled != 20 || st.TracesNotSpooled != 0 {
		t.Errorf("spooled %d, not spooled %d, want 20 and 0", st.TracesSpooled, st.TracesNotSpooled)
	}
	reports := 0
	for len(r.errs) > 0 {
		err := <-r.errs
		t.Log(err)
		if strings.Contains(err.Error(), "fsync") {
			reports++
		}
	}
	if reports != 1 {
		t.Errorf("%d reports of the fsync failure, want 1", reports)
	}
}

// refusingDest refuses every trace whose root span is named "poison" (a
// trace the destination will never take) and stores the others.
type refusingDest struct {
	flakyDest
	refused atomic.Int64
}

func (d *refusingDest) ExportTraces(ctx context.Context, traces []*exporter.Trace) error {
	for _, t := range traces {
		for _, s := range t.Spans {
			if s.Name == "poison" {
				d.refused.Add(1)
				return errors.New("400 Bad Request: INVALID_PARAMETER_VALUE")
			}
		}
	}
	return d.flakyDest.ExportTraces(ctx, traces)
}

// A trace the destination refuses becomes a dead letter, retried every
// retry interval; the destination did not stop answering, so the exports
// that keep succeeding around it do not make it due again and again.
func TestSpoolRefusedTraceIsNotRetriedByEverySuccess(t *testing.T) {
	d := &refusingDest{flakyDest: *newFlaky()}
	r := newSpoolRig(t, t.TempDir(), d, exporter.WithBatchSize(1), exporter.WithSpoolIntervals(time.Hour, time.Hour))
	tr := r.tp.Tracer(keys.ScopeName)
	_, s := tr.Start(context.Background(), "poison")
	s.End()
	waitFor(t, "the dead letter", func() bool { return r.exp.Stats().SpoolDeadLetters == 1 })
	for range 30 {
		r.record(1)
		time.Sleep(10 * time.Millisecond)
	}
	waitFor(t, "30 delivered", func() bool { n, _ := d.count(); return n == 30 })
	// Once, and once more as soon as an export succeeded after its failure
	// (which might have been an outage).
	if n := d.refused.Load(); n > 2 {
		t.Errorf("the refused trace was sent %d times while 30 others were exported, want at most twice (retry interval 1h)", n)
	}
	if err := r.shutdown(t, 10*time.Second); err != nil {
		t.Fatalf("Shutdown = %v", err)
	}
}

// Records the replay cannot use (not a trace: written by something else,
// or damaged after they were read in) are skipped; the records behind
// them are still delivered — also when a whole batch of the replay was
// unusable — and Shutdown does not wait for them until its deadline.
func TestSpoolReplayGoesOnAfterAnUnusableBatch(t *testing.T) {
	dir := t.TempDir()
	sp, err := spool.Open(dir, spool.Options{})
	if err != nil {
		t.Fatal(err)
	}
	var recs [][]byte
	for range 10 { // two batches of the replay (batch size 5)
		recs = append(recs, []byte(`{"not": "a trace"}`))
	}
	for i := range 3 {
		recs = append(recs, []byte(fmt.Sprintf(`{"info": {"trace_id": "tr-%032d", "state": "OK"}, "data": {"spans": []}}`, i)))
	}
	if _, err := sp.Append(recs); err != nil {
		t.Fatal(err)
	}
	sp.Close() // the records stay for the next process
	d := newFlaky()
	r := newSpoolRig(t, dir, d, exporter.WithMaxWorkers(1))
	deadline := time.Now().Add(3 * time.Second)
	for n, _ := d.count(); n < 3 && time.Now().Before(deadline); n, _ = d.count() {
		time.Sleep(10 * time.Millisecond)
	}
	start := time.Now()
	if err := r.shutdown(t, 10*time.Second); err != nil {
		t.Fatalf("Shutdown = %v", err)
	}
	if took := time.Since(start); took > 2*time.Second {
		t.Errorf("Shutdown took %v", took)
	}
	st := r.exp.Stats()
	if n, _ := d.count(); n != 3 || st.SpoolRecordsSkipped != 10 || st.SpoolPending != 0 {
		t.Fatalf("stored %d of the 3 traces behind 10 unusable records; stats %+v", n, st)
	}
}

// Shutdown waiting for the backlog an earlier process left, on a
// destination that does not answer, says so once, early (a WaitNotice with
// the number of traces), as it does for traces of its own.
func TestSpoolShutdownAnnouncesTheWaitForTheBacklog(t *testing.T) {
	dir := t.TempDir()
	d := newFlaky()
	leaveInSpool(t, dir, d, 12)

	b := newSpoolRig(t, dir, d)
	start := time.Now()
	if err := b.shutdown(t, 6*time.Second); err != nil {
		t.Fatalf("Shutdown = %v", err)
	}
	var notice *exporter.WaitNotice
	for len(b.errs) > 0 {
		if n, ok := errors.AsType[*exporter.WaitNotice](<-b.errs); ok {
			notice = n
		}
	}
	if notice == nil || notice.Traces != 12 {
		t.Fatalf("Shutdown waited %v for the 12 traces of the spool without a WaitNotice for them (got %v)", time.Since(start), notice)
	}
	d.hang.Store(false)
}

// leaveInSpool is an earlier process on dir that recorded n traces while d
// hung and whose Shutdown gave up: the n stay in the spool, and d still
// hangs.
func leaveInSpool(t *testing.T, dir string, d *flakyDest, n int) {
	t.Helper()
	d.hang.Store(true)
	a := newSpoolRig(t, dir, d)
	a.record(n)
	waitFor(t, "traces spooled", func() bool { return a.exp.Stats().TracesSpooled == int64(n) })
	_ = a.shutdown(t, 200*time.Millisecond) // gives up: the n stay in the spool
	_ = a.shutdown(t, 5*time.Second)
}
