// Package llmtest is a strict fake of the OpenAI, Anthropic, Gemini and
// Amazon Bedrock Runtime HTTP APIs for tests: one http.Handler serving
// OpenAI's Chat Completions, Responses, Embeddings and (legacy) Completions
// under /v1/, Anthropic's Messages at /v1/messages, the Gemini API's model
// methods (/v1beta/models/<model>:generateContent,
// :streamGenerateContent?alt=sse, :countTokens, :embedContent,
// :batchEmbedContents; also under /v1/) and Vertex AI's
// (/v1beta1/projects/<p>/locations/<l>/publishers/google/models/
// <model>:..., express mode without the project, :predict for embeddings),
// and Bedrock Runtime's Converse, ConverseStream, InvokeModel and
// InvokeModelWithResponseStream under /model/{modelId}/ (bedrock.go): JSON,
// server-sent-event and AWS event-stream answers shaped as the providers'
// API references describe them (tool calls, parallel tool calls, refusals,
// errors, usage in the last chunk with stream_options.include_usage, cache
// token counts, Gemini's implicit caching and thinking tokens; for
// InvokeModel the Anthropic, Nova, Llama, Titan and Cohere bodies).
//
// It is a fake: answers come from a small deterministic rule set (see
// brain.go), not a model. It is strict: it rejects what the real APIs reject
// — a missing or wrong API key (401; Gemini: x-goog-api-key, 403/400;
// Vertex AI: an OAuth bearer token, 401), a missing anthropic-version header,
// a missing, malformed or wrong AWS Signature Version 4 (sigv4.go), Gemini
// members Google's proto JSON parser rejects (geminischema.go), missing or
// mistyped required fields, unknown request fields, an unknown model (404;
// Bedrock: ValidationException), tool results that answer no tool call —
// with the providers' error bodies. The Python clients `openai` and
// `anthropic` from PyPI are run against it by conformance/test_llm_fakes.py,
// google-genai by conformance/test_gemini_fake.py and boto3 by
// conformance/test_bedrock_fake.py, to prove the shapes.
//
// Faults (429/5xx answers, dropped or failing streams, slow answers) are
// injected with AddFault, or over HTTP with POST /_fake/faults when the fake
// runs standalone (cmd/fakellm). A test that needs particular model answers
// (a prompt-driven agent expecting "Action: ..." lines) queues them with
// Script.
package llmtest

import (
	"bytes"
	"context"
	"encoding/json"
	"io"
	"net/http"
	"net/http/httptest"
	"strconv"
	"strings"
	"sync"
	"testing"
	"time"
)

// Default API keys the fake accepts.
const (
	OpenAIKey    = "sk-test-openai"
	AnthropicKey = "sk-ant-test"
)

// Fake is the fake API as an http.Handler. Create it with New; it is safe
// for concurrent use.
type Fake struct {
	openAIKey    string
	anthropicKey string
	awsKeyID     string
	awsSecret    string
	awsToken     string
	awsRegion    string
	geminiKey    string
	vertexToken  string
	maxRequests  int

	mu        sync.Mutex
	faults    []Fault
	replies   []Reply
	requests  []Request
	cacheSeen map[string]bool // prompt-cache prefixes seen (OpenAI and Anthropic)
}

// Option configures a Fake.
type Option interface{ apply(*Fake) }

type optionFunc func(*Fake)

func (f optionFunc) apply(x *Fake) { f(x) }

// WithOpenAIKey sets the API key the OpenAI endpoints accept (default
// OpenAIKey).
func WithOpenAIKey(k string) Option { return optionFunc(func(f *Fake) { f.openAIKey = k }) }

// WithAnthropicKey sets the API key the Anthropic endpoint accepts (default
// AnthropicKey).
func WithAnthropicKey(k string) Option { return optionFunc(func(f *Fake) { f.anthropicKey = k }) }

// WithGeminiKey sets the API key the Gemini API endpoints (and Vertex AI in
// express mode) accept (default GeminiKey).
func WithGeminiKey(k string) Option { return optionFunc(func(f *Fake) { f.geminiKey = k }) }

