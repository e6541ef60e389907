// Package bufpool pools the scratch byte buffers the exporter's background
// workers write into and drop within one call: the raw OTLP request before
// gzip (package mlflowserver) and the JSON a span's size is measured from
// (package tracemodel). One mechanism for both, with a cap so that a single
// huge payload does not stay pinned in the pool.
package bufpool
