package tracing

import (
	"bufio"
	"bytes"
	"encoding/json"
	"errors"
	"io"
	"net"
	"net/http"
	"runtime/debug"
	"strconv"
	"sync"

	"go.opentelemetry.io/otel/codes"

	"github.com/mlflowtrace/mlflowtrace-go/internal/rawjson"
)

const defaultMaxBodyCapture = 64 << 10 // bytes of request / response body recorded

// WrapOption configures Wrap.
type WrapOption interface{ applyWrap(*wrapConfig) }

type wrapConfig struct {
	spanType    SpanType
	spanName    func(*http.Request) string
	maxRequest  int
	maxResponse int
	spanOpts    []SpanOption
	newTrace    bool // ignore an incoming traceparent
}

type wrapOptionFunc func(*wrapConfig)

func (f wrapOptionFunc) applyWrap(c *wrapConfig) { f(c) }

// WithHandlerSpanType sets the type of the request span (default CHAIN; use
// SpanTypeAgent for an agent endpoint).
func WithHandlerSpanType(t SpanType) WrapOption {
	return wrapOptionFunc(func(c *wrapConfig) { c.spanType = t })
}

// WithHandlerSpanName sets the request span's name (default "METHOD /path").
func WithHandlerSpanName(name string) WrapOption {
	return wrapOptionFunc(func(c *wrapConfig) {
		if name != "" {
			c.spanName = func(*http.Request) string { return name }
		}
	})
}

// WithHandlerSpanNameFunc names the request span from the request. A nil
// function is ignored.
func WithHandlerSpanNameFunc(fn func(*http.Request) string) WrapOption {
	return wrapOptionFunc(func(c *wrapConfig) {
		if fn != nil {
			c.spanName = fn
		}
	})
}

// WithMaxRequestBody sets how many bytes of the request body are recorded as
// the span's inputs (default 65536; the handler still reads the whole body).
// n <= 0 records no body.
func WithMaxRequestBody(n int) WrapOption {
	return wrapOptionFunc(func(c *wrapConfig) { c.maxRequest = n })
}

// WithMaxResponseBody sets how many bytes of the response body are recorded
// as the span's outputs (default 65536). n <= 0 records no body.
func WithMaxResponseBody(n int) WrapOption {
	return wrapOptionFunc(func(c *wrapConfig) { c.maxResponse = n })
}

// WithHandlerNewTrace makes every request the root of a new trace, ignoring
// an incoming W3C traceparent header. Use it when the callers are not traced
// into the same MLflow destination — e.g. behind a load balancer, gateway or
// service mesh that adds traceparent headers of its own. A request that
// continues a remote trace is only part of a distributed trace: on an MLflow
// tracking server, as with MLflow's Python SDK, only its spans are logged
// and the trace is completed (named, its state set) by the process that
// started it, so without such a process the trace would stay IN_PROGRESS.
func WithHandlerNewTrace() WrapOption {
	return wrapOptionFunc(func(c *wrapConfig) { c.newTrace = true })
}

// WithHandlerSpanOptions passes span options (e.g. WithAttributes) to the
// request span.
func WithHandlerSpanOptions(opts ...SpanOption) WrapOption {
	return wrapOptionFunc(func(c *wrapConfig) { c.spanOpts = append(c.spanOpts, opts...) })
}

// Wrap returns a handler that records each request to h as a span (the root
// of a new trace, or a child of the caller's span when the request carries a
// W3C traceparent header; WithHandlerNewTrace ignores that header). The span's inputs are the request body — decoded
// JSON, or the text when it is not JSON — as far as the handler reads it (up
// to WithMaxRequestBody); its outputs are the response body captured the same
// way (WithMaxResponseBody). A 5xx status sets status ERROR. The handler gets
// a shallow copy of the request whose context holds the span; the caller's
// request is not modified. The response writer passed to h keeps
// http.Flusher (server-sent events stream as usual) and, when the original
// has it, http.Hijacker; it also unwraps for http.ResponseController. A panic
// in h is recorded and re-raised. When tracing is off, h is called directly.
func Wrap(h http.Handler, opts ...WrapOption) http.Handler {
	c := wrapConfig{spanType: SpanTypeChain, maxRequest: defaultMaxBodyCapture, maxResponse: defaultMaxBodyCapture}
	for _, o := range opts {
		if o != nil {
			o.applyWrap(&c)
		}
	}
	return &handler{next: h, cfg: c}
}

type handler struct {
	next http.Handler
	cfg  wrapConfig
}

