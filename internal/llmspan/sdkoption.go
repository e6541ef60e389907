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
// zero value (no SDK configuration at hand) answers the SDKs' defaults.
type CallInfo struct {
	cfg reflect.Value // *requestconfig.RequestConfig of the SDK, or invalid

	// A call of Transport: how the SDK retries, the caller's context (nil
	// when the requests' contexts are not the caller's), and what to do
	// when the call ends.
	retries *Retries
	ctx     context.Context
	onEnd   func()
}

// Tracked reports whether the info comes from the SDK's configuration of one
// logical call, or from a Transport that sees all its attempts (false in
// PerCall's fallback, where each attempt is a call).
func (i CallInfo) Tracked() bool { return i.cfg.IsValid() || i.retries != nil }

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

// Context is the context the caller passed to the SDK method (the SDK's
// RequestConfig.Request context), or nil when unknown. The SDKs stop
// retrying once it is done.
func (i CallInfo) Context() context.Context {
	if i.retries != nil {
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

var errorType = reflect.TypeFor[error]()

// PerCall returns a client option of an SDK (openai-go, anthropic-sdk-go)
// that gives every logical call its own middleware, made by newCall: both
// SDKs apply a client's options once per call, to a fresh request
// configuration, and then run its middlewares once per HTTP attempt. So
// the middleware newCall returns sees every attempt (retries) of one call,
// and nothing else.
//
// withMiddleware is the SDK's option.WithMiddleware. The option it returns
// is a function of the SDK's internal request configuration type; PerCall
// makes a function of that same type (reflect.MakeFunc) which, when the
// SDK applies it, applies withMiddleware(newCall(info)). When the SDK's
// option is not such a function (a future SDK), PerCall returns
// withMiddleware of one middleware that makes a new call for every attempt,
// and ok false: retries are then separate spans.
//
// The options in also are applied to every call before its middleware (not
// in the fallback, which can return only one option).
func PerCall[O any](withMiddleware func(...Middleware) O, newCall func(CallInfo) Middleware, also ...O) (opt O, ok bool) {
	proto := withMiddleware()
	v := reflect.ValueOf(proto)
	if !v.IsValid() {
		return fallback(withMiddleware, newCall), false
	}
	t := v.Type()
	if t.Kind() != reflect.Func || t.NumIn() != 1 || t.NumOut() != 1 || t.IsVariadic() ||
		t.In(0).Kind() != reflect.Pointer || t.Out(0) != errorType {
		return fallback(withMiddleware, newCall), false
	}
	fn := reflect.MakeFunc(t, func(args []reflect.Value) []reflect.Value {
		for _, a := range also {
			if extra := reflect.ValueOf(a); extra.IsValid() && extra.Type() == t {
				if out := extra.Call(args); !out[0].IsNil() {
					return out
				}
			}
		}
		mw := newCall(CallInfo{cfg: args[0]})
		inner := reflect.ValueOf(withMiddleware(mw))
		if !inner.IsValid() || inner.Type() != t {
			return []reflect.Value{reflect.Zero(errorType)}
		}
		return inner.Call(args)
	})
	opt, ok = fn.Interface().(O)
	if !ok {
		return fallback(withMiddleware, newCall), false
	}
	return opt, true
}

func fallback[O any](withMiddleware func(...Middleware) O, newCall func(CallInfo) Middleware) O {
	return withMiddleware(func(req *http.Request, next Next) (*http.Response, error) {
		return newCall(CallInfo{})(req, next)
	})
}
