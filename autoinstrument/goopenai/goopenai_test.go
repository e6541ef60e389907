package goopenai

import (
	"context"
	"errors"
	"io"
	"net/http"
	"reflect"
	"strings"
	"sync"
	"testing"
	"time"

	openai "github.com/sashabaranov/go-openai"
	"go.uber.org/goleak"

	"github.com/mlflowtrace/mlflowtrace-go/exporter"
	"github.com/mlflowtrace/mlflowtrace-go/internal/llmtest"
	"github.com/mlflowtrace/mlflowtrace-go/internal/spantest"
	"github.com/mlflowtrace/mlflowtrace-go/tracing"
)

func TestMain(m *testing.M) { goleak.VerifyTestMain(m) }

// fixture is the fake API and tracing into memory.
type fixture struct{ *spantest.LLM }

func setup(t *testing.T, opts ...tracing.Option) fixture {
	return fixture{spantest.StartLLM(t, append([]tracing.Option{tracing.WithoutGlobalTracerProvider()}, opts...)...)}
}

// client is a go-openai client of the fake API with Wrap (the one line).
func (f fixture) client(opts ...Option) *openai.Client {
	cfg := openai.DefaultConfig(llmtest.OpenAIKey)
	cfg.BaseURL = strings.TrimSuffix(f.Fake.OpenAIBaseURL(), "/")
	cfg.HTTPClient = Wrap(f.Fake.Client(), opts...)
	return openai.NewClientWithConfig(cfg)
}

var cityParams = map[string]any{
	"type":       "object",
	"properties": map[string]any{"city": map[string]any{"type": "string", "description": "City name", "minLength": 1}},
	"required":   []string{"city"},
}

var tools = []openai.Tool{
	{Type: openai.ToolTypeFunction, Function: &openai.FunctionDefinition{Name: "get_weather", Description: "Current weather of a city", Parameters: cityParams}},
	{Type: openai.ToolTypeFunction, Function: &openai.FunctionDefinition{Name: "get_time", Parameters: map[string]any{"type": "object", "properties": map[string]any{"city": map[string]any{"type": "string"}}}}},
}

func chatRequest(text string) openai.ChatCompletionRequest {
	return openai.ChatCompletionRequest{
		Model: "gpt-4o-mini",
		Messages: []openai.ChatCompletionMessage{
			{Role: openai.ChatMessageRoleSystem, Content: "You are terse."},
			{Role: openai.ChatMessageRoleUser, Content: text},
		},
		Temperature: 0.2,
	}
}

func exceptions(s *exporter.Span) []exporter.Event {
	var out []exporter.Event
	for _, e := range s.Events {
		if e.Name == "exception" {
			out = append(out, e)
		}
	}
	return out
}

func TestChatCompletion(t *testing.T) {
	f := setup(t)
	resp, err := f.client().CreateChatCompletion(context.Background(), chatRequest("Hello there"))
	if err != nil {
		t.Fatal(err)
	}
	s := f.One(t)
	req := f.Fake.Requests()[0]
	if s.Name != "Completions" || spantest.Attr(t, s, "mlflow.spanType") != "CHAT_MODEL" {
		t.Errorf("name %q type %v", s.Name, spantest.Attr(t, s, "mlflow.spanType"))
	}
	if !spantest.JSONEqual(t, s.Attributes["mlflow.spanInputs"], string(req.Body)) {
		t.Errorf("inputs %s, sent %s", s.Attributes["mlflow.spanInputs"], req.Body)
	}
	out := spantest.Attr(t, s, "mlflow.spanOutputs").(map[string]any)
	if out["id"] != resp.ID || out["choices"].([]any)[0].(map[string]any)["message"].(map[string]any)["content"] != resp.Choices[0].Message.Content {
		t.Errorf("outputs %v, got %+v", out, resp)
	}
	want := map[string]any{
		"model": "gpt-4o-mini", "temperature": 0.2, "stream": false,
		"mlflow.message.format": "openai",
		"mlflow.llm.model":      "gpt-4o-mini-2024-07-18",
		"mlflow.chat.tokenUsage": map[string]any{"input_tokens": float64(resp.Usage.PromptTokens),
			"output_tokens": float64(resp.Usage.CompletionTokens), "total_tokens": float64(resp.Usage.TotalTokens), "cache_read_input_tokens": 0.0},
	}
	for k, v := range want {
		if got := spantest.Attr(t, s, k); !reflect.DeepEqual(got, v) {
			t.Errorf("%s = %#v, want %#v", k, got, v)
		}
	}
	if _, ok := s.Attributes["messages"]; ok {
		t.Error("messages recorded as an attribute (MLflow leaves them to the inputs)")
	}
	if _, ok := s.Attributes["mlflow.llm.provider"]; ok {
		t.Error("a provider recorded without WithProvider (MLflow's OpenAI autolog records none)")
	}
	if tp := req.Header.Get("Traceparent"); tp != "00-"+s.TraceID.String()+"-"+s.SpanID.String()+"-01" {
		t.Errorf("traceparent %q, span %s/%s", tp, s.TraceID, s.SpanID)
	}
}

