package tracing

import (
	"bufio"
	"context"
	"fmt"
	"io"
	"net/http"
	"net/http/httptest"
	"strings"
	"testing"
	"time"

	"go.opentelemetry.io/otel/codes"

	"github.com/mlflowtrace/mlflowtrace-go/internal/keys"
)

func TestWrapRecordsJSONBodies(t *testing.T) {
	f := setup(t)
	h := Wrap(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		if CurrentSpan(r.Context()) == nil {
			t.Error("no span in the handler's context")
		}
		b, _ := io.ReadAll(r.Body)
		w.Header().Set("Content-Type", "application/json")
		fmt.Fprintf(w, `{"echo":%s}`, b)
	}), WithHandlerSpanType(SpanTypeAgent))
	srv := httptest.NewServer(h)
	defer srv.Close()
	resp, err := http.Post(srv.URL+"/invocations", "application/json", strings.NewReader(`{"input":[{"role":"user","content":"hi"}]}`))
	if err != nil {
		t.Fatal(err)
	}
	body, _ := io.ReadAll(resp.Body)
	resp.Body.Close()
	if string(body) != `{"echo":{"input":[{"role":"user","content":"hi"}]}}` {
		t.Fatalf("body = %s", body)
	}
	s := f.span(t, "POST /invocations")
	a := attrs(s)
	jsonEq(t, a[keys.SpanInputs], `{"input":[{"role":"user","content":"hi"}]}`)
	jsonEq(t, a[keys.SpanOutputs], `{"echo":{"input":[{"role":"user","content":"hi"}]}}`)
	if a[keys.SpanType] != `"AGENT"` || a["http.response.status_code"] != "200" || s.Status().Code != codes.Ok {
		t.Errorf("attrs = %v status %v", a, s.Status())
	}
	if s.Parent().IsValid() {
		t.Error("request without traceparent did not start a new trace")
	}
}

// A traceparent header continues the caller's trace, unless
// WithHandlerNewTrace is given.
func TestWrapTraceparent(t *testing.T) {
	const caller = "4bf92f3577b34da6a3ce929d0e0e4736"
	for _, tt := range []struct {
		name      string
		opts      []WrapOption
		continues bool
	}{
		{name: "continues", continues: true},
		{name: "new trace", opts: []WrapOption{WithHandlerNewTrace()}},
	} {
		t.Run(tt.name, func(t *testing.T) {
			f := setup(t)
			srv := httptest.NewServer(Wrap(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {}), tt.opts...))
			defer srv.Close()
			req, _ := http.NewRequest(http.MethodGet, srv.URL+"/x", nil)
			req.Header.Set("traceparent", "00-"+caller+"-00f067aa0ba902b7-01")
			resp, err := http.DefaultClient.Do(req)
			if err != nil {
				t.Fatal(err)
			}
			resp.Body.Close()
			s := f.span(t, "GET /x")
			if got := s.SpanContext().TraceID().String() == caller && s.Parent().IsRemote(); got != tt.continues {
				t.Errorf("continued the caller's trace = %v, want %v", got, tt.continues)
			}
		})
	}
}

func TestWrapLargeAndTextBodies(t *testing.T) {
	f := setup(t)
	big := strings.Repeat("x", 1000)
	var readLen int
	h := Wrap(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		b, _ := io.ReadAll(r.Body)
		readLen = len(b)
		w.WriteHeader(http.StatusBadGateway)
		io.WriteString(w, big)
	}), WithMaxRequestBody(10), WithMaxResponseBody(20), WithHandlerSpanName("agent"))
	req := httptest.NewRequest("POST", "/x", strings.NewReader(big))
	orig := req.Body
	rr := httptest.NewRecorder()
	h.ServeHTTP(rr, req)
	if readLen != len(big) || rr.Body.Len() != len(big) {
		t.Fatalf("handler read %d, client got %d, want %d", readLen, rr.Body.Len(), len(big))
	}
	if req.Body != orig || req.Context() != context.Background() {
		t.Error("caller's request was modified")
	}
	s := f.span(t, "agent")
	a := attrs(s)
	if a[keys.SpanInputs] != `"xxxxxxxxxx..."` || a[keys.SpanOutputs] != `"xxxxxxxxxxxxxxxxxxxx..."` {
		t.Errorf("inputs %s outputs %s", a[keys.SpanInputs], a[keys.SpanOutputs])
	}
	if s.Status().Code != codes.Error || s.Status().Description != "HTTPError: 502 Bad Gateway" {
		t.Errorf("status = %+v", s.Status())
	}
}

func TestWrapPanic(t *testing.T) {
	f := setup(t)
	h := Wrap(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) { panic("handler bug") }))
	var got any
	func() {
		defer func() { got = recover() }()
		h.ServeHTTP(httptest.NewRecorder(), httptest.NewRequest("GET", "/p", nil))
	}()
	if got != "handler bug" {
		t.Fatalf("recovered %v", got)
	}
	if s := f.span(t, "GET /p"); s.Status().Description != "panic: handler bug" {
		t.Errorf("status = %+v", s.Status())
	}
}

