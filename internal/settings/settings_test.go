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
