package tracing

import (
	"context"
	"strings"
	"testing"

	"go.opentelemetry.io/otel"
	"go.opentelemetry.io/otel/attribute"
	"go.opentelemetry.io/otel/propagation"
	sdkresource "go.opentelemetry.io/otel/sdk/resource"
	sdktrace "go.opentelemetry.io/otel/sdk/trace"

	"github.com/mlflowtrace/mlflowtrace-go/exporter"
	"github.com/mlflowtrace/mlflowtrace-go/exporter/exportertest"
)

func TestConfigFromEnv(t *testing.T) {
	tests := []struct {
		name      string
		env       env
		opts      []Option
		disabled  bool
		ratio     float64
		service   string
		noContent bool
		errSubstr string
	}{
		{name: "defaults", env: env{}, ratio: 1},
		{name: "enable false", env: env{"ENABLE_MLFLOW_TRACING": "false"}, disabled: true, ratio: 1},
		{name: "enable FALSE", env: env{"ENABLE_MLFLOW_TRACING": "FALSE"}, disabled: true, ratio: 1},
		{name: "enable 0", env: env{"ENABLE_MLFLOW_TRACING": "0"}, disabled: true, ratio: 1},
		{name: "enable true", env: env{"ENABLE_MLFLOW_TRACING": "true"}, ratio: 1},
		{name: "enable 1", env: env{"ENABLE_MLFLOW_TRACING": "1"}, ratio: 1},
		{name: "enable malformed", env: env{"ENABLE_MLFLOW_TRACING": "yes"}, errSubstr: "ENABLE_MLFLOW_TRACING"},
		{name: "serving default off", env: env{"IS_IN_DB_MODEL_SERVING_ENV": "true"}, disabled: true, ratio: 1},
		{name: "serving 1 default off", env: env{"IS_IN_DB_MODEL_SERVING_ENV": "1"}, disabled: true, ratio: 1},
		{name: "serving on", env: env{"IS_IN_DB_MODEL_SERVING_ENV": "TRUE", "ENABLE_MLFLOW_TRACING": "true"}, ratio: 1},
		{name: "serving other value is not serving", env: env{"IS_IN_DB_MODEL_SERVING_ENV": "maybe"}, ratio: 1},
		{name: "option beats env", env: env{"ENABLE_MLFLOW_TRACING": "false"}, opts: []Option{WithEnabled()}, ratio: 1},
		{name: "WithDisabled", env: env{"ENABLE_MLFLOW_TRACING": "true"}, opts: []Option{WithDisabled()}, disabled: true, ratio: 1},
		{name: "ratio", env: env{"MLFLOW_TRACE_SAMPLING_RATIO": "0.25"}, ratio: 0.25},
		{name: "ratio option wins", env: env{"MLFLOW_TRACE_SAMPLING_RATIO": "0.25"}, opts: []Option{WithSamplingRatio(0.5)}, ratio: 0.5},
		{name: "ratio not a number", env: env{"MLFLOW_TRACE_SAMPLING_RATIO": "half"}, errSubstr: "MLFLOW_TRACE_SAMPLING_RATIO"},
		{name: "ratio above 1", env: env{"MLFLOW_TRACE_SAMPLING_RATIO": "1.5"}, errSubstr: "MLFLOW_TRACE_SAMPLING_RATIO"},
		{name: "ratio negative", env: env{"MLFLOW_TRACE_SAMPLING_RATIO": "-0.1"}, errSubstr: "MLFLOW_TRACE_SAMPLING_RATIO"},
		{name: "ratio NaN", env: env{"MLFLOW_TRACE_SAMPLING_RATIO": "NaN"}, errSubstr: "MLFLOW_TRACE_SAMPLING_RATIO"},
		{name: "ratio option out of range", env: env{}, opts: []Option{WithSamplingRatio(2)}, errSubstr: "sampling ratio"},
		{name: "service name", env: env{"OTEL_SERVICE_NAME": "agent"}, ratio: 1, service: "agent"},
		{name: "service option wins", env: env{"OTEL_SERVICE_NAME": "agent"}, opts: []Option{WithServiceName("svc")}, ratio: 1, service: "svc"},
		{name: "resource attrs malformed", env: env{"OTEL_RESOURCE_ATTRIBUTES": "novalue"}, errSubstr: "OTEL_RESOURCE_ATTRIBUTES"},
		{name: "resource attrs bad escape", env: env{"OTEL_RESOURCE_ATTRIBUTES": "a=%zz"}, errSubstr: "OTEL_RESOURCE_ATTRIBUTES"},
		{name: "content capture off", env: env{"MLFLOWTRACE_CAPTURE_CONTENT": "false"}, ratio: 1, noContent: true},
		{name: "content capture option wins", env: env{"MLFLOWTRACE_CAPTURE_CONTENT": "0"}, opts: []Option{WithContentCapture(true)}, ratio: 1},
		{name: "content capture option off", env: env{}, opts: []Option{WithContentCapture(false)}, ratio: 1, noContent: true},
		{name: "content capture malformed", env: env{"MLFLOWTRACE_CAPTURE_CONTENT": "no"}, errSubstr: "MLFLOWTRACE_CAPTURE_CONTENT"},
		{name: "sampling with user provider", env: env{}, opts: []Option{WithTracerProvider(sdktrace.NewTracerProvider()), WithSamplingRatio(0.5)}, errSubstr: "WithTracerProvider"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			c, _, err := newConfig(append([]Option{WithGetenv(tt.env.get)}, tt.opts...))
			if tt.errSubstr != "" {
				if err == nil || !strings.Contains(err.Error(), tt.errSubstr) {
					t.Fatalf("err = %v, want one naming %q", err, tt.errSubstr)
				}
				return
			}
			if err != nil {
				t.Fatalf("newConfig: %v", err)
			}
			if c.disabled != tt.disabled {
				t.Errorf("disabled = %v, want %v", c.disabled, tt.disabled)
			}
			if c.samplingRatio != tt.ratio {
				t.Errorf("ratio = %v, want %v", c.samplingRatio, tt.ratio)
			}
			if c.serviceName != tt.service {
				t.Errorf("service = %q, want %q", c.serviceName, tt.service)
			}
			if c.noContent != tt.noContent {
				t.Errorf("noContent = %v, want %v", c.noContent, tt.noContent)
			}
		})
	}
}