func TestToolCallsAndProvider(t *testing.T) {
	f := setup(t)
	r := chatRequest("What's the weather and the time in Paris?")
	r.Tools = tools
	resp, err := f.client(WithProvider("azure")).CreateChatCompletion(context.Background(), r)
	if err != nil {
		t.Fatal(err)
	}
	if n := len(resp.Choices[0].Message.ToolCalls); n != 2 {
		t.Fatalf("%d tool calls, want 2 (parallel)", n)
	}
	s := f.One(t)
	wantTools := `[{"type": "function", "function": {"name": "get_weather", "description": "Current weather of a city", "parameters": {"properties": {"city": {"type": "string", "description": "City name"}}, "type": "object", "required": ["city"]}}},` +
		` {"type": "function", "function": {"name": "get_time", "parameters": {"properties": {"city": {"type": "string"}}, "type": "object"}}}]`
	if got := s.Attributes["mlflow.chat.tools"]; got != wantTools {
		t.Errorf("mlflow.chat.tools\n got %s\nwant %s", got, wantTools)
	}
	if p := spantest.Attr(t, s, "mlflow.llm.provider"); p != "azure" {
		t.Errorf("provider %v", p)
	}
	out := spantest.Attr(t, s, "mlflow.spanOutputs").(map[string]any)
	msg := out["choices"].([]any)[0].(map[string]any)["message"].(map[string]any)
	if len(msg["tool_calls"].([]any)) != 2 {
		t.Errorf("outputs lack the tool calls: %v", msg)
	}
}

func TestStreamAggregates(t *testing.T) {
	f := setup(t)
	r := chatRequest("What's the weather and the time in Paris?")
	r.Tools = tools
	r.Stream = true
	r.StreamOptions = &openai.StreamOptions{IncludeUsage: true}
	st, err := f.client().CreateChatCompletionStream(context.Background(), r)
	if err != nil {
		t.Fatal(err)
	}
	type call struct{ id, name, args string }
	var calls []call
	var usage *openai.Usage
	n := 0
	for {
		chunk, err := st.Recv()
		if errors.Is(err, io.EOF) {
			break
		}
		if err != nil {
			t.Fatal(err)
		}
		n++
		if chunk.Usage != nil {
			usage = chunk.Usage
		}
		for _, ch := range chunk.Choices {
			for _, tc := range ch.Delta.ToolCalls {
				for len(calls) <= *tc.Index {
					calls = append(calls, call{})
				}
				c := &calls[*tc.Index]
				c.id += tc.ID
				c.name += tc.Function.Name
				c.args += tc.Function.Arguments
			}
		}
	}
	// go-openai stops reading at [DONE] without closing the body: the span
	// ends at the final event.
	s := f.One(t)
	_ = st.Close()
	out := spantest.Attr(t, s, "mlflow.spanOutputs").(map[string]any)
	choice := out["choices"].([]any)[0].(map[string]any)
	if choice["finish_reason"] != "tool_calls" {
		t.Errorf("finish_reason %v", choice["finish_reason"])
	}
	got := choice["message"].(map[string]any)["tool_calls"].([]any)
	if len(got) != 2 || len(calls) != 2 {
		t.Fatalf("tool calls %v, stream had %v", got, calls)
	}
	for i, c := range got {
		fn := c.(map[string]any)["function"].(map[string]any)
		if fn["name"] != calls[i].name || fn["arguments"] != calls[i].args || c.(map[string]any)["id"] != calls[i].id {
			t.Errorf("tool call %d = %v, stream has %+v", i, c, calls[i])
		}
	}
	if u := spantest.Attr(t, s, "mlflow.chat.tokenUsage").(map[string]any); usage == nil || u["total_tokens"] != float64(usage.TotalTokens) {
		t.Errorf("usage %v, stream's final chunk %+v", u, usage)
	}
	if len(s.Events) != n || s.Events[0].Name != "mlflow.chunk.item.0" {
		t.Errorf("%d events, %d chunks", len(s.Events), n)
	}
	if s.Status.Code != exporter.StatusCodeOK || spantest.Attr(t, s, "mlflow.llm.model") != "gpt-4o-mini-2024-07-18" {
		t.Errorf("status %v model %v", s.Status, s.Attributes["mlflow.llm.model"])
	}
}

