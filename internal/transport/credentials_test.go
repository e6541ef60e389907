package transport

import (
	"context"
	"errors"
	"io"
	"net/http"
	"net/http/httptest"
	"strings"
	"sync"
	"sync/atomic"
	"testing"
)

// rotatingCreds hands out "tok-<n>" and counts refreshes; Invalidate drops
// the token only when the rejected request carried the current one.
type rotatingCreds struct {
	mu        sync.Mutex
	n         int
	current   string
	refreshes int
}

func (r *rotatingCreds) Authorize(req *http.Request) error {
	r.mu.Lock()
	defer r.mu.Unlock()
	if r.current == "" {
		r.n++
		r.refreshes++
		r.current = "tok-" + string(rune('0'+r.n))
	}
	req.Header.Set("Authorization", "Bearer "+r.current)
	return nil
}

func (r *rotatingCreds) Invalidate(rejected *http.Request) {
	r.mu.Lock()
	defer r.mu.Unlock()
	if rejected.Header.Get("Authorization") == "Bearer "+r.current {
		r.current = ""
	}
}

var _ Refresher = (*rotatingCreds)(nil)

func TestCredentialsPerAttempt(t *testing.T) {
	var seen []string
	var mu sync.Mutex
	var calls atomic.Int32
	srv := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		mu.Lock()
		seen = append(seen, r.Header.Get("Authorization"))
		mu.Unlock()
		if calls.Add(1) == 1 {
			w.WriteHeader(503)
		}
	}))
	defer srv.Close()
	n := 0
	cfg := fastConfig(srv.URL)
	cfg.Token = Ptr("static")
	cfg.Credentials = CredentialsFunc(func(r *http.Request) error {
		n++
		r.Header.Set("Authorization", "Bearer dyn-"+string(rune('0'+n)))
		return nil
	})
	c := newClient(t, cfg)
	if _, err := c.Do(context.Background(), &Request{Path: "/x"}); err != nil {
		t.Fatal(err)
	}
	if want := []string{"Bearer dyn-1", "Bearer dyn-2"}; strings.Join(seen, ",") != strings.Join(want, ",") {
		t.Errorf("Authorization per attempt = %v, want %v", seen, want)
	}
}

func TestUnauthorizedRefreshesOnce(t *testing.T) {
	for _, tc := range []struct {
		name      string
		reject    func(auth string) bool
		wantCalls int32
		wantOK    bool
	}{
		{"expired token refreshed", func(a string) bool { return a == "Bearer tok-1" }, 2, true},
		{"still rejected", func(string) bool { return true }, 2, false},
	} {
		t.Run(tc.name, func(t *testing.T) {
			var calls atomic.Int32
			srv := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
				calls.Add(1)
				if tc.reject(r.Header.Get("Authorization")) {
					w.WriteHeader(401)
					_, _ = io.WriteString(w, `{"error_code":"UNAUTHENTICATED","message":"bad token `+r.Header.Get("Authorization")+`"}`)
				}
			}))
			defer srv.Close()
			creds := &rotatingCreds{}
			cfg := fastConfig(srv.URL)
			cfg.Credentials = creds
			c := newClient(t, cfg)
			_, err := c.Do(context.Background(), &Request{Path: "/x"})
			if (err == nil) != tc.wantOK {
				t.Fatalf("err = %v", err)
			}
			if calls.Load() != tc.wantCalls {
				t.Errorf("calls = %d, want %d", calls.Load(), tc.wantCalls)
			}
			if err != nil {
				if StatusCode(err) != 401 {
					t.Errorf("status = %d", StatusCode(err))
				}
				if strings.Contains(err.Error(), "tok-") {
					t.Errorf("error leaks the token: %v", err)
				}
			}
		})
	}
}

func TestForbiddenNotRetried(t *testing.T) {
	var calls atomic.Int32
	srv := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		calls.Add(1)
		w.WriteHeader(403)
	}))
	defer srv.Close()
	cfg := fastConfig(srv.URL)
	cfg.Credentials = &rotatingCreds{}
	c := newClient(t, cfg)
	if _, err := c.Do(context.Background(), &Request{Path: "/x"}); StatusCode(err) != 403 {
		t.Fatalf("err = %v", err)
	}
	if calls.Load() != 1 {
		t.Errorf("calls = %d", calls.Load())
	}
}

