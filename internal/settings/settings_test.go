package settings

import (
	"bytes"
	"errors"
	"fmt"
	"log/slog"
	"strings"
	"testing"
	"time"

	"github.com/mlflowtrace/mlflowtrace-go/internal/transport"
)

func getenv(m map[string]string) Option {
	return WithGetenv(func(k string) string { return m[k] })
}

// TestTransportFromEnv: the HTTP variables fill the transport config;
// explicit settings (options, applied after) win.
func TestTransportFromEnv(t *testing.T) {
	env := map[string]string{
		"MLFLOW_TRACKING_TOKEN":                    "envtok",
		"MLFLOW_HTTP_REQUEST_MAX_RETRIES":          "2",
		"MLFLOW_HTTP_REQUEST_BACKOFF_FACTOR":       "1",
		"MLFLOW_HTTP_REQUEST_BACKOFF_JITTER":       "0.5",
		"MLFLOW_HTTP_REQUEST_TIMEOUT":              "3",
		"MLFLOW_ASYNC_TRACE_LOGGING_RETRY_TIMEOUT": "7",
		"MLFLOW_TRACKING_INSECURE_TLS":             "TRUE",
	}
	s, err := Resolve(getenv(env), Func(func(s *Settings) { s.Transport.Token = transport.Ptr("explicit") }))
	if err != nil {
		t.Fatal(err)
	}
	c := s.Transport
	if *c.Token != "explicit" || *c.MaxRetries != 2 || *c.BackoffFactor != 1 || *c.BackoffJitter != 0.5 ||
		*c.RequestTimeout != 3*time.Second || *c.RetryTimeout != 7*time.Second || !*c.InsecureTLS ||
		s.RetryTimeout != 7*time.Second {
		t.Errorf("transport = %+v", c)
	}
	for name, val := range map[string]string{
		"MLFLOW_HTTP_REQUEST_MAX_RETRIES":          "x-secret",
		"MLFLOW_HTTP_REQUEST_TIMEOUT":              "-1",
		"MLFLOW_TRACKING_INSECURE_TLS":             "yes-secret",
		"MLFLOW_HTTP_REQUEST_BACKOFF_JITTER":       "nan",
		"MLFLOW_HTTP_REQUEST_BACKOFF_FACTOR":       "0.5", // an int in MLflow
		"MLFLOW_ASYNC_TRACE_LOGGING_RETRY_TIMEOUT": "7.5", // an int in MLflow
	} {
		_, err := Resolve(getenv(map[string]string{name: val}))
		if err == nil || strings.Contains(err.Error(), val) || !strings.Contains(err.Error(), name) {
			t.Errorf("%s=%s: err = %v", name, val, err)
		}
	}
}

// TestResolvedIsNotReadAgain: a Resolved option carries the settings as
// they are; the environment is not read again.
func TestResolvedIsNotReadAgain(t *testing.T) {
	reads := 0
	s, err := Resolve(WithGetenv(func(k string) string { reads++; return map[string]string{"MLFLOW_EXPERIMENT_ID": "7"}[k] }))
	if err != nil {
		t.Fatal(err)
	}
	before := reads
	again, err := Resolve(Resolved(s))
	if err != nil {
		t.Fatal(err)
	}
	if reads != before || again.ExperimentID != "7" || again.Kind != Local || again == s {
		t.Errorf("reads %d→%d, experiment %q kind %v", before, reads, again.ExperimentID, again.Kind)
	}
	other, err := Resolve(Resolved(s), Func(func(s *Settings) { s.TrackingURI = "http://127.0.0.1:1" }))
	if err != nil || other.Kind != Server || s.Kind != Local {
		t.Errorf("an option after Resolved: kind %v (original %v), err %v", other.Kind, s.Kind, err)
	}
}

func TestWhereHidesCredentials(t *testing.T) {
	s, err := Resolve(getenv(map[string]string{"MLFLOW_TRACKING_URI": "https://alice:s3cr3t@mlflow.example.com:8443/prefix?token=x"}))
	if err != nil {
		t.Fatal(err)
	}
	if w := s.Where(); w != "https://mlflow.example.com:8443" {
		t.Errorf("Where = %q", w)
	}
}

type notice struct{ only bool }

func (n notice) Error() string { return "waiting" }
func (n notice) Notice() bool  { return n.only }

// The default handler logs a notice (nothing failed yet) at Warn, anything
// else — a notice with a cause included — at Error.
func TestDefaultErrorHandlerLevels(t *testing.T) {
	var buf bytes.Buffer
	old := slog.Default()
	slog.SetDefault(slog.New(slog.NewTextHandler(&buf, nil)))
	defer slog.SetDefault(old)
	for _, tc := range []struct {
		err  error
		want string
	}{
		{notice{only: true}, "level=WARN"},
		{fmt.Errorf("wrapped: %w", notice{only: true}), "level=WARN"},
		{notice{only: false}, "level=ERROR"},
		{errors.New("connection refused"), "level=ERROR"},
	} {
		buf.Reset()
		DefaultErrorHandler(tc.err)
		if !strings.Contains(buf.String(), tc.want) {
			t.Errorf("%v logged %q, want %s", tc.err, buf.String(), tc.want)
		}
	}
}

