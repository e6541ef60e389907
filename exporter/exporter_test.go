package exporter_test

import (
	"context"
	"errors"
	"fmt"
	"strings"
	"sync"
	"sync/atomic"
	"testing"
	"time"

	"go.opentelemetry.io/otel/codes"
	sdktrace "go.opentelemetry.io/otel/sdk/trace"
	"go.opentelemetry.io/otel/sdk/trace/tracetest"
	"go.opentelemetry.io/otel/trace"
	"go.uber.org/goleak"

	"github.com/mlflowtrace/mlflowtrace-go/exporter"
	"github.com/mlflowtrace/mlflowtrace-go/exporter/exportertest"
	"github.com/mlflowtrace/mlflowtrace-go/internal/keys"
)

func TestMain(m *testing.M) { goleak.VerifyTestMain(m) }

func noEnv(string) string { return "" }

type fixture struct {
	exp    *exporter.Exporter
	tp     *sdktrace.TracerProvider
	tracer trace.Tracer
	rec    *exportertest.Recorder
	sr     *tracetest.SpanRecorder
}

// setup builds an Exporter recording into a Recorder (streaming on unless
// dest is given) and registers it on a real TracerProvider.
func setup(t *testing.T, dest exporter.Destination, opts ...exporter.Option) *fixture {
	t.Helper()
	f := &fixture{rec: exportertest.NewRecorder(), sr: tracetest.NewSpanRecorder()}
	base := []exporter.Option{exporter.WithGetenv(noEnv), exporter.WithErrorHandler(func(error) {})}
	if dest == nil {
		base = append(base, exporter.WithDestination(f.rec), exporter.WithSpanStreamer(f.rec))
	} else {
		base = append(base, exporter.WithDestination(dest))
	}
	all := append(base, opts...)
	exp, err := exporter.New(context.Background(), all...)
	if err != nil {
		t.Fatalf("New: %v", err)
	}
	f.exp = exp
	f.tp = sdktrace.NewTracerProvider(sdktrace.WithSpanProcessor(exp), sdktrace.WithSpanProcessor(f.sr))
	f.tracer = f.tp.Tracer(keys.ScopeName)
	t.Cleanup(func() {
		ctx, cancel := context.WithTimeout(context.Background(), 10*time.Second)
		defer cancel()
		wantUndelivered(t, f.exp, f.tp.Shutdown(ctx))
	})
	return f
}

// wantUndelivered checks the error of a Shutdown that completed: nil when
// Stats count no lost trace, else an *UndeliveredError counting them all.
func wantUndelivered(t *testing.T, exp *exporter.Exporter, err error) {
	t.Helper()
	st := exp.Stats()
	lost := st.TracesDropped + st.TracesFailed
	var ue *exporter.UndeliveredError
	switch {
	case lost == 0 && err != nil:
		t.Errorf("Shutdown = %v, want nil (no trace lost)", err)
	case lost > 0 && (!errors.As(err, &ue) || ue.Traces != lost):
		t.Errorf("Shutdown = %v, want an UndeliveredError for the %d lost traces (%+v)", err, lost, st)
	}
}

func (f *fixture) flush(t *testing.T) {
	t.Helper()
	ctx, cancel := context.WithTimeout(context.Background(), 10*time.Second)
	defer cancel()
	if err := f.exp.ForceFlush(ctx); err != nil {
		t.Fatalf("ForceFlush: %v", err)
	}
}

func reqID(id trace.TraceID) string { return "tr-" + id.String() }

