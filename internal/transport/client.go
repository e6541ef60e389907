package transport

import (
	"bytes"
	"context"
	"crypto/tls"
	"encoding/base64"
	"errors"
	"fmt"
	"io"
	"math"
	"math/rand/v2"
	"net/http"
	"net/url"
	"strconv"
	"strings"
	"sync/atomic"
	"time"

	"github.com/mlflowtrace/mlflowtrace-go/internal/bufpool"
)

// Client sends requests to one base URL with retries. It is safe for
// concurrent use.
type Client struct {
	base        *url.URL
	hc          *http.Client
	ownsHC      bool
	headers     http.Header // static headers, auth included
	creds       Credentials // per-attempt authorisation, or nil
	secrets     []string    // values scrubbed from every error message
	maxRetries  int
	factor      float64
	jitter      float64
	backoffMax  time.Duration
	reqTimeout  time.Duration
	budget      time.Duration
	maxResponse int64
	onRetry     func(cause error, wait time.Duration)
	rand        func() float64
	noPipeline  atomic.Bool // DoPipelined sends one request at a time
}

// New returns a Client for cfg. cfg.URL must be an absolute http(s) URL.
func New(cfg Config) (*Client, error) {
	u, err := url.Parse(strings.TrimSpace(cfg.URL))
	if err != nil || u.Host == "" || (u.Scheme != "http" && u.Scheme != "https") {
		// Never echo the URL: it may carry user info.
		return nil, errors.New("transport: want an absolute http(s) URL")
	}
	c := &Client{
		maxRetries:  DefaultMaxRetries,
		factor:      DefaultBackoffFactor,
		jitter:      DefaultBackoffJitter,
		backoffMax:  DefaultBackoffMax,
		reqTimeout:  DefaultRequestTimeout,
		budget:      DefaultRetryTimeout,
		maxResponse: DefaultMaxResponseBytes,
		onRetry:     cfg.OnRetry,
		rand:        cfg.rand,
		headers:     http.Header{},
		creds:       cfg.Credentials,
	}
	if c.rand == nil {
		c.rand = rand.Float64
	}
	if cfg.MaxRetries != nil {
		c.maxRetries = max(*cfg.MaxRetries, 0)
	}
	if cfg.BackoffFactor != nil {
		c.factor = *cfg.BackoffFactor
	}
	if cfg.BackoffJitter != nil {
		c.jitter = *cfg.BackoffJitter
	}
	if cfg.BackoffMax > 0 {
		c.backoffMax = cfg.BackoffMax
	}
	if cfg.RequestTimeout != nil && *cfg.RequestTimeout > 0 {
		c.reqTimeout = *cfg.RequestTimeout
	}
	if cfg.RetryTimeout != nil && *cfg.RetryTimeout > 0 {
		c.budget = *cfg.RetryTimeout
	}
	if cfg.MaxResponseBytes > 0 {
		c.maxResponse = cfg.MaxResponseBytes
	}

	// Auth: explicit user/password, else user info in the URL; a token
	// wins over neither (MLflow: basic auth first, then bearer).
	user, pass := deref(cfg.Username), deref(cfg.Password)
	if u.User != nil {
		if user == "" {
			user = u.User.Username()
			pass, _ = u.User.Password()
		}
		u.User = nil
	}
	u.RawQuery, u.Fragment = "", ""
	u.Path = strings.TrimRight(u.Path, "/")
	u.RawPath = ""
	c.base = u

	c.addSecret(cfg.Secrets...)
	for k, vs := range cfg.Headers {
		for _, v := range vs {
			c.headers.Add(k, v)
			if isSecretHeader(k) {
				c.addSecret(v)
			}
		}
	}
	switch token := deref(cfg.Token); {
	case user != "" && pass != "":
		enc := base64.StdEncoding.EncodeToString([]byte(user + ":" + pass))
		c.headers.Set("Authorization", "Basic "+enc)
		c.addSecret(pass, enc, user+":"+pass)
	case token != "":
		c.headers.Set("Authorization", "Bearer "+token)
		c.addSecret(token)
	}
	if pass != "" {
		c.addSecret(pass)
	}

	if cfg.HTTPClient != nil {
		c.hc = cfg.HTTPClient
	} else {
		tr := http.DefaultTransport.(*http.Transport).Clone()
		tr.MaxIdleConnsPerHost = 16
		if cfg.InsecureTLS != nil && *cfg.InsecureTLS {
			tr.TLSClientConfig = &tls.Config{InsecureSkipVerify: true} //nolint:gosec // MLFLOW_TRACKING_INSECURE_TLS asks for it.
		}
		c.hc = &http.Client{Transport: newDirect(tr, tr.TLSClientConfig)}
		c.ownsHC = true
	}
	return c, nil
}

