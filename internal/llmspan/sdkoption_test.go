package llmspan

import (
	"context"
	"net/http"
	"testing"
)

// A request config as the SDKs have it, and their option shape.
type fakeConfig struct {
	MaxRetries  int
	Request     *http.Request
	Middlewares []Middleware
}

type fakeOptionFunc func(*fakeConfig) error

type fakeOption interface{ Apply(*fakeConfig) error }

func (f fakeOptionFunc) Apply(c *fakeConfig) error { return f(c) }

func fakeWithMiddleware(mws ...Middleware) fakeOption {
	return fakeOptionFunc(func(c *fakeConfig) error {
		c.Middlewares = append(c.Middlewares, mws...)
		return nil
	})
}

func TestPerCall(t *testing.T) {
	ctx := context.WithValue(context.Background(), callerKey{}, "caller")
	calls := 0
	var infos []CallInfo
	opt, ok := PerCall(fakeOption.Apply, fakeWithMiddleware, func(info CallInfo) Middleware {
		calls++
		infos = append(infos, info)
		return func(r *http.Request, next Next) (*http.Response, error) { return next(r) }
	}, fakeOption(fakeOptionFunc(func(c *fakeConfig) error { c.MaxRetries = 7; return nil })))
	if !ok {
		t.Fatal("PerCall fell back")
	}
	for i := 0; i < 2; i++ { // two logical calls
		req, _ := http.NewRequestWithContext(ctx, http.MethodPost, "http://x/", nil)
		cfg := &fakeConfig{MaxRetries: 2, Request: req}
		if err := opt.Apply(cfg); err != nil {
			t.Fatal(err)
		}
		if len(cfg.Middlewares) != 1 || cfg.MaxRetries != 7 {
			t.Fatalf("config %+v", cfg)
		}
	}
	if calls != 2 || !infos[0].Tracked() || !infos[0].ReadsConfig() || infos[0].MaxRetries() != 7 || infos[0].Context().Value(callerKey{}) != "caller" {
		t.Errorf("calls %d info %+v", calls, infos)
	}
	if (CallInfo{}).MaxRetries() != DefaultMaxRetries || (CallInfo{}).Context() != nil || (CallInfo{}).Tracked() || (CallInfo{}).ReadsConfig() {
		t.Error("zero CallInfo")
	}
}

// An SDK whose option is not an interface: one middleware, a new call per
// attempt.
type structOption struct{ mws []Middleware }

func TestPerCallFallback(t *testing.T) {
	calls := 0
	apply := func(structOption, *fakeConfig) error { return nil }
	opt, ok := PerCall(apply, func(mws ...Middleware) structOption { return structOption{mws} }, func(info CallInfo) Middleware {
		calls++
		if info.Tracked() {
			t.Error("fallback info is tracked")
		}
		return func(r *http.Request, next Next) (*http.Response, error) { return next(r) }
	})
	if ok || len(opt.mws) != 1 {
		t.Fatalf("ok %v %+v", ok, opt)
	}
	req, _ := http.NewRequest(http.MethodGet, "http://x/", nil)
	for i := 0; i < 3; i++ {
		_, _ = opt.mws[0](req, func(*http.Request) (*http.Response, error) {
			return &http.Response{StatusCode: 200, Body: http.NoBody}, nil
		})
	}
	if calls != 3 {
		t.Errorf("%d calls, want one per attempt", calls)
	}
}

func TestOptions(t *testing.T) {
	var order []int
	o := func(n int) fakeOption {
		return fakeOptionFunc(func(*fakeConfig) error { order = append(order, n); return nil })
	}
	opt, ok := Options(fakeOption.Apply, o(1), o(2))
	if !ok {
		t.Fatal("not an option")
	}
	if err := opt.Apply(&fakeConfig{}); err != nil || len(order) != 2 || order[0] != 1 {
		t.Errorf("%v %v", err, order)
	}
}

// callerKey is a context key of the tests: a value the caller put in its context.
type callerKey struct{}
