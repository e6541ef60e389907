package transport

import (
	"bufio"
	"context"
	"errors"
	"fmt"
	"io"
	"net"
	"net/http"
	"net/http/httptest"
	"net/url"
	"strings"
	"sync"
	"sync/atomic"
	"testing"
	"time"
)

// connCounter counts the connections a test server accepted.
func connCounter(srv *httptest.Server) *atomic.Int64 {
	var n atomic.Int64
	srv.Config.ConnState = func(_ net.Conn, st http.ConnState) {
		if st == http.StateNew {
			n.Add(1)
		}
	}
	return &n
}

func newDirectForTest() *direct {
	tr := http.DefaultTransport.(*http.Transport).Clone()
	tr.Proxy = nil
	return newDirect(tr, nil)
}

func get(t *testing.T, d *direct, ctx context.Context, method, u, body string) (*http.Response, string, error) {
	t.Helper()
	var r io.Reader
	if body != "" {
		r = strings.NewReader(body)
	}
	req, err := http.NewRequestWithContext(ctx, method, u, r)
	if err != nil {
		t.Fatal(err)
	}
	resp, err := d.RoundTrip(req)
	if err != nil {
		return nil, "", err
	}
	b, err := io.ReadAll(resp.Body)
	_ = resp.Body.Close()
	return resp, string(b), err
}

// bodiesHandler answers with the body shapes the transport must read to the
// end: chunked (/chunked), then closing the connection (/close), no body
// (/empty), and otherwise "<method> <request URI> <request body>" with a
// Content-Length.
var bodiesHandler = http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
	b, _ := io.ReadAll(r.Body)
	switch r.URL.Path {
	case "/chunked":
		w.Write([]byte("part1-"))
		w.(http.Flusher).Flush()
		w.Write([]byte("part2"))
	case "/close":
		w.Header().Set("Connection", "close")
		fmt.Fprint(w, "bye")
	case "/empty":
		w.WriteHeader(http.StatusNoContent)
	default:
		fmt.Fprintf(w, "%s %s %s", r.Method, r.URL.RequestURI(), b)
	}
})

func TestDirectKeepAliveAndBodies(t *testing.T) {
	srv := httptest.NewUnstartedServer(bodiesHandler)
	conns := connCounter(srv)
	srv.Start()
	defer srv.Close()
	d := newDirectForTest()
	defer d.CloseIdleConnections()
	ctx := context.Background()
	for i := range 5 {
		_, body, err := get(t, d, ctx, "POST", srv.URL+"/api?x=1", fmt.Sprint("body", i))
		if err != nil || body != fmt.Sprintf("POST /api?x=1 body%d", i) {
			t.Fatalf("request %d: %q %v", i, body, err)
		}
	}
	if n := conns.Load(); n != 1 {
		t.Errorf("5 sequential requests used %d connections, want 1 (keep-alive)", n)
	}
	if _, body, err := get(t, d, ctx, "GET", srv.URL+"/chunked", ""); err != nil || body != "part1-part2" {
		t.Fatalf("chunked: %q %v", body, err)
	}
	if _, body, err := get(t, d, ctx, "GET", srv.URL+"/close", ""); err != nil || body != "bye" {
		t.Fatalf("close: %q %v", body, err)
	}
	before := conns.Load()
	if _, _, err := get(t, d, ctx, "GET", srv.URL+"/after", ""); err != nil {
		t.Fatal(err)
	}
	if conns.Load() != before+1 {
		t.Errorf("a connection the server closed was reused")
	}
}

// TestDirectStaleConnection: a kept-alive connection the server closed
// while it was idle is detected and the request sent once more on a new
// one, body included.
func TestDirectStaleConnection(t *testing.T) {
	l, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	defer l.Close()
	var served atomic.Int64
	var wg sync.WaitGroup
	wg.Add(1)
	go func() { // answers one request per connection, then closes it silently
		defer wg.Done()
		for {
			c, err := l.Accept()
			if err != nil {
				return
			}
			br := bufio.NewReader(c)
			req, err := http.ReadRequest(br)
			if err == nil {
				b, _ := io.ReadAll(req.Body)
				served.Add(1)
				fmt.Fprintf(c, "HTTP/1.1 200 OK\r\nContent-Length: %d\r\n\r\n%s", len(b), b)
			}
			time.Sleep(20 * time.Millisecond)
			_ = c.Close()
		}
	}()
	d := newDirectForTest()
	u := "http://" + l.Addr().String() + "/"
	for i := range 3 {
		time.Sleep(50 * time.Millisecond) // the previous connection is closed by now
		_, body, err := get(t, d, context.Background(), "POST", u, fmt.Sprint("payload", i))
		if err != nil || body != fmt.Sprint("payload", i) {
			t.Fatalf("request %d: %q %v", i, body, err)
		}
	}
	if served.Load() != 3 {
		t.Errorf("served %d, want 3", served.Load())
	}
	d.CloseIdleConnections()
	_ = l.Close()
	wg.Wait()
}

