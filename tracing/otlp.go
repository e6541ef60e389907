package tracing

import (
	"context"
	"fmt"
	"net/url"
	"slices"
	"strings"

	"go.opentelemetry.io/otel/attribute"
	"go.opentelemetry.io/otel/exporters/otlp/otlptrace/otlptracegrpc"
	"go.opentelemetry.io/otel/exporters/otlp/otlptrace/otlptracehttp"
	sdktrace "go.opentelemetry.io/otel/sdk/trace"

	"github.com/mlflowtrace/mlflowtrace-go/internal/assemble"
	"github.com/mlflowtrace/mlflowtrace-go/internal/envconfig"
	"github.com/mlflowtrace/mlflowtrace-go/internal/keys"
)

const (
	otlpTracesPath      = "/v1/traces"
	defaultOTLPProtocol = "grpc" // MLflow's default, not the OTel spec's http/protobuf
)

// newOTLPProcessor returns a plain OpenTelemetry batch span processor for
// OTEL_EXPORTER_OTLP_* export and whether the MLflow destination is used as
// well. With no OTLP endpoint configured (or MLFLOW_ENABLE_OTLP_EXPORTER=
// false) it returns (nil, true, nil).
//
// As in MLflow: OTEL_EXPORTER_OTLP_TRACES_ENDPOINT is used as is, else
// OTEL_EXPORTER_OTLP_ENDPOINT + "/v1/traces"; the protocol is
// OTEL_EXPORTER_OTLP_TRACES_PROTOCOL, else OTEL_EXPORTER_OTLP_PROTOCOL, else
// "grpc" ("http/protobuf" selects OTLP/HTTP, anything else is an error). When
// OTLP export is on it replaces the MLflow destination unless
// MLFLOW_TRACE_ENABLE_OTLP_DUAL_EXPORT=true. An explicit destination
// (exporter.WithDestination, like mlflow.tracing.set_destination) wins over
// OTLP unless dual export is on. A failed OTLP export goes to report (the
// exporter's error handler), not to OpenTelemetry's global one.
func newOTLPProcessor(ctx context.Context, env envconfig.Env, customDest bool, report func(error)) (sdktrace.SpanProcessor, bool, error) {
	// endpointVar and protocolVar name the variables the values came from,
	// for the errors (which never show a value).
	endpoint, endpointVar := envconfig.OTLPTracesEndpoint.Get(env), envconfig.OTLPTracesEndpoint.Name
	if endpoint == "" {
		if base := envconfig.OTLPEndpoint.Get(env); base != "" {
			endpoint, endpointVar = strings.TrimRight(base, "/")+otlpTracesPath, envconfig.OTLPEndpoint.Name
		}
	}
	if endpoint == "" {
		return nil, true, nil
	}
	enabled, err := envconfig.EnableOTLP.Get(env)
	if err != nil {
		return nil, false, err
	}
	if !enabled {
		return nil, true, nil
	}
	dual, err := envconfig.OTLPDualExport.Get(env)
	if err != nil {
		return nil, false, err
	}
	if customDest && !dual {
		return nil, true, nil
	}
	protocol, protocolVar := envconfig.OTLPTracesProtocol.Get(env), envconfig.OTLPTracesProtocol.Name
	if protocol == "" {
		protocol, protocolVar = envconfig.OTLPProtocol.Get(env), envconfig.OTLPProtocol.Name
	}
	if protocol == "" {
		protocol = defaultOTLPProtocol
	}
	// Always given, empty too: OpenTelemetry's exporter would otherwise read
	// OTEL_EXPORTER_OTLP_*HEADERS from the process environment itself,
	// around WithGetenv.
	headers, err := otlpHeaders(env)
	if err != nil {
		return nil, false, err
	}
	u, perr := url.Parse(endpoint)
	hasScheme := perr == nil && (u.Scheme == "http" || u.Scheme == "https") && u.Host != ""

	var exp sdktrace.SpanExporter
	switch protocol {
	case "grpc":
		var opts []otlptracegrpc.Option
		if hasScheme {
			opts = append(opts, otlptracegrpc.WithEndpointURL(endpoint))
		} else {
			opts = append(opts, otlptracegrpc.WithEndpoint(endpoint))
		}
		opts = append(opts, otlptracegrpc.WithHeaders(headers))
		exp, err = otlptracegrpc.New(ctx, opts...)
	case "http/protobuf":
		if !hasScheme {
			return nil, false, fmt.Errorf("invalid %s: want an http(s) URL for protocol http/protobuf", endpointVar)
		}
		opts := []otlptracehttp.Option{otlptracehttp.WithEndpointURL(endpoint), otlptracehttp.WithHeaders(headers)}
		exp, err = otlptracehttp.New(ctx, opts...)
	default:
		return nil, false, fmt.Errorf("invalid %s: want grpc or http/protobuf", protocolVar)
	}
	if err != nil {
		return nil, false, fmt.Errorf("OTLP exporter: %w", err)
	}
	return sdktrace.NewBatchSpanProcessor(levelingExporter{SpanExporter: exp, report: report}), dual, nil
}