func (h *handler) ServeHTTP(w http.ResponseWriter, r *http.Request) {
	p := defaultProvider.Load()
	if p == nil || p.disabled {
		h.next.ServeHTTP(w, r)
		return
	}
	ctx := r.Context()
	if !h.cfg.newTrace {
		ctx = ContextFromHTTPHeaders(ctx, r.Header)
	}
	name := r.Method + " " + r.URL.Path
	if h.cfg.spanName != nil {
		name = h.cfg.spanName(r)
	}
	sc := spanOptions(h.cfg.spanOpts)
	sc.spanType = h.cfg.spanType
	ctx, s := p.start(ctx, name, &sc, "", nil, false)
	if s == nil {
		if ctx == r.Context() {
			h.next.ServeHTTP(w, r)
		} else {
			h.next.ServeHTTP(w, r.WithContext(ctx))
		}
		return
	}
	s.SetAttributes(map[string]any{"http.request.method": r.Method, "url.path": r.URL.Path})

	r2 := r.WithContext(ctx)
	var reqBody *captureReader
	if r.Body != nil && r.Body != http.NoBody && h.cfg.maxRequest > 0 {
		reqBody = &captureReader{rc: r.Body, limit: h.cfg.maxRequest}
		r2.Body = reqBody
	}
	rw := &responseWriter{w: w, limit: h.cfg.maxResponse}
	var ww http.ResponseWriter = rw
	if _, ok := w.(http.Hijacker); ok {
		ww = &hijackWriter{rw}
	}

	done := false
	defer func() {
		if done {
			return
		}
		rec := recover()
		h.record(s, reqBody, rw)
		if rec != nil {
			s.recordPanic(rec, debug.Stack())
		}
		s.end(false, nil, zeroTime)
		if rec != nil {
			panic(rec)
		}
	}()
	h.next.ServeHTTP(ww, r2)
	done = true
	h.record(s, reqBody, rw)
	s.end(false, nil, zeroTime)
}

// record sets inputs, outputs and status from what was captured.
func (h *handler) record(s *Span, req *captureReader, rw *responseWriter) {
	if req != nil {
		if b, cut := req.captured(); len(b) > 0 {
			s.SetInputs(bodyValue(b, cut))
		}
	}
	status, b, cut, hijacked := rw.result()
	if len(b) > 0 {
		s.SetOutputs(bodyValue(b, cut))
	}
	if hijacked {
		return
	}
	s.SetAttribute("http.response.status_code", status)
	if status >= 500 {
		s.setStatus(codes.Error, "HTTPError: "+strconv.Itoa(status)+" "+http.StatusText(status))
	}
}

// bodyValue is the recorded form of a captured body: its decoded JSON value
// when it is complete JSON, else its text (with "..." when cut).
func bodyValue(b []byte, cut bool) any {
	if !cut && rawjson.Valid(b) {
		return json.RawMessage(b)
	}
	if cut {
		return string(bytes.ToValidUTF8(b, nil)) + "..."
	}
	return string(b)
}

// captureReader passes the request body through to the handler and keeps a
// copy of its first limit bytes.
type captureReader struct {
	rc    io.ReadCloser
	limit int

	mu  sync.Mutex
	buf []byte
	cut bool
}

func (c *captureReader) Read(p []byte) (int, error) {
	n, err := c.rc.Read(p)
	if n > 0 {
		c.mu.Lock()
		if room := c.limit - len(c.buf); room > 0 {
			k := min(n, room)
			c.buf = append(c.buf, p[:k]...)
			if k < n {
				c.cut = true
			}
		} else {
			c.cut = true
		}
		c.mu.Unlock()
	}
	return n, err
}

func (c *captureReader) Close() error { return c.rc.Close() }

func (c *captureReader) captured() ([]byte, bool) {
	c.mu.Lock()
	defer c.mu.Unlock()
	return c.buf, c.cut
}

// responseWriter records the status and the first limit bytes of the body.
type responseWriter struct {
	w     http.ResponseWriter
	limit int

	mu       sync.Mutex
	status   int
	buf      []byte
	cut      bool
	hijacked bool
}

var (
	_ http.Flusher  = (*responseWriter)(nil)
	_ http.Hijacker = (*hijackWriter)(nil)
)

func (rw *responseWriter) Header() http.Header { return rw.w.Header() }

func (rw *responseWriter) WriteHeader(code int) {
	rw.mu.Lock()
	if rw.status == 0 && code >= 200 {
		rw.status = code
	}
	rw.mu.Unlock()
	rw.w.WriteHeader(code)
}

func (rw *responseWriter) Write(p []byte) (int, error) {
	rw.mu.Lock()
	if rw.status == 0 {
		rw.status = http.StatusOK
	}
	if room := rw.limit - len(rw.buf); room > 0 {
		k := min(len(p), room)
		rw.buf = append(rw.buf, p[:k]...)
		if k < len(p) {
			rw.cut = true
		}
	} else if len(p) > 0 && rw.limit > 0 {
		rw.cut = true
	}
	rw.mu.Unlock()
	return rw.w.Write(p)
}

// Flush sends buffered data to the client when the underlying writer can.
func (rw *responseWriter) Flush() {
	_ = http.NewResponseController(rw.w).Flush()
}

// Unwrap lets http.ResponseController reach the underlying writer.
func (rw *responseWriter) Unwrap() http.ResponseWriter { return rw.w }

func (rw *responseWriter) result() (status int, body []byte, cut, hijacked bool) {
	rw.mu.Lock()
	defer rw.mu.Unlock()
	status = rw.status
	if status == 0 {
		status = http.StatusOK
	}
	return status, rw.buf, rw.cut, rw.hijacked
}

// hijackWriter is a responseWriter whose underlying writer is an
// http.Hijacker.
type hijackWriter struct{ *responseWriter }

func (hw *hijackWriter) Hijack() (net.Conn, *bufio.ReadWriter, error) {
	hj, ok := hw.w.(http.Hijacker)
	if !ok {
		return nil, nil, errors.New("tracing: response writer does not support hijacking")
	}
	conn, brw, err := hj.Hijack()
	if err == nil {
		hw.mu.Lock()
		hw.hijacked = true
		hw.mu.Unlock()
	}
	return conn, brw, err
}
