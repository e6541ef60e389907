// Package bufpool keeps the scratch byte buffers the exporter's background
// work writes into and drops within one call: the request bodies package
// transport writes (Request.AppendBody), its connections' copy buffers,
// the JSON a span's size is measured from (package tracemodel) and the
// re-dumped Genkit requests and answers package assemble decodes. One
// mechanism for all of them, bounded: a pool keeps no buffer larger than its
// cap and no more than twice its cap in all, so that a single huge payload
// does not stay pinned.
//
// Package encode keeps its encoders in a sync.Pool instead: they serve the
// callers' goroutines, many at once and each briefly, which is what
// sync.Pool's per-P caches are for; these buffers serve the background
// work, a few times a second, where a sync.Pool kept missing (Pool).
package bufpool