func deref(p *string) string {
	if p == nil {
		return ""
	}
	return *p
}

func isSecretHeader(k string) bool {
	k = strings.ToLower(k)
	return k == "authorization" || k == "proxy-authorization" || k == "cookie" ||
		strings.Contains(k, "token") || strings.Contains(k, "key") || strings.Contains(k, "secret")
}

func (c *Client) addSecret(vs ...string) {
	for _, v := range vs {
		if len(v) >= 3 { // scrubbing 1–2 char strings would mangle messages
			c.secrets = append(c.secrets, v)
		}
		// A header value "Bearer xyz" also leaks through its last word.
		if i := strings.LastIndexByte(v, ' '); i >= 0 && len(v)-i > 4 {
			c.secrets = append(c.secrets, v[i+1:])
		}
	}
}

// BaseURL returns the base URL without user info.
func (c *Client) BaseURL() string { return c.base.String() }

// CloseIdleConnections closes idle connections of a client this package made.
func (c *Client) CloseIdleConnections() {
	if c.ownsHC {
		c.hc.CloseIdleConnections()
	}
}

// Request is one logical call; it may be sent several times.
type Request struct {
	Method string
	// Path is appended to the base URL's path; it may carry a query
	// ("/api/2.0/mlflow/experiments/get-by-name?experiment_name=x").
	Path string
	// URL, when set, is an absolute http(s) URL the request is sent to
	// instead of the base URL + Path: a signed upload URL on cloud storage,
	// a token endpoint. Such a request carries only Header: neither the
	// Client's headers nor its credentials. Its query is never shown in
	// errors (signed URLs carry their signature there).
	URL    string
	Header http.Header
	// Body is sent as is on every attempt. GetBody, when set, is called
	// once per attempt instead.
	Body    []byte
	GetBody func() (io.Reader, error)
	// AppendBody, when set (and GetBody is not), writes the body: it must
	// append it to dst and return the result. Do calls it once, with an
	// empty buffer from the Client's pool (DoPipelined: one buffer for the
	// requests it sends together, each body appended after the one before),
	// and sends what it appended on every attempt. The buffer goes back to
	// the pool once no attempt reads it any more (lease.go).
	AppendBody func(dst []byte) []byte
	// NoRetry sends the request once.
	NoRetry bool
	// Timeout overrides the per-attempt timeout when > 0.
	Timeout time.Duration
}

// Response is a successful (2xx) response with its body read (bounded).
type Response struct {
	StatusCode int
	Header     http.Header
	Body       []byte

	buf *[]byte // Body's buffer from answerBufs, until Release
}

// Release gives the buffer of the response's body back for later answers
// to be read into. Neither Body nor anything that refers into it may be used
// afterwards, and Release is called at most once. A response that is never
// released is collected as any other value.
func (r *Response) Release() {
	if r == nil || r.buf == nil {
		return
	}
	bp, b := r.buf, r.Body
	r.buf, r.Body = nil, nil
	answerBufs.Put(bp, b)
}

// Do sends req, retrying as described in the package doc. It returns a
// *Error for a non-2xx final status or a transport failure.
func (c *Client) Do(ctx context.Context, req *Request) (*Response, error) {
	cl := c.newCall(req)
	defer cl.end()
	if err := ctx.Err(); err != nil {
		return nil, c.newError(req, 0, nil, err)
	}
	return c.run(ctx, cl, nil)
}

// call is one Request being sent: its body, written once, and the deadline
// its retries keep to.
type call struct {
	req      *Request
	body     []byte
	lease    *bodyLease // nil unless AppendBody wrote body
	deadline time.Time
}

