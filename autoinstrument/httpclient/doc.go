// Package httpclient records the calls of any HTTP API — an LLM API without
// a Go SDK integration, a search service, a tool server — as MLflow spans,
// with an http.RoundTripper:
//
//	client := &http.Client{Transport: httpclient.NewTransport(nil,
//		httpclient.WithSpanType(tracing.SpanTypeChatModel),
//		httpclient.WithMessageFormat("openai"))}
//
// Each request is one span ("METHOD /path" by default), a child of the span
// in the request's context. The outgoing request carries the span's W3C
// trace context (OpenTelemetry's global propagator, which tracing.Init sets),
// so a service that continues the trace (tracing.Wrap) joins it. The span
// records:
//
//   - inputs: the request body as it is sent (its JSON value, or its text),
//     outputs: the response body as the caller reads it — JSON, text, or for
//     a server-sent-event stream the list of its events' data — each up to
//     WithMaxBody bytes (64 KiB by default); the caller still sends and
//     receives every byte;
//   - http.request.method, url.full (user information and the values of
//     query parameters that may hold secrets — key, token, signature, … —
//     replaced by REDACTED), server.address, http.response.status_code, and
//     the request and response headers (http.request.header,
//     http.response.header) without Authorization, Proxy-Authorization,
//     Cookie, Set-Cookie, API-key headers or any header whose name mentions
//     a key, token, secret, password, signature, credential, session or
//     auth: those are never recorded (WithoutHeaders records none);
//   - status ERROR for a 4xx/5xx answer, and the transport error (an
//     "exception" event) when the request fails.
//
// As in otelhttp's transport, the span ends when the response body is read
// to its end (EOF), fails, or is closed — not when RoundTrip returns — so a
// streamed answer is timed and recorded whole. A body the caller never
// closes leaves its span open.
//
// With content capture off (tracing.WithContentCapture(false),
// MLFLOWTRACE_CAPTURE_CONTENT=false) no body is recorded. Each RoundTrip is
// one span: a client that retries makes one span per attempt (use the
// openai and anthropic packages for one span per logical SDK call).
package httpclient
