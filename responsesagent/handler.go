package responsesagent

import (
	"bytes"
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"maps"
	"net/http"
	"slices"
	"strconv"
	"strings"
	"time"

	"go.opentelemetry.io/otel/trace"

	"github.com/mlflowtrace/mlflowtrace-go/exporter"
	"github.com/mlflowtrace/mlflowtrace-go/internal/encode"
	"github.com/mlflowtrace/mlflowtrace-go/internal/envconfig"
	"github.com/mlflowtrace/mlflowtrace-go/internal/rawjson"
	"github.com/mlflowtrace/mlflowtrace-go/tracing"
)

// Protocol names of MLflow's agent server.
const (
	// ReturnTraceHeader asks for the trace id: "true" adds metadata.trace_id
	// to a response, and a {"trace_id": ...} event before [DONE] to a stream.
	ReturnTraceHeader = "x-mlflow-return-trace-id"
	// MLflowVersion is the MLflow version whose agent server this package
	// follows, reported by GET /agent/info.
	MLflowVersion = "3.17.2"
)

// Defaults of the handler options.
const (
	DefaultMaxBodyBytes       = 10 << 20
	DefaultReturnTraceTimeout = 10 * time.Second
)

// HandlerOption configures NewHandler.
type HandlerOption interface{ apply(*handlerConfig) }

type handlerOptionFunc func(*handlerConfig)

func (f handlerOptionFunc) apply(c *handlerConfig) { f(c) }

type handlerConfig struct {
	name          string
	maxBody       int64
	traceTimeout  time.Duration
	getenv        func(string) string
	errorHandler  func(error)
	validateAgent bool
}

// WithName sets the name GET /agent/info reports (default: the
// DATABRICKS_APP_NAME environment variable, else "mlflow_agent_server", as
// MLflow's server does). "" is ignored.
func WithName(name string) HandlerOption {
	return handlerOptionFunc(func(c *handlerConfig) {
		if name != "" {
			c.name = name
		}
	})
}

// WithMaxBodyBytes bounds the request body (default 10 MiB); a larger body
// is answered with 413.
func WithMaxBodyBytes(n int64) HandlerOption {
	return handlerOptionFunc(func(c *handlerConfig) {
		if n > 0 {
			c.maxBody = n
		}
	})
}

// WithReturnTraceTimeout bounds how long a request with
// databricks_options.return_trace waits for its trace to finish (every span
// ended) after the agent answered (default 10 s). When it passes, the
// response goes out without databricks_output.
func WithReturnTraceTimeout(d time.Duration) HandlerOption {
	return handlerOptionFunc(func(c *handlerConfig) {
		if d > 0 {
			c.traceTimeout = d
		}
	})
}

// WithGetenv sets the function the handler reads DATABRICKS_APP_NAME with
// (default os.Getenv). nil is ignored.
func WithGetenv(getenv func(string) string) HandlerOption {
	return handlerOptionFunc(func(c *handlerConfig) {
		if getenv != nil {
			c.getenv = getenv
		}
	})
}

// WithErrorHandler sets where the handler reports agent errors and panics
// (default tracing.ReportError: the SDK's one error path, the exporter's
// error handler). It is called from concurrent requests. An agent that ends
// with ctx.Err() after its client left is not reported. nil restores the
// default.
func WithErrorHandler(h func(error)) HandlerOption {
	return handlerOptionFunc(func(c *handlerConfig) { c.errorHandler = h })
}

// WithoutOutputValidation turns off the check of the agent's responses and
// events against MLflow's models (on by default, as in MLflow's server: an
// invalid response is a 500, an invalid event ends the stream with an error).
func WithoutOutputValidation() HandlerOption {
	return handlerOptionFunc(func(c *handlerConfig) { c.validateAgent = false })
}

