package exporter

import (
	"sync"
	"sync/atomic"
	"time"

	"go.opentelemetry.io/otel/attribute"
	sdktrace "go.opentelemetry.io/otel/sdk/trace"
	"go.opentelemetry.io/otel/trace"

	"github.com/mlflowtrace/mlflowtrace-go/internal/assemble"
	"github.com/mlflowtrace/mlflowtrace-go/internal/keys"
)

// openTraces is the trace assembler's state: the spans of every trace this
// process is recording, grouped per trace, from its root's start until its
// export has settled. Its methods run on the caller's path (OnStart, OnEnd)
// and on the pipeline's goroutines; each takes one short lock. It starts no
// goroutine and does no I/O.
//
// A trace is open from its root's start until it is detached (its root and
// every other span ended; or expiry, eviction, Shutdown), then pending until
// the pipeline settles it (exported, failed or dropped). Open traces are
// also kept in creation order, for eviction and expiry.
type openTraces struct {
	maxOpen  int
	maxSpans int
	ttl      time.Duration // applied when timeout is 0, as MLflow's TTLCache
	timeout  time.Duration

	mu     sync.Mutex
	byID   map[trace.TraceID]*traceState // open and pending traces
	nopen  int
	oldest *traceState // open traces in creation order
	newest *traceState
}

// traceState is one trace. Its fields are guarded by openTraces.mu while the
// trace is open; once detached, the span lists belong to the goroutine that
// detached it (and then to the export worker).
type traceState struct {
	id      trace.TraceID
	reqAttr attribute.KeyValue // mlflow.traceRequestId, computed once per trace
	created time.Time
	rootID  trace.SpanID
	root    liveSpan              // live root, from OnStart
	rootEnd sdktrace.ReadOnlySpan // root snapshot, from OnEnd
	open    map[trace.SpanID]liveSpan
	ended   []*endedSpan
	// endedBuf backs ended for traces of up to 8 spans (no growth).
	endedBuf [8]*endedSpan
	upd      *TraceUpdate
	prev     *traceState
	next     *traceState

	detached bool // under openTraces.mu
	// streamed counts the spans of ended that were handed to the span
	// stream (under openTraces.mu while the trace is open).
	streamed int
	// queued is set once the trace is in the export queue; span workers
	// read it without the lock to leave its spans to the trace export.
	queued atomic.Bool
	// watch is non-nil once a Watch was taken on the open trace (allocated
	// under openTraces.mu); see watch.go.
	watch *traceWatch
	// settled is non-nil once someone awaits the export (AwaitExport);
	// allocated and closed under openTraces.mu.
	settled *settlement
}

// liveSpan is a span still open and, for a span of package tracing, the
// writer of the attributes it started with (nil otherwise): that span
// writes them with its first change or End, so whatever reads or ends it
// from here writes them first (complete).
type liveSpan struct {
	span  sdktrace.ReadWriteSpan
	start keys.StartAttributesWriter
}

// complete writes the span's waiting start attributes and returns it.
func (l liveSpan) complete() sdktrace.ReadWriteSpan {
	if l.start != nil {
		l.start.WriteStartAttributes()
	}
	return l.span
}

// settlement is how a trace's export ended, for AwaitExport.
type settlement struct {
	done chan struct{}
	err  error // set before done is closed
}

// endedSpan is an ended span of an open trace. The same value is queued for
// streaming and kept in its trace, so the span is converted once: by
// whichever worker needs it first (see converted); the converted Span is
// read-only from then on and shared by both exports.
type endedSpan struct {
	ro    sdktrace.ReadOnlySpan
	conv  atomic.Pointer[Span]
	trace *traceState
}

// converted returns the span's MLflow conversion, converting it on first use
// (without content when noContent). Concurrent callers get the same
// pointer.
func (es *endedSpan) converted(noContent bool) *Span {
	if ms := es.conv.Load(); ms != nil {
		return ms
	}
	ms := assemble.ConvertSpanContent(es.ro, !noContent)
	if !es.conv.CompareAndSwap(nil, ms) {
		return es.conv.Load()
	}
	return ms
}

