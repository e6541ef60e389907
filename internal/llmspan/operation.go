package llmspan

import (
	"net/http"

	"github.com/mlflowtrace/mlflowtrace-go/tracing"
)

// Operation is one logical call of an SDK that says itself where a call
// starts and ends and runs its retries inside (aws-sdk-go-v2's middleware
// stack: its Initialize step runs once per call, its Deserialize step once
// per attempt). It is a Call that the SDK ends, as with a CallTracer:
// nothing of the SDK's retry policy is predicted; a retried attempt becomes
// a "retry" event when the next one starts, and an error answer the SDK
// reads waits for the next attempt or the SDK's end. The span ends when
// the SDK returns (Return) — also after a successful answer, whose body
// the SDK may fail to deserialize —, or, for a streamed answer, when the
// stream's body has been read to its end or closed.
type Operation struct {
	call *Call
}

// NewOperation starts tracking a call whose span is span. stream gives the
// decoder of a successful (2xx) response that is a stream, or nil for an
// answer that is not; rec records the result.
func NewOperation(span *tracing.Span, rec Finisher, stream func(*http.Response) StreamDecoder) *Operation {
	return &Operation{call: &Call{span: span, info: CallInfo{sdkEnds: true, sdkResult: true}, rec: rec, decode: stream, maxBody: MaxBody}}
}

// Span returns the operation's span.
func (o *Operation) Span() *tracing.Span { return o.call.span }

// Send runs one attempt: next(req), then watches the response body (kept up
// to MaxBody bytes, or decoded as a stream). From the second attempt on it
// records a "retry" event with the failure of the attempt before.
func (o *Operation) Send(req *http.Request, next Next) (*http.Response, error) {
	return o.call.Send(req, next)
}

// Return tells how the SDK's call returned: err is its error, which
// becomes the call's. The span ends now, unless the call answered with a
// stream (err nil), which ends it when the stream's body ends. The Result
// given to the recorder is the latest attempt's.
func (o *Operation) Return(err error) {
	if err == nil && o.call.streaming() {
		return
	}
	o.call.sdkEnded(err)
}