func TestRootAndChildrenGrouped(t *testing.T) {
	f := setup(t, nil)
	ctx, root := f.tracer.Start(context.Background(), "agent")
	ctx2, child := f.tracer.Start(ctx, "llm")
	_, grand := f.tracer.Start(ctx2, "http")
	_, sibling := f.tracer.Start(ctx, "tool")
	grand.End()
	child.End()
	sibling.End()
	if n := len(f.rec.Traces()); n != 0 {
		t.Fatalf("trace exported before its root ended: %d", n)
	}
	root.End()
	f.flush(t)

	traces := f.rec.Traces()
	if len(traces) != 1 {
		t.Fatalf("got %d traces, want 1", len(traces))
	}
	tr := traces[0]
	id := root.SpanContext().TraceID()
	if tr.Info.TraceID != reqID(id) {
		t.Errorf("TraceID = %q, want %q", tr.Info.TraceID, reqID(id))
	}
	if len(tr.Spans) != 4 {
		t.Fatalf("got %d spans, want 4", len(tr.Spans))
	}
	if tr.Spans[0].Name != "agent" || tr.Spans[0].ParentSpanID.IsValid() {
		t.Errorf("first span = %q (parent %v), want the root", tr.Spans[0].Name, tr.Spans[0].ParentSpanID)
	}
	want := `"` + reqID(id) + `"`
	for _, s := range tr.Spans {
		if s.TraceID != id {
			t.Errorf("span %q in trace %v", s.Name, s.TraceID)
		}
		if got := s.Attributes[keys.TraceRequestID]; got != want {
			t.Errorf("span %q %s = %s, want %s", s.Name, keys.TraceRequestID, got, want)
		}
	}
	// The attribute is on the OTel span itself (other processors see it).
	for _, s := range f.sr.Ended() {
		found := false
		for _, kv := range s.Attributes() {
			if string(kv.Key) == keys.TraceRequestID && kv.Value.AsString() == want {
				found = true
			}
		}
		if !found {
			t.Errorf("OTel span %q lacks %s=%s", s.Name(), keys.TraceRequestID, want)
		}
	}
	if got := len(f.rec.Spans()); got != 4 {
		t.Errorf("streamed %d spans, want 4", got)
	}
	st := f.exp.Stats()
	if st.TracesExported != 1 || st.SpansExported != 4 || st.SpansStreamed != 4 || st.TracesDropped != 0 {
		t.Errorf("Stats = %+v", st)
	}
	if f.exp.OpenTraces() != 0 {
		t.Errorf("%d traces still buffered", f.exp.OpenTraces())
	}
}

func TestConcurrentTraces(t *testing.T) {
	f := setup(t, nil, exporter.WithMaxQueueSize(100000))
	const goroutines, perG, children = 32, 20, 3
	var wg sync.WaitGroup
	for g := range goroutines {
		wg.Add(1)
		go func() {
			defer wg.Done()
			for i := range perG {
				ctx, root := f.tracer.Start(context.Background(), fmt.Sprintf("root-%d-%d", g, i))
				var cwg sync.WaitGroup
				for c := range children {
					cwg.Add(1)
					go func() {
						defer cwg.Done()
						_, s := f.tracer.Start(ctx, fmt.Sprintf("child-%d", c))
						f.exp.UpdateTrace(s.SpanContext().TraceID(), func(u *exporter.TraceUpdate) {
							if u.Tags == nil {
								u.Tags = map[string]string{}
							}
							u.Tags[fmt.Sprint("c", c)] = "x"
						})
						s.End()
					}()
				}
				cwg.Wait()
				root.End()
			}
		}()
	}
	wg.Wait()
	f.flush(t)
	traces := f.rec.Traces()
	if len(traces) != goroutines*perG {
		t.Fatalf("got %d traces, want %d (stats %+v)", len(traces), goroutines*perG, f.exp.Stats())
	}
	seen := map[string]bool{}
	for _, tr := range traces {
		if seen[tr.Info.TraceID] {
			t.Fatalf("trace %s exported twice", tr.Info.TraceID)
		}
		seen[tr.Info.TraceID] = true
		if len(tr.Spans) != children+1 {
			t.Fatalf("trace %s has %d spans", tr.Info.TraceID, len(tr.Spans))
		}
		for _, s := range tr.Spans {
			if reqID(s.TraceID) != tr.Info.TraceID {
				t.Fatalf("span of %s in trace %s", reqID(s.TraceID), tr.Info.TraceID)
			}
		}
		for c := range children {
			if tr.Info.Tags[fmt.Sprint("c", c)] != "x" {
				t.Fatalf("trace %s lacks tag c%d: %v", tr.Info.TraceID, c, tr.Info.Tags)
			}
		}
	}
}

// A root that ends while children are still open: MLflow (3.17) defers the
// trace until the last span ends.
func TestOpenChildrenDeferTheTrace(t *testing.T) {
	f := setup(t, nil)
	ctx, root := f.tracer.Start(context.Background(), "root")
	_, child := f.tracer.Start(ctx, "background")
	root.End()
	f.flush(t)
	if n := len(f.rec.Traces()); n != 0 {
		t.Fatalf("trace exported while a child is open")
	}
	child.End()
	f.flush(t)
	traces := f.rec.Traces()
	if len(traces) != 1 || len(traces[0].Spans) != 2 {
		t.Fatalf("got %d traces, want 1 with 2 spans", len(traces))
	}
	if traces[0].Spans[1].EndTime.Before(traces[0].Spans[0].EndTime) {
		t.Errorf("child kept its real end time after the root's end: got earlier")
	}
}

