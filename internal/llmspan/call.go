package llmspan

import (
	"context"
	"errors"
	"fmt"
	"net/http"
	"strconv"
	"sync"
	"time"

	"go.opentelemetry.io/otel"
	"go.opentelemetry.io/otel/attribute"
	"go.opentelemetry.io/otel/propagation"

	"github.com/mlflowtrace/mlflowtrace-go/internal/exception"
	"github.com/mlflowtrace/mlflowtrace-go/internal/sse"
	"github.com/mlflowtrace/mlflowtrace-go/tracing"
)

// MaxBody bounds the bytes of one response body a Call keeps by default (a
// JSON answer or an error body); a longer body is still passed through
// whole.
const MaxBody = 16 << 20

// Result is how the final attempt of a call ended.
type Result struct {
	// Response is the final response, nil when the last attempt got none.
	Response *http.Response
	// Body is the JSON body of a non-streamed response or an error response,
	// up to MaxBody bytes (nil for a stream).
	Body []byte
	// Truncated reports that Body was cut at MaxBody.
	Truncated bool
	// Err is the transport error of the last attempt, the error that ended
	// reading its body, or nil; for an Operation that failed, the error the
	// SDK returned.
	Err error
	// ClosedEarly reports that the body was closed before it ended (a stream
	// the caller stopped reading).
	ClosedEarly bool
	// Stream reports that Response is a stream (its bytes went to the
	// call's StreamDecoder: for a Call's Recorder, server-sent events to
	// Recorder.Event).
	Stream bool
	// Attempts is the number of HTTP attempts the call made.
	Attempts int
}

// Recorder is what an integration records for one call of an SDK whose
// streams are server-sent events (a Call). Its methods are called by one
// goroutine at a time.
type Recorder interface {
	// Event is called for every server-sent event of a streamed (2xx,
	// text/event-stream) response as the caller reads it.
	Event(ev sse.Event)
	Finisher
}

// Finisher ends the record of a call: a Call's Recorder, or an
// Operation's.
type Finisher interface {
	// StreamDone reports whether the stream reached its end (the
	// provider's final event, or an error event after which nothing comes):
	// the call then ends at once, even if the SDK reads no further, and a
	// Close after it is not an early close.
	StreamDone() bool
	// Finish records the result on the span; the span is ended after it.
	Finish(span *tracing.Span, r Result)
}

// Call is one logical SDK call: one span over all its HTTP attempts. A
// retried attempt becomes a "retry" event of the span; the span ends when
// the final response's body has been read to its end or closed (the
// outputs of a stream are complete only then), or when the final attempt
// fails — or, with an SDK that ends the call itself (CallTracer,
// Operation), when the SDK says so.
type Call struct {
	span *tracing.Span
	info CallInfo
	rec  Finisher
	// decode gives the decoder of a successful (2xx) response that is a
	// stream, nil for one that is not.
	decode func(*http.Response) StreamDecoder
	// AttemptContextEndsCall: the SDK gives up when the attempt's own
	// context is done (openai-go: a per-attempt timeout ends the call);
	// otherwise only the caller's context ends it (anthropic-sdk-go retries
	// a timed-out attempt).
	attemptCtxEnds bool
	maxBody        int // bytes of a body kept (MaxBody by default)

	// outer is the span around span (Endpoint.Outer), ended after it.
	outer    *tracing.Span
	outerRec Finisher

	mu       sync.Mutex
	attempts int
	ended    bool
	lastFail string // why the previous attempt is retried
	lastCode int
	stopWait func() bool
	// With an SDK that ends the call (CallInfo from a CallTracer or an
	// Operation): whether the last attempt failed and waits for a retry or
	// the SDK's end, its result, the latest body, whether the SDK has ended
	// the call, and the error it ended it with (the call's error then).
	waiting     bool
	waitResult  Result
	currentBody *body
	sdkEnd      bool
	sdkErr      error
}

