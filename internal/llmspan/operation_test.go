package llmspan_test

import (
	"errors"
	"fmt"
	"io"
	"net/http"
	"strconv"
	"strings"
	"testing"

	"github.com/mlflowtrace/mlflowtrace-go/exporter"
	"github.com/mlflowtrace/mlflowtrace-go/internal/llmspan"
	"github.com/mlflowtrace/mlflowtrace-go/internal/spantest"
	"github.com/mlflowtrace/mlflowtrace-go/tracing"
)

// finisher records the Results of an Operation.
type finisher struct {
	done    bool
	results []llmspan.Result
}

func (r *finisher) StreamDone() bool { return r.done }
func (r *finisher) Finish(_ *tracing.Span, res llmspan.Result) {
	r.results = append(r.results, res)
}

// bytesDecoder is a stream decoder that keeps what it is fed.
type bytesDecoder struct{ got strings.Builder }

func (d *bytesDecoder) Feed(p []byte) { d.got.Write(p) }
func (d *bytesDecoder) Flush()        {}

func respond(status int, contentType, body string) llmspan.Next {
	return func(*http.Request) (*http.Response, error) {
		return &http.Response{StatusCode: status, Header: http.Header{"Content-Type": {contentType}}, Body: io.NopCloser(strings.NewReader(body))}, nil
	}
}

// read reads a response body to its end and closes it, as an SDK does.
func read(t *testing.T, res *http.Response, err error) {
	t.Helper()
	if err != nil {
		return
	}
	_, _ = io.ReadAll(res.Body)
	_ = res.Body.Close()
}

func TestOperation(t *testing.T) {
	tests := []struct {
		name     string
		attempts []llmspan.Next
		sdkErr   error
		events   []string // retry events: status or error
		body     string   // the final Result's body
	}{
		{"one attempt", []llmspan.Next{respond(200, "application/json", `{"ok":1}`)}, nil, nil, `{"ok":1}`},
		{"throttled, then answered", []llmspan.Next{respond(429, "application/json", `{"message":"slow"}`), respond(503, "application/json", `{}`),
			respond(200, "application/json", `{"ok":2}`)}, nil, []string{"429", "503"}, `{"ok":2}`},
		{"connection error, then answered", []llmspan.Next{func(*http.Request) (*http.Response, error) { return nil, errors.New("connection reset") },
			respond(200, "application/json", `{"ok":3}`)}, nil, []string{"connection reset"}, `{"ok":3}`},
		{"failed call", []llmspan.Next{respond(400, "application/json", `{"message":"bad"}`)}, errors.New("api error"), nil, `{"message":"bad"}`},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			f := spantest.Start(t, tracing.WithoutGlobalTracerProvider())
			_, span := tracing.StartSpan(t.Context(), "call")
			rec := &finisher{}
			op := llmspan.NewOperation(span, rec, nil)
			req, _ := http.NewRequest(http.MethodPost, "http://api.test/", nil)
			for _, next := range tt.attempts {
				res, err := op.Send(req, next)
				read(t, res, err)
			}
			op.Return(tt.sdkErr)
			op.Return(nil) // once only
			s := f.One(t)
			if len(rec.results) != 1 || string(rec.results[0].Body) != tt.body || rec.results[0].Attempts != len(tt.attempts) ||
				!errors.Is(rec.results[0].Err, tt.sdkErr) {
				t.Fatalf("results %+v", rec.results)
			}
			if len(s.Events) != len(tt.events) {
				t.Fatalf("events %v", s.Events)
			}
			for i, e := range s.Events {
				got := e.Attributes["error.message"]
				if code, ok := e.Attributes["http.response.status_code"].(int64); ok {
					got = strconv.FormatInt(code, 10)
				}
				if e.Name != "retry" || e.Attributes["retry.attempt"] != int64(i+1) || got != tt.events[i] {
					t.Errorf("event %d %v, want %s", i, e, tt.events[i])
				}
			}
		})
	}
}