// newCall writes req's body (AppendBody) into a buffer from bodyBufs and
// starts its retry budget; end must be called once the call is over.
func (c *Client) newCall(req *Request) *call {
	var buf *sharedBody
	return newCallInto(req, time.Now().Add(c.budget), &buf)
}

// end records that the call returned (the pooled body goes back once no
// attempt reads it any more).
func (cl *call) end() {
	if cl.lease != nil {
		cl.lease.end()
	}
}

// attempt is the outcome of sending a request once: a response, or an
// error with the Retry-After wait the server asked for; sent is the request
// that went out (nil when none did), so that a 401 can invalidate the
// credentials it carried.
type attempt struct {
	resp       *Response
	retryAfter time.Duration
	sent       *http.Request
	err        *Error
}

// run sends cl's attempts until one succeeds or retrying stops. first,
// when not nil, is the outcome of an attempt made already (a pipeline's).
func (c *Client) run(ctx context.Context, cl *call, first *attempt) (*Response, error) {
	req := cl.req
	deadline := cl.deadline
	if d, ok := ctx.Deadline(); ok && d.Before(deadline) {
		deadline = d
	}
	maxRetries := c.maxRetries
	if req.NoRetry {
		maxRetries = 0
	}
	var lastErr *Error
	refreshed := false
	for n := 0; ; n++ {
		var a attempt
		if n == 0 && first != nil {
			a = *first
		} else {
			a = c.once(ctx, cl, deadline)
		}
		if a.err == nil {
			return a.resp, nil
		}
		err := a.err
		err.Attempts = n + 1
		lastErr = err
		if err.StatusCode == http.StatusUnauthorized && !refreshed && a.sent != nil && ctx.Err() == nil {
			// A cached token may have expired or been revoked: drop it and
			// try once more with a fresh one.
			if r, ok := c.creds.(Refresher); ok && req.URL == "" {
				refreshed = true
				r.Invalidate(a.sent)
				if c.onRetry != nil {
					c.onRetry(lastErr, 0)
				}
				continue
			}
		}
		if !err.Retryable || n >= maxRetries || ctx.Err() != nil {
			return nil, lastErr
		}
		wait := c.backoff(n + 1)
		if a.retryAfter > 0 {
			wait = a.retryAfter
		}
		if time.Now().Add(wait).After(deadline) {
			lastErr.BudgetExhausted = true
			return nil, lastErr
		}
		if c.onRetry != nil {
			c.onRetry(lastErr, wait)
		}
		if !sleep(ctx, wait) {
			return nil, lastErr
		}
	}
}

// backoff returns MLflow's (urllib3's) wait before retry n (1-based): none
// before the first retry, then factor·2^(n−1) plus jitter, capped.
func (c *Client) backoff(n int) time.Duration {
	if n <= 1 {
		return 0
	}
	secs := c.factor * math.Pow(2, float64(n-1))
	if c.jitter > 0 {
		secs += c.rand() * c.jitter
	}
	d := time.Duration(secs * float64(time.Second))
	if d > c.backoffMax || d < 0 {
		d = c.backoffMax
	}
	return d
}

func sleep(ctx context.Context, d time.Duration) bool {
	if d <= 0 {
		return ctx.Err() == nil
	}
	t := time.NewTimer(d)
	defer t.Stop()
	select {
	case <-t.C:
		return true
	case <-ctx.Done():
		return false
	}
}

// timeout is the time one attempt of req may take.
func (c *Client) timeout(req *Request) time.Duration {
	if req.Timeout > 0 {
		return req.Timeout
	}
	return c.reqTimeout
}

// once sends one attempt of cl, bounded by the per-attempt timeout and
// deadline.
func (c *Client) once(ctx context.Context, cl *call, deadline time.Time) attempt {
	req := cl.req
	timeout := c.timeout(req)
	if rem := time.Until(deadline); rem < timeout {
		timeout = rem
	}
	if timeout <= 0 {
		return attempt{err: c.newError(req, 0, nil, context.DeadlineExceeded)}
	}
	actx, cancel := context.WithTimeout(ctx, timeout)
	defer cancel()
	hreq, extra, aerr := c.prepare(actx, cl)
	if aerr != nil {
		return attempt{err: aerr}
	}
	hresp, err := c.hc.Do(hreq)
	if err != nil {
		e := c.newError(req, 0, nil, unwrapURLError(err), extra...)
		// Retry network errors, but not our own cancellation.
		e.Retryable = ctx.Err() == nil
		return attempt{sent: hreq, err: e}
	}
	defer hresp.Body.Close()
	a, _ := c.answer(ctx, req, hreq, hresp, extra)
	return a
}

