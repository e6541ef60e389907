package transport

import (
	"context"
	"errors"
	"io"
	"net"
	"net/http"
	"net/http/httptest"
	"strings"
	"sync/atomic"
	"testing"
	"time"

	"go.uber.org/goleak"
)

func TestMain(m *testing.M) { goleak.VerifyTestMain(m) }

func fastConfig(url string) Config {
	return Config{
		URL:           url,
		MaxRetries:    Ptr(3),
		BackoffFactor: Ptr(0.01),
		BackoffJitter: Ptr(0.0),
	}
}

func newClient(t *testing.T, cfg Config) *Client {
	t.Helper()
	c, err := New(cfg)
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(c.CloseIdleConnections)
	return c
}

func TestRetryStatuses(t *testing.T) {
	for _, tc := range []struct {
		status    int
		wantCalls int32
		wantOK    bool
	}{
		{503, 2, true},
		{500, 2, true},
		{502, 2, true},
		{504, 2, true},
		{429, 2, true},
		{408, 2, true},
		{501, 1, false},
		{404, 1, false},
		{400, 1, false},
		{401, 1, false},
	} {
		t.Run(http.StatusText(tc.status), func(t *testing.T) {
			var calls atomic.Int32
			srv := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
				b, _ := io.ReadAll(r.Body)
				if string(b) != "payload" {
					t.Errorf("attempt %d body = %q", calls.Load()+1, b)
				}
				if calls.Add(1) == 1 {
					w.WriteHeader(tc.status)
					return
				}
				_, _ = io.WriteString(w, `{"ok":true}`)
			}))
			defer srv.Close()
			var retries atomic.Int32
			cfg := fastConfig(srv.URL)
			cfg.OnRetry = func(error, time.Duration) { retries.Add(1) }
			c := newClient(t, cfg)
			resp, err := c.Do(context.Background(), &Request{Method: "POST", Path: "/x", Body: []byte("payload")})
			if (err == nil) != tc.wantOK {
				t.Fatalf("err = %v, want ok %v", err, tc.wantOK)
			}
			if got := calls.Load(); got != tc.wantCalls {
				t.Errorf("calls = %d, want %d", got, tc.wantCalls)
			}
			if got := retries.Load(); got != tc.wantCalls-1 {
				t.Errorf("OnRetry = %d, want %d", got, tc.wantCalls-1)
			}
			if tc.wantOK && string(resp.Body) != `{"ok":true}` {
				t.Errorf("body = %q", resp.Body)
			}
			if !tc.wantOK && StatusCode(err) != tc.status {
				t.Errorf("StatusCode(err) = %d", StatusCode(err))
			}
		})
	}
}

func TestGetBodyRebuiltPerAttempt(t *testing.T) {
	var calls atomic.Int32
	srv := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		b, _ := io.ReadAll(r.Body)
		if string(b) != "fresh" {
			t.Errorf("body = %q", b)
		}
		if calls.Add(1) < 3 {
			w.WriteHeader(503)
		}
	}))
	defer srv.Close()
	c := newClient(t, fastConfig(srv.URL))
	var built int
	_, err := c.Do(context.Background(), &Request{Method: "POST", Path: "/x", GetBody: func() (io.Reader, error) {
		built++
		return strings.NewReader("fresh"), nil
	}})
	if err != nil || built != 3 {
		t.Fatalf("err=%v built=%d", err, built)
	}
}

func TestBackoffMatchesMLflow(t *testing.T) {
	c := newClient(t, Config{URL: "http://127.0.0.1:1", rand: func() float64 { return 0.5 }})
	want := []time.Duration{0, 4500 * time.Millisecond, 8500 * time.Millisecond, 16500 * time.Millisecond,
		32500 * time.Millisecond, 64500 * time.Millisecond, 120 * time.Second}
	for i, w := range want {
		if got := c.backoff(i + 1); got != w {
			t.Errorf("backoff(%d) = %v, want %v", i+1, got, w)
		}
	}
}

func TestRetryAfter(t *testing.T) {
	var calls atomic.Int32
	var first time.Time
	srv := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		if calls.Add(1) == 1 {
			first = time.Now()
			w.Header().Set("Retry-After", "1")
			w.WriteHeader(429)
			return
		}
		if d := time.Since(first); d < 900*time.Millisecond {
			t.Errorf("retried after %v, want >= 1s", d)
		}
	}))
	defer srv.Close()
	c := newClient(t, fastConfig(srv.URL))
	if _, err := c.Do(context.Background(), &Request{Path: "/x"}); err != nil {
		t.Fatal(err)
	}
}

func TestParseRetryAfter(t *testing.T) {
	now := time.Date(2026, 1, 1, 0, 0, 0, 0, time.UTC)
	for in, want := range map[string]time.Duration{
		"":                              0,
		"3":                             3 * time.Second,
		"0.5":                           500 * time.Millisecond,
		"-1":                            0,
		"junk":                          0,
		"Thu, 01 Jan 2026 00:00:10 GMT": 10 * time.Second,
		"Wed, 31 Dec 2025 00:00:10 GMT": 0,
	} {
		if got := parseRetryAfter(in, now); got != want {
			t.Errorf("parseRetryAfter(%q) = %v, want %v", in, got, want)
		}
	}
}