// Spans still open when the trace is forced out (Shutdown, timeout) are
// included, ended at the root's end time, and their later End does not
// resurrect the trace.
func TestOpenChildrenForcedAtShutdown(t *testing.T) {
	f := setup(t, nil)
	ctx, root := f.tracer.Start(context.Background(), "root")
	_, child := f.tracer.Start(ctx, "stuck")
	_, unended := f.tracer.Start(context.Background(), "other root never ended")
	root.End()
	wantUndelivered(t, f.exp, f.exp.Shutdown(context.Background())) // the unended root is lost
	traces := f.rec.Traces()
	if len(traces) != 1 || len(traces[0].Spans) != 2 {
		t.Fatalf("got %v, want 1 trace with 2 spans", traces)
	}
	tr := traces[0]
	if !tr.Spans[1].EndTime.Equal(tr.Spans[0].EndTime) {
		t.Errorf("open child end = %v, want root end %v", tr.Spans[1].EndTime, tr.Spans[0].EndTime)
	}
	if st := f.exp.Stats(); st.TracesDropped != 1 {
		t.Errorf("TracesDropped = %d, want 1 (the root never ended)", st.TracesDropped)
	}
	child.End()
	unended.End()
	if n := len(f.rec.Traces()); n != 1 {
		t.Fatalf("%d traces after late End, want 1", n)
	}
	if !f.rec.IsShutdown() {
		t.Error("destination not shut down")
	}
}

func TestTraceTimeout(t *testing.T) {
	now := time.Unix(1_700_000_000, 0)
	var mu sync.Mutex
	clock := func() time.Time { mu.Lock(); defer mu.Unlock(); return now }
	f := setup(t, nil,
		exporter.WithTraceTimeout(5*time.Second),
		exporter.WithTimeoutCheckInterval(time.Hour), // passes run by hand
		exporter.WithClock(clock))

	ctx, root := f.tracer.Start(context.Background(), "slow")
	_, child := f.tracer.Start(ctx, "stuck")
	f.exp.Expire(now.Add(4 * time.Second))
	f.flush(t)
	if n := len(f.rec.Traces()); n != 0 {
		t.Fatalf("exported before the timeout")
	}
	f.exp.Expire(now.Add(5 * time.Second))
	f.flush(t)
	traces := f.rec.Traces()
	if len(traces) != 1 {
		t.Fatalf("got %d traces, want 1", len(traces))
	}
	tr := traces[0]
	if tr.Info.State != exporter.StateError {
		t.Errorf("State = %q, want ERROR", tr.Info.State)
	}
	rs := tr.Spans[0]
	if rs.Status.Code != exporter.StatusCodeError {
		t.Errorf("root status = %+v", rs.Status)
	}
	wantMsg := "Trace " + tr.Info.TraceID + " is timed out after 5 seconds. The operation may be stuck or " +
		"taking too long to complete. To increase the timeout, set the environment variable " +
		"MLFLOW_TRACE_TIMEOUT_SECONDS to a larger value."
	if len(rs.Events) != 1 || rs.Events[0].Name != "exception" || rs.Events[0].Attributes["exception.message"] != wantMsg {
		t.Errorf("root events = %+v, want exception %q", rs.Events, wantMsg)
	}
	if len(tr.Spans) != 2 || !tr.Spans[1].EndTime.Equal(rs.EndTime) {
		t.Errorf("open child not closed at the root's end: %+v", tr.Spans)
	}
	// Late ends do nothing.
	child.End()
	root.End()
	f.flush(t)
	if n := len(f.rec.Traces()); n != 1 || f.exp.OpenTraces() != 0 {
		t.Fatalf("traces %d open %d after late End", n, f.exp.OpenTraces())
	}
}

