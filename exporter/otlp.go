package exporter

import (
	"context"
	"fmt"
	"net/url"
	"strings"

	"go.opentelemetry.io/otel/exporters/otlp/otlptrace/otlptracegrpc"
	"go.opentelemetry.io/otel/exporters/otlp/otlptrace/otlptracehttp"
	sdktrace "go.opentelemetry.io/otel/sdk/trace"
)

// OTLP export environment (names and semantics of MLflow 3.17,
// mlflow/tracing/utils/otlp.py and mlflow/tracing/provider.py).
const (
	envOTLPTracesEndpoint = "OTEL_EXPORTER_OTLP_TRACES_ENDPOINT"
	envOTLPEndpoint       = "OTEL_EXPORTER_OTLP_ENDPOINT"
	envOTLPTracesProtocol = "OTEL_EXPORTER_OTLP_TRACES_PROTOCOL"
	envOTLPProtocol       = "OTEL_EXPORTER_OTLP_PROTOCOL"
	envOTLPTracesHeaders  = "OTEL_EXPORTER_OTLP_TRACES_HEADERS"
	envOTLPHeaders        = "OTEL_EXPORTER_OTLP_HEADERS"
	envEnableOTLP         = "MLFLOW_ENABLE_OTLP_EXPORTER"
	envOTLPDualExport     = "MLFLOW_TRACE_ENABLE_OTLP_DUAL_EXPORT"

	otlpTracesPath      = "/v1/traces"
	defaultOTLPProtocol = "grpc" // MLflow's default, not the OTel spec's http/protobuf
)

// newOTLPProcessor returns the span processor for OTEL_EXPORTER_OTLP_* export
// and whether the MLflow destination is used as well. With no OTLP endpoint
// configured (or MLFLOW_ENABLE_OTLP_EXPORTER=false) it returns (nil, true,
// nil).
//
// As in MLflow: OTEL_EXPORTER_OTLP_TRACES_ENDPOINT is used as is, else
// OTEL_EXPORTER_OTLP_ENDPOINT + "/v1/traces"; the protocol is
// OTEL_EXPORTER_OTLP_TRACES_PROTOCOL, else OTEL_EXPORTER_OTLP_PROTOCOL, else
// "grpc" ("http/protobuf" selects OTLP/HTTP, anything else is an error). When
// OTLP export is on it replaces the MLflow destination unless
// MLFLOW_TRACE_ENABLE_OTLP_DUAL_EXPORT=true. An explicit destination
// (WithDestination, like mlflow.tracing.set_destination) wins over OTLP
// unless dual export is on.
func (c *config) newOTLPProcessor(ctx context.Context) (sdktrace.SpanProcessor, bool, error) {
	getenv := c.getenv
	endpoint := strings.TrimSpace(getenv(envOTLPTracesEndpoint))
	if endpoint == "" {
		if base := strings.TrimSpace(getenv(envOTLPEndpoint)); base != "" {
			endpoint = strings.TrimRight(base, "/") + otlpTracesPath
		}
	}
	if endpoint == "" {
		return nil, true, nil
	}
	enabled, err := envBool(getenv, envEnableOTLP, true)
	if err != nil {
		return nil, false, err
	}
	if !enabled {
		return nil, true, nil
	}
	dual, err := envBool(getenv, envOTLPDualExport, false)
	if err != nil {
		return nil, false, err
	}
	if c.dest != nil && !dual {
		return nil, true, nil
	}
	protocol := strings.TrimSpace(getenv(envOTLPTracesProtocol))
	if protocol == "" {
		protocol = strings.TrimSpace(getenv(envOTLPProtocol))
	}
	if protocol == "" {
		protocol = defaultOTLPProtocol
	}
	headers, err := otlpHeaders(getenv)
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
		if len(headers) > 0 {
			opts = append(opts, otlptracegrpc.WithHeaders(headers))
		}
		exp, err = otlptracegrpc.New(ctx, opts...)
	case "http/protobuf":
		if !hasScheme {
			return nil, false, fmt.Errorf("exporter: invalid OTLP traces endpoint: want an http(s) URL for protocol http/protobuf")
		}
		opts := []otlptracehttp.Option{otlptracehttp.WithEndpointURL(endpoint)}
		if len(headers) > 0 {
			opts = append(opts, otlptracehttp.WithHeaders(headers))
		}
		exp, err = otlptracehttp.New(ctx, opts...)
	default:
		return nil, false, fmt.Errorf("exporter: unsupported OTLP protocol %q: set OTEL_EXPORTER_OTLP_TRACES_PROTOCOL to grpc or http/protobuf", protocol)
	}
	if err != nil {
		return nil, false, fmt.Errorf("exporter: OTLP exporter: %w", err)
	}
	return sdktrace.NewBatchSpanProcessor(exp), dual, nil
}

// otlpHeaders parses OTEL_EXPORTER_OTLP_TRACES_HEADERS, else
// OTEL_EXPORTER_OTLP_HEADERS: comma-separated key=value pairs, values
// URL-encoded (the OTel spec). Errors never show values (they are often
// API keys).
func otlpHeaders(getenv func(string) string) (map[string]string, error) {
	name := envOTLPTracesHeaders
	raw := getenv(name)
	if strings.TrimSpace(raw) == "" {
		name = envOTLPHeaders
		raw = getenv(name)
	}
	if strings.TrimSpace(raw) == "" {
		return nil, nil
	}
	out := map[string]string{}
	for _, pair := range strings.Split(raw, ",") {
		if strings.TrimSpace(pair) == "" {
			continue
		}
		k, v, ok := strings.Cut(pair, "=")
		k = strings.TrimSpace(k)
		if !ok || k == "" {
			return nil, fmt.Errorf("exporter: invalid %s: want comma-separated key=value pairs", name)
		}
		if dk, err := url.PathUnescape(k); err == nil {
			k = dk
		}
		v = strings.TrimSpace(v)
		if dv, err := url.PathUnescape(v); err == nil {
			v = dv
		}
		out[k] = v
	}
	return out, nil
}
