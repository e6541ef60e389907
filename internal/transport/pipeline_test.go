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
	"strings"
	"sync"
	"sync/atomic"
	"testing"
	"time"
)

// rawServer is a TCP server that speaks just enough HTTP/1.1 for the
// pipeline tests: serve gets each accepted connection.
type rawServer struct {
	l     net.Listener
	conns atomic.Int32
	wg    sync.WaitGroup
}

func newRawServer(t *testing.T, serve func(c net.Conn, br *bufio.Reader)) *rawServer {
	t.Helper()
	l, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	s := &rawServer{l: l}
	s.wg.Add(1)
	go func() {
		defer s.wg.Done()
		for {
			c, err := l.Accept()
			if err != nil {
				return
			}
			s.conns.Add(1)
			s.wg.Add(1)
			go func() {
				defer s.wg.Done()
				defer c.Close()
				_ = c.SetDeadline(time.Now().Add(10 * time.Second))
				serve(c, bufio.NewReader(c))
			}()
		}
	}()
	t.Cleanup(func() {
		_ = l.Close()
		s.wg.Wait()
	})
	return s
}

func (s *rawServer) URL() string { return "http://" + s.l.Addr().String() }

// readRequest reads one request and its body.
func readRequest(br *bufio.Reader) (*http.Request, string, error) {
	r, err := http.ReadRequest(br)
	if err != nil {
		return nil, "", err
	}
	b, err := io.ReadAll(r.Body)
	return r, string(b), err
}

func writeAnswer(w io.Writer, status int, body string, close bool) {
	conn := ""
	if close {
		conn = "Connection: close\r\n"
	}
	fmt.Fprintf(w, "HTTP/1.1 %d %s\r\nContent-Length: %d\r\n%s\r\n%s", status, http.StatusText(status), len(body), conn, body)
}

func pipelineRequests(paths ...string) []*Request {
	reqs := make([]*Request, len(paths))
	for i, p := range paths {
		p := p
		reqs[i] = &Request{Method: http.MethodPost, Path: p, AppendBody: func(b []byte) []byte { return append(b, "body of "+p...) }}
	}
	return reqs
}

// TestPipelineWritesAllBeforeAnswers: the server reads every request of the
// batch before it answers any (a client waiting for each answer before the
// next request would never get one), on one connection, which the next
// batch reuses — the second batch through the sleep of a known pace. The
// batch's bodies share one pooled buffer, which goes back once.
func TestPipelineWritesAllBeforeAnswers(t *testing.T) {
	srv := newRawServer(t, func(c net.Conn, br *bufio.Reader) {
		for {
			var bodies []string
			for range 3 {
				r, body, err := readRequest(br)
				if err != nil {
					return
				}
				if body != "body of "+r.URL.Path {
					t.Errorf("%s: body %q", r.URL.Path, body)
				}
				bodies = append(bodies, r.URL.Path)
			}
			for _, p := range bodies {
				time.Sleep(5 * time.Millisecond)
				writeAnswer(c, 200, "answer to "+p, false)
			}
		}
	})
	c := newClient(t, fastConfig(srv.URL()))
	var puts atomic.Int32
	onPut(t, func() { puts.Add(1) })
	for round := range 2 {
		resps, errs := c.DoPipelined(context.Background(), pipelineRequests("/a", "/b", "/c"))
		for i, p := range []string{"/a", "/b", "/c"} {
			if errs[i] != nil {
				t.Fatalf("round %d %s: %v", round, p, errs[i])
			}
			if got := string(resps[i].Body); got != "answer to "+p {
				t.Errorf("round %d %s: answer %q", round, p, got)
			}
		}
		if got := puts.Load(); got != int32(round+1) {
			t.Errorf("round %d: %d buffers back in the pool, want %d (one per pipeline)", round, got, round+1)
		}
		if c.noPipeline.Load() {
			t.Fatal("pipelining turned off")
		}
	}
	if n := srv.conns.Load(); n != 1 {
		t.Errorf("%d connections, want 1", n)
	}
	if d := c.hc.Transport.(*direct); d.answerPace.Load() <= 0 {
		t.Error("no answer pace recorded")
	}
}

