package llmspan

import (
	"context"
	"net/http"
	"reflect"
)

// Next sends a request on: the rest of an SDK's middleware chain.
type Next = func(*http.Request) (*http.Response, error)

// Middleware is the middleware of openai-go and anthropic-sdk-go: both SDKs
// declare option.Middleware as an alias of this function type.
type Middleware = func(*http.Request, Next) (*http.Response, error)

// CallInfo describes the logical SDK call a middleware was made for. Its
// zero value (nothing known of the call: each attempt is a call of its
// own) answers the SDKs' defaults.
type CallInfo struct {
	cfg     reflect.Value   // PerCall: *requestconfig.RequestConfig of the SDK, or invalid
	ctx     context.Context // CallTracer: the caller's context; Transport: the requests' context (nil when not the caller's)
	sdkEnds bool            // CallTracer: the SDK ends the call (Call.sdkEnded)
	retries *Retries        // Transport: how the SDK retries
	onEnd   func()          // Transport: what to do when the call ends
	// Operation: the SDK's end gives its call's error, also after a
	// successful answer it failed to deserialize.
	sdkResult bool
}

// Tracked reports whether the info describes one logical call (false in
// the fallbacks, where each attempt is a call).
func (i CallInfo) Tracked() bool { return i.sdkEnds || i.cfg.IsValid() || i.retries != nil }

// DefaultMaxRetries is the SDKs' default number of retries.
const DefaultMaxRetries = 2

// MaxRetries is the number of retries the SDK makes for this call (its
// RequestConfig.MaxRetries, read when asked: options applied after ours and
// per-call options count).
func (i CallInfo) MaxRetries() int {
	if f, ok := i.field("MaxRetries"); ok && f.CanInt() {
		return int(f.Int())
	}
	return DefaultMaxRetries
}

// Context is the context the caller passed to the SDK method, or nil when
// unknown. The SDKs stop retrying once it is done.
func (i CallInfo) Context() context.Context {
	if i.ctx != nil {
		return i.ctx
	}
	f, ok := i.field("Request")
	if !ok || f.Kind() != reflect.Pointer || f.IsNil() {
		return nil
	}
	req, ok := f.Interface().(*http.Request)
	if !ok || req == nil {
		return nil
	}
	return req.Context()
}

// ReadsConfig reports whether MaxRetries and Context come from the SDK's
// request configuration (PerCall), as they must for openai-go: false means
// the fields are gone or renamed, and MaxRetries answers the default.
func (i CallInfo) ReadsConfig() bool {
	_, retries := i.field("MaxRetries")
	_, req := i.field("Request")
	return retries && req
}

// field reads an exported field of the SDK's request configuration: the one
// piece of reflection left, for openai-go, which has no public hook that
// says when a call ends (see PerCall).
func (i CallInfo) field(name string) (v reflect.Value, ok bool) {
	defer func() {
		if recover() != nil {
			v, ok = reflect.Value{}, false
		}
	}()
	if !i.cfg.IsValid() || i.cfg.Kind() != reflect.Pointer || i.cfg.IsNil() {
		return reflect.Value{}, false
	}
	s := i.cfg.Elem()
	if s.Kind() != reflect.Struct {
		return reflect.Value{}, false
	}
	f := s.FieldByName(name)
	return f, f.IsValid() && f.CanInterface()
}

// PerCall returns a client option of an SDK that gives every logical call
// its own middleware, made by newCall. The SDK's options are an interface O
// with one method, Apply(C) error, that the SDK calls once per logical call
// with a fresh request configuration C before it runs the configuration's
// middlewares once per HTTP attempt (openai-go: option.RequestOption). So
// the middleware newCall returns sees every attempt (retries) of one call,
// and nothing else.
//
// apply is the method expression of that method (option.RequestOption.Apply):
// it names the configuration type C, so an SDK whose options change shape
// fails to compile here instead of falling back quietly; withMiddleware is
// the SDK's option.WithMiddleware. The options in also are applied to every
// call before its middleware.
//
// Which attempt ends the call is still predicted (Call.willRetry) from the
// SDK's retry policy and its configured retries, read from the
// configuration's exported MaxRetries field (CallInfo): openai-go v3 has no
// public hook that says when a call ends. ok is false when O is not an
// interface PerCall can implement (then each attempt is a call of its own).
func PerCall[O, C any](apply func(O, C) error, withMiddleware func(...Middleware) O, newCall func(CallInfo) Middleware, also ...O) (opt O, ok bool) {
	p := perCallOption[O, C]{apply: apply, withMiddleware: withMiddleware, newCall: newCall, also: also}
	if opt, ok = any(p).(O); ok {
		return opt, true
	}
	return withMiddleware(func(req *http.Request, next Next) (*http.Response, error) {
		return newCall(CallInfo{})(req, next)
	}), false
}

// perCallOption is PerCall's option.
type perCallOption[O, C any] struct {
	apply          func(O, C) error
	withMiddleware func(...Middleware) O
	newCall        func(CallInfo) Middleware
	also           []O
}

// Apply configures one logical call.
func (p perCallOption[O, C]) Apply(cfg C) error {
	for _, o := range p.also {
		if err := p.apply(o, cfg); err != nil {
			return err
		}
	}
	return p.apply(p.withMiddleware(p.newCall(CallInfo{cfg: reflect.ValueOf(cfg)})), cfg)
}

// Options returns one option of an SDK that applies opts in order (see
// PerCall for apply), or ok false when O is not an interface it can
// implement.
func Options[O, C any](apply func(O, C) error, opts ...O) (opt O, ok bool) {
	opt, ok = any(optionList[O, C]{apply: apply, opts: opts}).(O)
	return opt, ok
}

type optionList[O, C any] struct {
	apply func(O, C) error
	opts  []O
}

// Apply applies the options in order.
func (l optionList[O, C]) Apply(cfg C) error {
	for _, o := range l.opts {
		if err := l.apply(o, cfg); err != nil {
			return err
		}
	}
	return nil
}