func TestTimeoutJanitorRuns(t *testing.T) {
	f := setup(t, nil, exporter.WithTraceTimeout(time.Millisecond), exporter.WithTimeoutCheckInterval(time.Millisecond))
	_, root := f.tracer.Start(context.Background(), "never ends")
	ctx, cancel := context.WithTimeout(context.Background(), 10*time.Second)
	defer cancel()
	traces, err := f.rec.WaitTraces(ctx, 1)
	if err != nil {
		t.Fatalf("janitor did not export the timed-out trace: %v", err)
	}
	if traces[0].Info.State != exporter.StateError || traces[0].Info.TraceID != reqID(root.SpanContext().TraceID()) {
		t.Fatalf("got %+v", traces[0].Info)
	}
}

func TestBufferEviction(t *testing.T) {
	f := setup(t, nil, exporter.WithMaxOpenTraces(2))
	_, a := f.tracer.Start(context.Background(), "a")
	_, b := f.tracer.Start(context.Background(), "b")
	_, c := f.tracer.Start(context.Background(), "c") // evicts a
	if st := f.exp.Stats(); st.TracesDropped != 1 || st.SpansDropped != 1 {
		t.Fatalf("Stats = %+v, want 1 trace and 1 span dropped", st)
	}
	a.End()
	b.End()
	c.End()
	f.flush(t)
	var names []string
	for _, tr := range f.rec.Traces() {
		names = append(names, tr.Spans[0].Name)
	}
	if strings.Join(names, ",") != "b,c" && strings.Join(names, ",") != "c,b" {
		t.Fatalf("exported %v, want b and c", names)
	}
}

func TestBufferTTL(t *testing.T) {
	now := time.Unix(1_700_000_000, 0)
	var mu sync.Mutex
	clock := func() time.Time { mu.Lock(); defer mu.Unlock(); return now }
	env := func(k string) string {
		if k == "MLFLOW_TRACE_BUFFER_TTL_SECONDS" {
			return "60"
		}
		return ""
	}
	f := setup(t, nil, exporter.WithGetenv(env), exporter.WithClock(clock))
	_, old := f.tracer.Start(context.Background(), "old")
	mu.Lock()
	now = now.Add(time.Minute)
	mu.Unlock()
	_, young := f.tracer.Start(context.Background(), "young") // expires old
	old.End()
	young.End()
	f.flush(t)
	traces := f.rec.Traces()
	if len(traces) != 1 || traces[0].Spans[0].Name != "young" {
		t.Fatalf("got %d traces, want only young", len(traces))
	}
	if st := f.exp.Stats(); st.TracesDropped != 1 {
		t.Errorf("TracesDropped = %d, want 1", st.TracesDropped)
	}
}

func TestSpanLimit(t *testing.T) {
	f := setup(t, nil, exporter.WithMaxSpansPerTrace(3))
	ctx, root := f.tracer.Start(context.Background(), "root")
	for i := range 5 {
		_, s := f.tracer.Start(ctx, fmt.Sprint("child", i))
		s.End()
	}
	root.End()
	f.flush(t)
	traces := f.rec.Traces()
	if len(traces) != 1 || len(traces[0].Spans) != 3 {
		t.Fatalf("want 1 trace of 3 spans, got %d traces", len(traces))
	}
	if st := f.exp.Stats(); st.SpansDropped != 3 {
		t.Errorf("SpansDropped = %d, want 3", st.SpansDropped)
	}
}

// blockingDest blocks every export until released or cancelled.
type blockingDest struct {
	entered chan struct{}
	release chan struct{}
	traces  atomic.Int64
}

func (d *blockingDest) ExportTraces(ctx context.Context, traces []*exporter.Trace) error {
	select {
	case d.entered <- struct{}{}:
	default:
	}
	select {
	case <-d.release:
		d.traces.Add(int64(len(traces)))
		return nil
	case <-ctx.Done():
		return ctx.Err()
	}
}

func (d *blockingDest) Shutdown(context.Context) error { return nil }

