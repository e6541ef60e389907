// Package exportertest provides an in-memory exporter.Destination for tests:
// register an exporter.Exporter with exporter.WithDestination(rec) (and
// exporter.WithSpanStreamer(rec) to record streamed spans too) on a
// TracerProvider, run the code under test, ForceFlush, and assert on
// rec.Traces() (finished MLflow traces, as a real destination receives them)
// or rec.Spans() (spans streamed as they ended).
//
// It plays the role sdk/trace/tracetest's InMemoryExporter plays for
// OpenTelemetry.
package exportertest