// Server-sent events reach the client while the handler is still running.
func TestWrapStreamsWithFlusher(t *testing.T) {
	f := setup(t)
	release := make(chan struct{})
	h := Wrap(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		fl, ok := w.(http.Flusher)
		if !ok {
			t.Error("wrapped writer is not an http.Flusher")
			return
		}
		w.Header().Set("Content-Type", "text/event-stream")
		for i := range 2 {
			fmt.Fprintf(w, "data: %d\n\n", i)
			fl.Flush()
		}
		<-release
		io.WriteString(w, "data: [DONE]\n\n")
	}))
	srv := httptest.NewServer(h)
	defer srv.Close()
	resp, err := http.Get(srv.URL + "/stream")
	if err != nil {
		t.Fatal(err)
	}
	defer resp.Body.Close()
	br := bufio.NewReader(resp.Body)
	for i := range 2 {
		line, err := br.ReadString('\n')
		if err != nil || line != fmt.Sprintf("data: %d\n", i) {
			t.Fatalf("event %d = %q, %v (before the handler returned)", i, line, err)
		}
		br.ReadString('\n')
	}
	close(release)
	rest, _ := io.ReadAll(br)
	if string(rest) != "data: [DONE]\n\n" {
		t.Fatalf("rest = %q", rest)
	}
	waitFor(t, func() bool { return len(f.ended()) == 1 })
	if out := attrs(f.span(t, "GET /stream"))[keys.SpanOutputs]; !strings.Contains(out, "[DONE]") {
		t.Errorf("outputs = %s", out)
	}
}

func TestWrapHijacker(t *testing.T) {
	setup(t)
	h := Wrap(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		hj, ok := w.(http.Hijacker)
		if !ok {
			t.Error("Hijacker lost")
			return
		}
		conn, brw, err := hj.Hijack()
		if err != nil {
			t.Error(err)
			return
		}
		defer conn.Close()
		brw.WriteString("HTTP/1.1 200 OK\r\nContent-Length: 2\r\nConnection: close\r\n\r\nok")
		brw.Flush()
	}))
	srv := httptest.NewServer(h)
	defer srv.Close()
	resp, err := http.Get(srv.URL)
	if err != nil {
		t.Fatal(err)
	}
	b, _ := io.ReadAll(resp.Body)
	resp.Body.Close()
	if string(b) != "ok" {
		t.Fatalf("body %q", b)
	}
	// httptest.ResponseRecorder is not a Hijacker: the wrapper must not claim to be one.
	Wrap(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		if _, ok := w.(http.Hijacker); ok {
			t.Error("wrapper claims Hijacker over a writer without it")
		}
	})).ServeHTTP(httptest.NewRecorder(), httptest.NewRequest("GET", "/", nil))
}

// A distributed agent is one trace: service A calls service B with the
// trace context in its headers.
func TestPropagationAcrossTwoServers(t *testing.T) {
	f := setup(t)
	b := httptest.NewServer(Wrap(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		_, _ = Do(r.Context(), "b.work", func(context.Context) (int, error) { return 1, nil })
		io.WriteString(w, `"from b"`)
	}), WithHandlerSpanName("service-b")))
	defer b.Close()
	a := httptest.NewServer(Wrap(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		ctx, call := StartSpan(r.Context(), "call b", WithSpanType(SpanTypeTool))
		req, _ := http.NewRequestWithContext(ctx, "GET", b.URL, nil)
		InjectHTTPHeaders(ctx, req.Header)
		resp, err := http.DefaultClient.Do(req)
		if err != nil {
			t.Error(err)
			call.End()
			return
		}
		body, _ := io.ReadAll(resp.Body)
		resp.Body.Close()
		call.End(WithOutputs(string(body)))
		w.Write(body)
	}), WithHandlerSpanName("service-a")))
	defer a.Close()
	resp, err := http.Get(a.URL)
	if err != nil {
		t.Fatal(err)
	}
	io.ReadAll(resp.Body)
	resp.Body.Close()
	waitFor(t, func() bool { return len(f.ended()) == 4 })
	sa, call, sb, work := f.span(t, "service-a"), f.span(t, "call b"), f.span(t, "service-b"), f.span(t, "b.work")
	tid := sa.SpanContext().TraceID()
	if call.SpanContext().TraceID() != tid || sb.SpanContext().TraceID() != tid || work.SpanContext().TraceID() != tid {
		t.Fatal("services recorded different traces")
	}
	if sb.Parent().SpanID() != call.SpanContext().SpanID() || !sb.Parent().IsRemote() {
		t.Error("service B's span is not a child of A's client span")
	}
	if work.Parent().SpanID() != sb.SpanContext().SpanID() {
		t.Error("B's inner span is not under B's request span")
	}
	if attrs(sb)[keys.SpanOutputs] != `"from b"` {
		t.Errorf("b outputs = %s", attrs(sb)[keys.SpanOutputs])
	}
}

func TestWrapDisabledCallsThrough(t *testing.T) {
	p, err := Init(context.Background(), WithDisabled())
	if err != nil {
		t.Fatal(err)
	}
	defer p.Shutdown(context.Background())
	req := httptest.NewRequest("GET", "/", nil)
	called := false
	Wrap(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		called = r == req
	})).ServeHTTP(httptest.NewRecorder(), req)
	if !called {
		t.Error("disabled Wrap did not pass the original request")
	}
}

func waitFor(t *testing.T, cond func() bool) {
	t.Helper()
	deadline := time.Now().Add(5 * time.Second)
	for !cond() {
		if time.Now().After(deadline) {
			t.Fatal("timed out")
		}
		time.Sleep(5 * time.Millisecond)
	}
}