// TestDirectCancelAndDeadline: a request to a server that does not answer
// ends with the context, and leaves no goroutine behind (TestMain's goleak).
func TestDirectCancelAndDeadline(t *testing.T) {
	release := make(chan struct{})
	srv := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		select {
		case <-release:
		case <-r.Context().Done():
		}
	}))
	defer srv.Close()
	defer close(release)
	d := newDirectForTest()
	defer d.CloseIdleConnections()

	ctx, cancel := context.WithTimeout(context.Background(), 100*time.Millisecond)
	defer cancel()
	start := time.Now()
	if _, _, err := get(t, d, ctx, "GET", srv.URL, ""); !errors.Is(err, context.DeadlineExceeded) {
		t.Fatalf("deadline: err = %v", err)
	}
	if time.Since(start) > 10*time.Second {
		t.Fatal("the deadline did not end the request")
	}
	ctx2, cancel2 := context.WithCancel(context.Background())
	time.AfterFunc(50*time.Millisecond, cancel2)
	if _, _, err := get(t, d, ctx2, "GET", srv.URL, ""); !errors.Is(err, context.Canceled) {
		t.Fatalf("cancel: err = %v", err)
	}
}

// TestDirectTLSAndFallback: https goes direct; a request a proxy applies to
// goes to net/http's Transport.
func TestDirectTLSAndFallback(t *testing.T) {
	tlsSrv := httptest.NewTLSServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		fmt.Fprint(w, "secure ", r.TLS != nil)
	}))
	defer tlsSrv.Close()
	c, err := New(Config{URL: tlsSrv.URL, InsecureTLS: Ptr(true)})
	if err != nil {
		t.Fatal(err)
	}
	defer c.CloseIdleConnections()
	if _, ok := c.hc.Transport.(*direct); !ok {
		t.Fatalf("transport %T, want the direct transport", c.hc.Transport)
	}
	resp, err := c.Do(context.Background(), &Request{Path: "/"})
	if err != nil || string(resp.Body) != "secure true" {
		t.Fatalf("TLS: %v %v", resp, err)
	}

	var proxied atomic.Int64
	proxy := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		proxied.Add(1)
		fmt.Fprint(w, "via proxy ", r.URL.String())
	}))
	defer proxy.Close()
	tr := http.DefaultTransport.(*http.Transport).Clone()
	pu, _ := url.Parse(proxy.URL)
	tr.Proxy = http.ProxyURL(pu)
	d := newDirect(tr, nil)
	defer d.CloseIdleConnections()
	_, body, err := get(t, d, context.Background(), "GET", "http://mlflow.invalid/version", "")
	if err != nil || proxied.Load() != 1 || body != "via proxy http://mlflow.invalid/version" {
		t.Fatalf("proxy: %q %v (proxied %d)", body, err, proxied.Load())
	}
}

// TestDirectEarlyClose: a body closed before its end leaves no broken
// connection in the pool.
func TestDirectEarlyClose(t *testing.T) {
	big := strings.Repeat("x", 4*drainLimit)
	srv := httptest.NewUnstartedServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		if r.URL.Path == "/big" {
			fmt.Fprint(w, big)
			return
		}
		fmt.Fprint(w, "ok")
	}))
	conns := connCounter(srv)
	srv.Start()
	defer srv.Close()
	d := newDirectForTest()
	defer d.CloseIdleConnections()
	req, _ := http.NewRequest("GET", srv.URL+"/big", nil)
	resp, err := d.RoundTrip(req)
	if err != nil {
		t.Fatal(err)
	}
	buf := make([]byte, 10)
	_, _ = resp.Body.Read(buf)
	_ = resp.Body.Close() // too much left to drain: the connection is closed
	if _, body, err := get(t, d, context.Background(), "GET", srv.URL+"/small", ""); err != nil || body != "ok" {
		t.Fatalf("after early close: %q %v", body, err)
	}
	if conns.Load() != 2 {
		t.Errorf("connections %d, want 2 (the half-read one is not reused)", conns.Load())
	}
}