func TestResponsesEmbeddingsAndCompletions(t *testing.T) {
	f := setup(t)
	c := f.client()
	ctx := context.Background()
	if _, err := c.CreateResponse(ctx, openai.CreateResponseRequest{Model: "gpt-4o-mini", Instructions: "Be brief.", Input: "Hello"}); err != nil {
		t.Fatal(err)
	}
	emb, err := c.CreateEmbeddings(ctx, openai.EmbeddingRequest{Input: []string{"Paris", "Rome"}, Model: openai.SmallEmbedding3, Dimensions: 4})
	if err != nil {
		t.Fatal(err)
	}
	if _, err := c.CreateCompletion(ctx, openai.CompletionRequest{Model: "gpt-3.5-turbo-instruct", Prompt: "Say hello"}); err != nil {
		t.Fatal(err)
	}
	spans := f.Spans(t)
	if names := spantest.Names(spans); !reflect.DeepEqual(names, []string{"Responses", "Embeddings", "Completions"}) {
		t.Fatalf("spans %v", names)
	}
	for i, want := range []struct {
		typ, format string
		usage       bool
	}{{"CHAT_MODEL", "openai", true}, {"EMBEDDING", "", false}, {"LLM", "openai", false}} {
		s := spans[i]
		if spantest.Attr(t, s, "mlflow.spanType") != want.typ {
			t.Errorf("%s: type %v", s.Name, s.Attributes["mlflow.spanType"])
		}
		if got, ok := s.Attributes["mlflow.message.format"]; ok != (want.format != "") || (ok && got != `"`+want.format+`"`) {
			t.Errorf("%s: message format %q", s.Name, got)
		}
		if _, ok := s.Attributes["mlflow.chat.tokenUsage"]; ok != want.usage {
			t.Errorf("%s: token usage %v", s.Name, s.Attributes["mlflow.chat.tokenUsage"])
		}
		if _, ok := s.Attributes["mlflow.llm.model"]; !ok {
			t.Errorf("%s: no model", s.Name)
		}
	}
	out := spantest.Attr(t, spans[1], "mlflow.spanOutputs").(map[string]any)
	if d := out["data"].([]any); len(d) != 2 || len(emb.Data[0].Embedding) != 4 {
		t.Errorf("embedding outputs %v", out)
	}
}