func TestRetryAfterBeyondBudgetGivesUp(t *testing.T) {
	var calls atomic.Int32
	srv := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		calls.Add(1)
		w.Header().Set("Retry-After", "60")
		w.WriteHeader(503)
	}))
	defer srv.Close()
	cfg := fastConfig(srv.URL)
	cfg.RetryTimeout = Ptr(2 * time.Second)
	c := newClient(t, cfg)
	start := time.Now()
	_, err := c.Do(context.Background(), &Request{Path: "/x"})
	var e *Error
	if !errors.As(err, &e) || !e.BudgetExhausted || e.StatusCode != 503 {
		t.Fatalf("err = %#v", err)
	}
	if time.Since(start) > time.Second || calls.Load() != 1 {
		t.Errorf("took %v, %d calls", time.Since(start), calls.Load())
	}
}

func TestNetworkErrorsRetried(t *testing.T) {
	var calls atomic.Int32
	srv := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		if calls.Add(1) <= 2 {
			hj, _ := w.(http.Hijacker)
			conn, _, _ := hj.Hijack()
			if tc, ok := conn.(*net.TCPConn); ok {
				_ = tc.SetLinger(0) // RST
			}
			conn.Close()
			return
		}
	}))
	defer srv.Close()
	c := newClient(t, fastConfig(srv.URL))
	if _, err := c.Do(context.Background(), &Request{Method: "POST", Path: "/x", Body: []byte("b")}); err != nil {
		t.Fatal(err)
	}
	if calls.Load() != 3 {
		t.Errorf("calls = %d", calls.Load())
	}
}

func TestPerAttemptTimeout(t *testing.T) {
	var calls atomic.Int32
	release := make(chan struct{})
	srv := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		if calls.Add(1) == 1 {
			select {
			case <-release:
			case <-r.Context().Done():
			}
		}
	}))
	defer srv.Close()
	defer close(release)
	cfg := fastConfig(srv.URL)
	cfg.RequestTimeout = Ptr(100 * time.Millisecond)
	c := newClient(t, cfg)
	if _, err := c.Do(context.Background(), &Request{Path: "/x"}); err != nil {
		t.Fatal(err)
	}
	if calls.Load() != 2 {
		t.Errorf("calls = %d", calls.Load())
	}
}

func TestContextCancelStopsWaitAndRetries(t *testing.T) {
	var calls atomic.Int32
	srv := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		calls.Add(1)
		w.WriteHeader(503)
	}))
	defer srv.Close()
	cfg := fastConfig(srv.URL)
	cfg.BackoffFactor = Ptr(10.0)
	cfg.MaxRetries = Ptr(5)
	c := newClient(t, cfg)
	ctx, cancel := context.WithTimeout(context.Background(), 300*time.Millisecond)
	defer cancel()
	start := time.Now()
	_, err := c.Do(ctx, &Request{Path: "/x"})
	if err == nil {
		t.Fatal("want error")
	}
	// First retry is immediate (MLflow), the second would wait 20s > deadline.
	if d := time.Since(start); d > 250*time.Millisecond {
		t.Errorf("Do took %v", d)
	}
	if calls.Load() != 2 {
		t.Errorf("calls = %d, want 2", calls.Load())
	}
	// Already-cancelled context: no request at all.
	cctx, ccancel := context.WithCancel(context.Background())
	ccancel()
	before := calls.Load()
	if _, err := c.Do(cctx, &Request{Path: "/x"}); !errors.Is(err, context.Canceled) {
		t.Errorf("err = %v", err)
	}
	if calls.Load() != before {
		t.Error("request sent after cancel")
	}
}

func TestBoundedResponse(t *testing.T) {
	srv := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		_, _ = w.Write(make([]byte, 2048))
	}))
	defer srv.Close()
	cfg := fastConfig(srv.URL)
	cfg.MaxResponseBytes = 1024
	c := newClient(t, cfg)
	_, err := c.Do(context.Background(), &Request{Path: "/x"})
	if err == nil || !strings.Contains(err.Error(), "too large") {
		t.Fatalf("err = %v", err)
	}
}

func TestMLflowErrorCode(t *testing.T) {
	srv := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		w.WriteHeader(404)
		_, _ = io.WriteString(w, `{"error_code":"ENDPOINT_NOT_FOUND","message":"No API found"}`)
	}))
	defer srv.Close()
	c := newClient(t, fastConfig(srv.URL+"/prefix/"))
	_, err := c.Do(context.Background(), &Request{Method: "POST", Path: "/api/3.0/mlflow/traces?a=b"})
	if ErrorCode(err) != "ENDPOINT_NOT_FOUND" || StatusCode(err) != 404 {
		t.Fatalf("err = %v", err)
	}
	if want := "post /api/3.0/mlflow/traces: status 404 ENDPOINT_NOT_FOUND: No API found"; err.Error() != want {
		t.Errorf("Error() = %q, want %q", err.Error(), want)
	}
}

