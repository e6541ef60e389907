package llmspan

import (
	"errors"
	"net/http"
	"sync"

	"github.com/mlflowtrace/mlflowtrace-go/tracing"
)

// Operation is one logical call of an SDK that says itself where a call
// starts and ends and runs its retries inside (aws-sdk-go-v2's middleware
// stack: its Initialize step runs once per call, its Deserialize step once
// per attempt): one span over all the call's attempts, like a Call, but
// without predicting the SDK's retry decisions. A retried attempt becomes a
// "retry" event; the span ends when the SDK returns (Return), or, for a
// streamed answer, when the stream's body has been read to its end or
// closed.
type Operation struct {
	span   *tracing.Span
	rec    Finisher
	stream func(*http.Response) StreamDecoder

	mu        sync.Mutex
	attempts  int
	last      Result // how the latest attempt went
	failure   string // the latest attempt's transport error
	streaming bool   // the latest attempt's answer is a stream, which ends the call
	ended     bool
}

// NewOperation starts tracking a call whose span is span. stream gives the
// decoder of a successful (2xx) response that is a stream, or nil for an
// answer that is not; rec records the result.
func NewOperation(span *tracing.Span, rec Finisher, stream func(*http.Response) StreamDecoder) *Operation {
	return &Operation{span: span, rec: rec, stream: stream}
}

// Span returns the operation's span.
func (o *Operation) Span() *tracing.Span { return o.span }

// Send runs one attempt: next(req), then watches the response body (kept up
// to MaxBody bytes, or decoded as a stream). From the second attempt on it
// records a "retry" event with the failure of the attempt before.
func (o *Operation) Send(req *http.Request, next Next) (*http.Response, error) {
	o.mu.Lock()
	o.attempts++
	n, prev, failure, ended := o.attempts, o.last, o.failure, o.ended
	o.last, o.failure, o.streaming = Result{}, "", false
	o.mu.Unlock()
	if ended {
		return next(req)
	}
	if n > 1 {
		status := 0
		if prev.Response != nil {
			status = prev.Response.StatusCode
		}
		AddRetryEvent(o.span, n-1, status, failure)
	}
	res, err := next(req)
	if err != nil || res == nil {
		if err == nil {
			err = errors.New("no response")
		}
		o.mu.Lock()
		o.failure, o.last = err.Error(), Result{Err: err}
		o.mu.Unlock()
		return res, err
	}
	if res.Body == nil || res.Body == http.NoBody {
		o.mu.Lock()
		o.last = Result{Response: res}
		o.mu.Unlock()
		return res, nil
	}
	var dec StreamDecoder
	if res.StatusCode < 300 && o.stream != nil {
		dec = o.stream(res)
	}
	o.mu.Lock()
	o.last, o.streaming = Result{Response: res}, dec != nil
	o.mu.Unlock()
	res.Body = &body{rc: res.Body, owner: o, res: res, req: req, dec: dec}
	return res, nil
}

// Return tells how the SDK's call returned: err is its error. The span
// ends now, unless the call answered with a stream (err nil), which ends it
// when the stream's body ends. The Result given to the recorder is the
// latest attempt's, with err as its Err when the call failed.
func (o *Operation) Return(err error) {
	o.mu.Lock()
	if o.streaming && err == nil {
		o.mu.Unlock()
		return
	}
	r := o.last
	o.mu.Unlock()
	if err != nil {
		r.Err = err
	}
	o.end(r)
}

// end records r and ends the span, once.
func (o *Operation) end(r Result) {
	o.mu.Lock()
	if o.ended {
		o.mu.Unlock()
		return
	}
	o.ended = true
	r.Attempts = o.attempts
	o.mu.Unlock()
	finish(o.rec, o.span, r)
	o.span.End()
}

func (o *Operation) finisher() Finisher { return o.rec }
func (o *Operation) bodyLimit() int     { return MaxBody }

// retried: the SDK retries as it decides; the next attempt's Send tells.
func (o *Operation) retried(*body, error) bool { return false }

// bodyEnd: a stream's end ends the call; another body's end is the
// attempt's result, recorded when the SDK returns.
func (o *Operation) bodyEnd(r Result) {
	o.mu.Lock()
	current := o.last.Response == r.Response
	if current {
		o.last = r
		if r.Err != nil {
			o.failure = r.Err.Error()
		}
	}
	o.mu.Unlock()
	if r.Stream && current {
		o.end(r)
	}
}
