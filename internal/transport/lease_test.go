package transport

import (
	"context"
	"io"
	"net/http"
	"net/http/httptest"
	"strings"
	"sync/atomic"
	"testing"
	"time"
)

// lateCloser closes every request body only some time after RoundTrip
// returned, as net/http's Transport may.
type lateCloser struct {
	closed chan struct{}
}

func (rt *lateCloser) RoundTrip(req *http.Request) (*http.Response, error) {
	body, _ := io.ReadAll(req.Body)
	go func() {
		time.Sleep(20 * time.Millisecond)
		_ = req.Body.Close()
		close(rt.closed)
	}()
	return &http.Response{
		StatusCode: 200, Header: http.Header{}, ContentLength: int64(len(body)),
		Body: io.NopCloser(strings.NewReader(string(body))), Request: req,
	}, nil
}

// onPut makes putBody call f for every buffer returned to the pool.
func onPut(t *testing.T, f func()) {
	t.Helper()
	old := putBody
	putBody = func(bp *[]byte, b []byte) {
		f()
		old(bp, b)
	}
	t.Cleanup(func() { putBody = old })
}

// appendPayload is an AppendBody that counts its calls.
func appendPayload(calls *atomic.Int32) func([]byte) []byte {
	return func(b []byte) []byte {
		calls.Add(1)
		return append(b, "payload"...)
	}
}

func TestPooledBodyReturnedAfterEveryAttemptClosedIt(t *testing.T) {
	t.Run("own connections, retried", func(t *testing.T) {
		var calls atomic.Int32
		srv := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
			b, _ := io.ReadAll(r.Body)
			if string(b) != "payload" || r.ContentLength != 7 || len(r.TransferEncoding) != 0 {
				t.Errorf("body %q, length %d, transfer encoding %v", b, r.ContentLength, r.TransferEncoding)
			}
			if calls.Add(1) == 1 {
				w.WriteHeader(http.StatusServiceUnavailable)
			}
		}))
		defer srv.Close()
		c := newClient(t, fastConfig(srv.URL))
		var released, appended atomic.Int32
		returned := false
		onPut(t, func() {
			if returned {
				t.Error("returned to the pool after Do returned: a body was left open")
			}
			released.Add(1)
		})
		_, err := c.Do(context.Background(), &Request{Method: http.MethodPost, AppendBody: appendPayload(&appended)})
		returned = true
		if err != nil {
			t.Fatal(err)
		}
		if calls.Load() != 2 || released.Load() != 1 || appended.Load() != 1 {
			t.Fatalf("calls %d, returned %d times, written %d times; want 2, 1 and 1", calls.Load(), released.Load(), appended.Load())
		}
	})
	t.Run("a transport that closes the body late", func(t *testing.T) {
		rt := &lateCloser{closed: make(chan struct{})}
		c := newClient(t, Config{URL: "http://example.invalid", HTTPClient: &http.Client{Transport: rt}})
		released := make(chan struct{})
		onPut(t, func() { close(released) })
		var appended atomic.Int32
		if _, err := c.Do(context.Background(), &Request{Method: http.MethodPost, AppendBody: appendPayload(&appended)}); err != nil {
			t.Fatal(err)
		}
		select {
		case <-released:
			t.Fatal("returned to the pool while the transport still held the body")
		default:
		}
		<-rt.closed
		select {
		case <-released:
		case <-time.After(5 * time.Second):
			t.Fatal("never returned to the pool")
		}
	})
	t.Run("empty body", func(t *testing.T) {
		srv := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
			if r.ContentLength != 0 || len(r.TransferEncoding) != 0 {
				t.Errorf("length %d, transfer encoding %v", r.ContentLength, r.TransferEncoding)
			}
		}))
		defer srv.Close()
		var released atomic.Int32
		onPut(t, func() { released.Add(1) })
		req := &Request{Method: http.MethodPost, AppendBody: func(b []byte) []byte { return b }}
		if _, err := newClient(t, fastConfig(srv.URL)).Do(context.Background(), req); err != nil {
			t.Fatal(err)
		}
		if released.Load() != 1 {
			t.Fatalf("returned %d times", released.Load())
		}
	})
	t.Run("GetBody wins", func(t *testing.T) {
		srv := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
			if b, _ := io.ReadAll(r.Body); string(b) != "other" {
				t.Errorf("body %q", b)
			}
		}))
		defer srv.Close()
		var released, appended atomic.Int32
		onPut(t, func() { released.Add(1) })
		req := &Request{Method: http.MethodPost, AppendBody: appendPayload(&appended),
			GetBody: func() (io.Reader, error) { return strings.NewReader("other"), nil }}
		if _, err := newClient(t, fastConfig(srv.URL)).Do(context.Background(), req); err != nil {
			t.Fatal(err)
		}
		if released.Load() != 0 || appended.Load() != 0 {
			t.Fatalf("returned %d times, written %d times; want neither", released.Load(), appended.Load())
		}
	})
	for _, tc := range []struct {
		name string
		ctx  func() context.Context
	}{
		{"cancelled before any attempt", func() context.Context {
			ctx, cancel := context.WithCancel(context.Background())
			cancel()
			return ctx
		}},
		{"unreachable, retried", context.Background},
	} {
		t.Run(tc.name, func(t *testing.T) {
			var released, appended atomic.Int32
			onPut(t, func() { released.Add(1) })
			c := newClient(t, fastConfig("http://127.0.0.1:1"))
			if _, err := c.Do(tc.ctx(), &Request{Method: http.MethodPost, AppendBody: appendPayload(&appended)}); err == nil {
				t.Fatal("want an error")
			}
			if released.Load() != 1 {
				t.Fatalf("returned %d times", released.Load())
			}
		})
	}
}

// The package's own connections get the request body as the *bytes.Reader
// net/http recognises (headers and body in one write); a caller's
// HTTPClient gets the lease's counted reader.
func TestOnlyOwnConnectionsSendSynchronously(t *testing.T) {
	own := newClient(t, fastConfig("http://127.0.0.1:1"))
	theirs := newClient(t, Config{URL: "http://127.0.0.1:1", HTTPClient: &http.Client{}})
	req, err := http.NewRequest(http.MethodPost, "http://127.0.0.1:1/x", nil)
	if err != nil {
		t.Fatal(err)
	}
	if !own.sendsSynchronously(req) {
		t.Error("own connections: want synchronous")
	}
	if theirs.sendsSynchronously(req) {
		t.Error("a caller's HTTPClient: want asynchronous")
	}
	other, _ := http.NewRequest(http.MethodPost, "ftp://127.0.0.1:1/x", nil)
	if own.sendsSynchronously(other) {
		t.Error("a request the fallback sends: want asynchronous")
	}
}