// NewHandler serves agent the way MLflow's agent server
// (mlflow.genai.agent_server.AgentServer("ResponsesAgent")) does, so that
// Databricks Apps, MLflow's evaluation and OpenAI-style clients can call it:
//
//	POST /invocations   a Request; "stream": true answers with Server-Sent Events
//	POST /responses     the same (OpenAI clients' responses.create)
//	GET  /agent/info    {"name", "use_case": "agent", "mlflow_version", "agent_api": "responses"}
//	GET  /health        {"status": "healthy"}
//
// Every call is traced (see Trace): one AGENT root span with
// mlflow.message.format "openai", as MLflow's server sets it. A response is
// the agent's Response as JSON; a stream is one "data: <event JSON>\n\n" per
// event, each flushed, then "data: [DONE]\n\n"; an error after the stream
// started is sent as "data: {\"error\": \"...\"}\n\n" before [DONE].
//
// With the header x-mlflow-return-trace-id: true a response gets
// metadata.trace_id and a stream an extra {"trace_id": "tr-..."} event before
// [DONE]. With "databricks_options": {"return_trace": true} in the request
// (as Databricks Model Serving and mlflow.genai.evaluate send it) a
// non-streaming response gets "databricks_output": {"trace": <the finished
// trace, as MLflow's Trace.to_dict()>}, when the handler's span is the root
// of its trace (served inside another span — tracing.Wrap, otelhttp — the
// trace ends after the response: none is returned, and the error handler is
// told).
//
// Bad input never reaches the agent: a body that is not a JSON object, a
// request MLflow's ResponsesAgentRequest rejects (the message names the
// field) or one that is too large is answered with a JSON error (400 or
// 413) of the form {"detail": "...", "error": {"message", "type", "param"}}
// ("detail" as FastAPI writes it for MLflow's server, "error" as OpenAI
// clients read it). An agent error or panic is answered with 500 and
// recorded on the trace. A panic is the one the SDK does not re-raise (see
// "Panics" in the package documentation): the handler is the HTTP server's
// boundary, where MLflow's agent server answers 500 too. When
// the client goes away, the agent's ctx is cancelled and the span ends with
// the output streamed so far; an agent that then ends with ctx.Err() is not
// reported to the error handler (the span records it).
func NewHandler(agent Agent, opts ...HandlerOption) http.Handler {
	c := newHandlerConfig(opts)
	if c.errorHandler == nil {
		c.errorHandler = func(err error) { tracing.ReportError(fmt.Errorf("responsesagent: %w", err)) }
	}
	traced, ok := agent.(*tracedAgent)
	if !ok {
		traced = &tracedAgent{agent: agent}
	}
	h := &handler{agent: traced, cfg: c}
	info, _ := json.Marshal(map[string]string{
		"name": c.name, "use_case": "agent", "mlflow_version": MLflowVersion, "agent_api": "responses",
	})
	h.info = info

	mux := http.NewServeMux()
	mux.HandleFunc("POST /invocations", h.invoke)
	mux.HandleFunc("POST /responses", h.invoke)
	mux.HandleFunc("GET /agent/info", func(w http.ResponseWriter, r *http.Request) { writeJSON(w, http.StatusOK, h.info) })
	mux.HandleFunc("GET /health", func(w http.ResponseWriter, r *http.Request) {
		writeJSON(w, http.StatusOK, []byte(`{"status":"healthy"}`))
	})
	return mux
}

// newHandlerConfig resolves the handler's configuration: the options over
// the defaults; the name, unless WithName gave one, from the environment
// (envconfig.AppName, read through the getenv option, if any), else
// MLflow's default.
func newHandlerConfig(opts []HandlerOption) handlerConfig {
	c := handlerConfig{maxBody: DefaultMaxBodyBytes, traceTimeout: DefaultReturnTraceTimeout, validateAgent: true}
	for _, o := range opts {
		if o != nil {
			o.apply(&c)
		}
	}
	if c.name == "" {
		if c.name = envconfig.AppName.Get(envconfig.New(c.getenv)); c.name == "" {
			c.name = envconfig.AppName.Default
		}
	}
	return c
}

type handler struct {
	agent *tracedAgent
	cfg   handlerConfig
	info  []byte
}

func writeJSON(w http.ResponseWriter, status int, body []byte) {
	w.Header().Set("Content-Type", "application/json")
	w.WriteHeader(status)
	_, _ = w.Write(body)
}

func writeError(w http.ResponseWriter, status int, msg, param, typ string) {
	e := map[string]any{"message": msg, "type": typ, "param": nil, "code": nil}
	if param != "" {
		e["param"] = param
	}
	b, _ := json.Marshal(map[string]any{"detail": msg, "error": e})
	writeJSON(w, status, b)
}

// DecodeRequest decodes and validates a request body as NewHandler does. It
// returns a *FieldError for a request MLflow would reject. Integer, number
// and boolean members are converted as MLflow's pydantic models convert
// them in lax mode ("5" and 5.0 are the integer 5, "yes" is true; see
// Request). The members "stream" and "databricks_options" are left in the
// request; the handler removes them before calling the agent. "stream" is
// read as MLflow's agent server reads it, with Python's truth rules, before
// validation: any value is accepted, and null, false, 0, "", [] and {} are
// false, every other value (the string "false" too) true.
func DecodeRequest(body []byte) (*Request, error) {
	trimmed := bytes.TrimSpace(body)
	if len(trimmed) == 0 {
		return nil, &FieldError{Reason: "empty request body: a JSON object with \"input\" is required"}
	}
	if !rawjson.Valid(trimmed) {
		var v any
		err := json.Unmarshal(trimmed, &v)
		return nil, &FieldError{Reason: "invalid JSON in request body: " + err.Error()}
	}
	if trimmed[0] != '{' {
		return nil, &FieldError{Reason: "the request body must be a JSON object"}
	}
	members, err := decodeMembers(trimmed)
	if err != nil {
		return nil, &FieldError{Reason: "invalid JSON in request body: " + err.Error()}
	}
	for i, m := range members {
		if m.key == "input" && len(m.val) > 0 && m.val[0] == '"' {
			return nil, fieldErr("input", "must be a list of messages or items; a plain string is not accepted by MLflow's ResponsesAgentRequest (send [{\"role\": \"user\", \"content\": \"...\"}])")
		}
		if m.key == "stream" && string(m.val) != "true" && string(m.val) != "false" && string(m.val) != "null" {
			members[i].val = json.RawMessage(strconv.FormatBool(truthy(m.val)))
			trimmed = encodeMembers(members)
		}
	}
	var req Request
	if err := req.UnmarshalJSON(trimmed); err != nil {
		return nil, err
	}
	if err := req.Validate(); err != nil {
		return nil, err
	}
	return &req, nil
}

