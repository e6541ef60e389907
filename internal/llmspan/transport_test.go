package llmspan_test

import (
	"context"
	"errors"
	"fmt"
	"io"
	"net/http"
	"strings"
	"sync/atomic"
	"testing"
	"time"

	"github.com/mlflowtrace/mlflowtrace-go/internal/llmspan"
	"github.com/mlflowtrace/mlflowtrace-go/internal/spantest"
	"github.com/mlflowtrace/mlflowtrace-go/internal/sse"
	"github.com/mlflowtrace/mlflowtrace-go/tracing"
)

// scripted answers its attempts in order: a status (0: a connection error).
type scripted struct {
	statuses []int
	n        atomic.Int32
}

func (s *scripted) RoundTrip(req *http.Request) (*http.Response, error) {
	i := int(s.n.Add(1)) - 1
	status := 200
	if i < len(s.statuses) {
		status = s.statuses[i]
	}
	if status == 0 {
		return nil, errors.New("connection refused")
	}
	return &http.Response{StatusCode: status, Header: http.Header{"Content-Type": {"application/json"}},
		Body: io.NopCloser(strings.NewReader(`{"n":1}`)), Request: req}, nil
}

// sdk sends one logical call as google-genai does: every attempt with the
// same header map, an error response it retries closed unread, the final
// one read.
func sdk(ctx context.Context, rt http.RoundTripper, attempts int, retry func(*http.Response, error) bool) error {
	h := http.Header{"Content-Type": {"application/json"}}
	for i := 1; ; i++ {
		req, _ := http.NewRequestWithContext(ctx, http.MethodPost, "http://api.test/v1/models/m:generateContent", strings.NewReader(`{"contents":[]}`))
		req.Header = h
		res, err := rt.RoundTrip(req)
		if i < attempts && retry(res, err) && ctx.Err() == nil {
			if res != nil {
				_ = res.Body.Close()
			}
			select {
			case <-ctx.Done():
				return ctx.Err()
			case <-time.After(time.Millisecond):
			}
			continue
		}
		if err != nil {
			return err
		}
		_, _ = io.ReadAll(res.Body)
		return res.Body.Close()
	}
}

func retryable(res *http.Response, err error) bool {
	return err != nil || res.StatusCode == 429 || res.StatusCode >= 500
}

func TestTransport(t *testing.T) {
	tests := []struct {
		name        string
		statuses    []int
		sdkAttempts int // what the SDK does
		retries     llmspan.Retries
		wantRetries int
		wantStatus  int // the result's status (0: an error without response)
	}{
		{name: "one attempt", sdkAttempts: 1, retries: llmspan.Retries{Attempts: 1}, wantStatus: 200},
		{name: "429 retried, then answered", statuses: []int{429}, sdkAttempts: 3,
			retries: llmspan.Retries{Attempts: 3, Statuses: []int{429}}, wantRetries: 1, wantStatus: 200},
		{name: "connection error retried", statuses: []int{0, 0}, sdkAttempts: 3,
			retries: llmspan.Retries{Attempts: 3, Statuses: []int{429}}, wantRetries: 2, wantStatus: 200},
		{name: "retries exhausted", statuses: []int{503, 503}, sdkAttempts: 2,
			retries: llmspan.Retries{Attempts: 2, Statuses: []int{503}}, wantRetries: 1, wantStatus: 503},
		{name: "retried although the client's options say not (a call's own options)", statuses: []int{503}, sdkAttempts: 2,
			retries: llmspan.Retries{Attempts: 1}, wantRetries: 1, wantStatus: 200},
		{name: "no retries: a connection error ends the call", statuses: []int{0}, sdkAttempts: 1,
			retries: llmspan.Retries{Attempts: 1}},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			f := spantest.Start(t, tracing.WithoutGlobalTracerProvider())
			var got []llmspan.Result
			route := func(*http.Request) (llmspan.Endpoint, bool) {
				return llmspan.Endpoint{Name: "call", Type: tracing.SpanTypeLLM, Start: func(*tracing.Span, []llmspan.Field, bool) llmspan.Recorder {
					return recorderFunc(func(r llmspan.Result) { got = append(got, r) })
				}}, true
			}
			rt := llmspan.Transport(&scripted{statuses: tt.statuses}, route, tt.retries)
			_ = sdk(context.Background(), rt, tt.sdkAttempts, retryable)
			s := f.One(t)
			retries := 0
			for _, e := range s.Events {
				if e.Name == "retry" {
					retries++
				}
			}
			if retries != tt.wantRetries || len(got) != 1 {
				t.Fatalf("%d retry events (want %d), %d results", retries, tt.wantRetries, len(got))
			}
			status := 0
			if got[0].Response != nil {
				status = got[0].Response.StatusCode
			}
			if status != tt.wantStatus || got[0].Attempts != tt.wantRetries+1 {
				t.Errorf("result status %d after %d attempts, want %d", status, got[0].Attempts, tt.wantStatus)
			}
		})
	}
}

