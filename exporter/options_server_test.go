package exporter

import (
	"strings"
	"testing"
	"time"
)

func TestServerOptionsPrecedence(t *testing.T) {
	env := map[string]string{
		"MLFLOW_TRACKING_TOKEN":              "env-token",
		"MLFLOW_TRACKING_USERNAME":           "env-user",
		"MLFLOW_HTTP_REQUEST_TIMEOUT":        "30",
		"MLFLOW_HTTP_REQUEST_MAX_RETRIES":    "3",
		"MLFLOW_HTTP_REQUEST_BACKOFF_FACTOR": "1", // overridden below
	}
	c, err := newConfig([]Option{
		WithGetenv(func(k string) string { return env[k] }),
		WithBearerToken("opt-token"),
		WithRetryBackoff(100*time.Millisecond, -1),
		WithHeaders(map[string]string{"X-A": "1"}),
		WithHeaders(map[string]string{"X-B": "2"}),
	})
	if err != nil {
		t.Fatal(err)
	}
	tc := c.Transport
	if *tc.Token != "opt-token" || *tc.Username != "env-user" || *tc.RequestTimeout != 30*time.Second ||
		*tc.MaxRetries != 3 || *tc.BackoffFactor != 0.1 || tc.BackoffJitter != nil ||
		tc.Headers.Get("X-A") != "1" || tc.Headers.Get("X-B") != "2" {
		t.Errorf("transport config %+v", tc)
	}
	for name, val := range map[string]string{
		"MLFLOW_HTTP_REQUEST_TIMEOUT":     "soon-secret",
		"MLFLOW_TRACKING_INSECURE_TLS":    "maybe-secret",
		"MLFLOW_HTTP_REQUEST_MAX_RETRIES": "-2",
	} {
		_, err := newConfig([]Option{WithGetenv(func(k string) string {
			if k == name {
				return val
			}
			return ""
		})})
		if err == nil || !strings.Contains(err.Error(), name) || strings.Contains(err.Error(), val) {
			t.Errorf("%s=%s: err = %v", name, val, err)
		}
	}
}

func TestServerDestinationNoIO(t *testing.T) {
	c, err := newConfig([]Option{WithGetenv(func(string) string { return "" }), WithTrackingURI("http://user:pw-secret@127.0.0.1:1")})
	if err != nil {
		t.Fatal(err)
	}
	r, err := newServerRoute(&c, func(error) {})
	if err != nil {
		t.Fatal(err)
	}
	if r.spans == nil || !r.carrier || r.streaming == nil {
		t.Error("server destination does not stream spans")
	}
	if strings.Contains(r.where, "pw-secret") || r.where != "http://127.0.0.1:1" {
		t.Errorf("where = %q", r.where)
	}
	_ = r.dest.Shutdown(t.Context())
	c.Transport.URL = "http://[bad"
	if _, err := newServerRoute(&c, func(error) {}); err == nil || strings.Contains(err.Error(), "[bad") {
		t.Errorf("err = %v", err)
	}
	off, err := newConfig([]Option{WithGetenv(func(string) string { return "" }), WithTrackingURI("http://127.0.0.1:1"), WithoutSpanStreaming()})
	if err != nil {
		t.Fatal(err)
	}
	if r, err := newServerRoute(&off, func(error) {}); err != nil || r.spans != nil {
		t.Errorf("WithoutSpanStreaming: spans %v err %v", r.spans, err)
	}
}
