package mlflowserver

import (
	"sync"

	"go.opentelemetry.io/otel/trace"

	"github.com/mlflowtrace/mlflowtrace-go/internal/tracemodel"
)

// maxTrackedTraces bounds the ledger: open traces with streamed spans, and
// recently finished traces whose late span batches are skipped. Beyond it
// the oldest entries are forgotten, which only costs a duplicate (the server
// upserts spans).
const maxTrackedTraces = 10000

// maxTrackedSpans bounds the span ids remembered across open traces.
const maxTrackedSpans = 200000

// ledger remembers which spans the stream delivered, so ExportTraces sends
// only the rest, and which traces are finished, so late span batches are not
// sent again.
type ledger struct {
	mu       sync.Mutex
	max      int
	sent     map[trace.TraceID]map[trace.SpanID]struct{}
	sentFIFO []trace.TraceID
	nspans   int // span ids in sent
	maxSpans int

	finished map[trace.TraceID]struct{}
	ring     []trace.TraceID
	ringPos  int
}

func (l *ledger) init(max int) {
	l.max = max
	l.maxSpans = maxTrackedSpans
	l.sent = make(map[trace.TraceID]map[trace.SpanID]struct{})
	l.finished = make(map[trace.TraceID]struct{})
	l.ring = make([]trace.TraceID, 0, min(max, 1024))
}

// unfinished returns the spans whose trace has not been exported yet.
func (l *ledger) unfinished(spans []*tracemodel.Span) []*tracemodel.Span {
	l.mu.Lock()
	defer l.mu.Unlock()
	if len(l.finished) == 0 {
		return spans
	}
	var out []*tracemodel.Span
	filtered := false
	for _, s := range spans {
		if _, done := l.finished[s.TraceID]; done {
			filtered = true
			continue
		}
		out = append(out, s)
	}
	if !filtered {
		return spans
	}
	return out
}

// delivered records spans the server accepted.
func (l *ledger) delivered(spans []*tracemodel.Span) {
	l.mu.Lock()
	defer l.mu.Unlock()
	for _, s := range spans {
		if _, done := l.finished[s.TraceID]; done {
			continue
		}
		m := l.sent[s.TraceID]
		if m == nil {
			l.evictSent()
			m = make(map[trace.SpanID]struct{}, 4)
			l.sent[s.TraceID] = m
			l.sentFIFO = append(l.sentFIFO, s.TraceID)
		}
		if _, dup := m[s.SpanID]; !dup {
			m[s.SpanID] = struct{}{}
			l.nspans++
		}
	}
	for l.nspans > l.maxSpans && len(l.sentFIFO) > 0 {
		l.forgetOldest()
	}
}

func (l *ledger) forgetOldest() {
	id := l.sentFIFO[0]
	l.sentFIFO = l.sentFIFO[1:]
	l.nspans -= len(l.sent[id])
	delete(l.sent, id)
}

func (l *ledger) evictSent() {
	for len(l.sent) >= l.max && len(l.sentFIFO) > 0 {
		l.forgetOldest()
	}
	if len(l.sentFIFO) > 2*l.max+16 { // drop ids of finished traces
		live := make([]trace.TraceID, 0, len(l.sent))
		for _, id := range l.sentFIFO {
			if _, ok := l.sent[id]; ok {
				live = append(live, id)
			}
		}
		l.sentFIFO = live
	}
}

// missing returns t's spans the stream has not delivered.
func (l *ledger) missing(t *tracemodel.Trace) []*tracemodel.Span {
	l.mu.Lock()
	defer l.mu.Unlock()
	var sent map[trace.SpanID]struct{}
	for _, s := range t.Spans {
		if s != nil {
			sent = l.sent[s.TraceID]
			break
		}
	}
	if len(sent) == 0 {
		out := make([]*tracemodel.Span, 0, len(t.Spans))
		for _, s := range t.Spans {
			if s != nil {
				out = append(out, s)
			}
		}
		return out
	}
	var out []*tracemodel.Span
	for _, s := range t.Spans {
		if s == nil {
			continue
		}
		if _, ok := sent[s.SpanID]; !ok {
			out = append(out, s)
		}
	}
	return out
}

// finish marks a trace exported.
func (l *ledger) finish(id trace.TraceID) {
	if !id.IsValid() {
		return
	}
	l.mu.Lock()
	defer l.mu.Unlock()
	l.nspans -= len(l.sent[id])
	delete(l.sent, id)
	if _, ok := l.finished[id]; ok {
		return
	}
	if len(l.ring) < l.max {
		l.ring = append(l.ring, id)
	} else {
		delete(l.finished, l.ring[l.ringPos])
		l.ring[l.ringPos] = id
		l.ringPos = (l.ringPos + 1) % l.max
	}
	l.finished[id] = struct{}{}
}