type recorderFunc func(llmspan.Result)

func (recorderFunc) Event(sse.Event)                              {}
func (recorderFunc) StreamDone() bool                             { return false }
func (r recorderFunc) Finish(_ *tracing.Span, res llmspan.Result) { r(res) }

func TestTransportSeparateCalls(t *testing.T) {
	f := spantest.Start(t, tracing.WithoutGlobalTracerProvider())
	route := func(*http.Request) (llmspan.Endpoint, bool) {
		return llmspan.Endpoint{Name: "call", Type: tracing.SpanTypeLLM, Start: func(*tracing.Span, []llmspan.Field, bool) llmspan.Recorder {
			return recorderFunc(func(llmspan.Result) {})
		}}, true
	}
	rt := llmspan.Transport(&scripted{}, route, llmspan.Retries{Attempts: 3})
	for i := 0; i < 3; i++ {
		if err := sdk(context.Background(), rt, 1, retryable); err != nil {
			t.Fatal(err)
		}
	}
	if n := len(f.Spans(t)); n != 3 {
		t.Errorf("%d spans for three calls", n)
	}
}

func TestTransportPendingCallEnds(t *testing.T) {
	tests := []struct {
		name    string
		retries llmspan.Retries
		cancel  bool
		want    string // how the call ended
	}{
		{name: "the caller's context ends while the SDK waits", retries: llmspan.Retries{Attempts: 3, Statuses: []int{429}, CallerContext: true, MaxWait: time.Hour}, cancel: true, want: "context canceled"},
		{name: "no retry comes within the longest wait", retries: llmspan.Retries{Attempts: 3, Statuses: []int{429}, MaxWait: time.Millisecond}, want: "status 429"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			f := spantest.Start(t, tracing.WithoutGlobalTracerProvider())
			ended := make(chan string, 1)
			route := func(*http.Request) (llmspan.Endpoint, bool) {
				return llmspan.Endpoint{Name: "call", Type: tracing.SpanTypeLLM, Start: func(*tracing.Span, []llmspan.Field, bool) llmspan.Recorder {
					return recorderFunc(func(r llmspan.Result) {
						if r.Err != nil {
							ended <- r.Err.Error()
						} else {
							ended <- fmt.Sprint("status ", r.Response.StatusCode)
						}
					})
				}}, true
			}
			rt := llmspan.Transport(&scripted{statuses: []int{429}}, route, tt.retries)
			ctx, cancel := context.WithCancel(context.Background())
			defer cancel()
			req, _ := http.NewRequestWithContext(ctx, http.MethodPost, "http://api.test/v1/models/m:generateContent", strings.NewReader(`{}`))
			res, err := rt.RoundTrip(req)
			if err != nil {
				t.Fatal(err)
			}
			_ = res.Body.Close() // unread: the SDK retries
			if tt.cancel {
				cancel()
			}
			f.One(t) // waits for the span to end in the background
			if got := <-ended; got != tt.want {
				t.Errorf("ended with %q, want %q", got, tt.want)
			}
		})
	}
}