// prepare builds the http.Request of one attempt of cl: its body (a plain
// *bytes.Reader for the package's own RoundTripper, which has written or
// dropped it when it returns; a reader the lease counts for any other), the
// Client's headers, the request's, and the credentials. extra are the
// secrets the credentials added, scrubbed from errors.
func (c *Client) prepare(ctx context.Context, cl *call) (*http.Request, []string, *Error) {
	req, body, lease := cl.req, cl.body, cl.lease
	var br io.Reader
	switch {
	case req.GetBody != nil:
		r, err := req.GetBody()
		if err != nil {
			return nil, nil, c.newError(req, 0, nil, fmt.Errorf("build body: %w", err))
		}
		br = r
	case body != nil:
		br = bytes.NewReader(body)
	}
	method := req.Method
	if method == "" {
		method = http.MethodGet
	}
	target := req.URL
	if target == "" {
		target = c.url(req.Path)
	}
	hreq, err := http.NewRequestWithContext(ctx, method, target, br)
	if err != nil {
		return nil, nil, c.newError(req, 0, nil, errors.New("malformed request"))
	}
	if lease != nil && len(body) > 0 {
		// With the *bytes.Reader NewRequest knows, net/http writes the
		// headers and the body in one write (for a reader type it does not
		// know it flushes the headers first, a second system call and TCP
		// segment). Any other RoundTripper than the package's own, and a
		// redirect (GetBody), gets a reader the lease counts until closed.
		hreq.GetBody = func() (io.ReadCloser, error) { return lease.reader(body), nil }
		if !c.sendsSynchronously(hreq) {
			hreq.Body = lease.reader(body)
		}
	}
	if req.URL == "" {
		for k, vs := range c.headers {
			hreq.Header[k] = vs
		}
	}
	for k, vs := range req.Header {
		hreq.Header[http.CanonicalHeaderKey(k)] = vs
	}
	if req.URL == "" && c.creds != nil {
		if err := c.creds.Authorize(hreq); err != nil {
			if hreq.Body != nil {
				_ = hreq.Body.Close() // not sent: nothing else closes it
			}
			return nil, nil, c.newError(req, 0, nil, fmt.Errorf("authorize: %w", err))
		}
	}
	return hreq, authSecrets(hreq.Header), nil
}

// answer reads the response to one attempt: a 2xx body (bounded), or the
// error a status makes. bodyRead reports whether the body was read to its
// end (the connection can carry another answer).
func (c *Client) answer(ctx context.Context, req *Request, hreq *http.Request, hresp *http.Response, extra []string) (a attempt, bodyRead bool) {
	a.sent = hreq
	if hresp.StatusCode >= 200 && hresp.StatusCode < 300 {
		b, bp, rerr := readAnswer(hresp.Body, hresp.ContentLength, c.maxResponse)
		if rerr != nil {
			e := c.newError(req, hresp.StatusCode, nil, rerr, extra...)
			e.Retryable = ctx.Err() == nil && !errors.Is(rerr, errTooLarge)
			a.err = e
			return a, false
		}
		a.resp = &Response{StatusCode: hresp.StatusCode, Header: hresp.Header, Body: b, buf: bp}
		return a, true
	}
	// Error status: read a bounded prefix for the message, drain the rest.
	b, rerr := readBounded(hresp.Body, -1, 64<<10)
	bodyRead = rerr == nil
	if errors.Is(rerr, errTooLarge) {
		n, err := io.CopyN(io.Discard, hresp.Body, drainLimit)
		bodyRead = err == io.EOF && n < drainLimit
	}
	e := c.newError(req, hresp.StatusCode, b, nil, extra...)
	e.Retryable = RetryableStatus(hresp.StatusCode)
	if e.Retryable {
		a.retryAfter = parseRetryAfter(hresp.Header.Get("Retry-After"), time.Now())
	}
	a.err = e
	return a, bodyRead
}

