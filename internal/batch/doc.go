// Package batch is the export queue of the exporter's pipeline: a bounded
// queue that never blocks the producer and a fixed pool of workers that take
// batches from it themselves — by size, and by age when an interval is set —
// and hand them to an export function with a per-export timeout. There is no
// dispatcher goroutine between the queue and the workers: an item handed to
// an idle Batcher wakes exactly one goroutine.
//
// It is generic so finished traces and streamed spans, for every destination,
// go through the same mechanism:
//
//	b := batch.New(func(ctx context.Context, items []*Trace) error {
//		return dest.ExportTraces(ctx, items)
//	}, batch.Config{QueueSize: 1000, Workers: 10, BatchSize: 10})
//	if !b.Enqueue(t) { /* queue full: dropped, count it */ }
//	_ = b.ForceFlush(ctx) // everything enqueued so far exported or failed
//	_ = b.Shutdown(ctx)   // flush, then stop every goroutine
//
// Semantics:
//   - Enqueue never blocks: when the queue is full, or after Shutdown, it
//     returns false and the caller counts the drop.
//   - With Interval > 0 a batch is handed out when it holds BatchSize items
//     or when its oldest item has waited Interval; with Interval == 0 items
//     are handed out as soon as a worker is free (in batches of up to
//     BatchSize, so batches only form under load).
//   - ForceFlush returns once every item enqueued before the call has been
//     exported or has failed, or when ctx is done (ctx.Err()).
//   - Shutdown flushes, then stops the workers and waits for them. It is idempotent. When ctx ends first, in-flight exports are
//     cancelled, the items not yet exported are dropped (Config.OnDrop) and
//     ctx.Err() is returned; the goroutines exit as soon as the export
//     function returns. Calling Shutdown again waits for them with its own
//     ctx. Config.OnStop runs once, after the last export and drop.
//   - A panic in the export function is recovered and reported to OnError
//     like an error: the pipeline keeps running.
//
// The design follows opentelemetry-go's BatchSpanProcessor (bounded queue,
// drop-and-count, flush/shutdown honouring ctx) with a worker pool, as
// MLflow's Python AsyncTraceExportQueue has. Each wake-up of an idle
// goroutine costs tens to hundreds of microseconds of CPU on a small VM
// (BENCHMARKS.md), so the queue wakes no goroutine it does not need.
package batch
