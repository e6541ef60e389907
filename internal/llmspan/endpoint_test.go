package llmspan_test

import (
	"io"
	"net/http"
	"strings"
	"testing"

	"github.com/mlflowtrace/mlflowtrace-go/internal/llmspan"
	"github.com/mlflowtrace/mlflowtrace-go/internal/spantest"
	"github.com/mlflowtrace/mlflowtrace-go/internal/sse"
	"github.com/mlflowtrace/mlflowtrace-go/tracing"
)

type finishRecorder struct{ results []llmspan.Result }

func (r *finishRecorder) Event(sse.Event)  {}
func (r *finishRecorder) StreamDone() bool { return false }
func (r *finishRecorder) Finish(span *tracing.Span, res llmspan.Result) {
	r.results = append(r.results, res)
	span.SetAttribute("finished", string(res.Body))
}

func TestCallMiddleware(t *testing.T) {
	tests := []struct {
		name   string
		path   string
		body   string
		traced bool
	}{
		{"traced endpoint", "/v1/chat", `{"model":"m","n":2}`, true},
		{"other endpoint", "/v1/models", `{"model":"m"}`, false},
		{"body not a JSON object", "/v1/chat", `[1]`, false},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			f := spantest.Start(t, tracing.WithoutGlobalTracerProvider())
			routed := 0
			var fields []llmspan.Field
			rec := &finishRecorder{}
			route := func(req *http.Request) (llmspan.Endpoint, bool) {
				routed++
				return llmspan.Endpoint{Name: "Chat", Type: tracing.SpanTypeChatModel, Start: func(span *tracing.Span, fs []llmspan.Field, capture bool) llmspan.Recorder {
					fields = fs
					if !capture {
						t.Error("content capture is on")
					}
					return rec
				}}, strings.HasSuffix(req.URL.Path, "/chat")
			}
			mw := llmspan.CallMiddleware(llmspan.CallInfo{}, route, true)
			for attempt := 0; attempt < 2; attempt++ {
				req, err := http.NewRequest(http.MethodPost, "http://api.test"+tt.path, strings.NewReader(tt.body))
				if err != nil {
					t.Fatal(err)
				}
				res, err := mw(req, func(sent *http.Request) (*http.Response, error) {
					if (sent != req) != tt.traced || (sent.Header.Get("Traceparent") != "") != tt.traced {
						t.Errorf("traced %v: request cloned %v, traceparent %q", tt.traced, sent != req, sent.Header.Get("Traceparent"))
					}
					if b, _ := io.ReadAll(sent.Body); string(b) != tt.body {
						t.Errorf("body sent %q", b)
					}
					return &http.Response{StatusCode: 200, Header: http.Header{"Content-Type": {"application/json"}},
						Body: io.NopCloser(strings.NewReader(`{"ok":true}`))}, nil
				})
				if err != nil {
					t.Fatal(err)
				}
				_, _ = io.ReadAll(res.Body)
				_ = res.Body.Close()
				if req.Header.Get("Traceparent") != "" {
					t.Error("the caller's request was modified")
				}
			}
			if routed != 1 {
				t.Errorf("route asked %d times, want once a call", routed)
			}
			spans := f.Spans(t)
			if !tt.traced {
				if len(spans) != 0 || len(rec.results) != 0 {
					t.Errorf("untraced call: %d spans, %d results", len(spans), len(rec.results))
				}
				return
			}
			if len(spans) != 1 || len(rec.results) != 1 || len(fields) != 2 || fields[1].Key != "n" {
				t.Fatalf("%d spans, %d results, fields %v", len(spans), len(rec.results), fields)
			}
			s := spans[0]
			if s.Name != "Chat" || spantest.Attr(t, s, "mlflow.spanType") != "CHAT_MODEL" ||
				!spantest.JSONEqual(t, s.Attributes["mlflow.spanInputs"], tt.body) || spantest.Attr(t, s, "finished") != `{"ok":true}` {
				t.Errorf("span %s %v", s.Name, s.Attributes)
			}
		})
	}
}