func newOpenTraces(maxOpen, maxSpans int, ttl, timeout time.Duration) *openTraces {
	return &openTraces{maxOpen: maxOpen, maxSpans: maxSpans, ttl: ttl, timeout: timeout,
		byID: make(map[trace.TraceID]*traceState)}
}

// start registers span s. A root (no local parent) opens its trace; a span
// of an open trace joins it unless the trace reached its span limit
// (capped). It returns the trace's request-id attribute (ok false when the
// trace is not open here) and the traces that had to leave the buffer to make
// room (detached; the caller disposes of them).
func (o *openTraces) start(s liveSpan, isRoot bool, now time.Time, reqAttr func(trace.TraceID) attribute.KeyValue) (attr attribute.KeyValue, ok, capped bool, evicted []*traceState) {
	sc := s.span.SpanContext()
	o.mu.Lock()
	defer o.mu.Unlock()
	ts := o.byID[sc.TraceID()]
	if ts != nil && ts.detached {
		if !isRoot {
			return attribute.KeyValue{}, false, false, nil // finished: never resurrect a trace
		}
		// Another local part of a distributed trace (a second request
		// continuing the same remote trace): a trace of its own here. The
		// pending one stays referenced by the pipeline until it settles.
		ts = nil
	}
	if ts == nil {
		if !isRoot {
			return attribute.KeyValue{}, false, false, nil
		}
		evicted = o.makeRoomLocked(now)
		ts = &traceState{
			id:      sc.TraceID(),
			reqAttr: reqAttr(sc.TraceID()),
			created: now,
			rootID:  sc.SpanID(),
			root:    s,
			open:    make(map[trace.SpanID]liveSpan, 4),
		}
		ts.ended = ts.endedBuf[:0]
		o.byID[ts.id] = ts
		o.linkLocked(ts)
	}
	if len(ts.open)+len(ts.ended) >= o.maxSpans {
		return ts.reqAttr, true, true, evicted
	}
	ts.open[sc.SpanID()] = s
	return ts.reqAttr, true, false, evicted
}

// end records the snapshot of an ended span. It returns the span (nil when
// its trace is not open here or the span was dropped at start) and the
// trace when this end finished it: its root and every other span have ended.
// The finished trace is detached.
func (o *openTraces) end(s sdktrace.ReadOnlySpan) (*endedSpan, *traceState) {
	sc := s.SpanContext()
	o.mu.Lock()
	defer o.mu.Unlock()
	ts := o.byID[sc.TraceID()]
	if ts == nil || ts.detached {
		return nil, nil
	}
	if _, ok := ts.open[sc.SpanID()]; !ok {
		return nil, nil // dropped at start (span limit)
	}
	delete(ts.open, sc.SpanID())
	es := &endedSpan{ro: s, trace: ts}
	ts.ended = append(ts.ended, es)
	if sc.SpanID() == ts.rootID {
		ts.rootEnd = s
	}
	if ts.rootEnd != nil && len(ts.open) == 0 {
		o.detachLocked(ts)
		return es, ts
	}
	return es, nil
}

// unstreamed takes the ended spans of open traces that have not been
// streamed yet, oldest trace first, at most max of them; more reports
// whether some were left.
func (o *openTraces) unstreamed(max int) (spans []*endedSpan, more bool) {
	o.mu.Lock()
	defer o.mu.Unlock()
	for ts := o.oldest; ts != nil; ts = ts.next {
		rest := ts.ended[ts.streamed:]
		if len(rest) == 0 {
			continue
		}
		if room := max - len(spans); len(rest) > room {
			spans = append(spans, rest[:room]...)
			ts.streamed += room
			return spans, true
		}
		spans = append(spans, rest...)
		ts.streamed = len(ts.ended)
	}
	return spans, false
}

