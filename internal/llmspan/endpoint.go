package llmspan

import (
	"bytes"
	"io"
	"net/http"

	"github.com/mlflowtrace/mlflowtrace-go/internal/encode"
	"github.com/mlflowtrace/mlflowtrace-go/tracing"
)

// Endpoint is the part of a traced call that depends on the SDK and the API
// it calls: the span's name and type, and how the request and the result
// are recorded.
type Endpoint struct {
	Name string
	Type tracing.SpanType
	// OwnInputs reports that Start records the span's inputs itself (the
	// request body is not a form MLflow records); otherwise the body is
	// the span's inputs when content capture is on.
	OwnInputs bool
	// Outer, when not nil, is a span opened around the call's span, which
	// becomes its child: MLflow's Gemini autolog records a chat turn as a
	// Chat.send_message span around the model call's span. It starts with
	// the call's span (its Start gets the same request members) and ends
	// right after it; its recorder's Finish gets the same result and its
	// Event is never called.
	Outer *Endpoint
	// Start records the request on the new span from the members of its JSON
	// body (in document order) and returns the recorder of the call's result.
	// capture reports that content capture is on; the body is then already
	// the span's inputs (unless OwnInputs). fields is nil when the body is
	// larger than MaxBody (an inline image or document): the call is traced
	// without its request, and the span has no inputs.
	Start func(span *tracing.Span, fields []Field, capture bool) Recorder
}

// Route returns the Endpoint a request calls, or ok false for a request
// that is not traced (it then passes through untouched).
type Route func(req *http.Request) (ep Endpoint, ok bool)

// CallMiddleware returns the middleware of one logical SDK call, for
// PerCall's newCall. On the call's first attempt it asks route which
// endpoint the request calls and reads a bounded copy of its JSON body
// (through GetBody, without consuming the body); a request route does not
// trace, a body that is not a JSON object, or tracing that is off or
// unsampled leaves the call untraced (a body larger than MaxBody does not:
// its call is traced without inputs). Otherwise it starts the span, sets the
// body as its inputs when content capture is on, and lets the endpoint
// record the request. Every attempt of a traced call is sent as a clone of
// the request carrying the span's trace context (Inject), through the
// call's Call (see NewCall for attemptCtxEndsCall).
func CallMiddleware(info CallInfo, route Route, attemptCtxEndsCall bool) Middleware {
	m := &callMiddleware{info: info, route: route, attemptCtxEnds: attemptCtxEndsCall}
	return m.serve
}

// callMiddleware is one logical call; the SDK runs its attempts one after
// the other.
type callMiddleware struct {
	info           CallInfo
	route          Route
	attemptCtxEnds bool

	started bool
	call    *Call // nil: untraced
}

func (m *callMiddleware) serve(req *http.Request, next Next) (*http.Response, error) {
	if !m.started {
		m.started = true
		m.call = m.start(req)
	}
	if m.call == nil {
		return next(req)
	}
	out := req.Clone(req.Context())
	Inject(req.Context(), m.call.span, out.Header)
	return m.call.Send(out, next)
}

// start opens the call's span from the first attempt's request (nil:
// untraced).
func (m *callMiddleware) start(req *http.Request) *Call {
	ep, ok := m.route(req)
	if !ok {
		return nil
	}
	body, whole := requestBody(req)
	var fields []Field
	if whole {
		var err error
		if fields, err = ObjectFields(body); err != nil {
			return nil
		}
	} else if body == nil {
		return nil
	} else {
		body = nil // too large to record: the call is traced without its request
	}
	ctx := req.Context()
	var outer *tracing.Span
	var outerRec Recorder
	if ep.Outer != nil {
		ctx, outer = tracing.StartSpan(ctx, ep.Outer.Name, tracing.WithSpanType(ep.Outer.Type))
		if outer == nil {
			return nil
		}
		outerRec = startEndpoint(*ep.Outer, outer, fields, body)
	}
	_, span := tracing.StartSpan(ctx, ep.Name, tracing.WithSpanType(ep.Type))
	if span == nil {
		if outer != nil {
			outer.End()
		}
		return nil
	}
	c := NewCall(span, m.info, startEndpoint(ep, span, fields, body), m.attemptCtxEnds)
	if outer != nil {
		c.outer, c.outerRec = outer, outerRec
	}
	return c
}

// startEndpoint sets the body (valid JSON) as the span's inputs (unless the
// endpoint records them) and runs the endpoint's Start. A body nil (larger
// than MaxBody) gives no inputs, and Start no fields.
func startEndpoint(ep Endpoint, span *tracing.Span, fields []Field, body []byte) Recorder {
	capture := span.CapturesContent()
	if capture && !ep.OwnInputs && body != nil {
		span.SetInputs(encode.ValidJSON(body)) // ObjectFields validated it
	}
	return ep.Start(span, fields, capture)
}

// requestBody reads up to MaxBody bytes of the request's body without
// consuming it (the SDKs set GetBody for their bodies); nil when it cannot.
// whole is false when the body is longer than MaxBody (body then holds its
// first MaxBody bytes).
func requestBody(req *http.Request) (body []byte, whole bool) {
	if req.GetBody == nil || req.Body == nil || req.Body == http.NoBody {
		return nil, false
	}
	if req.ContentLength > MaxBody {
		return []byte{}, false // not read: it would be cut anyway
	}
	rc, err := req.GetBody()
	if err != nil {
		return nil, false
	}
	defer rc.Close()
	var buf bytes.Buffer
	n, err := io.Copy(&buf, io.LimitReader(rc, MaxBody+1))
	if err != nil {
		return nil, false
	}
	if n > MaxBody {
		return buf.Bytes()[:MaxBody], false
	}
	return buf.Bytes(), true
}