// NewCall starts tracking a call whose span is span (nil: untraced; the
// Call then only passes requests through). A successful answer with a
// server-sent-event stream goes to rec's Event.
func NewCall(span *tracing.Span, info CallInfo, rec Recorder, attemptCtxEndsCall bool) *Call {
	decode := func(res *http.Response) StreamDecoder {
		if isEventStream(res.Header.Get("Content-Type")) {
			return &sseDecoder{rec: rec}
		}
		return nil
	}
	return &Call{span: span, info: info, rec: rec, decode: decode, attemptCtxEnds: attemptCtxEndsCall, maxBody: MaxBody}
}

// SetBodyLimit sets how many bytes of a JSON or error body the Call keeps
// for Result.Body (MaxBody by default); the body is still passed through
// whole. Call it before Send.
func (c *Call) SetBodyLimit(n int) {
	if n >= 0 {
		c.maxBody = n
	}
}

// Span returns the call's span.
func (c *Call) Span() *tracing.Span { return c.span }

// Send runs one attempt: next(req), then watches the response body.
func (c *Call) Send(req *http.Request, next Next) (*http.Response, error) {
	c.mu.Lock()
	c.attempts++
	n := c.attempts
	if c.stopWait != nil {
		c.stopWait()
		c.stopWait = nil
	}
	c.waiting = false
	ended := c.ended
	fail, code := c.lastFail, c.lastCode
	var prev *body
	if c.info.sdkEnds {
		prev = c.currentBody
	}
	c.mu.Unlock()
	if c.span == nil || ended {
		return next(req)
	}
	// The SDK left the previous answer's body open (it read the error it
	// retries without reaching EOF or closing it): that attempt is over.
	if prev != nil && prev.settle() && code == 0 {
		code = prev.res.StatusCode
	}
	if n > 1 {
		AddRetryEvent(c.span, n-1, code, fail)
	}

	returned := false
	defer func() {
		if !returned { // next panicked (or called runtime.Goexit): end the call, re-panic
			r := recover()
			msg := "the transport did not return (runtime.Goexit)"
			if r != nil {
				msg = fmt.Sprint(r)
			}
			c.end(Result{Err: exception.New("panic", errors.New(msg))})
			if r != nil {
				panic(r)
			}
		}
	}()
	res, err := next(req)
	returned = true
	if err != nil || res == nil {
		if err == nil {
			err = errors.New("no response")
		}
		if c.willRetry(req, nil, false) {
			c.pending(err.Error(), 0, Result{Err: err})
		} else {
			c.end(Result{Err: err})
		}
		return res, err
	}
	if res.Body == nil || res.Body == http.NoBody {
		if res.StatusCode < 400 || !c.willRetry(req, res, false) {
			c.end(Result{Response: res})
		} else {
			c.pending("", res.StatusCode, Result{Response: res})
		}
		return res, err
	}
	var dec StreamDecoder
	if res.StatusCode < 300 && c.decode != nil {
		dec = c.decode(res)
	}
	b := &body{rc: res.Body, owner: c, res: res, req: req, dec: dec}
	res.Body = b
	c.mu.Lock()
	c.currentBody = b
	c.mu.Unlock()
	return res, nil
}

// AddRetryEvent records on span that the SDK retries a call: a "retry"
// event with the number of the retry (1 for the second attempt), and the
// HTTP status (when not 0) or error message (when not "") of the attempt
// that failed.
func AddRetryEvent(span *tracing.Span, retry, status int, failure string) {
	attrs := []attribute.KeyValue{attribute.Int("retry.attempt", retry)}
	if status != 0 {
		attrs = append(attrs, attribute.Int("http.response.status_code", status))
	}
	if failure != "" {
		attrs = append(attrs, attribute.String("error.message", failure))
	}
	span.AddEvent("retry", attrs...)
}