// encodeMembers writes members as a JSON object.
func encodeMembers(members []member) []byte {
	b := []byte{'{'}
	for i, m := range members {
		if i > 0 {
			b = append(b, ',')
		}
		b = encode.AppendString(b, m.key, false)
		b = append(append(b, ':'), m.val...)
	}
	return append(b, '}')
}

// takeOptions removes the transport members MLflow's server pops before
// calling the agent ("stream") or Databricks serving handles itself
// ("databricks_options"), and returns them.
func (r *Request) takeOptions() (stream, returnTrace bool) {
	if r.Stream != nil {
		stream = *r.Stream
		r.Stream = nil
	}
	if raw, ok := r.Extra["databricks_options"]; ok {
		var opts struct {
			ReturnTrace bool `json:"return_trace"`
		}
		_ = json.Unmarshal(raw, &opts)
		returnTrace = opts.ReturnTrace
		delete(r.Extra, "databricks_options")
	}
	r.keys = slices.DeleteFunc(r.keys, func(k string) bool { return k == "stream" || k == "databricks_options" })
	return stream, returnTrace
}

func (h *handler) invoke(w http.ResponseWriter, r *http.Request) {
	body, err := readBody(w, r, h.cfg.maxBody)
	if err != nil {
		var mbe *http.MaxBytesError
		if errors.As(err, &mbe) {
			writeError(w, http.StatusRequestEntityTooLarge,
				fmt.Sprintf("request body larger than %d bytes", mbe.Limit), "", "invalid_request_error")
			return
		}
		writeError(w, http.StatusBadRequest, "reading the request body: "+err.Error(), "", "invalid_request_error")
		return
	}
	req, err := DecodeRequest(body)
	if err != nil {
		var fe *FieldError
		param := ""
		if errors.As(err, &fe) {
			param = fe.Field
		}
		writeError(w, http.StatusBadRequest, "Invalid parameters for ResponsesAgent: "+err.Error(), param, "invalid_request_error")
		return
	}
	stream, returnTrace := req.takeOptions()
	returnTraceID := strings.EqualFold(r.Header.Get(ReturnTraceHeader), "true")
	if stream {
		h.serveStream(w, r, req, returnTraceID)
		return
	}
	h.servePredict(w, r, req, returnTraceID, returnTrace)
}

// report hands an agent error to the error handler, unless it is the
// cancellation of the request's context, which net/http cancels when the
// client goes away: an agent ending with ctx.Err() then is no error
// (MLflow's server logs nothing when a client leaves; the span records it).
func (h *handler) report(ctx context.Context, err error) {
	if errors.Is(ctx.Err(), context.Canceled) && errors.Is(err, context.Canceled) {
		return
	}
	h.cfg.errorHandler(err)
}

func readBody(w http.ResponseWriter, r *http.Request, limit int64) ([]byte, error) {
	rd := http.MaxBytesReader(w, r.Body, limit)
	defer rd.Close()
	var buf bytes.Buffer
	if r.ContentLength > 0 && r.ContentLength <= limit {
		buf.Grow(int(r.ContentLength))
	}
	_, err := buf.ReadFrom(rd)
	return buf.Bytes(), err
}

// rootSpan is what the hooks learned about the root span.
type rootSpan struct {
	traceID string
	span    *tracing.Span
	watch   *exporter.TraceWatch
}

func (h *handler) hooks(root *rootSpan, returnTrace bool) *spanHooks {
	return &spanHooks{
		messageFormat: "openai",
		validate:      h.cfg.validateAgent,
		onStart: func(ctx context.Context, s *tracing.Span) {
			root.traceID = s.TraceID()
			root.span = s
			if returnTrace {
				if w, err := tracing.WatchTrace(ctx); err == nil {
					root.watch = w
				}
			}
		},
		withTraceID: func(resp *Response) *Response {
			if root.traceID == "" {
				return resp
			}
			out := *resp
			md := make(map[string]string, len(resp.Metadata)+1)
			maps.Copy(md, resp.Metadata)
			md["trace_id"] = root.traceID
			out.Metadata = md
			return &out
		},
	}
}

