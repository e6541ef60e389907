package langchaingo_test

import (
	"context"
	"encoding/json"
	"fmt"
	"io"
	"net/http"
	"net/http/httptest"
	"os"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/tmc/langchaingo/callbacks"
	"github.com/tmc/langchaingo/llms/openai"
	"go.uber.org/goleak"

	"github.com/mlflowtrace/mlflowtrace-go/exporter"
	"github.com/mlflowtrace/mlflowtrace-go/exporter/exportertest"
	"github.com/mlflowtrace/mlflowtrace-go/internal/mlflowtest"
	"github.com/mlflowtrace/mlflowtrace-go/tracing"
)

func TestMain(m *testing.M) {
	code := mlflowtest.Main(m) // stops the shared MLflow server
	if code == 0 {
		if err := goleak.Find(); err != nil {
			fmt.Fprintln(os.Stderr, "goleak:", err)
			code = 1
		}
	}
	os.Exit(code)
}

// setup initialises tracing with an empty environment and an in-memory
// destination; the Provider is shut down when the test ends.
func setup(t *testing.T, opts ...tracing.Option) (*tracing.Provider, *exportertest.Recorder) {
	t.Helper()
	rec := exportertest.NewRecorder()
	base := []tracing.Option{
		tracing.WithGetenv(func(string) string { return "" }),
		tracing.WithoutGlobalTracerProvider(),
		tracing.WithExporterOptions(exporter.WithDestination(rec)),
	}
	p, err := tracing.Init(context.Background(), append(base, opts...)...)
	if err != nil {
		t.Fatalf("Init: %v", err)
	}
	t.Cleanup(func() { _ = p.Shutdown(context.Background()) })
	return p, rec
}

// traces flushes p and returns the finished traces.
func traces(t *testing.T, p *tracing.Provider, rec *exportertest.Recorder, n int) []*exporter.Trace {
	t.Helper()
	ctx, cancel := context.WithTimeout(context.Background(), 10*time.Second)
	defer cancel()
	if err := p.ForceFlush(ctx); err != nil {
		t.Fatal(err)
	}
	tr, err := rec.WaitTraces(ctx, n)
	if err != nil {
		t.Fatalf("want %d traces: %v (have %d)", n, err, len(rec.Traces()))
	}
	return tr
}

// byName indexes a trace's spans by name; names repeat, so each maps to all.
func byName(tr *exporter.Trace) map[string][]*exporter.Span {
	m := map[string][]*exporter.Span{}
	for _, s := range tr.Spans {
		m[s.Name] = append(m[s.Name], s)
	}
	return m
}

func one(t *testing.T, tr *exporter.Trace, name string) *exporter.Span {
	t.Helper()
	ss := byName(tr)[name]
	if len(ss) != 1 {
		t.Fatalf("want one span %q, have %d: %v", name, len(ss), names(tr))
	}
	return ss[0]
}

func names(tr *exporter.Trace) []string {
	var out []string
	for _, s := range tr.Spans {
		out = append(out, s.Name)
	}
	return out
}

// attr decodes a span attribute's JSON (nil when absent).
func attr(s *exporter.Span, k string) any {
	v, ok := s.Attributes[k]
	if !ok {
		return nil
	}
	var out any
	if err := json.Unmarshal([]byte(v), &out); err != nil {
		return fmt.Sprintf("<invalid JSON %q>", v)
	}
	return out
}

func jsonOf(v any) any {
	b, _ := json.Marshal(v)
	var out any
	_ = json.Unmarshal(b, &out)
	return out
}

// reply is one scripted chat completion.
type reply struct {
	content   string
	toolCalls []map[string]any
	status    int // non-zero: answer with this HTTP status and an error body
}

// chatServer is an OpenAI-compatible /chat/completions endpoint for
// langchaingo's openai client: it checks what the OpenAI API requires
// (POST, JSON body, bearer key, model, non-empty messages with roles) and
// answers the scripted replies in order, as JSON or, when the request asks
// for it, as server-sent events with the usage chunk last.
type chatServer struct {
	*httptest.Server
	mu       sync.Mutex
	replies  []reply
	requests []map[string]any
}

func newChatServer(t *testing.T, replies ...reply) *chatServer {
	t.Helper()
	cs := &chatServer{replies: replies}
	cs.Server = httptest.NewServer(http.HandlerFunc(cs.serve))
	t.Cleanup(cs.Close)
	return cs
}