// levelingExporter adds to the spans of this package the default
// mlflow.spanLogLevel MLflow's Python SDK writes at span end, which Span.End
// leaves to the exporter (it is derived from the span type and exception
// events, off the caller's path): OTLP receivers get it as from MLflow.
// A failed export is handed to report, when set, and not returned: the batch
// span processor would pass it to otel.Handle, a second place for the SDK's
// background errors.
type levelingExporter struct {
	sdktrace.SpanExporter
	report func(error)
}

func (e levelingExporter) ExportSpans(ctx context.Context, spans []sdktrace.ReadOnlySpan) error {
	out, cloned := spans, false
	for i, s := range spans {
		if s.InstrumentationScope().Name != keys.ScopeName {
			continue
		}
		attrs := s.Attributes()
		spanType, hasLevel := `"UNKNOWN"`, false
		for _, a := range attrs {
			switch a.Key {
			case keys.SpanLogLevel:
				hasLevel = true
			case keys.SpanType:
				spanType = a.Value.AsString()
			}
		}
		if hasLevel {
			continue
		}
		hasException := false
		for _, ev := range s.Events() {
			hasException = hasException || ev.Name == "exception"
		}
		if !cloned {
			out, cloned = slices.Clone(spans), true // never change the caller's slice
		}
		leveled := append(slices.Clip(attrs), attribute.String(keys.SpanLogLevel, assemble.DefaultLogLevel(spanType, hasException)))
		out[i] = leveledSpan{ReadOnlySpan: s, attrs: leveled}
	}
	err := e.SpanExporter.ExportSpans(ctx, out)
	if err != nil && e.report != nil {
		what := fmt.Sprintf("%d spans", len(spans))
		if len(spans) == 1 {
			what = "1 span"
		}
		e.report(fmt.Errorf("tracing: OTLP export of %s failed: %w", what, err))
		return nil
	}
	return err
}

// leveledSpan is a span with its attributes completed.
type leveledSpan struct {
	sdktrace.ReadOnlySpan
	attrs []attribute.KeyValue
}

func (s leveledSpan) Attributes() []attribute.KeyValue { return s.attrs }

// otlpHeaders reads OTEL_EXPORTER_OTLP_TRACES_HEADERS, else
// OTEL_EXPORTER_OTLP_HEADERS.
func otlpHeaders(env envconfig.Env) (map[string]string, error) {
	kvs, err := envconfig.OTLPTracesHeaders.Get(env)
	if err == nil && kvs == nil {
		kvs, err = envconfig.OTLPHeaders.Get(env)
	}
	if err != nil {
		return nil, err
	}
	out := make(map[string]string, len(kvs))
	for _, kv := range kvs {
		out[kv.Key] = kv.Value
	}
	return out, nil
}