func TestBlockedDestinationNeverBlocksEnd(t *testing.T) {
	d := &blockingDest{entered: make(chan struct{}, 1), release: make(chan struct{})}
	var handled atomic.Int64
	f := setup(t, d, exporter.WithMaxQueueSize(2), exporter.WithMaxWorkers(1), exporter.WithBatchSize(1),
		exporter.WithErrorHandler(func(error) { handled.Add(1) }))
	_, first := f.tracer.Start(context.Background(), "first")
	first.End()
	<-d.entered // the only worker is now stuck in the destination
	const n = 50
	for i := range n {
		ctx, root := f.tracer.Start(context.Background(), fmt.Sprint("t", i))
		_, child := f.tracer.Start(ctx, "child")
		child.End()
		root.End() // must return although the destination is blocked
	}
	st := f.exp.Stats()
	if st.TracesDropped == 0 {
		t.Fatalf("no trace dropped with a blocked destination: %+v", st)
	}
	close(d.release)
	f.flush(t)
	st = f.exp.Stats()
	wantUndelivered(t, f.exp, f.exp.Shutdown(context.Background()))
	if handled.Load() == 0 {
		t.Error("drops not reported to the error handler")
	}
	if got := d.traces.Load() + st.TracesDropped; got != n+1 {
		t.Fatalf("exported %d + dropped %d != %d", d.traces.Load(), st.TracesDropped, n+1)
	}
	if st.SpansDropped == 0 {
		t.Errorf("spans of dropped traces not counted: %+v", st)
	}
}

type failingDest struct{ err error }

func (d failingDest) ExportTraces(context.Context, []*exporter.Trace) error { return d.err }
func (d failingDest) Shutdown(context.Context) error                        { return nil }

func TestExportErrorsReported(t *testing.T) {
	var mu sync.Mutex
	var got []error
	cause := errors.New("server said 500")
	f := setup(t, failingDest{cause}, exporter.WithErrorHandler(func(err error) {
		mu.Lock()
		got = append(got, err)
		mu.Unlock()
	}))
	_, root := f.tracer.Start(context.Background(), "x")
	root.End()
	f.flush(t)
	mu.Lock()
	defer mu.Unlock()
	if len(got) != 1 {
		t.Fatalf("handler got %d errors, want 1: %v", len(got), got)
	}
	var ee *exporter.ExportError
	if !errors.As(got[0], &ee) || !errors.Is(got[0], cause) {
		t.Fatalf("error %v is not an ExportError wrapping the cause", got[0])
	}
	id := reqID(root.SpanContext().TraceID())
	if len(ee.TraceIDs) != 1 || ee.TraceIDs[0] != id || !strings.Contains(got[0].Error(), id) {
		t.Errorf("error %q does not name trace %s", got[0], id)
	}
	if st := f.exp.Stats(); st.ExportFailures != 1 || st.TracesExported != 0 {
		t.Errorf("Stats = %+v", st)
	}
}

type panickingDest struct{}

func (panickingDest) ExportTraces(context.Context, []*exporter.Trace) error { panic("bug") }
func (panickingDest) Shutdown(context.Context) error                        { return nil }

func TestDestinationPanicIsReported(t *testing.T) {
	var got atomic.Value
	f := setup(t, panickingDest{}, exporter.WithErrorHandler(func(err error) { got.Store(err) }))
	_, root := f.tracer.Start(context.Background(), "x")
	root.End()
	f.flush(t)
	err, _ := got.Load().(error)
	if err == nil || !strings.Contains(err.Error(), "panicked") {
		t.Fatalf("handler got %v, want a panic report", err)
	}
}

func TestUpdateTrace(t *testing.T) {
	f := setup(t, nil)
	ctx, root := f.tracer.Start(context.Background(), "root")
	id := root.SpanContext().TraceID()
	_, child := f.tracer.Start(ctx, "child")
	ok := f.exp.UpdateTrace(id, func(u *exporter.TraceUpdate) {
		u.Tags = map[string]string{"team": "search"}
		u.Metadata = map[string]string{"mlflow.trace.user": "alice"}
		u.ClientRequestID = "req-1"
	})
	if !ok {
		t.Fatal("UpdateTrace on an open trace = false")
	}
	child.End()
	root.End()
	f.flush(t)
	if f.exp.UpdateTrace(id, func(*exporter.TraceUpdate) {}) {
		t.Error("UpdateTrace on a finished trace = true")
	}
	if f.exp.UpdateTrace(trace.TraceID{1}, func(*exporter.TraceUpdate) {}) {
		t.Error("UpdateTrace on an unknown trace = true")
	}
	tr := f.rec.Traces()[0]
	if tr.Info.Tags["team"] != "search" || tr.Info.Metadata["mlflow.trace.user"] != "alice" || tr.Info.ClientRequestID != "req-1" {
		t.Errorf("update not applied: %+v", tr.Info)
	}
}

