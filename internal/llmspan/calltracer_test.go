package llmspan_test

import (
	"context"
	"errors"
	"io"
	"net/http"
	"strings"
	"testing"

	"github.com/mlflowtrace/mlflowtrace-go/internal/llmspan"
	"github.com/mlflowtrace/mlflowtrace-go/internal/spantest"
	"github.com/mlflowtrace/mlflowtrace-go/tracing"
)

// sdkCall plays an SDK with its own span per call (anthropic-sdk-go's
// shape): it starts the span with the caller's context, sends each attempt
// in the span's context through mw, reads the final answer's body, closes a
// retried one unread, and ends the span when the call is over. answers are
// the attempts' outcomes: a status code, or 0 for a connection error.
func sdkCall(ctx context.Context, ct *llmspan.CallTracer, answers ...int) {
	spanCtx, span := ct.Tracer("sdk").Start(ctx, "call")
	defer span.End()
	mw := ct.Middleware()
	for i, code := range answers {
		last := i == len(answers)-1
		req, _ := http.NewRequestWithContext(spanCtx, http.MethodPost, "http://api.test/v1/chat", strings.NewReader(`{"model":"m"}`))
		req.GetBody = func() (io.ReadCloser, error) { return io.NopCloser(strings.NewReader(`{"model":"m"}`)), nil }
		res, err := mw(req, func(*http.Request) (*http.Response, error) {
			if code == 0 {
				return nil, errors.New("connection refused")
			}
			return &http.Response{StatusCode: code, Header: http.Header{"Content-Type": {"application/json"}},
				Body: io.NopCloser(strings.NewReader(`{"ok":true}`))}, nil
		})
		if err != nil {
			continue
		}
		if last {
			_, _ = io.ReadAll(res.Body)
		}
		_ = res.Body.Close()
	}
}

func TestCallTracer(t *testing.T) {
	tests := []struct {
		name    string
		answers []int
		retries int
		wantErr bool
	}{
		{"retried then answered", []int{500, 0, 200}, 2, false},
		{"last attempt a connection error", []int{429, 0}, 1, true},
		{"one attempt", []int{200}, 0, false},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			f := spantest.Start(t, tracing.WithoutGlobalTracerProvider())
			rec := &finishRecorder{}
			route := func(*http.Request) (llmspan.Endpoint, bool) {
				return llmspan.Endpoint{Name: "Chat", Type: tracing.SpanTypeChatModel,
					Start: func(*tracing.Span, []llmspan.Field, bool) llmspan.Recorder { return rec }}, true
			}
			ct := llmspan.NewCallTracer(route, nil)
			ctx, parent := tracing.StartSpan(context.Background(), "agent")
			sdkCall(ctx, ct, tt.answers...)
			parent.End()
			spans := f.Spans(t)
			if len(spans) != 2 || ct.Fallbacks() != 0 {
				t.Fatalf("%d spans %v, %d fallbacks", len(spans), spantest.Names(spans), ct.Fallbacks())
			}
			s := spans[1]
			if s.ParentSpanID != spans[0].SpanID {
				t.Error("the call's span is not a child of the caller's")
			}
			retries := 0
			for _, e := range s.Events {
				if e.Name == "retry" {
					retries++
				}
			}
			if retries != tt.retries || len(rec.results) != 1 || (rec.results[0].Err != nil) != tt.wantErr || rec.results[0].Attempts != len(tt.answers) {
				t.Errorf("retries %d status %v results %+v", retries, s.Status, rec.results)
			}
		})
	}
}

// TestCallTracerFallback: an attempt without the SDK's call span (the SDK
// no longer starts one) is a call of its own, and counted.
func TestCallTracerFallback(t *testing.T) {
	f := spantest.Start(t, tracing.WithoutGlobalTracerProvider())
	rec := &finishRecorder{}
	route := func(*http.Request) (llmspan.Endpoint, bool) {
		return llmspan.Endpoint{Name: "Chat", Start: func(*tracing.Span, []llmspan.Field, bool) llmspan.Recorder { return rec }}, true
	}
	ct := llmspan.NewCallTracer(route, nil)
	req, _ := http.NewRequest(http.MethodPost, "http://api.test/v1/chat", strings.NewReader(`{}`))
	req.GetBody = func() (io.ReadCloser, error) { return io.NopCloser(strings.NewReader(`{}`)), nil }
	res, err := ct.Middleware()(req, func(*http.Request) (*http.Response, error) {
		return &http.Response{StatusCode: 200, Body: io.NopCloser(strings.NewReader(`{}`))}, nil
	})
	if err != nil {
		t.Fatal(err)
	}
	_, _ = io.ReadAll(res.Body)
	if ct.Fallbacks() != 1 || len(f.Spans(t)) != 1 {
		t.Errorf("%d fallbacks", ct.Fallbacks())
	}
}

// TestCallTracerEndsOpenBody: an SDK that ends its call span while the
// answer's body is still open (it closes the body after) ends the call
// then, as a body closed at that point: a JSON answer's bytes read so far
// are its result, a stream not at its end was closed early.
func TestCallTracerEndsOpenBody(t *testing.T) {
	tests := []struct {
		name        string
		contentType string
		closedEarly bool
	}{
		{"json answer", "application/json", false},
		{"stream", "text/event-stream", true},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			f := spantest.Start(t, tracing.WithoutGlobalTracerProvider())
			rec := &finishRecorder{}
			route := func(*http.Request) (llmspan.Endpoint, bool) {
				return llmspan.Endpoint{Name: "Chat", Start: func(*tracing.Span, []llmspan.Field, bool) llmspan.Recorder { return rec }}, true
			}
			ct := llmspan.NewCallTracer(route, nil)
			spanCtx, span := ct.Tracer("sdk").Start(context.Background(), "call")
			req, _ := http.NewRequestWithContext(spanCtx, http.MethodPost, "http://api.test/v1/chat", strings.NewReader(`{}`))
			req.GetBody = func() (io.ReadCloser, error) { return io.NopCloser(strings.NewReader(`{}`)), nil }
			res, err := ct.Middleware()(req, func(*http.Request) (*http.Response, error) {
				return &http.Response{StatusCode: 200, Header: http.Header{"Content-Type": {tt.contentType}},
					Body: io.NopCloser(strings.NewReader(`{"ok":true}` + "\n\n"))}, nil
			})
			if err != nil {
				t.Fatal(err)
			}
			buf := make([]byte, 4)
			if _, err := io.ReadFull(res.Body, buf); err != nil {
				t.Fatal(err)
			}
			span.End()
			if len(rec.results) != 1 || len(f.Spans(t)) != 1 {
				t.Fatalf("the SDK's end did not end the call: %d results", len(rec.results))
			}
			r := rec.results[0]
			if r.ClosedEarly != tt.closedEarly || r.Stream != tt.closedEarly || (!r.Stream && string(r.Body) != `{"ok`) {
				t.Errorf("result %+v body %q", r, r.Body)
			}
			_ = res.Body.Close()
			if len(rec.results) != 1 {
				t.Errorf("Close after the end recorded the call again: %d results", len(rec.results))
			}
		})
	}
}