// TestPipelineRetriesFailedAnswerAlone: a retryable status in a pipeline is
// retried on its own (the pipeline's attempt counts as the first); a
// permanent one fails with Attempts 1; the others succeed. Every attempt,
// the retry included, sends its own body, read from the buffer the
// pipeline's bodies share, which goes back to the pool once, after the
// retry.
func TestPipelineRetriesFailedAnswerAlone(t *testing.T) {
	var mu sync.Mutex
	seen := map[string]int{}
	srv := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		if b, _ := io.ReadAll(r.Body); string(b) != "body of "+r.URL.Path {
			t.Errorf("%s: body %q", r.URL.Path, b)
		}
		mu.Lock()
		seen[r.URL.Path]++
		n := seen[r.URL.Path]
		mu.Unlock()
		switch {
		case r.URL.Path == "/busy" && n == 1:
			w.Header().Set("Retry-After", "0")
			w.WriteHeader(503)
		case r.URL.Path == "/bad":
			w.WriteHeader(400)
			_, _ = io.WriteString(w, `{"error_code":"INVALID_PARAMETER_VALUE","message":"bad trace"}`)
		default:
			_, _ = io.WriteString(w, "ok "+r.URL.Path)
		}
	}))
	defer srv.Close()
	c := newClient(t, fastConfig(srv.URL))
	var puts atomic.Int32
	onPut(t, func() { puts.Add(1) })
	resps, errs := c.DoPipelined(context.Background(), pipelineRequests("/a", "/busy", "/bad", "/d"))
	if n := puts.Load(); n != 1 {
		t.Errorf("buffer returned to the pool %d times, want 1", n)
	}
	for _, i := range []int{0, 1, 3} {
		if errs[i] != nil {
			t.Fatalf("request %d: %v", i, errs[i])
		}
	}
	if string(resps[1].Body) != "ok /busy" {
		t.Errorf("/busy answered %q", resps[1].Body)
	}
	var e *Error
	if !errors.As(errs[2], &e) || e.StatusCode != 400 || e.ErrorCode != "INVALID_PARAMETER_VALUE" || e.Attempts != 1 {
		t.Errorf("/bad: %#v", errs[2])
	}
	mu.Lock()
	defer mu.Unlock()
	if seen["/busy"] != 2 || seen["/a"] != 1 || seen["/bad"] != 1 || seen["/d"] != 1 {
		t.Errorf("requests seen %v", seen)
	}
}

// TestPipelineBrokenConnection: a server that answers one request per
// connection and closes it: the unanswered requests are sent again on
// their own, and the Client stops pipelining.
func TestPipelineBrokenConnection(t *testing.T) {
	var served atomic.Int32
	srv := newRawServer(t, func(c net.Conn, br *bufio.Reader) {
		r, _, err := readRequest(br)
		if err != nil {
			return
		}
		served.Add(1)
		writeAnswer(c, 200, "answer to "+r.URL.Path, true)
	})
	c := newClient(t, fastConfig(srv.URL()))
	resps, errs := c.DoPipelined(context.Background(), pipelineRequests("/a", "/b", "/c"))
	for i, p := range []string{"/a", "/b", "/c"} {
		if errs[i] != nil {
			t.Fatalf("%s: %v", p, errs[i])
		}
		if got := string(resps[i].Body); got != "answer to "+p {
			t.Errorf("%s: answer %q", p, got)
		}
	}
	if !c.noPipeline.Load() {
		t.Error("pipelining still on after the server broke a pipeline off")
	}
	if n := served.Load(); n != 3 {
		t.Errorf("server answered %d requests, want 3", n)
	}
	// From now on one request at a time, each on its own connection here.
	conns := srv.conns.Load()
	_, errs = c.DoPipelined(context.Background(), pipelineRequests("/d", "/e"))
	if errs[0] != nil || errs[1] != nil {
		t.Fatalf("after: %v", errs)
	}
	if got := srv.conns.Load() - conns; got != 2 {
		t.Errorf("%d connections for 2 requests sent one at a time", got)
	}
}