func TestRemoteParentStartsALocalTrace(t *testing.T) {
	f := setup(t, nil)
	remote := trace.NewSpanContext(trace.SpanContextConfig{
		TraceID: trace.TraceID{0xab, 1}, SpanID: trace.SpanID{0xcd, 2},
		TraceFlags: trace.FlagsSampled, Remote: true,
	})
	ctx, server := f.tracer.Start(trace.ContextWithRemoteSpanContext(context.Background(), remote), "handler")
	_, inner := f.tracer.Start(ctx, "inner")
	inner.End()
	server.End()
	f.flush(t)
	traces := f.rec.Traces()
	if len(traces) != 1 || len(traces[0].Spans) != 2 {
		t.Fatalf("got %d traces, want 1 with 2 spans", len(traces))
	}
	if traces[0].Info.TraceID != reqID(remote.TraceID()) || traces[0].Spans[0].Name != "handler" {
		t.Errorf("got %s rooted at %q", traces[0].Info.TraceID, traces[0].Spans[0].Name)
	}
}

func TestUnsampledIgnored(t *testing.T) {
	rec := exportertest.NewRecorder()
	exp, err := exporter.New(context.Background(), exporter.WithGetenv(noEnv), exporter.WithDestination(rec))
	if err != nil {
		t.Fatal(err)
	}
	tp := sdktrace.NewTracerProvider(sdktrace.WithSampler(sdktrace.NeverSample()), sdktrace.WithSpanProcessor(exp))
	_, s := tp.Tracer("x").Start(context.Background(), "dropped")
	s.End()
	if err := tp.Shutdown(context.Background()); err != nil {
		t.Fatal(err)
	}
	if n := len(rec.Traces()); n != 0 {
		t.Fatalf("%d traces from an unsampled span", n)
	}
}

func TestShutdownIdempotentAndFinal(t *testing.T) {
	f := setup(t, nil)
	_, root := f.tracer.Start(context.Background(), "before")
	root.End()
	for range 2 {
		if err := f.exp.Shutdown(context.Background()); err != nil {
			t.Fatalf("Shutdown: %v", err)
		}
	}
	if n := len(f.rec.Traces()); n != 1 {
		t.Fatalf("Shutdown exported %d traces, want 1", n)
	}
	_, after := f.tracer.Start(context.Background(), "after")
	after.End()
	if err := f.exp.ForceFlush(context.Background()); err != nil {
		t.Fatal(err)
	}
	if n := len(f.rec.Traces()); n != 1 {
		t.Fatalf("span after Shutdown exported")
	}
}

func TestShutdownHonoursContext(t *testing.T) {
	d := &blockingDest{entered: make(chan struct{}, 1), release: make(chan struct{})}
	f := setup(t, d, exporter.WithErrorHandler(func(error) {}))
	_, root := f.tracer.Start(context.Background(), "x")
	root.End()
	<-d.entered
	ctx, cancel := context.WithTimeout(context.Background(), 10*time.Millisecond)
	defer cancel()
	if err := f.exp.Shutdown(ctx); !errors.Is(err, context.DeadlineExceeded) {
		t.Fatalf("Shutdown = %v, want DeadlineExceeded", err)
	}
	wantUndelivered(t, f.exp, f.exp.Shutdown(context.Background())) // completes the job
}

func TestErrorStatusRoot(t *testing.T) {
	f := setup(t, nil)
	_, root := f.tracer.Start(context.Background(), "x")
	root.SetStatus(codes.Error, "boom")
	root.End()
	f.flush(t)
	if st := f.rec.Traces()[0].Info.State; st != exporter.StateError {
		t.Errorf("State = %q, want ERROR", st)
	}
}

// The error handler may do I/O or block: drops detected on the caller's path
// are reported from a background goroutine.
func TestBlockingErrorHandlerNeverBlocksCaller(t *testing.T) {
	unblock := make(chan struct{})
	var calls atomic.Int64
	f := setup(t, nil, exporter.WithMaxSpansPerTrace(1), exporter.WithMaxOpenTraces(1),
		exporter.WithErrorHandler(func(error) { calls.Add(1); <-unblock }))
	for i := range 100 {
		ctx, root := f.tracer.Start(context.Background(), fmt.Sprint("r", i))
		_, child := f.tracer.Start(ctx, "over the limit") // dropped: span limit
		child.End()
		_, other := f.tracer.Start(context.Background(), "evicts r") // evicts the first root
		other.End()
		root.End()
	}
	if st := f.exp.Stats(); st.SpansDropped < 100 || st.TracesDropped < 100 {
		t.Fatalf("Stats = %+v", st)
	}
	close(unblock)
	wantUndelivered(t, f.exp, f.exp.Shutdown(context.Background()))
	if calls.Load() == 0 {
		t.Error("handler never called")
	}
}