func TestErrors(t *testing.T) {
	tests := []struct {
		name     string
		fault    *llmtest.Fault
		model    string
		timeout  time.Duration
		wantType string
		wantMsg  string
	}{
		{name: "unknown model 404", model: "gpt-nope", wantType: "openai.APIError", wantMsg: "404 Not Found: The model `gpt-nope` does not exist"},
		{name: "server error (go-openai does not retry)", fault: &llmtest.Fault{Status: 500}, wantType: "openai.APIError", wantMsg: "500 Internal Server Error: The server had an error"},
		{name: "deadline", fault: &llmtest.Fault{Delay: 5 * time.Second}, timeout: 50 * time.Millisecond, wantType: "url.Error", wantMsg: "context deadline exceeded"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			f := setup(t)
			if tt.fault != nil {
				f.Fake.AddFault(*tt.fault)
			}
			r := chatRequest("hi")
			if tt.model != "" {
				r.Model = tt.model
			}
			ctx := context.Background()
			if tt.timeout > 0 {
				var cancel context.CancelFunc
				ctx, cancel = context.WithTimeout(ctx, tt.timeout)
				defer cancel()
			}
			if _, err := f.client().CreateChatCompletion(ctx, r); err == nil {
				t.Fatal("no error")
			}
			s := f.One(t)
			ex := exceptions(s)
			if s.Status.Code != exporter.StatusCodeError || len(ex) != 1 || len(s.Events) != 1 {
				t.Fatalf("status %v events %v", s.Status, s.Events)
			}
			if ex[0].Attributes["exception.type"] != tt.wantType || !strings.Contains(ex[0].Attributes["exception.message"].(string), tt.wantMsg) {
				t.Errorf("exception %v", ex[0].Attributes)
			}
			if n := len(f.Fake.Requests()); n != 1 {
				t.Errorf("%d requests, want 1", n)
			}
		})
	}
}

func TestConnectionRefused(t *testing.T) {
	f := setup(t)
	cfg := openai.DefaultConfig("k")
	cfg.BaseURL = "http://127.0.0.1:1/v1"
	cfg.HTTPClient = Wrap(nil) // http.DefaultClient
	if _, err := openai.NewClientWithConfig(cfg).CreateChatCompletion(context.Background(), chatRequest("hi")); err == nil {
		t.Fatal("no error")
	}
	s := f.One(t)
	if s.Status.Code != exporter.StatusCodeError || len(exceptions(s)) != 1 {
		t.Errorf("status %v events %v", s.Status, s.Events)
	}
}

func TestStreamEndings(t *testing.T) {
	tests := []struct {
		name     string
		fault    *llmtest.Fault
		stopAt   int // close after this many chunks (0: read all)
		wantType string
	}{
		{name: "closed by caller", fault: &llmtest.Fault{EventDelay: 20 * time.Millisecond}, stopAt: 2, wantType: "openai.IncompleteStreamError"},
		{name: "connection cut", fault: &llmtest.Fault{CutAfter: 3}},
		{name: "error event", fault: &llmtest.Fault{CutAfter: 3, StreamError: true}, wantType: "openai.StreamError"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			f := setup(t)
			f.Fake.AddFault(*tt.fault)
			r := chatRequest("one two three four five six seven")
			r.Stream = true
			st, err := f.client().CreateChatCompletionStream(context.Background(), r)
			if err != nil {
				t.Fatal(err)
			}
			for n := 1; ; n++ {
				if _, err := st.Recv(); err != nil || n == tt.stopAt {
					break
				}
			}
			_ = st.Close()
			s := f.One(t)
			ex := exceptions(s)
			if s.Status.Code != exporter.StatusCodeError || len(ex) != 1 {
				t.Fatalf("status %v events %v", s.Status, s.Events)
			}
			if tt.wantType != "" && ex[0].Attributes["exception.type"] != tt.wantType {
				t.Errorf("exception %v", ex[0].Attributes)
			}
			out := spantest.Attr(t, s, "mlflow.spanOutputs").(map[string]any)
			if txt := out["choices"].([]any)[0].(map[string]any)["message"].(map[string]any)["content"].(string); !strings.HasPrefix(txt, "You") {
				t.Errorf("partial output %q", txt)
			}
		})
	}
}

