package tracing

import (
	"context"
	"io"
	"net/http"
	"net/http/httptest"
	"strings"
	"sync"
	"testing"
	"time"

	"go.opentelemetry.io/otel"
	"go.opentelemetry.io/otel/attribute"
	sdktrace "go.opentelemetry.io/otel/sdk/trace"
	"go.opentelemetry.io/otel/sdk/trace/tracetest"
	"go.opentelemetry.io/otel/trace"
	coltracepb "go.opentelemetry.io/proto/otlp/collector/trace/v1"
	"google.golang.org/protobuf/proto"

	"github.com/mlflowtrace/mlflowtrace-go/exporter"
	"github.com/mlflowtrace/mlflowtrace-go/internal/envconfig"
	"github.com/mlflowtrace/mlflowtrace-go/internal/keys"
)

type otlpReceiver struct {
	*httptest.Server
	mu      sync.Mutex
	paths   []string
	headers []http.Header
	spans   []string
}

// exportOneSpan records one span named name through proc and shuts its
// tracer provider down, which exports it.
func exportOneSpan(t *testing.T, proc sdktrace.SpanProcessor, name string) {
	t.Helper()
	tp := sdktrace.NewTracerProvider(sdktrace.WithSpanProcessor(proc))
	_, s := tp.Tracer("t").Start(context.Background(), name)
	s.End()
	ctx, cancel := context.WithTimeout(context.Background(), 10*time.Second)
	defer cancel()
	if err := tp.Shutdown(ctx); err != nil {
		t.Fatal(err)
	}
}

func newOTLPReceiver(t *testing.T) *otlpReceiver {
	r := &otlpReceiver{}
	r.Server = httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, req *http.Request) {
		b, _ := io.ReadAll(req.Body)
		var msg coltracepb.ExportTraceServiceRequest
		_ = proto.Unmarshal(b, &msg) // otlptracehttp sends uncompressed by default
		r.mu.Lock()
		r.paths = append(r.paths, req.URL.Path)
		r.headers = append(r.headers, req.Header.Clone())
		for _, rs := range msg.ResourceSpans {
			for _, ss := range rs.ScopeSpans {
				for _, s := range ss.Spans {
					r.spans = append(r.spans, s.Name)
				}
			}
		}
		r.mu.Unlock()
	}))
	t.Cleanup(r.Close)
	return r
}