// WithVertexToken sets the OAuth access token the Vertex AI endpoints accept
// (default VertexToken).
func WithVertexToken(t string) Option { return optionFunc(func(f *Fake) { f.vertexToken = t }) }

// New returns a Fake.
func New(opts ...Option) *Fake {
	f := &Fake{openAIKey: OpenAIKey, anthropicKey: AnthropicKey, geminiKey: GeminiKey, vertexToken: VertexToken,
		awsKeyID: AWSAccessKeyID, awsSecret: AWSSecretAccessKey, awsRegion: AWSRegion, maxRequests: 1000, cacheSeen: map[string]bool{}}
	for _, o := range opts {
		if o != nil {
			o.apply(f)
		}
	}
	return f
}

// Fault makes the fake misbehave for the next Count matching requests.
type Fault struct {
	// Path limits the fault to requests whose path ends with it ("" = any).
	Path string `json:"path,omitempty"`
	// Count is how many requests it applies to (default 1).
	Count int `json:"count,omitempty"`
	// Status answers with this HTTP status and the provider's error body for
	// it (429, 500, 503, 529, ...) instead of the normal answer.
	Status int `json:"status,omitempty"`
	// RetryAfter is sent as the Retry-After header with Status.
	RetryAfter string `json:"retry_after,omitempty"`
	// Delay holds the answer back (or until the client gives up).
	Delay time.Duration `json:"delay,omitempty"`
	// CutAfter drops the connection of a streamed answer after this many
	// events (without the end of the stream).
	CutAfter int `json:"cut_after,omitempty"`
	// StreamError sends the provider's error event after CutAfter events
	// instead of dropping the connection.
	StreamError bool `json:"stream_error,omitempty"`
	// EventDelay slows a streamed answer down: a pause before each event.
	EventDelay time.Duration `json:"event_delay,omitempty"`
}

// AddFault queues a fault.
func (f *Fake) AddFault(ft Fault) {
	if ft.Count <= 0 {
		ft.Count = 1
	}
	f.mu.Lock()
	f.faults = append(f.faults, ft)
	f.mu.Unlock()
}

// ClearFaults drops the queued faults.
func (f *Fake) ClearFaults() {
	f.mu.Lock()
	f.faults = nil
	f.mu.Unlock()
}

func (f *Fake) takeFault(path string) (Fault, bool) {
	f.mu.Lock()
	defer f.mu.Unlock()
	for i := range f.faults {
		ft := &f.faults[i]
		if ft.Path != "" && !strings.HasSuffix(path, ft.Path) {
			continue
		}
		out := *ft
		ft.Count--
		if ft.Count <= 0 {
			f.faults = append(f.faults[:i], f.faults[i+1:]...)
		}
		return out, true
	}
	return Fault{}, false
}

// Reply is a scripted answer of the model (see Script).
type Reply struct {
	Text      string
	ToolCalls []ReplyToolCall
}

// ReplyToolCall is a tool call of a scripted Reply.
type ReplyToolCall struct {
	Name      string
	Arguments string // a JSON object ("{}" when empty)
}

// Script queues answers of the model: each later valid request that asks
// the model for a turn (OpenAI Chat Completions and Responses, Anthropic
// Messages, Gemini generateContent) takes the next reply, in arrival order, instead of the
// deterministic answer of brain.go. Everything else about the answer — ids,
// token usage (counted from the request and the reply), streaming, faults —
// is the fake's as usual; a request the fake rejects takes no reply.
func (f *Fake) Script(replies ...Reply) {
	f.mu.Lock()
	f.replies = append(f.replies, replies...)
	f.mu.Unlock()
}

// answer is the model's turn: the next scripted reply, else the brain's.
func (f *Fake) answer(in decideInput) turn {
	f.mu.Lock()
	if len(f.replies) == 0 {
		f.mu.Unlock()
		return decide(in)
	}
	r := f.replies[0]
	f.replies = f.replies[1:]
	f.mu.Unlock()
	t := turn{Text: r.Text}
	for i, c := range r.ToolCalls {
		args := c.Arguments
		if args == "" {
			args = "{}"
		}
		t.ToolCalls = append(t.ToolCalls, toolCall{ID: hashID(in.Seed, "call", i), Name: c.Name, Args: args})
	}
	return t
}