// A Shutdown whose ctx ends first still leaves no goroutine behind once the
// destination returns (it honours the cancelled export context).
func TestAbandonedShutdownLeaksNothing(t *testing.T) {
	d := &blockingDest{entered: make(chan struct{}, 1), release: make(chan struct{})}
	exp, err := exporter.New(context.Background(), exporter.WithGetenv(noEnv), exporter.WithDestination(d),
		exporter.WithTraceTimeout(time.Hour), exporter.WithErrorHandler(func(error) {}))
	if err != nil {
		t.Fatal(err)
	}
	tp := sdktrace.NewTracerProvider(sdktrace.WithSpanProcessor(exp))
	for range 3 {
		_, s := tp.Tracer("x").Start(context.Background(), "x")
		s.End()
	}
	<-d.entered
	ctx, cancel := context.WithCancel(context.Background())
	cancel()
	if err := exp.Shutdown(ctx); !errors.Is(err, context.Canceled) {
		t.Fatalf("Shutdown = %v, want Canceled", err)
	}
	goleak.VerifyNone(t)
}

// orderDest checks that every span of a trace was streamed before the trace.
type orderDest struct {
	mu       sync.Mutex
	streamed map[trace.SpanID]bool
	bad      []string
	traces   int
}

func (d *orderDest) ExportSpans(_ context.Context, spans []*exporter.Span) error {
	d.mu.Lock()
	defer d.mu.Unlock()
	for _, s := range spans {
		d.streamed[s.SpanID] = true
	}
	return nil
}

func (d *orderDest) ExportTraces(_ context.Context, traces []*exporter.Trace) error {
	d.mu.Lock()
	defer d.mu.Unlock()
	for _, t := range traces {
		d.traces++
		for _, s := range t.Spans {
			if !d.streamed[s.SpanID] {
				d.bad = append(d.bad, t.Info.TraceID+"/"+s.Name)
			}
		}
	}
	return nil
}

func (d *orderDest) Shutdown(context.Context) error { return nil }

func TestSpansStreamedBeforeTheirTrace(t *testing.T) {
	d := &orderDest{streamed: map[trace.SpanID]bool{}}
	f := setup(t, d, exporter.WithBatchInterval(time.Hour), exporter.WithBatchSize(100), exporter.WithSpanStreamer(d))
	for i := range 20 {
		ctx, root := f.tracer.Start(context.Background(), fmt.Sprint("r", i))
		_, c := f.tracer.Start(ctx, "c")
		c.End()
		root.End()
	}
	f.flush(t)
	d.mu.Lock()
	defer d.mu.Unlock()
	if d.traces != 20 || len(d.bad) > 0 {
		t.Fatalf("traces %d; spans exported with their trace before being streamed: %v", d.traces, d.bad)
	}
}

// An ExportError is one line, also when the destination joined several
// per-trace failures (a log line would show a newline as a literal \n).
func TestExportErrorIsOneLine(t *testing.T) {
	err := &exporter.ExportError{TraceIDs: []string{"tr-1", "tr-2"},
		Err: errors.Join(errors.New("tr-1: refused"), errors.New("tr-2: refused"))}
	want := "exporter: exporting traces [tr-1 tr-2] failed: tr-1: refused; tr-2: refused"
	if got := err.Error(); got != want {
		t.Errorf("Error() = %q, want %q", got, want)
	}
}

// So is the UndeliveredError Shutdown returns, whose cause is such a joined
// error (log.Print(err) of Shutdown's result is one line).
func TestUndeliveredErrorIsOneLine(t *testing.T) {
	err := &exporter.UndeliveredError{Traces: 2, Destination: "http://127.0.0.1:5000",
		Cause: errors.Join(errors.New("tr-1: refused"), errors.New("tr-2: refused"))}
	want := "exporter: 2 traces were not delivered to http://127.0.0.1:5000: tr-1: refused; tr-2: refused"
	if got := err.Error(); got != want {
		t.Errorf("Error() = %q, want %q", got, want)
	}
}