// A streamed answer ends the call when its body ends, not when the SDK
// returns.
func TestOperationStream(t *testing.T) {
	f := spantest.Start(t, tracing.WithoutGlobalTracerProvider())
	_, span := tracing.StartSpan(t.Context(), "call")
	rec := &finisher{}
	dec := &bytesDecoder{}
	op := llmspan.NewOperation(span, rec, func(res *http.Response) llmspan.StreamDecoder {
		if res.Header.Get("Content-Type") == "application/vnd.amazon.eventstream" {
			return dec
		}
		return nil
	})
	req, _ := http.NewRequest(http.MethodPost, "http://api.test/", nil)
	res, err := op.Send(req, respond(200, "application/vnd.amazon.eventstream", "frames"))
	if err != nil {
		t.Fatal(err)
	}
	op.Return(nil)
	if len(rec.results) != 0 {
		t.Fatal("the call ended before its stream")
	}
	read(t, res, nil)
	if len(rec.results) != 1 || !rec.results[0].Stream || rec.results[0].ClosedEarly || dec.got.String() != "frames" {
		t.Fatalf("results %+v, decoded %q", rec.results, dec.got.String())
	}
	if s := f.One(t); s.Status.Code != exporter.StatusCodeUnset && s.Status.Code != exporter.StatusCodeOK {
		t.Errorf("status %v", s.Status)
	}
}

// An error answer the SDK reads only in part, neither to EOF nor closing
// it, before it retries: the next attempt settles it (its status is the
// retry's), and its late Close does not end the call.
func TestOperationErrorBodyLeftOpen(t *testing.T) {
	f := spantest.Start(t, tracing.WithoutGlobalTracerProvider())
	_, span := tracing.StartSpan(t.Context(), "call")
	rec := &finisher{}
	op := llmspan.NewOperation(span, rec, nil)
	req, _ := http.NewRequest(http.MethodPost, "http://api.test/", nil)
	first, err := op.Send(req, respond(503, "application/json", `{"message":"unavailable"}`))
	if err != nil {
		t.Fatal(err)
	}
	if _, err := first.Body.Read(make([]byte, 4)); err != nil {
		t.Fatal(err)
	}
	res, err := op.Send(req, respond(200, "application/json", `{"ok":5}`))
	read(t, res, err)
	_ = first.Body.Close()
	if len(rec.results) != 0 {
		t.Fatalf("the call ended before the SDK returned: %+v", rec.results)
	}
	op.Return(nil)
	if len(rec.results) != 1 || string(rec.results[0].Body) != `{"ok":5}` || rec.results[0].Attempts != 2 {
		t.Fatalf("results %+v", rec.results)
	}
	s := f.One(t)
	if len(rec.results) != 1 || len(s.Events) != 1 || s.Events[0].Attributes["http.response.status_code"] != int64(503) {
		t.Errorf("results %d, events %v", len(rec.results), s.Events)
	}
}

// A successful answer read to its end waits for the SDK's return, whose
// error (a body it failed to deserialize) becomes the call's; without one
// the result is the answer.
func TestOperationSuccessfulAnswerTakesTheSDKResult(t *testing.T) {
	for _, sdkErr := range []error{nil, errors.New("deserialization failed")} {
		t.Run(fmt.Sprint(sdkErr), func(t *testing.T) {
			spantest.Start(t, tracing.WithoutGlobalTracerProvider())
			_, span := tracing.StartSpan(t.Context(), "call")
			rec := &finisher{}
			op := llmspan.NewOperation(span, rec, nil)
			req, _ := http.NewRequest(http.MethodPost, "http://api.test/", nil)
			res, err := op.Send(req, respond(200, "application/json", `{"output":`))
			read(t, res, err)
			if len(rec.results) != 0 {
				t.Fatalf("the call ended before the SDK returned: %+v", rec.results)
			}
			op.Return(sdkErr)
			if len(rec.results) != 1 || rec.results[0].Err != sdkErr || string(rec.results[0].Body) != `{"output":` {
				t.Fatalf("results %+v, want the body and the error %v", rec.results, sdkErr)
			}
		})
	}
}