// Request is a request the fake received.
type Request struct {
	Method string      `json:"method"`
	Path   string      `json:"path"`
	Query  string      `json:"query,omitempty"`
	Header http.Header `json:"header"`
	Body   []byte      `json:"body"`
}

// JSON decodes the request body.
func (r Request) JSON() map[string]any {
	var m map[string]any
	_ = json.Unmarshal(r.Body, &m)
	return m
}

// Requests returns the API requests received so far (not the /_fake/ ones).
func (f *Fake) Requests() []Request {
	f.mu.Lock()
	defer f.mu.Unlock()
	return append([]Request(nil), f.requests...)
}

// Reset forgets requests, faults, scripted replies and the prompt cache.
func (f *Fake) Reset() {
	f.mu.Lock()
	f.requests, f.faults, f.replies, f.cacheSeen = nil, nil, nil, map[string]bool{}
	f.mu.Unlock()
}

func (f *Fake) record(r *http.Request, body []byte) {
	f.mu.Lock()
	defer f.mu.Unlock()
	if len(f.requests) >= f.maxRequests {
		f.requests = f.requests[1:]
	}
	f.requests = append(f.requests, Request{Method: r.Method, Path: r.URL.Path, Query: r.URL.RawQuery, Header: r.Header.Clone(), Body: body})
}

// seenPrefix reports whether the cache prefix key was seen before and
// remembers it.
func (f *Fake) seenPrefix(key string) bool {
	f.mu.Lock()
	defer f.mu.Unlock()
	seen := f.cacheSeen[key]
	f.cacheSeen[key] = true
	return seen
}

const maxBody = 32 << 20

// ServeHTTP routes a request to the OpenAI or Anthropic endpoints.
func (f *Fake) ServeHTTP(w http.ResponseWriter, r *http.Request) {
	if strings.HasPrefix(r.URL.Path, "/_fake/") {
		f.admin(w, r)
		return
	}
	body, err := io.ReadAll(io.LimitReader(r.Body, maxBody+1))
	if err != nil {
		http.Error(w, "read error", http.StatusBadRequest)
		return
	}
	f.record(r, body)
	anthropic := r.URL.Path == "/v1/messages" || strings.HasPrefix(r.URL.Path, "/v1/messages/")
	bedrock := strings.HasPrefix(r.URL.Path, "/model/")
	gemini := isGemini(r.URL.Path)
	rid := requestUUID(requestHash(r.URL.Path, body))
	if len(body) > maxBody {
		switch {
		case bedrock:
			bedrockError(w, rid, &bedrockBad{413, "ValidationException", "Input is too long for requested model."})
		case gemini:
			geminiError(w, &geminiBad{code: http.StatusRequestEntityTooLarge, status: "INVALID_ARGUMENT", msg: "Request payload size exceeds the limit."})
		case anthropic:
			anthropicError(w, http.StatusRequestEntityTooLarge, "request_too_large", "Request exceeds the maximum allowed number of bytes.")
		default:
			openAIError(w, http.StatusRequestEntityTooLarge, "invalid_request_error", "Request too large.", "", "")
		}
		return
	}
	if ft, ok := f.takeFault(r.URL.Path); ok {
		if ft.Delay > 0 {
			select {
			case <-time.After(ft.Delay):
			case <-r.Context().Done():
				return
			}
		}
		if ft.Status != 0 {
			if ft.RetryAfter != "" {
				w.Header().Set("Retry-After", ft.RetryAfter)
			}
			switch {
			case bedrock:
				bedrockStatusError(w, rid, ft.Status)
			case gemini:
				geminiStatusError(w, ft.Status)
			case anthropic:
				anthropicStatusError(w, ft.Status)
			default:
				openAIStatusError(w, ft.Status)
			}
			return
		}
		r = r.WithContext(context.WithValue(r.Context(), faultKey{}, ft))
	}
	switch {
	case bedrock:
		f.bedrock(w, r, body)
	case gemini:
		f.gemini(w, r, body)
	case anthropic:
		f.anthropic(w, r, body)
	case strings.HasPrefix(r.URL.Path, "/v1/"):
		f.openAI(w, r, body)
	default:
		http.NotFound(w, r)
	}
}

