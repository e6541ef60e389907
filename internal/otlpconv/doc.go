// Package otlpconv converts MLflow spans (tracemodel.Span, whose attribute
// values are JSON-encoded strings) to OTLP protobuf messages of
// go.opentelemetry.io/proto/otlp, exactly as MLflow's Python client does
// before it posts spans to a tracking server's /v1/traces route
// (RestStore.log_spans → Span.to_otel_proto): every attribute's JSON is
// decoded and sent as a native AnyValue (unquoted string, kvlist, array,
// int, double, bool, empty for null). The server re-encodes each value with
// json.dumps, so spans read back identically to Python-written ones.
//
// An export's request body is written by AppendSpans straight from the
// spans' JSON text to the protobuf wire form. The message form of the same
// request (Request, Span, AppendRequest) lives in the package's tests, as
// the reference AppendSpans is held to.
//
// Differences from Python, both where Python itself would fail: integers
// beyond int64 go as doubles, and invalid UTF-8 is replaced by U+FFFD.
package otlpconv
