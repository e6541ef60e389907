package llmspan

import (
	"context"
	"net/http"
	"reflect"
	"slices"
	"sync"
	"time"
)

// Retries is how an SDK without per-call middleware retries a call, for
// Transport (google.golang.org/genai: its HTTPOptions.RetryOptions).
type Retries struct {
	// Attempts is the number of attempts of a call, the first included
	// (0 or 1: the SDK does not retry).
	Attempts int
	// Statuses are the HTTP statuses the SDK retries.
	Statuses []int
	// MaxWait is the longest pause between two attempts (0: one minute).
	// A call whose failed attempt sees no next one within it (plus a
	// margin) ends with that failure.
	MaxWait time.Duration
	// CallerContext reports that a request's context is the caller's (or
	// the SDK's per-call context), so that its end also ends a call waiting
	// for its next attempt. It is false when the HTTP client derives a
	// context per attempt (http.Client.Timeout), which ends with the
	// attempt.
	CallerContext bool
}

// again predicts whether the SDK sends another attempt after attempt n
// failed (res nil: no response). An error response the SDK closed without
// reading it is being retried: the SDK reads the body of a final one.
func (r *Retries) again(ctx context.Context, n int, res *http.Response, unread bool) bool {
	if ctx != nil && ctx.Err() != nil {
		return false
	}
	if unread && res != nil {
		return true
	}
	if n >= r.Attempts {
		return false
	}
	return res == nil || slices.Contains(r.Statuses, res.StatusCode)
}

// retryMargin is added to MaxWait before a pending call ends on its own
// (the SDK's pause is at most MaxWait; building the next attempt is quick).
const retryMargin = time.Second

func (r *Retries) maxWait() time.Duration {
	if r.MaxWait <= 0 {
		return time.Minute + retryMargin
	}
	return r.MaxWait + retryMargin
}

// maxOpenCalls bounds the calls a Transport tracks for their retries.
const maxOpenCalls = 4096

// Transport returns an http.RoundTripper for an SDK that offers no per-call
// middleware but an HTTP client (google.golang.org/genai): it traces each
// logical call routed by route as one span over all its attempts, as
// CallMiddleware does for the SDKs with per-call options, sending every
// attempt through base (http.DefaultTransport when nil).
//
// The attempts of one call are told from other calls by their header map:
// the SDK must send every attempt of a call with the same http.Header map
// (as google.golang.org/genai does: one map per call, built with its
// request) and never share one map between calls. A Transport keeps a call
// it traces in its table, keyed by that map, until the call ends; retries
// predicts whether a failed attempt is followed by another.
func Transport(base http.RoundTripper, route Route, retries Retries) http.RoundTripper {
	if base == nil {
		base = http.DefaultTransport
	}
	return &transport{base: base, route: route, retries: retries, calls: map[uintptr]*openCall{}}
}

type transport struct {
	base    http.RoundTripper
	route   Route
	retries Retries

	mu    sync.Mutex
	calls map[uintptr]*openCall
}

// openCall is a traced call awaiting its end; header keeps its key's map
// alive (so that its address is not reused by another call's map).
type openCall struct {
	header http.Header
	serve  Middleware
}

func (t *transport) RoundTrip(req *http.Request) (*http.Response, error) {
	if req.Header == nil {
		return t.base.RoundTrip(req)
	}
	key := reflect.ValueOf(req.Header).Pointer()
	t.mu.Lock()
	oc := t.calls[key]
	t.mu.Unlock()
	if oc != nil {
		return oc.serve(req, t.base.RoundTrip)
	}

	oc = &openCall{header: req.Header}
	info := CallInfo{retries: &t.retries, onEnd: func() { t.forget(key, oc) }}
	if t.retries.CallerContext {
		info.ctx = req.Context()
	}
	m := &callMiddleware{info: info, route: t.route}
	oc.serve = m.serve
	tracked := t.remember(key, oc)
	res, err := m.serve(req, t.base.RoundTrip)
	if m.call == nil && tracked {
		t.forget(key, oc)
	}
	return res, err
}

func (t *transport) remember(key uintptr, oc *openCall) bool {
	t.mu.Lock()
	defer t.mu.Unlock()
	if len(t.calls) >= maxOpenCalls {
		return false
	}
	t.calls[key] = oc
	return true
}

func (t *transport) forget(key uintptr, oc *openCall) {
	t.mu.Lock()
	if t.calls[key] == oc {
		delete(t.calls, key)
	}
	t.mu.Unlock()
}

// CloseIdleConnections closes the idle connections of the base transport.
func (t *transport) CloseIdleConnections() {
	type closeIdler interface{ CloseIdleConnections() }
	if ci, ok := t.base.(closeIdler); ok {
		ci.CloseIdleConnections()
	}
}