type faultKey struct{}

// streamFault is the stream fault of the request, if any.
func streamFault(r *http.Request) (Fault, bool) {
	ft, ok := r.Context().Value(faultKey{}).(Fault)
	return ft, ok && (ft.CutAfter > 0 || ft.StreamError || ft.EventDelay > 0)
}

// admin serves the /_fake/ control endpoints of a standalone fake:
// POST /_fake/faults (a Fault as JSON), DELETE /_fake/faults,
// GET /_fake/requests, POST /_fake/reset.
func (f *Fake) admin(w http.ResponseWriter, r *http.Request) {
	switch {
	case r.URL.Path == "/_fake/faults" && r.Method == http.MethodPost:
		var ft Fault
		if err := json.NewDecoder(io.LimitReader(r.Body, 1<<20)).Decode(&ft); err != nil {
			http.Error(w, "bad fault: "+err.Error(), http.StatusBadRequest)
			return
		}
		f.AddFault(ft)
		w.WriteHeader(http.StatusNoContent)
	case r.URL.Path == "/_fake/faults" && r.Method == http.MethodDelete:
		f.ClearFaults()
		w.WriteHeader(http.StatusNoContent)
	case r.URL.Path == "/_fake/requests" && r.Method == http.MethodGet:
		w.Header().Set("Content-Type", "application/json")
		_ = json.NewEncoder(w).Encode(f.Requests())
	case r.URL.Path == "/_fake/reset" && r.Method == http.MethodPost:
		f.Reset()
		w.WriteHeader(http.StatusNoContent)
	default:
		http.NotFound(w, r)
	}
}

// Server is a Fake on a loopback httptest server.
type Server struct {
	*Fake
	URL string // http://127.0.0.1:port
	srv *httptest.Server
}

// Start starts a Fake on a loopback port; it is closed when tb's test ends.
func Start(tb testing.TB, opts ...Option) *Server {
	tb.Helper()
	s := NewServer(opts...)
	tb.Cleanup(s.Close)
	return s
}

// NewServer starts a Fake on a loopback port. Close it when done.
func NewServer(opts ...Option) *Server {
	f := New(opts...)
	srv := httptest.NewServer(f)
	return &Server{Fake: f, URL: srv.URL, srv: srv}
}

// OpenAIBaseURL is the base URL an OpenAI client uses (…/v1/).
func (s *Server) OpenAIBaseURL() string { return s.URL + "/v1/" }

// AnthropicBaseURL is the base URL an Anthropic client uses.
func (s *Server) AnthropicBaseURL() string { return s.URL }

// BedrockURL is the endpoint a Bedrock Runtime client uses (boto3's
// endpoint_url, aws-sdk-go-v2's BaseEndpoint); requests are signed with
// AWSAccessKeyID / AWSSecretAccessKey for AWSRegion.
func (s *Server) BedrockURL() string { return s.URL }

// Client returns the server's HTTP client.
func (s *Server) Client() *http.Client { return s.srv.Client() }

// AWSClient is the HTTP client for aws-sdk-go-v2 clients of the fake: the
// server's, with request bodies passed on as plain readers. aws-sdk-go-v2
// closes a request's body as soon as the answer's headers arrive, and the
// closed body answers WriteTo with io.EOF; when net/http's connection writer
// is still finishing the request at that moment — on loopback the fake
// answers that fast — it takes the EOF for a write error and closes the
// connection under a streamed answer being read ("use of closed network
// connection", the race of aws/aws-sdk-go-v2#2737). A real endpoint answers
// long after the request is written.
func (s *Server) AWSClient() *http.Client { return AWSHTTPClient(s.Client()) }

