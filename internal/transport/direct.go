package transport

import (
	"bufio"
	"context"
	"crypto/tls"
	"io"
	"net"
	"net/http"
	"strings"
	"sync"
	"sync/atomic"
	"syscall"
	"time"
)

// direct is the Client's own http.RoundTripper: HTTP/1.1 on pooled
// keep-alive connections, each request written and its response read on the
// calling goroutine. net/http's Transport hands every request to a
// connection's write goroutine and the response back from its read
// goroutine; on a small VM each of those hand-offs can wake an OS thread,
// which costs more CPU than the request's own work when requests come a few
// at a time (BENCHMARKS.md, sections 1a-0 and 1a-3). On Linux its plain TCP
// connections are quietConns, whose non-blocking reads and writes do not
// wake the runtime's monitor thread either. A request direct does not
// handle — a proxy from the environment, a scheme other than http(s) —
// goes to net/http's Transport (fallback), as do requests of a caller's own
// HTTPClient (Config.HTTPClient is used as is).
type direct struct {
	fallback    *http.Transport
	tlsConfig   *tls.Config
	dialer      net.Dialer
	maxIdle     int           // idle connections kept per host
	idleTimeout time.Duration // an idle connection older than this is closed, not reused

	mu   sync.Mutex
	idle map[string][]*directConn // by scheme://host:port, most recently used last

	// answerPace is the time per answer the last pipeline took (ns).
	answerPace atomic.Int64
	// pipelines counts the pipelines in flight.
	pipelines atomic.Int32
}

type directConn struct {
	nc     net.Conn
	br     *bufio.Reader
	bw     *bufio.Writer
	key    string
	idleAt time.Time
	reused bool
	waiter idleWaiter // nil unless the connection can hold data back
}

func newDirect(fallback *http.Transport, tlsConfig *tls.Config) *direct {
	return &direct{
		fallback:    fallback,
		tlsConfig:   tlsConfig,
		dialer:      net.Dialer{Timeout: 30 * time.Second, KeepAlive: 30 * time.Second},
		maxIdle:     16,
		idleTimeout: 90 * time.Second,
		idle:        map[string][]*directConn{},
	}
}

// RoundTrip implements http.RoundTripper.
func (d *direct) RoundTrip(req *http.Request) (*http.Response, error) {
	if !d.handles(req) {
		return d.fallback.RoundTrip(req)
	}
	return d.roundTrip(req)
}

// handles reports whether direct sends req itself.
func (d *direct) handles(req *http.Request) bool {
	if req.URL == nil || (req.URL.Scheme != "http" && req.URL.Scheme != "https") || req.URL.Host == "" {
		return false
	}
	if d.fallback.Proxy != nil {
		if u, err := d.fallback.Proxy(req); err != nil || u != nil {
			return false
		}
	}
	return true
}

// aLongTimeAgo is a deadline in the past: it makes a blocked read or write
// return at once.
var aLongTimeAgo = time.Unix(1, 0)

func (d *direct) roundTrip(req *http.Request) (*http.Response, error) {
	ctx := req.Context()
	c, err := d.conn(ctx, req)
	if err != nil {
		if req.Body != nil {
			_ = req.Body.Close()
		}
		return nil, err
	}
	// Cancellation interrupts a blocked read or write; a deadline bounds
	// them. Neither starts a goroutine.
	if dl, ok := ctx.Deadline(); ok {
		_ = c.nc.SetDeadline(dl)
	}
	stop := context.AfterFunc(ctx, func() {
		_ = c.nc.SetDeadline(aLongTimeAgo)
	})
	fail := func(err error) (*http.Response, error) {
		stop()
		_ = c.nc.Close()
		if cerr := ctx.Err(); cerr != nil {
			return nil, cerr
		}
		if dl, ok := ctx.Deadline(); ok && !time.Now().Before(dl) {
			// The connection's deadline (ctx's) fired before ctx noticed.
			return nil, context.DeadlineExceeded
		}
		return nil, err
	}
	if err := req.Write(c.bw); err != nil {
		return fail(err)
	}
	if err := c.bw.Flush(); err != nil {
		return fail(err)
	}
	// A failure from here on is the caller's to retry (the server may have
	// acted on the request), as net/http's Transport leaves it.
	resp, err := http.ReadResponse(c.br, req)
	if err != nil {
		return fail(err)
	}
	keep := !resp.Close && !req.Close && resp.ProtoAtLeast(1, 1)
	resp.Body = &directBody{rc: resp.Body, d: d, c: c, stop: stop, keep: keep}
	return resp, nil
}