// takeUnstreamed takes the ended spans of a detached trace that have not
// been streamed (the trace's export worker streams them first for
// destinations that need every span streamed).
func (o *openTraces) takeUnstreamed(ts *traceState) []*endedSpan {
	o.mu.Lock()
	defer o.mu.Unlock()
	rest := ts.ended[ts.streamed:]
	ts.streamed = len(ts.ended)
	return rest
}

// detach detaches ts if it is still open and reports whether it did.
func (o *openTraces) detach(ts *traceState) bool {
	o.mu.Lock()
	defer o.mu.Unlock()
	if ts.detached {
		return false
	}
	o.detachLocked(ts)
	return true
}

// due returns the open traces created at least timeout before now (still
// open: the caller halts them, then detaches them).
func (o *openTraces) due(now time.Time) []*traceState {
	var out []*traceState
	o.mu.Lock()
	for ts := o.oldest; ts != nil && now.Sub(ts.created) >= o.timeout; ts = ts.next {
		out = append(out, ts)
	}
	o.mu.Unlock()
	return out
}

// drain detaches every open trace (Shutdown).
func (o *openTraces) drain() []*traceState {
	o.mu.Lock()
	defer o.mu.Unlock()
	var out []*traceState
	for ts := o.oldest; ts != nil; {
		next := ts.next
		o.detachLocked(ts)
		out = append(out, ts)
		ts = next
	}
	return out
}

// settle ends a detached trace's stay: it leaves the map and whoever awaits
// its export learns err (nil: delivered).
func (o *openTraces) settle(ts *traceState, err error) {
	o.mu.Lock()
	if o.byID[ts.id] == ts {
		delete(o.byID, ts.id)
	}
	st := ts.settled
	if st != nil {
		st.err = err
		close(st.done)
		ts.settled = nil
	}
	o.mu.Unlock()
}

// await returns a channel closed when the export of trace id settles, and
// the settlement to read then; nil when the trace is not known here.
func (o *openTraces) await(id trace.TraceID) *settlement {
	o.mu.Lock()
	defer o.mu.Unlock()
	ts := o.byID[id]
	if ts == nil {
		return nil
	}
	if ts.settled == nil {
		ts.settled = &settlement{done: make(chan struct{})}
	}
	return ts.settled
}

// openState returns the open trace id, or nil.
func (o *openTraces) openLocked(id trace.TraceID) *traceState {
	ts := o.byID[id]
	if ts == nil || ts.detached {
		return nil
	}
	return ts
}

// lens reports the numbers of open and of pending (detached, unsettled)
// traces.
func (o *openTraces) lens() (open, pending int) {
	o.mu.Lock()
	defer o.mu.Unlock()
	return o.nopen, len(o.byID) - o.nopen
}

func (o *openTraces) linkLocked(ts *traceState) {
	ts.prev, ts.next = o.newest, nil
	if o.newest != nil {
		o.newest.next = ts
	} else {
		o.oldest = ts
	}
	o.newest = ts
	o.nopen++
}

// detachLocked takes ts out of the open list; it stays in byID, pending.
func (o *openTraces) detachLocked(ts *traceState) {
	ts.detached = true
	if ts.prev != nil {
		ts.prev.next = ts.next
	} else if o.oldest == ts {
		o.oldest = ts.next
	}
	if ts.next != nil {
		ts.next.prev = ts.prev
	} else if o.newest == ts {
		o.newest = ts.prev
	}
	ts.prev, ts.next = nil, nil
	o.nopen--
}

// makeRoomLocked detaches the traces that must leave the buffer before a new
// one is added: those older than the buffer TTL (only when no trace timeout
// is set, as in MLflow), then the oldest while the buffer is full.
func (o *openTraces) makeRoomLocked(now time.Time) []*traceState {
	var out []*traceState
	if o.timeout == 0 {
		for ts := o.oldest; ts != nil && now.Sub(ts.created) >= o.ttl; ts = o.oldest {
			o.detachLocked(ts)
			out = append(out, ts)
		}
	}
	for o.nopen >= o.maxOpen && o.oldest != nil {
		ts := o.oldest
		o.detachLocked(ts)
		out = append(out, ts)
	}
	return out
}