// sendsSynchronously reports whether hreq goes out through the package's
// own RoundTripper, which reads a request body only before it returns.
func (c *Client) sendsSynchronously(hreq *http.Request) bool {
	d, ok := c.hc.Transport.(*direct)
	return ok && c.ownsHC && d.handles(hreq)
}

func (c *Client) url(p string) string {
	u := *c.base
	path, query, _ := strings.Cut(p, "?")
	if path != "" && !strings.HasPrefix(path, "/") {
		path = "/" + path
	}
	u.Path += path
	u.RawQuery = query
	return u.String()
}

// RetryableStatus reports whether MLflow's client retries status code:
// 408, 429 and every 5xx except 501 (Not Implemented: a FileStore server).
func RetryableStatus(code int) bool {
	return code == http.StatusRequestTimeout || code == http.StatusTooManyRequests ||
		(code >= 500 && code < 600 && code != http.StatusNotImplemented)
}

var errTooLarge = errors.New("response body too large")

// readBounded reads r to its end, failing with errTooLarge beyond limit
// bytes. size is the body's announced length (-1: unknown): a body that
// announces it is read into one buffer of that size instead of a growing one.
func readBounded(r io.Reader, size, limit int64) ([]byte, error) {
	if size >= 0 && size <= limit {
		b := make([]byte, size)
		if err := readAnnounced(r, b); err != nil {
			return nil, err
		}
		return b, nil
	}
	b, err := io.ReadAll(io.LimitReader(r, limit+1))
	if err != nil {
		return nil, err
	}
	if int64(len(b)) > limit {
		return nil, errTooLarge
	}
	return b, nil
}

// readAnnounced reads a body of the announced length len(b) into b.
func readAnnounced(r io.Reader, b []byte) error {
	if _, err := io.ReadFull(r, b); err != nil {
		return err
	}
	// Read on to EOF, so a response's connection goes back to the pool; a
	// request body (roundTripper) longer than it announced is an error, as
	// net/http makes it.
	var one [1]byte
	if n, err := r.Read(one[:]); n > 0 {
		return errors.New("body longer than its Content-Length")
	} else if err != nil && err != io.EOF {
		return err
	}
	return nil
}

// answerBufs holds the buffers of answers given back by Response.Release
// (the MLflow server destination's StartTraceV3 answers, about 4 KB each: a
// trace's largest allocation on the export path).
var answerBufs = bufpool.New(4<<10, maxPooledAnswer)

// maxPooledAnswer bounds the answers read into answerBufs' buffers.
const maxPooledAnswer = 64 << 10

// readAnswer is readBounded for a 2xx answer: one that announces a length
// of 1 to maxPooledAnswer bytes is read into a buffer from answerBufs,
// returned as bp (nil otherwise) for Response.Release.
func readAnswer(r io.Reader, size, limit int64) (b []byte, bp *[]byte, err error) {
	if size <= 0 || size > limit || size > maxPooledAnswer {
		b, err = readBounded(r, size, limit)
		return b, nil, err
	}
	bp = answerBufs.Get()
	b = *bp
	if int64(cap(b)) < size {
		b = make([]byte, size)
	}
	b = b[:size]
	if err := readAnnounced(r, b); err != nil {
		answerBufs.Put(bp, b)
		return nil, nil, err
	}
	return b, bp, nil
}

// parseRetryAfter reads delay-seconds or an HTTP date; 0 when absent or bad.
func parseRetryAfter(v string, now time.Time) time.Duration {
	v = strings.TrimSpace(v)
	if v == "" {
		return 0
	}
	if n, err := strconv.ParseFloat(v, 64); err == nil {
		if n <= 0 || n != n {
			return 0
		}
		if n > 24*3600 {
			n = 24 * 3600
		}
		return time.Duration(n * float64(time.Second))
	}
	if t, err := http.ParseTime(v); err == nil {
		if d := t.Sub(now); d > 0 {
			return d
		}
	}
	return 0
}

func unwrapURLError(err error) error {
	var ue *url.Error
	if errors.As(err, &ue) {
		return ue.Err // drop the URL: we print our own, redacted
	}
	return err
}