func TestSpanCapturesContent(t *testing.T) {
	for _, on := range []bool{true, false} {
		p, err := Init(context.Background(), WithGetenv(env{}.get), WithoutGlobalTracerProvider(),
			WithContentCapture(on), WithExporterOptions(exporter.WithDestination(exportertest.NewRecorder())))
		if err != nil {
			t.Fatal(err)
		}
		_, s := StartSpan(context.Background(), "llm")
		if got := s.CapturesContent(); got != on {
			t.Errorf("WithContentCapture(%v): Span.CapturesContent() = %v", on, got)
		}
		if got := p.CapturesContent(); got != on {
			t.Errorf("WithContentCapture(%v): Provider.CapturesContent() = %v", on, got)
		}
		s.End()
		if err := p.Shutdown(context.Background()); err != nil {
			t.Fatal(err)
		}
	}
	var nilSpan *Span
	if nilSpan.CapturesContent() {
		t.Error("nil span captures content")
	}
}

func TestInitErrorNamesVariable(t *testing.T) {
	_, err := Init(context.Background(), WithGetenv(env{"MLFLOW_TRACE_SAMPLING_RATIO": "x"}.get))
	if err == nil || !strings.Contains(err.Error(), "MLFLOW_TRACE_SAMPLING_RATIO") {
		t.Fatalf("Init err = %v", err)
	}
	if defaultProvider.Load() != nil {
		t.Fatal("failed Init installed a default provider")
	}
}

// The real process environment is read when no getenv is injected.
func TestInitReadsProcessEnv(t *testing.T) {
	t.Setenv("ENABLE_MLFLOW_TRACING", "false")
	p, err := Init(context.Background(), WithoutGlobalTracerProvider())
	if err != nil {
		t.Fatal(err)
	}
	defer p.Shutdown(context.Background())
	if p.Enabled() {
		t.Fatal("ENABLE_MLFLOW_TRACING=false did not disable tracing")
	}
}

func TestResource(t *testing.T) {
	c, envAttrs, err := newConfig([]Option{
		WithGetenv(env{
			"OTEL_RESOURCE_ATTRIBUTES": "deployment.environment=prod, team=a%20b,service.name=fromattrs",
			"OTEL_SERVICE_NAME":        "agent",
		}.get),
		WithResource(sdkresource.NewSchemaless(attribute.String("team", "c"))),
	})
	if err != nil {
		t.Fatal(err)
	}
	r, err := c.buildResource(envAttrs)
	if err != nil {
		t.Fatal(err)
	}
	got := map[string]string{}
	for _, kv := range r.Attributes() {
		got[string(kv.Key)] = kv.Value.String()
	}
	want := map[string]string{"deployment.environment": "prod", "team": "c", "service.name": "agent", "telemetry.sdk.language": "go"}
	for k, v := range want {
		if got[k] != v {
			t.Errorf("resource %s = %q, want %q (all: %v)", k, got[k], v, got)
		}
	}
}

// The exporter reads its variables through the same injected getenv.
func TestExporterGetsGetenv(t *testing.T) {
	_, err := Init(context.Background(), WithoutGlobalTracerProvider(),
		WithGetenv(env{"MLFLOW_ASYNC_TRACE_LOGGING_MAX_WORKERS": "many"}.get))
	if err == nil || !strings.Contains(err.Error(), "MLFLOW_ASYNC_TRACE_LOGGING_MAX_WORKERS") {
		t.Fatalf("Init err = %v, want the exporter's error naming the variable", err)
	}
}

func TestInitKeepsExistingPropagator(t *testing.T) {
	prevTP := otel.GetTracerProvider()
	t.Cleanup(func() {
		otel.SetTracerProvider(prevTP)
		otel.SetTextMapPropagator(propagation.NewCompositeTextMapPropagator())
	})
	mine := propagation.Baggage{}
	otel.SetTextMapPropagator(mine)
	p, err := Init(context.Background(), WithGetenv(env{}.get), WithDisabled())
	if err != nil {
		t.Fatal(err)
	}
	defer p.Shutdown(context.Background())
	p2, err := Init(context.Background(), WithGetenv(env{}.get), WithExporterOptions(exporter.WithDestination(exportertest.NewRecorder())))
	if err != nil {
		t.Fatal(err)
	}
	defer p2.Shutdown(context.Background())
	if otel.GetTextMapPropagator() != mine {
		t.Error("Init replaced a propagator the program had set")
	}
}