func (h *handler) servePredict(w http.ResponseWriter, r *http.Request, req *Request, returnTraceID, returnTrace bool) {
	if returnTrace && trace.SpanFromContext(r.Context()).IsRecording() {
		// The agent's span is not its trace's root: the trace ends after
		// the response is sent, so waiting for it would only delay the answer.
		h.cfg.errorHandler(errors.New("databricks_options.return_trace: the handler runs inside another span (e.g. tracing.Wrap, otelhttp), whose trace ends after the response: no trace returned"))
		returnTrace = false
	}
	var root rootSpan
	hk := h.hooks(&root, returnTrace)
	if !returnTraceID {
		hk.withTraceID = nil
	}
	resp, err := h.callPredict(r.Context(), req, hk)
	if err != nil {
		h.report(r.Context(), err)
		writeError(w, http.StatusInternalServerError, err.Error(), "", "server_error")
		return
	}
	if returnTrace && root.watch != nil {
		resp = h.attachTrace(r.Context(), resp, root.watch)
	}
	b, err := resp.MarshalJSON()
	if err != nil {
		h.cfg.errorHandler(fmt.Errorf("encoding the agent's response: %w", err))
		writeError(w, http.StatusInternalServerError, "encoding the agent's response: "+err.Error(), "", "server_error")
		return
	}
	writeJSON(w, http.StatusOK, b)
}

// callPredict runs the traced Predict and turns a panic (already recorded
// on the trace) into an error.
func (h *handler) callPredict(ctx context.Context, req *Request, hk *spanHooks) (resp *Response, err error) {
	defer func() {
		if r := recover(); r != nil {
			err = fmt.Errorf("agent panicked: %s", panicText(r))
		}
	}()
	return h.agent.predict(ctx, req, hk)
}

// attachTrace waits (bounded) for the finished trace and returns resp with
// databricks_output.trace.
func (h *handler) attachTrace(ctx context.Context, resp *Response, w *exporter.TraceWatch) *Response {
	ctx, cancel := context.WithTimeout(ctx, h.cfg.traceTimeout)
	defer cancel()
	t, err := w.Wait(ctx)
	if err != nil {
		h.cfg.errorHandler(fmt.Errorf("databricks_options.return_trace: trace %s: %w", w.TraceID(), err))
		return resp
	}
	tj, err := json.Marshal(t)
	if err != nil {
		h.cfg.errorHandler(fmt.Errorf("databricks_options.return_trace: encoding trace %s: %w", w.TraceID(), err))
		return resp
	}
	out := *resp
	out.Extra = make(map[string]json.RawMessage, len(resp.Extra)+1)
	maps.Copy(out.Extra, resp.Extra)
	out.Extra["databricks_output"] = append(append([]byte(`{"trace":`), tj...), '}')
	return &out
}

func (h *handler) serveStream(w http.ResponseWriter, r *http.Request, req *Request, returnTraceID bool) {
	hdr := w.Header()
	hdr.Set("Content-Type", "text/event-stream; charset=utf-8")
	hdr.Set("Cache-Control", "no-cache")
	hdr.Set("X-Accel-Buffering", "no")
	w.WriteHeader(http.StatusOK)
	sse := newSSEWriter(w)
	_ = sse.rc.Flush()

	var root rootSpan
	hk := h.hooks(&root, false)
	hk.withTraceID = nil
	ctx := r.Context()
	failed := false
	func() {
		defer func() {
			if rec := recover(); rec != nil { // recorded on the trace already
				err := fmt.Errorf("agent panicked: %s", panicText(rec))
				h.cfg.errorHandler(err)
				failed = true
				_ = sse.errorEvent(err.Error())
			}
		}()
		for ev, err := range h.agent.stream(ctx, req, hk) {
			if err != nil {
				h.report(ctx, err)
				failed = true
				_ = sse.errorEvent(err.Error())
				return
			}
			if err := sse.event(ev); err != nil {
				if sse.err == nil { // not written: the event cannot be encoded
					err = fmt.Errorf("encoding the agent's stream event: %w", err)
					root.span.RecordError(err)
					h.cfg.errorHandler(err)
					failed = true
					_ = sse.errorEvent(err.Error())
				}
				return // stop the agent (the span keeps the output so far)
			}
		}
	}()
	if sse.err != nil {
		return
	}
	if returnTraceID && !failed && root.traceID != "" {
		_ = sse.event(map[string]string{"trace_id": root.traceID})
	}
	_ = sse.done()
}