func TestContentCaptureOff(t *testing.T) {
	f := setup(t, tracing.WithContentCapture(false))
	r := chatRequest("What's the weather in Paris?")
	r.Tools = tools[:1]
	r.Stream = true
	r.StreamOptions = &openai.StreamOptions{IncludeUsage: true}
	st, err := f.client().CreateChatCompletionStream(context.Background(), r)
	if err != nil {
		t.Fatal(err)
	}
	for {
		if _, err := st.Recv(); err != nil {
			break
		}
	}
	_ = st.Close()
	s := f.One(t)
	for _, k := range []string{"mlflow.spanInputs", "mlflow.spanOutputs", "messages"} {
		if _, ok := s.Attributes[k]; ok {
			t.Errorf("content attribute %s recorded", k)
		}
	}
	if len(s.Events) != 0 {
		t.Errorf("events %v", s.Events)
	}
	for _, k := range []string{"mlflow.llm.model", "mlflow.chat.tokenUsage", "model", "mlflow.chat.tools"} {
		if _, ok := s.Attributes[k]; !ok {
			t.Errorf("metadata %s missing", k)
		}
	}
	for k, v := range s.Attributes {
		if strings.Contains(v, "Paris") {
			t.Errorf("content leaked in %s: %s", k, v)
		}
	}
}

func TestChildOfCurrentSpanAndUntracedEndpoints(t *testing.T) {
	f := setup(t)
	c := f.client()
	err := tracing.Run(context.Background(), "agent", func(ctx context.Context) error {
		if _, err := c.ListModels(ctx); err != nil {
			return err
		}
		_, err := c.CreateChatCompletion(ctx, chatRequest("hi"))
		return err
	}, tracing.WithSpanType(tracing.SpanTypeAgent))
	if err != nil {
		t.Fatal(err)
	}
	spans := f.Spans(t)
	if len(spans) != 2 || spans[1].Name != "Completions" || spans[1].ParentSpanID != spans[0].SpanID {
		t.Errorf("spans %v", spantest.Names(spans))
	}
	if tp := f.Fake.Requests()[0].Header.Get("Traceparent"); tp != "" {
		t.Errorf("an untraced endpoint got traceparent %q", tp)
	}
}

func TestDisabled(t *testing.T) {
	f := setup(t, tracing.WithDisabled())
	if _, err := f.client().CreateChatCompletion(context.Background(), chatRequest("hi")); err != nil {
		t.Fatal(err)
	}
	if tp := f.Fake.Requests()[0].Header.Get("Traceparent"); tp != "" {
		t.Errorf("traceparent %q without tracing", tp)
	}
}

func TestConcurrentCalls(t *testing.T) {
	f := setup(t)
	c := f.client()
	var wg sync.WaitGroup
	for i := 0; i < 8; i++ {
		wg.Add(1)
		go func() {
			defer wg.Done()
			if _, err := c.CreateChatCompletion(context.Background(), chatRequest("hi")); err != nil {
				t.Error(err)
			}
		}()
	}
	wg.Wait()
	spans := f.Spans(t)
	if len(spans) != 8 {
		t.Fatalf("%d spans, want 8", len(spans))
	}
	seen := map[string]bool{}
	for _, s := range spans {
		if seen[s.TraceID.String()] || s.Status.Code != exporter.StatusCodeOK {
			t.Errorf("span %s in trace %s status %v", s.Name, s.TraceID, s.Status)
		}
		seen[s.TraceID.String()] = true
	}
}

// TestUserDoerKeepsWorking: the wrapped client is the caller's (its
// transport, its headers), and a request the caller built is not changed.
func TestUserDoerKeepsWorking(t *testing.T) {
	f := setup(t)
	var seen []string
	d := Wrap(doerFunc(func(r *http.Request) (*http.Response, error) {
		seen = append(seen, r.Header.Get("Traceparent"))
		return f.Fake.Client().Do(r)
	}))
	cfg := openai.DefaultConfig(llmtest.OpenAIKey)
	cfg.BaseURL = strings.TrimSuffix(f.Fake.OpenAIBaseURL(), "/")
	cfg.HTTPClient = d
	if _, err := openai.NewClientWithConfig(cfg).CreateChatCompletion(context.Background(), chatRequest("hi")); err != nil {
		t.Fatal(err)
	}
	if len(seen) != 1 || seen[0] == "" {
		t.Errorf("the user's doer saw %q", seen)
	}
	f.One(t)
}

type doerFunc func(*http.Request) (*http.Response, error)

func (f doerFunc) Do(r *http.Request) (*http.Response, error) { return f(r) }
