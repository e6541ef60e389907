package traces_test

import (
	"context"
	"errors"
	"net/http"
	"net/http/httptest"
	"strings"
	"testing"

	"github.com/mlflowtrace/mlflowtrace-go/exporter"
	"github.com/mlflowtrace/mlflowtrace-go/traces"
)

// A server that echoes the caller's credentials in its error bodies: the
// errors the client returns never contain them, and a 404 is still a typed
// not-found.
func TestErrorsNeverCarrySecrets(t *testing.T) {
	const token = "s3cr3t-t0ken-value"
	srv := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		w.Header().Set("Content-Type", "application/json")
		if strings.Contains(r.URL.Path, "/assessments") {
			w.WriteHeader(http.StatusBadRequest)
			_, _ = w.Write([]byte(`{"error_code":"INVALID_PARAMETER_VALUE","message":"bad request from ` + r.Header.Get("Authorization") + `"}`))
			return
		}
		w.WriteHeader(http.StatusNotFound)
		_, _ = w.Write([]byte(`{"error_code":"RESOURCE_DOES_NOT_EXIST","message":"no trace for ` + r.Header.Get("Authorization") + `"}`))
	}))
	defer srv.Close()
	c, err := traces.NewClient(context.Background(), exporter.WithTrackingURI(srv.URL), exporter.WithBearerToken(token),
		exporter.WithGetenv(func(string) string { return "" }), exporter.WithMaxRetries(0))
	if err != nil {
		t.Fatal(err)
	}
	defer c.Close()
	_, err = c.GetTrace(context.Background(), "tr-00000000000000000000000000000001")
	if !errors.Is(err, traces.ErrNotFound) || strings.Contains(err.Error(), token) {
		t.Errorf("GetTrace: %v", err)
	}
	_, err = c.LogFeedback(context.Background(), "tr-00000000000000000000000000000001", traces.Feedback{Value: true})
	if err == nil || strings.Contains(err.Error(), token) || !strings.Contains(err.Error(), "bad request from") {
		t.Errorf("LogFeedback: %v", err)
	}
}