func TestAuthorizeErrorFailsAttempt(t *testing.T) {
	var calls atomic.Int32
	srv := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) { calls.Add(1) }))
	defer srv.Close()
	cfg := fastConfig(srv.URL)
	boom := errors.New("token endpoint down")
	cfg.Credentials = CredentialsFunc(func(*http.Request) error { return boom })
	c := newClient(t, cfg)
	_, err := c.Do(context.Background(), &Request{Path: "/x"})
	if !errors.Is(err, boom) || calls.Load() != 0 {
		t.Fatalf("err = %v, calls = %d", err, calls.Load())
	}
}

func TestAbsoluteURLWithoutCredentials(t *testing.T) {
	const sig = "c2lnbmF0dXJlLVNFQ1JFVA"
	var gotAuth, gotStatic, gotOwn string
	var calls atomic.Int32
	store := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		gotAuth, gotStatic, gotOwn = r.Header.Get("Authorization"), r.Header.Get("X-Static"), r.Header.Get("x-amz-meta-a")
		if calls.Add(1) == 1 {
			w.WriteHeader(503) // retried like any call
			return
		}
		w.WriteHeader(403)
		_, _ = io.WriteString(w, "<Error><Message>signature "+r.URL.RawQuery+" does not match</Message></Error>")
	}))
	defer store.Close()
	cfg := fastConfig("http://127.0.0.1:1")
	cfg.Headers = http.Header{"X-Static": {"v"}}
	cfg.Credentials = CredentialsFunc(func(r *http.Request) error {
		r.Header.Set("Authorization", "Bearer workspace")
		return nil
	})
	c := newClient(t, cfg)
	_, err := c.Do(context.Background(), &Request{
		Method: http.MethodPut,
		URL:    store.URL + "/bucket/traces.json?X-Amz-Signature=" + sig + "&X-Amz-Expires=900",
		Header: http.Header{"x-amz-meta-a": {"1"}},
		Body:   []byte("{}"),
	})
	if StatusCode(err) != 403 || calls.Load() != 2 {
		t.Fatalf("err = %v, calls = %d", err, calls.Load())
	}
	if gotAuth != "" || gotStatic != "" || gotOwn != "1" {
		t.Errorf("headers: Authorization %q, static %q, own %q", gotAuth, gotStatic, gotOwn)
	}
	msg := err.Error()
	if strings.Contains(msg, sig) || strings.Contains(msg, "X-Amz-Expires") {
		t.Errorf("error shows the signed query: %s", msg)
	}
	if !strings.Contains(msg, "put "+store.URL+"/bucket/traces.json: status 403") {
		t.Errorf("error = %s", msg)
	}
}

func TestHTTPClientRoundTrip(t *testing.T) {
	var calls atomic.Int32
	srv := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		b, _ := io.ReadAll(r.Body)
		if string(b) != "grant_type=client_credentials" {
			t.Errorf("body = %q", b)
		}
		if calls.Add(1) == 1 {
			w.WriteHeader(502)
			return
		}
		w.Header().Set("Content-Type", "application/json")
		_, _ = io.WriteString(w, `{"access_token":"x"}`)
	}))
	defer srv.Close()
	c := newClient(t, fastConfig(srv.URL))
	resp, err := c.HTTPClient().Post(srv.URL+"/oidc/v1/token", "application/x-www-form-urlencoded", strings.NewReader("grant_type=client_credentials"))
	if err != nil {
		t.Fatal(err)
	}
	defer resp.Body.Close()
	b, _ := io.ReadAll(resp.Body)
	if resp.StatusCode != 200 || string(b) != `{"access_token":"x"}` || calls.Load() != 2 {
		t.Errorf("status %d body %q calls %d", resp.StatusCode, b, calls.Load())
	}
}