func TestNewOTLPProcessor(t *testing.T) {
	recv := newOTLPReceiver(t)
	for _, tc := range []struct {
		name      string
		env       map[string]string
		dest      bool
		wantProc  bool
		wantMLflw bool
		wantErr   string
		wantPath  string
	}{
		{name: "no endpoint", env: nil, wantMLflw: true},
		{name: "traces endpoint replaces mlflow", env: map[string]string{
			"OTEL_EXPORTER_OTLP_TRACES_ENDPOINT": recv.URL + "/custom/path", "OTEL_EXPORTER_OTLP_PROTOCOL": "http/protobuf",
		}, wantProc: true, wantPath: "/custom/path"},
		{name: "base endpoint gets /v1/traces, dual", env: map[string]string{
			"OTEL_EXPORTER_OTLP_ENDPOINT": recv.URL + "/", "OTEL_EXPORTER_OTLP_TRACES_PROTOCOL": "http/protobuf",
			"MLFLOW_TRACE_ENABLE_OTLP_DUAL_EXPORT": "TRUE", "OTEL_EXPORTER_OTLP_HEADERS": "x-api-key=abc%20def,other=1",
		}, wantProc: true, wantMLflw: true, wantPath: "/v1/traces"},
		{name: "disabled", env: map[string]string{
			"OTEL_EXPORTER_OTLP_ENDPOINT": recv.URL, "MLFLOW_ENABLE_OTLP_EXPORTER": "false",
		}, wantMLflw: true},
		{name: "default protocol grpc", env: map[string]string{"OTEL_EXPORTER_OTLP_ENDPOINT": "http://127.0.0.1:1"}, wantProc: true},
		{name: "grpc without scheme", env: map[string]string{"OTEL_EXPORTER_OTLP_TRACES_ENDPOINT": "127.0.0.1:1"}, wantProc: true},
		{name: "explicit destination wins", env: map[string]string{"OTEL_EXPORTER_OTLP_ENDPOINT": recv.URL}, dest: true, wantMLflw: true},
		{name: "explicit destination and dual", env: map[string]string{
			"OTEL_EXPORTER_OTLP_ENDPOINT": recv.URL, "MLFLOW_TRACE_ENABLE_OTLP_DUAL_EXPORT": "1",
		}, dest: true, wantProc: true, wantMLflw: true},
		// The error names the variable the value came from, never the value.
		{name: "bad protocol", env: map[string]string{"OTEL_EXPORTER_OTLP_ENDPOINT": recv.URL, "OTEL_EXPORTER_OTLP_PROTOCOL": "secretvalue"}, wantErr: "invalid OTEL_EXPORTER_OTLP_PROTOCOL: want grpc or http/protobuf"},
		{name: "bad traces protocol", env: map[string]string{"OTEL_EXPORTER_OTLP_ENDPOINT": recv.URL, "OTEL_EXPORTER_OTLP_TRACES_PROTOCOL": "secretvalue", "OTEL_EXPORTER_OTLP_PROTOCOL": "grpc"}, wantErr: "invalid OTEL_EXPORTER_OTLP_TRACES_PROTOCOL: want grpc or http/protobuf"},
		{name: "bad dual", env: map[string]string{"OTEL_EXPORTER_OTLP_ENDPOINT": recv.URL, "MLFLOW_TRACE_ENABLE_OTLP_DUAL_EXPORT": "yes"}, wantErr: "MLFLOW_TRACE_ENABLE_OTLP_DUAL_EXPORT"},
		{name: "bad headers", env: map[string]string{"OTEL_EXPORTER_OTLP_ENDPOINT": recv.URL, "OTEL_EXPORTER_OTLP_HEADERS": "secretvalue"}, wantErr: "OTEL_EXPORTER_OTLP_HEADERS"},
		{name: "http without scheme", env: map[string]string{"OTEL_EXPORTER_OTLP_ENDPOINT": "host:4318", "OTEL_EXPORTER_OTLP_PROTOCOL": "http/protobuf"}, wantErr: "invalid OTEL_EXPORTER_OTLP_ENDPOINT: want an http(s) URL"},
		{name: "http traces endpoint without scheme", env: map[string]string{"OTEL_EXPORTER_OTLP_TRACES_ENDPOINT": "secretvalue:4318", "OTEL_EXPORTER_OTLP_ENDPOINT": "http://127.0.0.1:1", "OTEL_EXPORTER_OTLP_PROTOCOL": "http/protobuf"}, wantErr: "invalid OTEL_EXPORTER_OTLP_TRACES_ENDPOINT: want an http(s) URL"},
	} {
		t.Run(tc.name, func(t *testing.T) {
			env := envconfig.New(func(k string) string { return tc.env[k] })
			proc, mlflowToo, err := newOTLPProcessor(context.Background(), env, tc.dest, nil)
			if tc.wantErr != "" {
				if err == nil || !strings.Contains(err.Error(), tc.wantErr) || strings.Contains(err.Error(), "secretvalue") {
					t.Fatalf("err = %v, want %q", err, tc.wantErr)
				}
				return
			}
			if err != nil {
				t.Fatal(err)
			}
			if (proc != nil) != tc.wantProc || mlflowToo != tc.wantMLflw {
				t.Fatalf("proc %v mlflowToo %v, want %v %v", proc != nil, mlflowToo, tc.wantProc, tc.wantMLflw)
			}
			if proc == nil {
				return
			}
			defer proc.Shutdown(context.Background())
			if tc.wantPath == "" {
				return
			}
			exportOneSpan(t, proc, "span-"+tc.name)
			recv.mu.Lock()
			defer recv.mu.Unlock()
			last := len(recv.paths) - 1
			if last < 0 || recv.paths[last] != tc.wantPath || recv.spans[len(recv.spans)-1] != "span-"+tc.name {
				t.Fatalf("received paths %v spans %v", recv.paths, recv.spans)
			}
			if tc.env["OTEL_EXPORTER_OTLP_HEADERS"] != "" && recv.headers[last].Get("x-api-key") != "abc def" {
				t.Errorf("headers %v", recv.headers[last])
			}
		})
	}
}

// TestOTLPSpansCarryTheDefaultLogLevel: Span.End leaves the default
// mlflow.spanLogLevel to the exporter; spans exported over OTLP get it as
// MLflow writes it (by type, 40 after an exception), other scopes' spans and
// explicit levels are left alone.
func TestOTLPSpansCarryTheDefaultLogLevel(t *testing.T) {
	mem := tracetest.NewInMemoryExporter()
	tp := sdktrace.NewTracerProvider(sdktrace.WithSyncer(levelingExporter{SpanExporter: mem}))
	defer tp.Shutdown(context.Background())
	ours, other := tp.Tracer(keys.ScopeName), tp.Tracer("other")
	end := func(tr trace.Tracer, name string, f func(trace.Span)) {
		_, s := tr.Start(context.Background(), name)
		f(s)
		s.End()
	}
	end(ours, "tool", func(s trace.Span) { s.SetAttributes(attribute.String(keys.SpanType, `"TOOL"`)) })
	end(ours, "plain", func(trace.Span) {})
	end(ours, "failed", func(s trace.Span) { s.AddEvent("exception") })
	end(ours, "explicit", func(s trace.Span) { s.SetAttributes(attribute.String(keys.SpanLogLevel, "50")) })
	end(other, "foreign", func(trace.Span) {})
	want := map[string]string{"tool": "20", "plain": "10", "failed": "40", "explicit": "50", "foreign": ""}
	for _, s := range mem.GetSpans() {
		got := ""
		for _, a := range s.Attributes {
			if a.Key == keys.SpanLogLevel {
				got = a.Value.AsString()
			}
		}
		if got != want[s.Name] {
			t.Errorf("%s: log level %q, want %q", s.Name, got, want[s.Name])
		}
	}
}