// willRetry predicts whether the SDK sends another attempt after this one
// failed (res nil: no response) or answered res — the retry rule openai-go
// and anthropic-sdk-go share: connection errors, 408, 409, 429 and 5xx, or
// what an x-should-retry header says, while retries are left and the
// caller's context is alive. With an SDK that ends the call itself
// (CallTracer) nothing is predicted: a failed attempt waits for the next
// attempt or the SDK's end, unless the caller's context is done. A
// Transport call follows its Retries. unread reports that the SDK closed the
// error response without reading it.
func (c *Call) willRetry(req *http.Request, res *http.Response, unread bool) bool {
	if !c.info.Tracked() {
		return false
	}
	if r := c.info.retries; r != nil {
		c.mu.Lock()
		n := c.attempts
		c.mu.Unlock()
		return r.again(c.info.ctx, n, res, unread)
	}
	if ctx := c.info.Context(); ctx != nil && ctx.Err() != nil {
		return false
	}
	if c.info.sdkEnds {
		return true
	}
	if c.attemptCtxEnds && req.Context().Err() != nil {
		return false
	}
	c.mu.Lock()
	n := c.attempts
	c.mu.Unlock()
	if n > c.info.MaxRetries() {
		return false
	}
	if res == nil {
		return true
	}
	switch res.Header.Get("x-should-retry") {
	case "true":
		return true
	case "false":
		return false
	}
	s := res.StatusCode
	return s == http.StatusRequestTimeout || s == http.StatusConflict || s == http.StatusTooManyRequests || s >= 500
}

// pending notes a failed attempt (result r) the SDK retries; if the
// caller's context ends before the next attempt starts, the call ends with
// its error. With an SDK that ends the call, its end settles a pending
// attempt instead (sdkEnded). A Transport call that sees no next attempt
// within its Retries' MaxWait ends with r (the SDK gave up after all).
func (c *Call) pending(msg string, code int, r Result) {
	c.mu.Lock()
	defer c.mu.Unlock()
	if c.ended {
		return
	}
	c.lastFail, c.lastCode = msg, code
	if c.info.sdkEnds {
		c.waiting, c.waitResult = true, r
		return
	}
	var stops []func() bool
	if ctx := c.info.Context(); ctx != nil {
		stops = append(stops, context.AfterFunc(ctx, func() {
			c.end(Result{Err: context.Cause(ctx)})
		}))
	}
	if rs := c.info.retries; rs != nil {
		t := time.AfterFunc(rs.maxWait(), func() { c.end(r) })
		stops = append(stops, t.Stop)
	}
	if len(stops) > 0 {
		c.stopWait = func() bool {
			stopped := true
			for _, s := range stops {
				stopped = s() && stopped
			}
			return stopped
		}
	}
}

// sdkEnded is the SDK's end of the call (CallTracer, Operation), with the
// error the SDK's call returned (nil when unknown or none), which becomes
// the call's error: a failed attempt that waited for a retry was the last
// (or the caller's context ended the wait); a body still open is finished
// as closed (the SDK ends the call first, then closes the body); a call
// with no attempt ends as is.
func (c *Call) sdkEnded(err error) {
	c.mu.Lock()
	if c.ended {
		c.mu.Unlock()
		return
	}
	c.sdkEnd, c.sdkErr = true, err
	waiting, r, b := c.waiting, c.waitResult, c.currentBody
	c.mu.Unlock()
	switch {
	case waiting:
		if ctx := c.info.Context(); ctx != nil && ctx.Err() != nil {
			r = Result{Err: context.Cause(ctx)}
		}
		c.end(r)
	case b != nil:
		b.abandon()
		c.end(Result{Response: b.res}) // a body settled before: nothing ended the call
	default:
		c.end(Result{})
	}
}

// streaming reports that the latest attempt answered with a stream that
// has not ended.
func (c *Call) streaming() bool {
	c.mu.Lock()
	b, ended := c.currentBody, c.ended
	c.mu.Unlock()
	return !ended && b != nil && b.dec != nil
}

// end records r and ends the span, once.
func (c *Call) end(r Result) {
	c.mu.Lock()
	if c.ended {
		c.mu.Unlock()
		return
	}
	c.ended = true
	r.Attempts = c.attempts
	if c.sdkErr != nil {
		r.Err = c.sdkErr
	}
	if c.stopWait != nil {
		c.stopWait()
		c.stopWait = nil
	}
	c.mu.Unlock()
	finish(c.rec, c.span, r)
	c.span.End()
	if c.outer != nil {
		finish(c.outerRec, c.outer, r)
		c.outer.End()
	}
	if c.info.onEnd != nil {
		c.info.onEnd()
	}
}

