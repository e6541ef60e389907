package transport

import (
	"context"
	"io"
	"net/http"
	"net/http/httptest"
	"strconv"
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

func TestReleaseAfterEveryAttemptClosedItsBody(t *testing.T) {
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
		var released atomic.Int32
		returned := false
		_, err := c.Do(context.Background(), &Request{Method: http.MethodPost, Body: []byte("payload"), Release: func() {
			if returned {
				t.Error("released after Do returned: a body was left open")
			}
			released.Add(1)
		}})
		returned = true
		if err != nil {
			t.Fatal(err)
		}
		if calls.Load() != 2 || released.Load() != 1 {
			t.Fatalf("calls %d, released %d times; want 2 and 1", calls.Load(), released.Load())
		}
	})
	t.Run("a transport that closes the body late", func(t *testing.T) {
		rt := &lateCloser{closed: make(chan struct{})}
		c := newClient(t, Config{URL: "http://example.invalid", HTTPClient: &http.Client{Transport: rt}})
		released := make(chan struct{})
		if _, err := c.Do(context.Background(), &Request{Method: http.MethodPost, Body: []byte("payload"), Release: func() { close(released) }}); err != nil {
			t.Fatal(err)
		}
		select {
		case <-released:
			t.Fatal("released while the transport still held the body")
		default:
		}
		<-rt.closed
		select {
		case <-released:
		case <-time.After(5 * time.Second):
			t.Fatal("never released")
		}
	})
	for i, req := range []*Request{
		{Method: http.MethodGet},
		{Method: http.MethodPost, Body: []byte{}},
		{Method: http.MethodPost, GetBody: func() (io.Reader, error) { return strings.NewReader(""), nil }},
	} {
		t.Run("no body to lease "+strconv.Itoa(i), func(t *testing.T) {
			srv := httptest.NewServer(http.HandlerFunc(func(http.ResponseWriter, *http.Request) {}))
			defer srv.Close()
			var released atomic.Int32
			req.Release = func() { released.Add(1) }
			if _, err := newClient(t, fastConfig(srv.URL)).Do(context.Background(), req); err != nil {
				t.Fatal(err)
			}
			if released.Load() != 1 {
				t.Fatalf("released %d times", released.Load())
			}
		})
	}
	t.Run("cancelled before any attempt", func(t *testing.T) {
		ctx, cancel := context.WithCancel(context.Background())
		cancel()
		var released atomic.Int32
		c := newClient(t, fastConfig("http://127.0.0.1:1"))
		if _, err := c.Do(ctx, &Request{Method: http.MethodPost, Body: []byte("x"), Release: func() { released.Add(1) }}); err == nil {
			t.Fatal("want an error")
		}
		if released.Load() != 1 {
			t.Fatalf("released %d times", released.Load())
		}
	})
	t.Run("unreachable, retried", func(t *testing.T) {
		var released atomic.Int32
		c := newClient(t, fastConfig("http://127.0.0.1:1"))
		if _, err := c.Do(context.Background(), &Request{Method: http.MethodPost, Body: []byte("x"), Release: func() { released.Add(1) }}); err == nil {
			t.Fatal("want an error")
		}
		if released.Load() != 1 {
			t.Fatalf("released %d times", released.Load())
		}
	})
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
