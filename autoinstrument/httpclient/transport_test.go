package httpclient

import (
	"context"
	"fmt"
	"io"
	"net/http"
	"net/http/httptest"
	"runtime"
	"strings"
	"testing"
	"time"

	"go.uber.org/goleak"

	"github.com/mlflowtrace/mlflowtrace-go/exporter"
	"github.com/mlflowtrace/mlflowtrace-go/internal/spantest"
	"github.com/mlflowtrace/mlflowtrace-go/tracing"
)

func TestMain(m *testing.M) { goleak.VerifyTestMain(m) }

var setup = spantest.Start

// api is a small JSON and SSE API; it reports the headers it received.
func api(t *testing.T, got chan<- http.Header) *httptest.Server {
	srv := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		if got != nil {
			got <- r.Header.Clone()
		}
		body, _ := io.ReadAll(r.Body)
		switch r.URL.Path {
		case "/v1/generate":
			w.Header().Set("Content-Type", "application/json")
			w.Header().Set("Set-Cookie", "session=abc")
			w.Header().Set("X-Request-Id", "req-1")
			fmt.Fprintf(w, `{"echo": %s, "text": "hi"}`, body)
		case "/v1/stream":
			w.Header().Set("Content-Type", "text/event-stream")
			for i := 0; i < 3; i++ {
				fmt.Fprintf(w, "data: {\"n\": %d}\n\n", i)
				w.(http.Flusher).Flush()
				time.Sleep(30 * time.Millisecond)
			}
		case "/fail":
			http.Error(w, "boom", http.StatusBadGateway)
		}
	}))
	t.Cleanup(srv.Close)
	return srv
}

func TestJSONCall(t *testing.T) {
	f := setup(t)
	got := make(chan http.Header, 1)
	srv := api(t, got)
	client := &http.Client{Transport: NewTransport(nil, WithSpanType(tracing.SpanTypeLLM))}
	req, _ := http.NewRequest(http.MethodPost, srv.URL+"/v1/generate?api_key=sk-123&model=m1", strings.NewReader(`{"prompt": "Hello"}`))
	req.Header.Set("Authorization", "Bearer sk-secret")
	req.Header.Set("X-Api-Key", "sk-secret2")
	req.Header.Set("Cookie", "c=sk-secret3")
	req.Header.Set("X-Custom-Token", "sk-secret4")
	req.Header.Set("Content-Type", "application/json")
	resp, err := client.Do(req)
	if err != nil {
		t.Fatal(err)
	}
	if _, err := io.ReadAll(resp.Body); err != nil {
		t.Fatal(err)
	}
	resp.Body.Close()
	spans := f.Spans(t)
	if len(spans) != 1 {
		t.Fatalf("%d spans", len(spans))
	}
	s := spans[0]
	if s.Name != "POST /v1/generate" || spantest.Attr(t, s, "mlflow.spanType") != "LLM" {
		t.Errorf("span %s %v", s.Name, s.Attributes["mlflow.spanType"])
	}
	if in := spantest.Attr(t, s, "mlflow.spanInputs").(map[string]any); in["prompt"] != "Hello" {
		t.Errorf("inputs %v", in)
	}
	if out := spantest.Attr(t, s, "mlflow.spanOutputs").(map[string]any); out["text"] != "hi" {
		t.Errorf("outputs %v", out)
	}
	if spantest.Attr(t, s, "http.response.status_code") != 200.0 || spantest.Attr(t, s, "http.request.method") != "POST" {
		t.Error("http attributes")
	}
	if u := spantest.Attr(t, s, "url.full").(string); strings.Contains(u, "sk-123") || !strings.Contains(u, "model=m1") {
		t.Errorf("url.full %s", u)
	}
	if h := spantest.Attr(t, s, "http.response.header").(map[string]any); h["x-request-id"] != "req-1" {
		t.Errorf("response headers %v", h)
	}
	all := strings.Join(func() []string {
		var v []string
		for k, x := range s.Attributes {
			v = append(v, k+"="+x)
		}
		return v
	}(), " ")
	for _, secret := range []string{"sk-secret", "session=abc", "Authorization", "authorization", "x-api-key", "cookie"} {
		if strings.Contains(all, secret) {
			t.Errorf("recorded %q: %s", secret, all)
		}
	}
	sent := <-got
	if tp := sent.Get("Traceparent"); !strings.Contains(tp, s.SpanID.String()) {
		t.Errorf("traceparent %q", tp)
	}
	if req.Header.Get("Traceparent") != "" {
		t.Error("the caller's request was modified")
	}
}