// finish records r on span; a recorder bug must not break the program.
func finish(rec Finisher, span *tracing.Span, r Result) {
	defer func() { _ = recover() }()
	rec.Finish(span, r)
}

func isEventStream(ct string) bool {
	for i := 0; i < len(ct); i++ {
		if ct[i] == ';' {
			ct = ct[:i]
			break
		}
	}
	for len(ct) > 0 && ct[len(ct)-1] == ' ' {
		ct = ct[:len(ct)-1]
	}
	return len(ct) == len("text/event-stream") && (ct == "text/event-stream" || equalFold(ct, "text/event-stream"))
}

func equalFold(a, b string) bool {
	if len(a) != len(b) {
		return false
	}
	for i := 0; i < len(a); i++ {
		x, y := a[i], b[i]
		if 'A' <= x && x <= 'Z' {
			x += 'a' - 'A'
		}
		if 'A' <= y && y <= 'Z' {
			y += 'a' - 'A'
		}
		if x != y {
			return false
		}
	}
	return true
}

// bodyEnd is told how the body b ended (result r). With an SDK that ends
// the call, the end of an earlier attempt's body is not the call's, and an
// error answer waits for the SDK: it may be retried (the SDK read it to
// decide), and the SDK's end says it was the last. With an SDK whose end
// gives its result (Operation), a successful answer waits for it too: the
// SDK may still fail to deserialize it.
func (c *Call) bodyEnd(b *body, r Result) {
	if c.info.sdkEnds {
		c.mu.Lock()
		stale, sdkEnd := b != c.currentBody, c.sdkEnd
		c.mu.Unlock()
		if stale {
			return
		}
		if !sdkEnd && !r.Stream && (r.Response.StatusCode >= 300 || c.info.sdkResult) {
			fail := ""
			if r.Err != nil {
				fail = r.Err.Error()
			}
			c.pending(fail, r.Response.StatusCode, r)
			return
		}
	}
	c.end(r)
}

// retried: a response the SDK closes unread (err nil) or a dropped
// connection while reading a non-streamed answer (err) is retried under the
// SDK's rule; the call then waits for the next attempt.
func (c *Call) retried(b *body, err error) bool {
	if err == nil {
		if b.res.StatusCode < 400 || !c.willRetry(b.req, b.res, true) {
			return false
		}
		c.pending("", b.res.StatusCode, Result{Response: b.res})
		return true
	}
	if b.dec != nil || b.res.StatusCode >= 300 || !c.willRetry(b.req, nil, false) {
		return false
	}
	c.pending(err.Error(), b.res.StatusCode, Result{Response: b.res, Err: err})
	return true
}

// sseDecoder hands the server-sent events of a stream to a Recorder.
type sseDecoder struct {
	rec    Recorder
	parser sse.Parser
}

func (d *sseDecoder) Feed(p []byte) { d.parser.Feed(p, d.event) }
func (d *sseDecoder) Flush()        { d.parser.Flush(d.event) }
func (d *sseDecoder) event(ev sse.Event) {
	defer func() { _ = recover() }()
	d.rec.Event(ev)
}

// StatusText is "404 Not Found".
func StatusText(code int) string { return strconv.Itoa(code) + " " + http.StatusText(code) }

// Inject writes the trace context of span into h with OpenTelemetry's global
// propagator, or W3C trace context when no global propagator is set (as
// after tracing.Init with WithoutGlobalTracerProvider): MLflow's autolog
// sends the span's traceparent with every LLM request.
func Inject(ctx context.Context, span *tracing.Span, h http.Header) {
	ctx = tracing.ContextWithSpan(ctx, span)
	if p := otel.GetTextMapPropagator(); len(p.Fields()) > 0 {
		p.Inject(ctx, propagation.HeaderCarrier(h))
		return
	}
	tracing.InjectHTTPHeaders(ctx, h)
}
