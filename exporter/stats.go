package exporter

import (
	"context"
	"fmt"
	"sync/atomic"

	"go.opentelemetry.io/otel"
	"go.opentelemetry.io/otel/metric"

	"github.com/mlflowtrace/mlflowtrace-go/internal/keys"
)

// Stats are the Exporter's running totals since New.
type Stats struct {
	// TracesExported counts traces the destination accepted.
	TracesExported int64
	// SpansExported counts the spans of those traces.
	SpansExported int64
	// SpansStreamed counts spans streamed to a streaming destination (they
	// are counted again in SpansExported with their trace). Spans a
	// destination accepted without streaming them (an MLflow server without
	// the OTLP route) are not counted: they reach the server only with their
	// trace. Neither are spans of a trace that finished before a stream
	// round reached them, when the destination sends them with the trace
	// (the MLflow server destination does): only spans of open traces
	// stream.
	SpansStreamed int64
	// TracesDropped counts traces that will never be exported: evicted or
	// expired from the open-trace buffer before their root ended, dropped
	// because the export queue was full, or abandoned at Shutdown.
	TracesDropped int64
	// SpansDropped counts spans that will never be exported: spans beyond
	// the per-trace limit and the spans of dropped traces. Spans only
	// missing from the stream (full span queue) are counted in
	// SpansStreamDropped instead; they still reach the destination with
	// their trace.
	SpansDropped int64
	// SpansStreamDropped counts spans whose streaming failed (they still
	// go with their trace to a destination that carries them, the MLflow
	// server).
	SpansStreamDropped int64
	// TracesFailed counts traces whose export failed: the destination
	// refused them or could not be reached within the retry budget.
	TracesFailed int64
	// ExportFailures counts failed calls to the destination.
	ExportFailures int64
	// Retried counts retried requests, as reported by the destination's
	// transport (Databricks OAuth token requests included).
	Retried int64

	// With a spool (WithSpool, MLFLOWTRACE_SPOOL_DIR):

	// TracesSpooled counts finished traces written to the spool (fsynced
	// per the sync policy): accepted, they survive a crash.
	TracesSpooled int64
	// TracesNotSpooled counts finished traces the spool refused — full
	// (MLFLOWTRACE_SPOOL_MAX_BYTES), not writable, or not opened at all —
	// exported from memory only, without the spool's guarantee.
	TracesNotSpooled int64
	// TracesReplayed counts traces delivered from the spool rather than
	// from memory: left by an earlier process, spooled while the export
	// queue was full, or dead letters retried. They are also counted in
	// TracesExported.
	TracesReplayed int64
	// TracesDeadLettered counts exports that failed after the retry budget
	// with a spool: the traces were kept as dead letters to retry, not lost
	// (TracesFailed counts those lost).
	TracesDeadLettered int64

	// The spool now (not running totals):

	// SpoolDir is the directory this process owns in the spool.
	SpoolDir string
	// SpoolPending counts the traces in the spool not yet confirmed by
	// the destination (dead letters not included).
	SpoolPending int64
	// SpoolDeadLetters counts the dead letters (SpoolDir/dead/*.json).
	SpoolDeadLetters int64
	// SpoolBytes is the spool's size on disk.
	SpoolBytes int64
	// SpoolRecordsSkipped counts damaged records skipped since New (a torn
	// tail, a bad checksum, an unreadable record).
	SpoolRecordsSkipped int64
}

// counters are the live counters behind Stats, mirrored into OTel metrics
// of the global MeterProvider. Destinations built by New get a pointer to
// them (config.counters) to report retries.
type counters struct {
	tracesExported, spansExported, spansStreamed    atomic.Int64
	tracesDropped, spansDropped, spansStreamDropped atomic.Int64
	exportFailures, retried, tracesFailed           atomic.Int64
	tracesSpooled, tracesNotSpooled                 atomic.Int64
	tracesReplayed, tracesDeadLettered              atomic.Int64

	mTracesExported, mSpansExported, mSpansStreamed    metric.Int64Counter
	mTracesDropped, mSpansDropped, mSpansStreamDropped metric.Int64Counter
	mExportFailures, mRetried, mTracesFailed           metric.Int64Counter
	mTracesSpooled, mTracesNotSpooled                  metric.Int64Counter
	mTracesReplayed, mTracesDeadLettered               metric.Int64Counter
}

