package httpclient

import (
	"bytes"
	"encoding/json"
	"io"
	"net/http"
	"net/url"
	"strings"
	"sync"

	"go.opentelemetry.io/otel/codes"

	"github.com/mlflowtrace/mlflowtrace-go/internal/llmspan"
	"github.com/mlflowtrace/mlflowtrace-go/internal/rawjson"
	"github.com/mlflowtrace/mlflowtrace-go/internal/sse"
	"github.com/mlflowtrace/mlflowtrace-go/tracing"
)

// DefaultMaxBody is how many bytes of a request or response body are
// recorded by default.
const DefaultMaxBody = 64 << 10

// maxEvents bounds the events of a stream recorded as outputs.
const maxEvents = 1000

// Option configures NewTransport.
type Option interface{ apply(*config) }

type config struct {
	spanType tracing.SpanType
	spanName func(*http.Request) string
	format   string
	maxBody  int
	headers  bool
}

type optionFunc func(*config)

func (f optionFunc) apply(c *config) { f(c) }

// WithSpanType sets the spans' MLflow type (default UNKNOWN; e.g.
// tracing.SpanTypeChatModel for a chat API, tracing.SpanTypeRetriever for a
// search API).
func WithSpanType(t tracing.SpanType) Option { return optionFunc(func(c *config) { c.spanType = t }) }

// WithSpanName names each span from its request (default "METHOD /path").
// A nil function is ignored.
func WithSpanName(fn func(*http.Request) string) Option {
	return optionFunc(func(c *config) {
		if fn != nil {
			c.spanName = fn
		}
	})
}

// WithMessageFormat sets mlflow.message.format, for an API whose request
// and response bodies are chat messages MLflow's UI can show (e.g.
// "openai" for an OpenAI-compatible endpoint called without the SDK).
func WithMessageFormat(format string) Option {
	return optionFunc(func(c *config) { c.format = format })
}

// WithMaxBody sets how many bytes of each request and response body are
// recorded as inputs and outputs (default DefaultMaxBody; the whole body is
// still sent and received). n <= 0 records no body.
func WithMaxBody(n int) Option { return optionFunc(func(c *config) { c.maxBody = n }) }

// WithoutHeaders records no request and response headers.
func WithoutHeaders() Option { return optionFunc(func(c *config) { c.headers = false }) }

// Transport is an http.RoundTripper that records each request as an MLflow
// span. Create it with NewTransport; it is safe for concurrent use.
type Transport struct {
	base http.RoundTripper
	cfg  config
}

var _ http.RoundTripper = (*Transport)(nil)

// NewTransport returns a Transport that sends requests with base
// (http.DefaultTransport when nil):
//
//	client := &http.Client{Transport: httpclient.NewTransport(nil)}
func NewTransport(base http.RoundTripper, opts ...Option) *Transport {
	if base == nil {
		base = http.DefaultTransport
	}
	t := &Transport{base: base, cfg: config{spanType: tracing.SpanTypeUnknown, maxBody: DefaultMaxBody, headers: true}}
	for _, o := range opts {
		if o != nil {
			o.apply(&t.cfg)
		}
	}
	return t
}

// CloseIdleConnections closes the idle connections of the base transport
// when it can.
func (t *Transport) CloseIdleConnections() {
	if c, ok := t.base.(interface{ CloseIdleConnections() }); ok {
		c.CloseIdleConnections()
	}
}

// RoundTrip sends req in a span (child of the span in req's context, or a
// new trace) that ends when the response body is read to its end or closed,
// or when the request fails. The request sent is a clone of req carrying the
// span's trace context; req is not modified.
func (t *Transport) RoundTrip(req *http.Request) (*http.Response, error) {
	name := req.Method + " " + req.URL.Path
	if t.cfg.spanName != nil {
		name = t.cfg.spanName(req)
	}
	ctx, span := tracing.StartSpan(req.Context(), name, tracing.WithSpanType(t.cfg.spanType))
	if span == nil {
		return t.base.RoundTrip(req)
	}
	capturing := span.CapturesContent() && t.cfg.maxBody > 0
	attrs := map[string]any{
		"http.request.method": req.Method,
		"url.full":            redactURL(req.URL),
		"server.address":      req.URL.Hostname(),
	}
	if t.cfg.format != "" {
		attrs["mlflow.message.format"] = t.cfg.format
	}
	if t.cfg.headers {
		if h := headerMap(req.Header); len(h) > 0 {
			attrs["http.request.header"] = h
		}
	}
	span.SetAttributes(attrs)

	out := req.Clone(ctx)
	llmspan.Inject(ctx, span, out.Header)
	var in *capture
	if capturing && req.Body != nil && req.Body != http.NoBody {
		in = &capture{rc: req.Body, limit: t.cfg.maxBody}
		out.Body = in
	}
	rec := &recorder{cfg: &t.cfg, capture: capturing, in: in, contentType: req.Header.Get("Content-Type")}
	call := llmspan.NewCall(span, llmspan.CallInfo{}, rec, false)
	limit := t.cfg.maxBody
	if !capturing {
		limit = 0
	}
	call.SetBodyLimit(limit)
	return call.Send(out, t.base.RoundTrip)
}