func TestSpanEndsWithTheBody(t *testing.T) {
	f := setup(t)
	srv := api(t, nil)
	client := &http.Client{Transport: NewTransport(nil)}
	resp, err := client.Get(srv.URL + "/v1/stream")
	if err != nil {
		t.Fatal(err)
	}
	returned := time.Now()
	if n := len(f.Spans(t)); n != 0 {
		t.Fatalf("span ended when RoundTrip returned (%d spans)", n)
	}
	if _, err := io.ReadAll(resp.Body); err != nil {
		t.Fatal(err)
	}
	resp.Body.Close()
	spans := f.Spans(t)
	if len(spans) != 1 {
		t.Fatalf("%d spans", len(spans))
	}
	s := spans[0]
	if !s.EndTime.After(returned.Add(40 * time.Millisecond)) {
		t.Errorf("span ended at %v, RoundTrip returned at %v", s.EndTime, returned)
	}
	out := spantest.Attr(t, s, "mlflow.spanOutputs").([]any)
	if len(out) != 3 || out[2].(map[string]any)["n"] != 2.0 {
		t.Errorf("outputs %v", out)
	}
}

func TestFailures(t *testing.T) {
	f := setup(t)
	srv := api(t, nil)
	client := &http.Client{Transport: NewTransport(nil)}
	resp, err := client.Get(srv.URL + "/fail")
	if err != nil {
		t.Fatal(err)
	}
	resp.Body.Close() // closed unread
	if _, err := client.Get("http://127.0.0.1:1/"); err == nil {
		t.Fatal("no error")
	}
	spans := f.Spans(t)
	if len(spans) != 2 {
		t.Fatalf("%d spans", len(spans))
	}
	if spans[0].Status.Code != exporter.StatusCodeError || !strings.Contains(spans[0].Status.Message, "502") {
		t.Errorf("502 status %v", spans[0].Status)
	}
	if spans[1].Status.Code != exporter.StatusCodeError || len(spans[1].Events) != 1 || spans[1].Events[0].Name != "exception" {
		t.Errorf("refused: %v %v", spans[1].Status, spans[1].Events)
	}
}

// roundTripFunc is an http.RoundTripper made of a function.
type roundTripFunc func(*http.Request) (*http.Response, error)

func (f roundTripFunc) RoundTrip(r *http.Request) (*http.Response, error) { return f(r) }

// TestBaseTransportDoesNotReturn: a base transport that panics (or calls
// runtime.Goexit) ends the request's span with the panic, and the panic
// goes on to the caller. The span used to stay open, so the whole trace was
// never exported.
func TestBaseTransportDoesNotReturn(t *testing.T) {
	for _, tc := range []struct {
		name      string
		base      func()
		wantPanic any
		want      string
	}{
		{"panic", func() { panic("transport bug") }, "transport bug", "panic: transport bug"},
		{"Goexit", runtime.Goexit, nil, "panic: the transport did not return (runtime.Goexit)"},
	} {
		t.Run(tc.name, func(t *testing.T) {
			f := setup(t)
			ctx, root := tracing.StartSpan(context.Background(), "root")
			tr := NewTransport(roundTripFunc(func(*http.Request) (*http.Response, error) { tc.base(); return nil, nil }))
			var got any
			done := make(chan struct{})
			go func() {
				defer close(done)
				defer func() { got = recover() }()
				req, _ := http.NewRequestWithContext(ctx, http.MethodGet, "http://api.test/v1/x", nil)
				_, _ = tr.RoundTrip(req)
			}()
			<-done
			root.End()
			if got != tc.wantPanic {
				t.Errorf("caller recovered %v, want %v", got, tc.wantPanic)
			}
			trs := f.Traces(t, 1)
			if len(trs[0].Spans) != 2 {
				t.Fatalf("spans %v", spantest.Names(trs[0].Spans))
			}
			if s := trs[0].Spans[1]; s.Name != "GET /v1/x" || s.Status.Code != exporter.StatusCodeError || s.Status.Message != tc.want {
				t.Errorf("span %s status %+v, want ERROR %q", s.Name, s.Status, tc.want)
			}
		})
	}
}

func TestContentCaptureOffAndDisabled(t *testing.T) {
	f := setup(t, tracing.WithContentCapture(false))
	srv := api(t, nil)
	client := &http.Client{Transport: NewTransport(nil)}
	resp, err := client.Post(srv.URL+"/v1/generate", "application/json", strings.NewReader(`{"prompt": "secret"}`))
	if err != nil {
		t.Fatal(err)
	}
	io.Copy(io.Discard, resp.Body)
	resp.Body.Close()
	s := f.Spans(t)[0]
	for _, k := range []string{"mlflow.spanInputs", "mlflow.spanOutputs"} {
		if _, ok := s.Attributes[k]; ok {
			t.Errorf("%s recorded", k)
		}
	}

	f2 := setup(t, tracing.WithDisabled())
	got := make(chan http.Header, 1)
	srv2 := api(t, got)
	resp, err = client.Post(srv2.URL+"/v1/generate", "application/json", strings.NewReader(`{}`))
	if err != nil {
		t.Fatal(err)
	}
	resp.Body.Close()
	if tp := (<-got).Get("Traceparent"); tp != "" {
		t.Errorf("traceparent %q with tracing off", tp)
	}
	if n := len(f2.Spans(t)); n != 0 {
		t.Errorf("%d spans with tracing off", n)
	}
}