func newCounters(report func(error)) *counters {
	m := otel.Meter(keys.ScopeName)
	c := &counters{}
	mk := func(name, desc, unit string) metric.Int64Counter {
		ctr, err := m.Int64Counter(name, metric.WithDescription(desc), metric.WithUnit(unit))
		if err != nil {
			report(fmt.Errorf("exporter: metric %s: %w", name, err))
		}
		return ctr // a usable no-op counter even on error
	}
	c.mTracesExported = mk("mlflowtrace.traces.exported", "Traces the MLflow destination accepted.", "{trace}")
	c.mSpansExported = mk("mlflowtrace.spans.exported", "Spans of the traces the MLflow destination accepted.", "{span}")
	c.mSpansStreamed = mk("mlflowtrace.spans.streamed", "Spans streamed to the MLflow destination as they ended.", "{span}")
	c.mTracesDropped = mk("mlflowtrace.traces.dropped", "Traces that will never be exported.", "{trace}")
	c.mSpansDropped = mk("mlflowtrace.spans.dropped", "Spans that will never be exported.", "{span}")
	c.mSpansStreamDropped = mk("mlflowtrace.spans.stream_dropped", "Spans not streamed (queue full or stream failure).", "{span}")
	c.mTracesFailed = mk("mlflowtrace.traces.failed", "Traces whose export failed.", "{trace}")
	c.mExportFailures = mk("mlflowtrace.export.failures", "Failed calls to the MLflow destination.", "{call}")
	c.mRetried = mk("mlflowtrace.export.retries", "Retried requests to the MLflow destination.", "{request}")
	c.mTracesSpooled = mk("mlflowtrace.traces.spooled", "Traces written to the durable spool.", "{trace}")
	c.mTracesNotSpooled = mk("mlflowtrace.traces.not_spooled", "Traces the durable spool refused (full or not writable).", "{trace}")
	c.mTracesReplayed = mk("mlflowtrace.traces.replayed", "Traces delivered from the durable spool rather than from memory.", "{trace}")
	c.mTracesDeadLettered = mk("mlflowtrace.traces.dead_lettered", "Traces kept as dead letters after a failed export.", "{trace}")
	return c
}

func add(a *atomic.Int64, m metric.Int64Counter, n int64) {
	if n == 0 {
		return
	}
	a.Add(n)
	if m != nil {
		m.Add(context.Background(), n)
	}
}

func (c *counters) addTracesExported(n int) { add(&c.tracesExported, c.mTracesExported, int64(n)) }
func (c *counters) addSpansExported(n int)  { add(&c.spansExported, c.mSpansExported, int64(n)) }
func (c *counters) addSpansStreamed(n int)  { add(&c.spansStreamed, c.mSpansStreamed, int64(n)) }
func (c *counters) addTracesDropped(n int)  { add(&c.tracesDropped, c.mTracesDropped, int64(n)) }
func (c *counters) addSpansDropped(n int)   { add(&c.spansDropped, c.mSpansDropped, int64(n)) }
func (c *counters) addStreamDropped(n int) {
	add(&c.spansStreamDropped, c.mSpansStreamDropped, int64(n))
}

// tracesSettled is how many traces were exported or failed (not those
// dropped: a Shutdown that gives up drops what still waits).
func (c *counters) tracesSettled() int64 {
	return c.tracesExported.Load() + c.tracesFailed.Load()
}

func (c *counters) addTracesFailed(n int)   { add(&c.tracesFailed, c.mTracesFailed, int64(n)) }
func (c *counters) addExportFailures(n int) { add(&c.exportFailures, c.mExportFailures, int64(n)) }

func (c *counters) addTracesSpooled(n int) { add(&c.tracesSpooled, c.mTracesSpooled, int64(n)) }
func (c *counters) addTracesNotSpooled(n int) {
	add(&c.tracesNotSpooled, c.mTracesNotSpooled, int64(n))
}
func (c *counters) addTracesReplayed(n int) { add(&c.tracesReplayed, c.mTracesReplayed, int64(n)) }
func (c *counters) addTracesDeadLettered(n int) {
	add(&c.tracesDeadLettered, c.mTracesDeadLettered, int64(n))
}

// addRetried counts retried requests (the transport's OnRetry).
func (c *counters) addRetried(n int) { add(&c.retried, c.mRetried, int64(n)) }

func (c *counters) stats() Stats {
	return Stats{
		TracesExported:     c.tracesExported.Load(),
		SpansExported:      c.spansExported.Load(),
		SpansStreamed:      c.spansStreamed.Load(),
		TracesDropped:      c.tracesDropped.Load(),
		SpansDropped:       c.spansDropped.Load(),
		SpansStreamDropped: c.spansStreamDropped.Load(),
		TracesFailed:       c.tracesFailed.Load(),
		ExportFailures:     c.exportFailures.Load(),
		Retried:            c.retried.Load(),
		TracesSpooled:      c.tracesSpooled.Load(),
		TracesNotSpooled:   c.tracesNotSpooled.Load(),
		TracesReplayed:     c.tracesReplayed.Load(),
		TracesDeadLettered: c.tracesDeadLettered.Load(),
	}
}
