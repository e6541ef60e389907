// Package bufpool keeps the scratch byte buffers the exporter's background
// work writes into and drops within one call: the request bodies package
// transport writes (Request.AppendBody) and its connections' copy buffers,
// and the JSON a span's size is measured from (package tracemodel). One
// mechanism for all of them, bounded: a pool keeps no buffer larger than its
// cap and no more than twice its cap in all, so that a single huge payload
// does not stay pinned.
package bufpool