// otelErrors records what reaches OpenTelemetry's global error handler.
type otelErrors struct {
	mu   sync.Mutex
	errs []error
}

func (h *otelErrors) Handle(err error) { h.mu.Lock(); h.errs = append(h.errs, err); h.mu.Unlock() }

// TestOTLPExportErrorsGoToTheErrorHandler: an OTLP export that fails is a
// background error like any other: it reaches the exporter's error handler
// (exporter.WithErrorHandler), the one place package doc promises, and not
// OpenTelemetry's global handler (by default a log.Print of its own).
func TestOTLPExportErrorsGoToTheErrorHandler(t *testing.T) {
	prev := otel.GetErrorHandler()
	global := &otelErrors{}
	otel.SetErrorHandler(global)
	defer otel.SetErrorHandler(prev)

	refuse := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		_, _ = io.Copy(io.Discard, r.Body)
		http.Error(w, "no", http.StatusBadRequest) // not retried by otlptracehttp
	}))
	defer refuse.Close()
	for _, dual := range []string{"false", "true"} {
		t.Run("dual="+dual, func(t *testing.T) {
			global.mu.Lock()
			global.errs = nil
			global.mu.Unlock()
			env := map[string]string{
				"OTEL_EXPORTER_OTLP_TRACES_ENDPOINT":   refuse.URL + "/v1/traces",
				"OTEL_EXPORTER_OTLP_TRACES_PROTOCOL":   "http/protobuf",
				"MLFLOW_TRACE_ENABLE_OTLP_DUAL_EXPORT": dual,
				"MLFLOW_TRACKING_URI":                  t.TempDir(),
			}
			var mu sync.Mutex
			var handled []error
			p, err := Init(context.Background(), WithGetenv(func(k string) string { return env[k] }),
				WithoutGlobalTracerProvider(),
				WithExporterOptions(exporter.WithErrorHandler(func(err error) {
					mu.Lock()
					handled = append(handled, err)
					mu.Unlock()
				})))
			if err != nil {
				t.Fatal(err)
			}
			_, s := p.tracer.Start(context.Background(), "x")
			s.End()
			ctx, cancel := context.WithTimeout(context.Background(), 10*time.Second)
			defer cancel()
			if err := p.Shutdown(ctx); err != nil {
				t.Fatal(err)
			}
			mu.Lock()
			defer mu.Unlock()
			if len(handled) != 1 || !strings.Contains(handled[0].Error(), "OTLP") || !strings.Contains(handled[0].Error(), "400") {
				t.Errorf("error handler got %v, want one OTLP export error naming the 400", handled)
			}
			global.mu.Lock()
			defer global.mu.Unlock()
			if len(global.errs) != 0 {
				t.Errorf("OpenTelemetry's global handler got %v", global.errs)
			}
		})
	}
}

// TestOTLPHeadersOnlyFromGetenv: the OTLP headers are read through the one
// env reader (WithGetenv), like every variable of the SDK: OpenTelemetry's
// exporter must not add headers of its own from the process environment
// when the getenv gives none.
func TestOTLPHeadersOnlyFromGetenv(t *testing.T) {
	t.Setenv("OTEL_EXPORTER_OTLP_TRACES_HEADERS", "x-leak=traces")
	t.Setenv("OTEL_EXPORTER_OTLP_HEADERS", "x-leak=base")
	recv := newOTLPReceiver(t)
	env := envconfig.New(func(k string) string {
		return map[string]string{
			"OTEL_EXPORTER_OTLP_TRACES_ENDPOINT": recv.URL + "/v1/traces",
			"OTEL_EXPORTER_OTLP_TRACES_PROTOCOL": "http/protobuf",
		}[k]
	})
	proc, _, err := newOTLPProcessor(context.Background(), env, false, nil)
	if err != nil {
		t.Fatal(err)
	}
	exportOneSpan(t, proc, "s")
	recv.mu.Lock()
	defer recv.mu.Unlock()
	if len(recv.headers) != 1 || recv.headers[0].Get("x-leak") != "" {
		t.Errorf("requests %d, headers %v: want one, without the process environment's x-leak", len(recv.headers), recv.headers)
	}
}