// AWSHTTPClient is c (nil: a new transport) with AWSClient's workaround.
func AWSHTTPClient(c *http.Client) *http.Client {
	var next http.RoundTripper = http.DefaultTransport.(*http.Transport).Clone()
	if c != nil && c.Transport != nil {
		next = c.Transport
	}
	return &http.Client{Transport: plainBodies{next}}
}

// plainBodies hides the io.WriterTo of request bodies.
type plainBodies struct{ next http.RoundTripper }

type plainBody struct{ io.ReadCloser }

func (t plainBodies) RoundTrip(r *http.Request) (*http.Response, error) {
	if r.Body != nil && r.Body != http.NoBody {
		r = r.Clone(r.Context())
		r.Body = plainBody{r.Body}
	}
	return t.next.RoundTrip(r)
}

// Close stops the server (and closes its connections).
func (s *Server) Close() {
	s.srv.CloseClientConnections()
	s.srv.Close()
}

// writeJSON answers with a JSON body.
func writeJSON(w http.ResponseWriter, status int, v any) {
	var b []byte
	switch x := v.(type) {
	case []byte:
		b = x
	case json.RawMessage:
		b = x
	default:
		b, _ = json.Marshal(v)
	}
	w.Header().Set("Content-Type", "application/json")
	w.Header().Set("Content-Length", strconv.Itoa(len(b)))
	w.WriteHeader(status)
	_, _ = w.Write(b)
}

// sseWriter writes the events of a streamed answer and flushes each one:
// server-sent events, or the framing frame gives them (AWS event-stream
// messages for Bedrock).
type sseWriter struct {
	w     http.ResponseWriter
	rc    *http.ResponseController
	n     int
	fault Fault
	fail  bool
	onErr func(*sseWriter) // writes the provider's error event
	cut   bool
	ctx   context.Context
	frame func(typ string, data []byte) []byte // nil: server-sent events
	crlf  bool                                 // events end with CRLF CRLF (Google's servers)
}

func newSSE(w http.ResponseWriter, r *http.Request, onErr func(*sseWriter)) *sseWriter {
	w.Header().Set("Content-Type", "text/event-stream; charset=utf-8")
	w.Header().Set("Cache-Control", "no-cache")
	w.WriteHeader(http.StatusOK)
	s := &sseWriter{w: w, rc: http.NewResponseController(w), onErr: onErr, ctx: r.Context()}
	s.fault, s.fail = streamFault(r)
	return s
}

// encode frames one event.
func (s *sseWriter) encode(typ string, data []byte) []byte {
	if s.frame != nil {
		return s.frame(typ, data)
	}
	var b bytes.Buffer
	if typ != "" {
		b.WriteString("event: ")
		b.WriteString(typ)
		b.WriteByte('\n')
	}
	b.WriteString("data: ")
	b.Write(data)
	b.WriteString(s.end())
	return b.Bytes()
}

// event writes one event (typ "" = no event line). It returns false once the
// stream was cut by a fault.
func (s *sseWriter) event(typ string, data []byte) bool {
	if s.cut {
		return false
	}
	if s.fail && s.fault.EventDelay > 0 {
		select {
		case <-time.After(s.fault.EventDelay):
		case <-s.ctx.Done():
			s.cut = true
			return false
		}
	}
	if s.fail && (s.fault.CutAfter > 0 || s.fault.StreamError) && s.n >= s.fault.CutAfter {
		s.cut = true
		if s.fault.StreamError {
			s.onErr(s)
			_ = s.rc.Flush()
			return false
		}
		// Drop the connection without ending the stream.
		_ = s.rc.Flush()
		panic(http.ErrAbortHandler)
	}
	s.n++
	_, _ = s.w.Write(s.encode(typ, data))
	_ = s.rc.Flush()
	return true
}

// raw writes an event without counting it against faults.
func (s *sseWriter) raw(typ string, data []byte) {
	_, _ = s.w.Write(s.encode(typ, data))
}

func (s *sseWriter) end() string {
	if s.crlf {
		return "\r\n\r\n"
	}
	return "\n\n"
}