func TestAuthHeadersAndSecretsNeverInErrors(t *testing.T) {
	const token, user, pass = "tok-SECRET-123", "alice", "pw-SECRET-456"
	for _, tc := range []struct {
		name     string
		cfg      Config
		wantAuth string
	}{
		{"bearer", Config{Token: Ptr(token)}, "Bearer " + token},
		{"basic", Config{Username: Ptr(user), Password: Ptr(pass), Token: Ptr(token)}, "Basic YWxpY2U6cHctU0VDUkVULTQ1Ng=="},
		{"userinfo", Config{}, "Basic YWxpY2U6cHctU0VDUkVULTQ1Ng=="},
		{"header", Config{Headers: http.Header{"X-Api-Key": {token}}}, ""},
	} {
		t.Run(tc.name, func(t *testing.T) {
			var gotAuth string
			srv := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
				gotAuth = r.Header.Get("Authorization")
				_, p, _ := r.BasicAuth()
				// A hostile server echoes every credential back.
				w.WriteHeader(400)
				_, _ = io.WriteString(w, `{"error_code":"BAD","message":"auth `+gotAuth+` key `+r.Header.Get("X-Api-Key")+` `+p+`"}`)
			}))
			defer srv.Close()
			cfg := tc.cfg
			cfg.URL = srv.URL
			if tc.name == "userinfo" {
				cfg.URL = strings.Replace(srv.URL, "http://", "http://"+user+":"+pass+"@", 1)
			}
			cfg.MaxRetries = Ptr(0)
			c := newClient(t, cfg)
			if strings.Contains(c.BaseURL(), pass) {
				t.Errorf("BaseURL leaks password")
			}
			_, err := c.Do(context.Background(), &Request{Path: "/x"})
			if gotAuth != tc.wantAuth {
				t.Errorf("Authorization = %q, want %q", gotAuth, tc.wantAuth)
			}
			msg := err.Error()
			for _, s := range []string{token, pass, "YWxpY2U6cHctU0VDUkVULTQ1Ng=="} {
				if strings.Contains(msg, s) {
					t.Errorf("error leaks %q: %s", s, msg)
				}
			}
		})
	}
	// Connection errors: the URL with user info never appears.
	c := newClient(t, Config{URL: "http://alice:" + pass + "@127.0.0.1:1", MaxRetries: Ptr(0)})
	_, err := c.Do(context.Background(), &Request{Path: "/x"})
	if err == nil || strings.Contains(err.Error(), pass) {
		t.Errorf("err = %v", err)
	}
	if _, err := New(Config{URL: "ftp://alice:" + pass + "@h"}); err == nil || strings.Contains(err.Error(), pass) {
		t.Errorf("New err = %v", err)
	}
}

// A response read into a buffer of its Content-Length is still read to its
// end, so its connection carries the next request; chunked answers (no
// length) and empty ones too.
func TestDoReadsBodiesToTheEnd(t *testing.T) {
	srv := httptest.NewUnstartedServer(bodiesHandler)
	conns := connCounter(srv)
	srv.Start()
	defer srv.Close()
	c := newClient(t, fastConfig(srv.URL))
	for i, tt := range []struct{ path, want string }{
		{"/sized", "GET /sized "}, {"/chunked", "part1-part2"}, {"/empty", ""}, {"/sized", "GET /sized "},
	} {
		resp, err := c.Do(context.Background(), &Request{Path: tt.path})
		if err != nil || string(resp.Body) != tt.want {
			t.Fatalf("request %d %s: %q, %v", i, tt.path, resp.Body, err)
		}
	}
	if n := conns.Load(); n != 1 {
		t.Errorf("connections = %d, want 1 (every body read to its end)", n)
	}
}

func TestReleasedAnswerBufferReused(t *testing.T) {
	srv := httptest.NewServer(bodiesHandler)
	defer srv.Close()
	c := newClient(t, fastConfig(srv.URL))
	ctx := context.Background()
	first, err := c.Do(ctx, &Request{Path: "/sized"})
	if err != nil || string(first.Body) != "GET /sized " {
		t.Fatalf("first: %q, %v", first.Body, err)
	}
	buf := &first.Body[:1][0]
	first.Release()
	first.Release() // a second Release does nothing
	if first.Body != nil {
		t.Fatalf("Body after Release = %q, want nil", first.Body)
	}
	second, err := c.Do(ctx, &Request{Path: "/again"})
	if err != nil || string(second.Body) != "GET /again " {
		t.Fatalf("second: %q, %v", second.Body, err)
	}
	if &second.Body[:1][0] != buf {
		t.Error("the released buffer was not reused for the next answer of a known length")
	}
	// An answer without a length is read as before, not into a pooled
	// buffer; releasing it (or nothing) keeps its body.
	chunked, err := c.Do(ctx, &Request{Path: "/chunked"})
	if err != nil || string(chunked.Body) != "part1-part2" {
		t.Fatalf("chunked: %q, %v", chunked.Body, err)
	}
	chunked.Release()
	if string(chunked.Body) != "part1-part2" {
		t.Errorf("chunked Body after Release = %q", chunked.Body)
	}
	var none *Response
	none.Release()
	second.Release()
}