// conn returns an idle connection to req's host that the server has not
// closed, or a new one.
func (d *direct) conn(ctx context.Context, req *http.Request) (*directConn, error) {
	key := connKey(req)
	now := time.Now()
	for {
		d.mu.Lock()
		list := d.idle[key]
		if len(list) == 0 {
			d.mu.Unlock()
			break
		}
		c := list[len(list)-1]
		d.idle[key] = list[:len(list)-1]
		d.mu.Unlock()
		if now.Sub(c.idleAt) > d.idleTimeout || !c.alive() {
			_ = c.nc.Close()
			continue
		}
		c.reused = true
		return c, nil
	}
	nc, err := d.dialer.DialContext(ctx, "tcp", key[strings.Index(key, "://")+3:])
	if err != nil {
		return nil, err
	}
	nc = quiet(nc)
	if req.URL.Scheme == "https" {
		cfg := d.tlsConfig.Clone()
		if cfg == nil {
			cfg = &tls.Config{}
		}
		if cfg.ServerName == "" {
			cfg.ServerName = req.URL.Hostname()
		}
		cfg.NextProtos = []string{"http/1.1"}
		tc := tls.Client(nc, cfg)
		if err := tc.HandshakeContext(ctx); err != nil {
			_ = nc.Close()
			return nil, err
		}
		nc = tc
	}
	c := &directConn{nc: nc, br: bufio.NewReaderSize(nc, 16<<10), bw: bufio.NewWriterSize(nc, 16<<10), key: key}
	c.waiter, _ = nc.(idleWaiter) // a quietConn (TLS: not at the record layer)
	return c, nil
}

// alive reports whether an idle connection can carry a request: the server
// has neither closed it nor sent anything unasked. On Unix it looks with one
// non-blocking peek at the socket (closedByPeer).
func (c *directConn) alive() bool {
	if c.br.Buffered() > 0 {
		return false
	}
	nc := c.nc
	if tc, ok := nc.(*tls.Conn); ok {
		nc = tc.NetConn()
	}
	sc, ok := nc.(syscall.Conn)
	if !ok {
		return true
	}
	rc, err := sc.SyscallConn()
	if err != nil {
		return false
	}
	return !closedByPeer(rc)
}

// connKey is scheme://host:port.
func connKey(req *http.Request) string {
	host, port := req.URL.Hostname(), req.URL.Port()
	if port == "" {
		port = "80"
		if req.URL.Scheme == "https" {
			port = "443"
		}
	}
	return req.URL.Scheme + "://" + net.JoinHostPort(host, port)
}

// put returns a connection whose response was read to the end to the pool.
func (d *direct) put(c *directConn) {
	_ = c.nc.SetDeadline(time.Time{})
	c.idleAt = time.Now()
	d.mu.Lock()
	list := d.idle[c.key]
	if len(list) >= d.maxIdle {
		d.mu.Unlock()
		_ = c.nc.Close()
		return
	}
	d.idle[c.key] = append(list, c)
	d.mu.Unlock()
}

// CloseIdleConnections closes every idle connection (and the fallback's).
func (d *direct) CloseIdleConnections() {
	d.mu.Lock()
	idle := d.idle
	d.idle = map[string][]*directConn{}
	d.mu.Unlock()
	for _, list := range idle {
		for _, c := range list {
			_ = c.nc.Close()
		}
	}
	d.fallback.CloseIdleConnections()
}

// directBody hands the connection back once the body has been read to its
// end and closed; a body closed early, or a failed read, closes it.
type directBody struct {
	rc   io.ReadCloser
	d    *direct
	c    *directConn
	stop func() bool
	keep bool
	eof  bool
	once sync.Once
}

func (b *directBody) Read(p []byte) (int, error) {
	n, err := b.rc.Read(p)
	if err == io.EOF {
		b.eof = true
	} else if err != nil {
		b.keep = false
	}
	return n, err
}

func (b *directBody) Close() error {
	b.once.Do(func() {
		if !b.eof && b.keep {
			// Drain a small rest so the connection can be reused.
			n, err := io.CopyN(io.Discard, b.rc, drainLimit)
			b.eof = err == io.EOF && n < drainLimit
		}
		_ = b.rc.Close()
		if cancelled := !b.stop(); cancelled || !b.eof || !b.keep {
			_ = b.c.nc.Close()
			return
		}
		b.d.put(b.c)
	})
	return nil
}
