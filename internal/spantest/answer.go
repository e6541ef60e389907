package spantest

import (
	"io"
	"net/http"
	"net/http/httptest"
	"testing"

	"github.com/mlflowtrace/mlflowtrace-go/exporter"
)

// ServeAnswer starts a server that answers every request 200 with body as
// contentType, closed when the test ends: an API whose answer an SDK may
// not decode (a cut body, a proxy's HTML page).
func ServeAnswer(t testing.TB, contentType, body string) *httptest.Server {
	t.Helper()
	srv := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, _ *http.Request) {
		w.Header().Set("Content-Type", contentType)
		_, _ = io.WriteString(w, body)
	}))
	t.Cleanup(srv.Close)
	return srv
}

// WantDecodeError checks that s ended in error with one exception of type
// JSONDecodeError, as MLflow records the failure of a Python client that
// cannot decode an answer.
func WantDecodeError(t testing.TB, s *exporter.Span) {
	t.Helper()
	if ex := Events(s, "exception"); s.Status.Code != exporter.StatusCodeError || len(ex) != 1 || ex[0].Attributes["exception.type"] != "JSONDecodeError" {
		t.Fatalf("status %v, exceptions %v: want the decoding failure", s.Status, ex)
	}
}