// TestPipelineEndsWithContextAndTimeout: a server that never answers. A
// cancelled context ends the pipeline, blocked or asleep; so does the
// per-attempt timeout while the reader sleeps for a known (long) pace.
func TestPipelineEndsWithContextAndTimeout(t *testing.T) {
	release := make(chan struct{})
	srv := newRawServer(t, func(c net.Conn, br *bufio.Reader) {
		for range 2 {
			if _, _, err := readRequest(br); err != nil {
				return
			}
		}
		select {
		case <-release:
		case <-time.After(10 * time.Second):
		}
	})
	defer close(release)

	for _, pace := range []time.Duration{0, time.Hour} {
		t.Run(fmt.Sprint("pace ", pace), func(t *testing.T) {
			cfg := fastConfig(srv.URL())
			cfg.MaxRetries = Ptr(0)
			c := newClient(t, cfg)
			c.hc.Transport.(*direct).answerPace.Store(int64(pace))
			ctx, cancel := context.WithCancel(context.Background())
			time.AfterFunc(50*time.Millisecond, cancel)
			start := time.Now()
			_, errs := c.DoPipelined(ctx, pipelineRequests("/a", "/b"))
			for i, err := range errs {
				if !errors.Is(err, context.Canceled) {
					t.Errorf("request %d: %v, want cancelled", i, err)
				}
			}
			if d := time.Since(start); d > 5*time.Second {
				t.Errorf("cancelled pipeline returned after %v", d)
			}
		})
	}
	t.Run("timeout while asleep", func(t *testing.T) {
		cfg := fastConfig(srv.URL())
		cfg.MaxRetries = Ptr(0)
		cfg.RequestTimeout = Ptr(100 * time.Millisecond)
		c := newClient(t, cfg)
		c.hc.Transport.(*direct).answerPace.Store(int64(time.Hour))
		start := time.Now()
		_, errs := c.DoPipelined(context.Background(), pipelineRequests("/a", "/b"))
		for i, err := range errs {
			if !errors.Is(err, context.DeadlineExceeded) {
				t.Errorf("request %d: %v, want the request timeout", i, err)
			}
		}
		if d := time.Since(start); d > 5*time.Second {
			t.Errorf("pipeline outlived its request timeout: %v", d)
		}
	})
}

// TestPipelineFallsBackToDo: a caller's HTTPClient, an absolute URL or a
// single request go through Do one at a time, with the same outcomes.
func TestPipelineFallsBackToDo(t *testing.T) {
	srv := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		b, _ := io.ReadAll(r.Body)
		_, _ = io.WriteString(w, strings.ToUpper(string(b)))
	}))
	defer srv.Close()
	own := newClient(t, fastConfig(srv.URL))
	cfg := fastConfig(srv.URL)
	cfg.HTTPClient = srv.Client()
	callers := newClient(t, cfg)
	abs := pipelineRequests("/x", "/y")
	abs[1].URL = srv.URL + "/y"
	for _, tc := range []struct {
		name string
		c    *Client
		reqs []*Request
	}{
		{"caller's HTTPClient", callers, pipelineRequests("/a", "/b")},
		{"absolute URL", own, abs},
		{"one request", own, pipelineRequests("/a")},
	} {
		t.Run(tc.name, func(t *testing.T) {
			if tc.c.pipeliner(tc.reqs) != nil {
				t.Fatal("pipelined")
			}
			resps, errs := tc.c.DoPipelined(context.Background(), tc.reqs)
			for i, r := range tc.reqs {
				want := strings.ToUpper("body of " + r.Path)
				if errs[i] != nil {
					t.Errorf("request %d: %v", i, errs[i])
				} else if string(resps[i].Body) != want {
					t.Errorf("request %d: answer %q", i, resps[i].Body)
				}
			}
		})
	}
}

// TestPipelineNoSleepWithOthersInFlight: with another pipeline under way
// (a backlog), a pipeline reads its answers as they come instead of
// sleeping for the (here: an hour's) expected pace.
func TestPipelineNoSleepWithOthersInFlight(t *testing.T) {
	srv := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		_, _ = io.WriteString(w, "ok")
	}))
	defer srv.Close()
	c := newClient(t, fastConfig(srv.URL))
	d := c.hc.Transport.(*direct)
	d.answerPace.Store(int64(time.Hour))
	d.pipelines.Add(1) // another pipeline in flight
	defer d.pipelines.Add(-1)
	start := time.Now()
	_, errs := c.DoPipelined(context.Background(), pipelineRequests("/a", "/b", "/c"))
	for i, err := range errs {
		if err != nil {
			t.Fatalf("request %d: %v", i, err)
		}
	}
	if el := time.Since(start); el > 5*time.Second {
		t.Errorf("pipeline took %v: it slept although others were in flight", el)
	}
}