// sensitive reports a header that may carry a secret: it is never recorded.
func sensitive(name string) bool {
	n := strings.ToLower(name)
	switch n {
	case "authorization", "proxy-authorization", "cookie", "set-cookie", "x-api-key", "api-key", "x-goog-api-key",
		"x-amz-security-token", "x-csrf-token", "x-xsrf-token":
		return true
	}
	for _, part := range []string{"key", "token", "secret", "auth", "password", "signature", "credential", "session"} {
		if strings.Contains(n, part) {
			return true
		}
	}
	return false
}

// headerMap is the headers to record: lower-case names, values joined with
// ", ", sensitive ones left out.
func headerMap(h http.Header) map[string]string {
	m := make(map[string]string, len(h))
	for k, v := range h {
		if sensitive(k) {
			continue
		}
		m[strings.ToLower(k)] = strings.Join(v, ", ")
	}
	return m
}

// secretParams are query parameters whose values are never recorded.
var secretParams = []string{"key", "token", "secret", "sig", "signature", "password", "code", "auth", "credential"}

// redactURL is u without user information, and with the values of query
// parameters that may hold secrets replaced by REDACTED.
func redactURL(u *url.URL) string {
	c := *u
	if c.User != nil {
		c.User = url.User("REDACTED")
	}
	if c.RawQuery != "" {
		q := c.Query()
		for k := range q {
			lk := strings.ToLower(k)
			for _, s := range secretParams {
				if strings.Contains(lk, s) {
					q[k] = []string{"REDACTED"}
					break
				}
			}
		}
		c.RawQuery = q.Encode()
	}
	return c.String()
}

// capture passes a request body through and keeps its first limit bytes.
type capture struct {
	rc    io.ReadCloser
	limit int

	mu  sync.Mutex
	buf []byte
	cut bool
}

func (c *capture) Read(p []byte) (int, error) {
	n, err := c.rc.Read(p)
	if n > 0 {
		c.mu.Lock()
		if room := c.limit - len(c.buf); room > 0 {
			c.buf = append(c.buf, p[:min(n, room)]...)
			c.cut = c.cut || n > room
		} else {
			c.cut = true
		}
		c.mu.Unlock()
	}
	return n, err
}

func (c *capture) Close() error { return c.rc.Close() }

func (c *capture) captured() ([]byte, bool) {
	c.mu.Lock()
	defer c.mu.Unlock()
	return c.buf, c.cut
}

// recorder records the request's result on its span.
type recorder struct {
	cfg         *config
	capture     bool
	in          *capture
	contentType string

	events    []json.RawMessage
	size      int
	truncated bool
}

func (r *recorder) Event(ev sse.Event) {
	if !r.capture {
		return
	}
	if len(r.events) >= maxEvents || r.size+len(ev.Data) > r.cfg.maxBody {
		r.truncated = true
		return
	}
	r.size += len(ev.Data)
	r.events = append(r.events, bodyValue(ev.Data, false))
}

// StreamDone: a generic stream has no known final event; it ends at EOF.
func (r *recorder) StreamDone() bool { return false }

func (r *recorder) Finish(span *tracing.Span, res llmspan.Result) {
	if r.in != nil {
		if b, cut := r.in.captured(); len(b) > 0 {
			span.SetInputs(bodyValue(b, cut))
		}
	}
	if res.Response != nil {
		span.SetAttribute("http.response.status_code", res.Response.StatusCode)
		if r.cfg.headers {
			if h := headerMap(res.Response.Header); len(h) > 0 {
				span.SetAttribute("http.response.header", h)
			}
		}
		if r.capture {
			if res.Stream {
				span.SetOutputs(r.events)
				if r.truncated {
					span.SetAttribute("mlflow.spanOutputs.truncated", true)
				}
			} else if len(res.Body) > 0 {
				span.SetOutputs(bodyValue(res.Body, res.Truncated))
			}
		}
		if res.Response.StatusCode >= 400 {
			span.SetStatus(codes.Error, "HTTPError: "+llmspan.StatusText(res.Response.StatusCode))
		}
	}
	if res.Err != nil {
		span.RecordError(res.Err)
	}
}

// bodyValue is the recorded form of a body: its JSON value when it is
// complete JSON, else its text (with "..." when cut).
func bodyValue(b []byte, cut bool) json.RawMessage {
	if !cut && rawjson.Valid(b) {
		return json.RawMessage(b)
	}
	s := string(bytes.ToValidUTF8(b, []byte("\uFFFD")))
	if cut {
		s += "..."
	}
	out, _ := json.Marshal(s)
	return out
}