func (cs *chatServer) serve(w http.ResponseWriter, r *http.Request) {
	fail := func(code int, msg string) {
		w.Header().Set("Content-Type", "application/json")
		w.WriteHeader(code)
		_ = json.NewEncoder(w).Encode(map[string]any{"error": map[string]any{"message": msg, "type": "invalid_request_error"}})
	}
	if r.Method != http.MethodPost || r.URL.Path != "/chat/completions" {
		fail(http.StatusNotFound, "unknown route "+r.Method+" "+r.URL.Path)
		return
	}
	if r.Header.Get("Authorization") != "Bearer test-key" {
		fail(http.StatusUnauthorized, "bad api key")
		return
	}
	if !strings.HasPrefix(r.Header.Get("Content-Type"), "application/json") {
		fail(http.StatusBadRequest, "content type")
		return
	}
	body, _ := io.ReadAll(r.Body)
	var req map[string]any
	if err := json.Unmarshal(body, &req); err != nil {
		fail(http.StatusBadRequest, "invalid JSON: "+err.Error())
		return
	}
	msgs, _ := req["messages"].([]any)
	if m, _ := req["model"].(string); m == "" || len(msgs) == 0 {
		fail(http.StatusBadRequest, "model and messages are required")
		return
	}
	for _, m := range msgs {
		if mm, _ := m.(map[string]any); mm == nil || mm["role"] == nil {
			fail(http.StatusBadRequest, "message without role")
			return
		}
	}
	cs.mu.Lock()
	cs.requests = append(cs.requests, req)
	if len(cs.replies) == 0 {
		cs.mu.Unlock()
		fail(http.StatusInternalServerError, "no scripted reply left")
		return
	}
	rep := cs.replies[0]
	cs.replies = cs.replies[1:]
	cs.mu.Unlock()
	if rep.status != 0 {
		fail(rep.status, "scripted failure")
		return
	}
	model := req["model"].(string)
	usage := map[string]any{"prompt_tokens": 40, "completion_tokens": 12, "total_tokens": 52,
		"prompt_tokens_details": map[string]any{"cached_tokens": 8}}
	finish := "stop"
	msg := map[string]any{"role": "assistant", "content": rep.content}
	if len(rep.toolCalls) > 0 {
		finish = "tool_calls"
		msg["tool_calls"] = rep.toolCalls
	}
	if stream, _ := req["stream"].(bool); stream {
		w.Header().Set("Content-Type", "text/event-stream")
		chunk := func(v any) {
			b, _ := json.Marshal(v)
			fmt.Fprintf(w, "data: %s\n\n", b)
			w.(http.Flusher).Flush()
		}
		base := map[string]any{"id": "chatcmpl-1", "object": "chat.completion.chunk", "created": 1700000000, "model": model}
		with := func(extra map[string]any) map[string]any {
			m := map[string]any{}
			for k, v := range base {
				m[k] = v
			}
			for k, v := range extra {
				m[k] = v
			}
			return m
		}
		for i, part := range splitWords(rep.content) {
			delta := map[string]any{"content": part}
			if i == 0 {
				delta["role"] = "assistant"
			}
			chunk(with(map[string]any{"choices": []any{map[string]any{"index": 0, "delta": delta, "finish_reason": nil}}}))
		}
		chunk(with(map[string]any{"choices": []any{map[string]any{"index": 0, "delta": map[string]any{}, "finish_reason": finish}}}))
		if so, _ := req["stream_options"].(map[string]any); so["include_usage"] == true {
			chunk(with(map[string]any{"choices": []any{}, "usage": usage}))
		}
		fmt.Fprint(w, "data: [DONE]\n\n")
		return
	}
	w.Header().Set("Content-Type", "application/json")
	_ = json.NewEncoder(w).Encode(map[string]any{
		"id": "chatcmpl-1", "object": "chat.completion", "created": 1700000000, "model": model,
		"choices": []any{map[string]any{"index": 0, "message": msg, "finish_reason": finish}},
		"usage":   usage,
	})
}

// splitWords cuts s into a few chunks, keeping every byte.
func splitWords(s string) []string {
	var out []string
	for len(s) > 0 {
		i := strings.IndexByte(s[1:], ' ')
		if i < 0 {
			out = append(out, s)
			break
		}
		out = append(out, s[:i+1])
		s = s[i+1:]
	}
	return out
}

// newLLM is langchaingo's OpenAI client against cs, reporting to h.
func newLLM(t *testing.T, cs *chatServer, h callbacks.Handler) *openai.LLM {
	t.Helper()
	opts := []openai.Option{openai.WithBaseURL(cs.URL), openai.WithToken("test-key"), openai.WithModel("gpt-4o-mini")}
	if h != nil {
		opts = append(opts, openai.WithCallback(h))
	}
	llm, err := openai.New(opts...)
	if err != nil {
		t.Fatal(err)
	}
	return llm
}