// TestCallMiddlewareBodyOverLimit: a request body larger than MaxBody (an
// inline image or PDF) is not copied whole, but its call is still traced —
// with its result, and without inputs or request members (the endpoint's
// Start gets no fields).
func TestCallMiddlewareBodyOverLimit(t *testing.T) {
	f := spantest.Start(t, tracing.WithoutGlobalTracerProvider())
	body := `{"model":"m","image":"` + strings.Repeat("A", llmspan.MaxBody) + `"}`
	rec := &finishRecorder{}
	started := false
	var fields []llmspan.Field
	route := func(req *http.Request) (llmspan.Endpoint, bool) {
		return llmspan.Endpoint{Name: "Chat", Type: tracing.SpanTypeChatModel, Start: func(span *tracing.Span, fs []llmspan.Field, capture bool) llmspan.Recorder {
			started, fields = true, fs
			return rec
		}}, true
	}
	req, err := http.NewRequest(http.MethodPost, "http://api.test/v1/chat", strings.NewReader(body))
	if err != nil {
		t.Fatal(err)
	}
	res, err := llmspan.CallMiddleware(llmspan.CallInfo{}, route, true)(req, func(sent *http.Request) (*http.Response, error) {
		if b, _ := io.ReadAll(sent.Body); len(b) != len(body) {
			t.Errorf("sent %d bytes of %d", len(b), len(body))
		}
		return &http.Response{StatusCode: 200, Header: http.Header{"Content-Type": {"application/json"}},
			Body: io.NopCloser(strings.NewReader(`{"ok":true}`))}, nil
	})
	if err != nil {
		t.Fatal(err)
	}
	_, _ = io.ReadAll(res.Body)
	_ = res.Body.Close()
	spans := f.Spans(t)
	if len(spans) != 1 || !started || fields != nil || len(rec.results) != 1 {
		t.Fatalf("%d spans, started %v, fields %v, %d results: want the call traced without its request", len(spans), started, fields, len(rec.results))
	}
	if _, ok := spans[0].Attributes["mlflow.spanInputs"]; ok || spantest.Attr(t, spans[0], "finished") != `{"ok":true}` {
		t.Errorf("span %v", spans[0].Attributes)
	}
}

// stopRecorder ends its stream at a "stop" event.
type stopRecorder struct {
	stopped bool
	results []llmspan.Result
}

func (r *stopRecorder) Event(ev sse.Event) { r.stopped = r.stopped || string(ev.Data) == "stop" }
func (r *stopRecorder) StreamDone() bool   { return r.stopped }
func (r *stopRecorder) Finish(span *tracing.Span, res llmspan.Result) {
	r.results = append(r.results, res)
}

// TestStreamEndsAtFinalEvent: an SDK that stops reading at the provider's
// final (stop or error) event, neither reaching EOF nor closing the body,
// still gets its span ended — at that event.
func TestStreamEndsAtFinalEvent(t *testing.T) {
	f := spantest.Start(t, tracing.WithoutGlobalTracerProvider())
	rec := &stopRecorder{}
	route := func(req *http.Request) (llmspan.Endpoint, bool) {
		return llmspan.Endpoint{Name: "Chat", Type: tracing.SpanTypeChatModel,
			Start: func(*tracing.Span, []llmspan.Field, bool) llmspan.Recorder { return rec }}, true
	}
	pr, pw := io.Pipe()
	defer pw.Close()
	go func() { _, _ = io.WriteString(pw, "data: hello\n\ndata: stop\n\n") }() // then nothing: no EOF
	req, _ := http.NewRequest(http.MethodPost, "http://api.test/v1/chat", strings.NewReader(`{"model":"m"}`))
	res, err := llmspan.CallMiddleware(llmspan.CallInfo{}, route, true)(req, func(*http.Request) (*http.Response, error) {
		return &http.Response{StatusCode: 200, Header: http.Header{"Content-Type": {"text/event-stream"}}, Body: pr}, nil
	})
	if err != nil {
		t.Fatal(err)
	}
	buf := make([]byte, 64)
	for n := 0; n < len("data: hello\n\ndata: stop\n\n"); {
		m, err := res.Body.Read(buf)
		if err != nil {
			t.Fatal(err)
		}
		n += m
	}
	if len(rec.results) != 1 || rec.results[0].ClosedEarly || rec.results[0].Err != nil {
		t.Fatalf("results %+v", rec.results)
	}
	if spans := f.Spans(t); len(spans) != 1 {
		t.Errorf("%d spans", len(spans))
	}
}