// pipelineGarbage sets every variable only the export pipeline reads to a
// value it refuses.
var pipelineGarbage = map[string]string{
	"MLFLOW_ENABLE_ASYNC_TRACE_LOGGING":              "maybe",
	"MLFLOW_ASYNC_TRACE_LOGGING_MAX_WORKERS":         "many",
	"MLFLOW_ASYNC_TRACE_LOGGING_MAX_QUEUE_SIZE":      "-1",
	"MLFLOW_ASYNC_TRACE_LOGGING_MAX_SPAN_BATCH_SIZE": "1.5",
	"MLFLOW_ASYNC_TRACE_LOGGING_MAX_INTERVAL_MILLIS": "soon",
	"MLFLOW_ASYNC_TRACE_LOGGING_RETRY_TIMEOUT":       "0",
	"MLFLOW_TRACE_TIMEOUT_SECONDS":                   "never",
	"MLFLOW_TRACE_TIMEOUT_CHECK_INTERVAL_SECONDS":    "x",
	"MLFLOW_TRACE_BUFFER_TTL_SECONDS":                "x",
	"MLFLOW_TRACE_BUFFER_MAX_SIZE":                   "x",
	"MLFLOWTRACE_SPOOL_MAX_BYTES":                    "abc",
	"MLFLOWTRACE_SPOOL_SYNC":                         "always",
	"MLFLOWTRACE_SPOOL_SYNC_INTERVAL_MILLIS":         "x",
}

// TestForReading: a reader (ForReading) neither reads nor validates the
// pipeline's variables, each of which stops a writer, and still refuses a
// malformed variable it uses, naming it.
func TestForReading(t *testing.T) {
	for name, val := range pipelineGarbage {
		t.Run(name, func(t *testing.T) {
			env := map[string]string{name: val}
			if _, err := Resolve(getenv(env)); err == nil {
				t.Errorf("writer: %s=%s accepted", name, val)
			}
			s, err := Resolve(ForReading(), getenv(env))
			if err != nil {
				t.Fatalf("reader: %v", err)
			}
			if d := defaults(s.Env); s.AsyncLogging != d.AsyncLogging || s.MaxQueueSize != d.MaxQueueSize ||
				s.SpoolDir != "" || s.RetryTimeout != d.RetryTimeout || s.TraceTimeout != 0 {
				t.Errorf("reader read the pipeline's variables: %+v", s)
			}
		})
	}
	t.Run("all at once, any option order", func(t *testing.T) {
		env := map[string]string{"MLFLOWTRACE_SPOOL_DIR": "/nonexistent/spool"}
		for k, v := range pipelineGarbage {
			env[k] = v
		}
		s, err := Resolve(getenv(env), ForReading())
		if err != nil {
			t.Fatal(err)
		}
		if s.SpoolDir != "" {
			t.Errorf("reader read MLFLOWTRACE_SPOOL_DIR: %q", s.SpoolDir)
		}
	})
	for _, tc := range []struct{ name, val string }{
		{"MLFLOW_TRACKING_URI", "http://127.0.0.1:50OO"},
		{"MLFLOW_TRACKING_URI", "ftp://example.com"},
		{"MLFLOW_TRACING_DESTINATION", "a.b.c"},
		{"MLFLOW_HTTP_REQUEST_MAX_RETRIES", "x-secret"},
		{"MLFLOW_HTTP_REQUEST_TIMEOUT", "-1"},
		{"MLFLOW_HTTP_REQUEST_BACKOFF_FACTOR", "x-secret"},
		{"MLFLOW_HTTP_REQUEST_BACKOFF_JITTER", "x-secret"},
		{"MLFLOW_TRACKING_INSECURE_TLS", "yes-secret"},
	} {
		t.Run(tc.name+"="+tc.val, func(t *testing.T) {
			_, err := Resolve(ForReading(), getenv(map[string]string{tc.name: tc.val}))
			if err == nil {
				t.Fatal("accepted")
			}
			if strings.Contains(err.Error(), "secret") {
				t.Errorf("error shows the value: %v", err)
			}
			if !strings.Contains(err.Error(), tc.name) && !strings.Contains(err.Error(), "tracking URI") {
				t.Errorf("error does not name %s: %v", tc.name, err)
			}
		})
	}
}

// TestSQLWarehouseSettings: a reader reads the SQL warehouse variables
// (trimmed; defaults auto-start on, 1200 s); a writer does not; a
// malformed auto-start variable is kept in SQLWarehouseEnvErr, naming the
// variable, for package traces to report, and does not stop other readers.
func TestSQLWarehouseSettings(t *testing.T) {
	env := map[string]string{"MLFLOW_TRACING_SQL_WAREHOUSE_ID": " wh ", "MLFLOW_SQL_WAREHOUSE_AUTO_START": "False",
		"MLFLOW_SQL_WAREHOUSE_AUTO_START_TIMEOUT_SECONDS": "30"}
	s, err := Resolve(ForReading(), getenv(env))
	if err != nil || s.SQLWarehouseID != "wh" || s.SQLWarehouseAutoStart || s.SQLWarehouseStartTimeout != 30*time.Second || s.SQLWarehouseEnvErr != nil {
		t.Errorf("reader: %+v, %v", s, err)
	}
	s, err = Resolve(getenv(env))
	if err != nil || s.SQLWarehouseID != "" || !s.SQLWarehouseAutoStart || s.SQLWarehouseStartTimeout != 1200*time.Second {
		t.Errorf("writer: %q %v %v, %v", s.SQLWarehouseID, s.SQLWarehouseAutoStart, s.SQLWarehouseStartTimeout, err)
	}
	for name, val := range map[string]string{"MLFLOW_SQL_WAREHOUSE_AUTO_START": "maybe-secret", "MLFLOW_SQL_WAREHOUSE_AUTO_START_TIMEOUT_SECONDS": "-1"} {
		s, err := Resolve(ForReading(), getenv(map[string]string{name: val}))
		if err != nil || s.SQLWarehouseEnvErr == nil || !strings.Contains(s.SQLWarehouseEnvErr.Error(), name) || strings.Contains(s.SQLWarehouseEnvErr.Error(), "secret") {
			t.Errorf("%s=%s: %v, %v", name, val, s.SQLWarehouseEnvErr, err)
		}
	}
}
