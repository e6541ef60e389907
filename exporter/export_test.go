package exporter

import (
	"errors"
	"sync"
	"time"

	"go.opentelemetry.io/otel/trace"

	"github.com/mlflowtrace/mlflowtrace-go/internal/settings"
	"github.com/mlflowtrace/mlflowtrace-go/internal/spool"
)

// Test hooks, visible to package exporter_test only.

// WithClock sets the exporter's clock.
func WithClock(now func() time.Time) Option {
	return option(func(s *settings.Settings) { s.Now = now })
}

// WithTimeoutCheckInterval sets how often the timeout janitor runs.
func WithTimeoutCheckInterval(d time.Duration) Option {
	return option(func(s *settings.Settings) { s.TimeoutCheck = d })
}

// WithSpoolIntervals sets how often dead letters are retried while the
// destination fails and how often the spool directory is polled for the
// slots of processes that are gone.
func WithSpoolIntervals(retry, adopt time.Duration) Option {
	return option(func(s *settings.Settings) { s.SpoolRetryInterval, s.SpoolAdoptInterval = retry, adopt })
}

// Expire runs one expiry pass at time now.
func (e *Exporter) Expire(now time.Time) { e.pipe.expire(now) }

// OpenTraces reports how many traces are buffered.
func (e *Exporter) OpenTraces() int {
	open, _ := e.buf.lens()
	return open
}

// TestCaps states the capabilities of a test destination, as the
// constructors of the MLflow server and local store destinations state
// their own.
type TestCaps struct {
	// Spans streams spans.
	Spans SpanStreamer
	// Carrier: ExportTraces sends the spans the stream missed.
	Carrier bool
	// Streaming reports whether accepted span batches were streamed.
	Streaming func() bool
	// ExperimentID is the destination's experiment.
	ExperimentID func() string
}

// WithTestRoute sends traces to d with the given capabilities.
func WithTestRoute(d Destination, caps TestCaps) Option {
	return option(func(s *settings.Settings) {
		s.CustomTraces = d
		testCaps.Store(d, caps)
	})
}

var testCaps sync.Map // Destination → TestCaps

func init() {
	testRoute = func(s *settings.Settings) (route, bool) {
		if s.Kind != settings.Custom {
			return route{}, false
		}
		v, ok := testCaps.Load(s.CustomTraces)
		if !ok {
			return route{}, false
		}
		caps := v.(TestCaps)
		return route{where: "the test destination", dest: s.CustomTraces, spans: caps.Spans,
			carrier: caps.Carrier, streaming: caps.Streaming, experimentID: caps.ExperimentID}, true
	}
}

// EnqueueBroken queues a finished trace that assembling cannot handle (an
// ended span without its snapshot), standing for a bug of ours that panics
// on the export path; it returns the trace's id.
func (e *Exporter) EnqueueBroken() string {
	ts := &traceState{id: trace.TraceID{0xbb, 1}, created: time.Now(), detached: true}
	ts.ended = append(ts.endedBuf[:0], &endedSpan{trace: ts})
	e.pipe.enqueue(ts)
	return e.TraceID(ts.id)
}

// FailSpoolFsync makes every spool Append report an fsync failure after
// writing its records, until the returned function is called.
func FailSpoolFsync() (restore func()) {
	spoolAppend = func(sp *spool.Spool, recs [][]byte) ([]spool.Ref, error) {
		refs, err := sp.Append(recs)
		if err == nil {
			err = errors.New("spool: fsync: input/output error")
		}
		return refs, err
	}
	return func() { spoolAppend = (*spool.Spool).Append }
}
