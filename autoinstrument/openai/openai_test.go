package openai

import (
	"context"
	"errors"
	"net/http"
	"os"
	"reflect"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/openai/openai-go/v3"
	"github.com/openai/openai-go/v3/option"
	"github.com/openai/openai-go/v3/responses"

	"github.com/mlflowtrace/mlflowtrace-go/exporter"
	"github.com/mlflowtrace/mlflowtrace-go/internal/llmspan"
	"github.com/mlflowtrace/mlflowtrace-go/internal/llmtest"
	"github.com/mlflowtrace/mlflowtrace-go/internal/openaispan"
	"github.com/mlflowtrace/mlflowtrace-go/internal/spantest"
	"github.com/mlflowtrace/mlflowtrace-go/tracing"
)

var weatherTool = openai.ChatCompletionFunctionTool(openai.FunctionDefinitionParam{
	Name:        "get_weather",
	Description: openai.String("Current weather of a city"),
	Parameters: openai.FunctionParameters{
		"type": "object",
		"properties": map[string]any{
			"city": map[string]any{"type": "string", "description": "City name", "minLength": 1},
		},
		"required": []string{"city"},
	},
})

var timeTool = openai.ChatCompletionFunctionTool(openai.FunctionDefinitionParam{
	Name:       "get_time",
	Parameters: openai.FunctionParameters{"type": "object", "properties": map[string]any{"city": map[string]any{"type": "string"}}},
})

func chatParams(text string) openai.ChatCompletionNewParams {
	return openai.ChatCompletionNewParams{
		Model:       "gpt-4o-mini",
		Messages:    []openai.ChatCompletionMessageParamUnion{openai.SystemMessage("You are terse."), openai.UserMessage(text)},
		Temperature: openai.Float(0.2),
	}
}

func TestPerCallGroupsAttempts(t *testing.T) {
	if _, ok := perCall(openaispan.Config{}); !ok {
		t.Fatal("openai-go's option is no longer an interface of one Apply method: retries would be separate spans")
	}
}

// verifiedSDK is the openai-go version whose retry policy llmspan.Call
// predicts (which attempt ends a call) and whose request configuration
// CallInfo reads (MaxRetries, Request): openai-go has no public hook that
// says when a call ends. Before moving to another version, check
// internal/requestconfig's Execute against Call.willRetry, then add it here.
var verifiedSDK = map[string]bool{"v3.102.0": true}

// TestSupportedSDKVersion fails loudly on an openai-go version nobody
// checked against the retry prediction (the module's go.mod decides it).
func TestSupportedSDKVersion(t *testing.T) {
	mod, err := os.ReadFile("../../go.mod")
	if err != nil {
		t.Fatal(err)
	}
	for _, line := range strings.Split(string(mod), "\n") {
		if f := strings.Fields(line); len(f) >= 2 && f[0] == "github.com/openai/openai-go/v3" {
			if !verifiedSDK[f[1]] {
				t.Fatalf("openai-go %s is not verified: see verifiedSDK", f[1])
			}
			return
		}
	}
	t.Fatal("openai-go is not required by go.mod")
}

// TestCallInfoReadsSDKConfig fails loudly when the fallback is taken: the
// per-call middleware does not get openai-go's retry budget and caller's
// context from its request configuration (renamed or gone fields), so the
// end of a retried call would be mispredicted.
func TestCallInfoReadsSDKConfig(t *testing.T) {
	f := setup(t)
	var infos []llmspan.CallInfo
	opt, ok := llmspan.PerCall(option.RequestOption.Apply, option.WithMiddleware, func(info llmspan.CallInfo) llmspan.Middleware {
		infos = append(infos, info)
		return func(r *http.Request, next llmspan.Next) (*http.Response, error) { return next(r) }
	})
	if !ok {
		t.Fatal("PerCall fell back")
	}
	ctx := context.WithValue(context.Background(), callerKey{}, "caller")
	c := openai.NewClient(option.WithBaseURL(f.Fake.OpenAIBaseURL()), option.WithAPIKey(llmtest.OpenAIKey),
		option.WithHTTPClient(f.Fake.Client()), opt, option.WithMaxRetries(5))
	if _, err := c.Chat.Completions.New(ctx, chatParams("hi")); err != nil {
		t.Fatal(err)
	}
	if len(infos) != 1 || !infos[0].ReadsConfig() || infos[0].MaxRetries() != 5 || infos[0].Context().Value(callerKey{}) != "caller" {
		t.Fatalf("openai-go's request configuration is not read (MaxRetries, Request): %d calls, %+v", len(infos), infos)
	}
}

func TestChatCompletion(t *testing.T) {
	f := setup(t)
	resp, err := f.client().Chat.Completions.New(context.Background(), chatParams("Hello there"))
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
	if !spantest.JSONEqual(t, s.Attributes["mlflow.spanOutputs"], resp.RawJSON()) {
		t.Errorf("outputs %s, got %s", s.Attributes["mlflow.spanOutputs"], resp.RawJSON())
	}
	want := map[string]any{
		"model": "gpt-4o-mini", "temperature": 0.2,
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
	for _, k := range []string{"messages", "mlflow.llm.provider", "mlflow.chat.tools"} {
		if _, ok := s.Attributes[k]; ok {
			t.Errorf("unexpected attribute %s", k)
		}
	}
	if s.Status.Code != exporter.StatusCodeOK || len(s.Events) != 0 {
		t.Errorf("status %v events %v", s.Status, s.Events)
	}
	// The request carried the span's trace context.
	if tp := req.Header.Get("Traceparent"); !strings.Contains(tp, s.SpanID.String()) {
		t.Errorf("traceparent %q does not name span %s", tp, s.SpanID)
	}
}

func TestToolCallsAndTools(t *testing.T) {
	f := setup(t)
	p := chatParams("What's the weather and the time in Paris?")
	p.Tools = []openai.ChatCompletionToolUnionParam{weatherTool, timeTool}
	resp, err := f.client().Chat.Completions.New(context.Background(), p)
	if err != nil {
		t.Fatal(err)
	}
	if n := len(resp.Choices[0].Message.ToolCalls); n != 2 {
		t.Fatalf("%d tool calls, want 2 (parallel)", n)
	}
	s := f.One(t)
	// MLflow's ChatTool form: JSON-schema keywords outside its model
	// (minLength) are dropped, its members in its order.
	wantTools := `[{"type": "function", "function": {"name": "get_weather", "description": "Current weather of a city", "parameters": {"properties": {"city": {"type": "string", "description": "City name"}}, "type": "object", "required": ["city"]}}},` +
		` {"type": "function", "function": {"name": "get_time", "parameters": {"properties": {"city": {"type": "string"}}, "type": "object"}}}]`
	if got := s.Attributes["mlflow.chat.tools"]; got != wantTools {
		t.Errorf("mlflow.chat.tools\n got %s\nwant %s", got, wantTools)
	}
	out := spantest.Attr(t, s, "mlflow.spanOutputs").(map[string]any)
	msg := out["choices"].([]any)[0].(map[string]any)["message"].(map[string]any)
	if len(msg["tool_calls"].([]any)) != 2 {
		t.Errorf("outputs lack the tool calls: %v", msg)
	}
}

func TestStreamAggregates(t *testing.T) {
	f := setup(t)
	p := chatParams("What's the weather and the time in Paris?")
	p.Tools = []openai.ChatCompletionToolUnionParam{weatherTool, timeTool}
	p.StreamOptions = openai.ChatCompletionStreamOptionsParam{IncludeUsage: openai.Bool(true)}
	st := f.client().Chat.Completions.NewStreaming(context.Background(), p)
	acc := openai.ChatCompletionAccumulator{}
	n := 0
	for st.Next() {
		acc.AddChunk(st.Current())
		n++
	}
	if err := st.Err(); err != nil {
		t.Fatal(err)
	}
	// The span ends only when the stream is closed or drained: the SDK
	// closes it at [DONE].
	s := f.One(t)
	out := spantest.Attr(t, s, "mlflow.spanOutputs").(map[string]any)
	choice := out["choices"].([]any)[0].(map[string]any)
	if choice["finish_reason"] != "tool_calls" {
		t.Errorf("finish_reason %v", choice["finish_reason"])
	}
	calls := choice["message"].(map[string]any)["tool_calls"].([]any)
	if len(calls) != 2 {
		t.Fatalf("tool calls %v", calls)
	}
	for i, c := range calls {
		fn := c.(map[string]any)["function"].(map[string]any)
		want := acc.Choices[0].Message.ToolCalls[i]
		if fn["name"] != want.Function.Name || fn["arguments"] != want.Function.Arguments || c.(map[string]any)["id"] != want.ID {
			t.Errorf("tool call %d = %v, SDK accumulator has %+v", i, c, want)
		}
	}
	if u := spantest.Attr(t, s, "mlflow.chat.tokenUsage").(map[string]any); u["total_tokens"] != float64(acc.Usage.TotalTokens) || acc.Usage.TotalTokens == 0 {
		t.Errorf("usage %v, stream's final chunk %+v", u, acc.Usage)
	}
	if len(s.Events) != n || s.Events[0].Name != "mlflow.chunk.item.0" {
		t.Errorf("%d events, %d chunks", len(s.Events), n)
	}
	if !spantest.JSONEqual(t, s.Events[0].Attributes["mlflow.chunk.value"].(string), st.Current().RawJSON()) && n == 0 {
		t.Error("chunk value")
	}
}

func TestRefusal(t *testing.T) {
	f := setup(t)
	st := f.client().Chat.Completions.NewStreaming(context.Background(), chatParams("Please refuse this."))
	for st.Next() {
	}
	if err := st.Err(); err != nil {
		t.Fatal(err)
	}
	s := f.One(t)
	msg := spantest.Attr(t, s, "mlflow.spanOutputs").(map[string]any)["choices"].([]any)[0].(map[string]any)["message"].(map[string]any)
	if !strings.HasPrefix(msg["refusal"].(string), "I'm sorry") {
		t.Errorf("refusal not aggregated: %v", msg)
	}
}

func TestResponses(t *testing.T) {
	for _, stream := range []bool{false, true} {
		t.Run(map[bool]string{false: "plain", true: "stream"}[stream], func(t *testing.T) {
			f := setup(t)
			c := f.client()
			params := responses.ResponseNewParams{
				Model:        "gpt-4o-mini",
				Instructions: openai.String("Be brief."),
				Input:        responses.ResponseNewParamsInputUnion{OfString: openai.String("What's the weather in Paris?")},
				Tools: []responses.ToolUnionParam{{OfFunction: &responses.FunctionToolParam{
					Name:       "get_weather",
					Parameters: map[string]any{"type": "object", "properties": map[string]any{"city": map[string]any{"type": "string"}}, "required": []string{"city"}},
					Strict:     openai.Bool(false),
				}}},
			}
			var raw string
			if stream {
				st := c.Responses.NewStreaming(context.Background(), params)
				for st.Next() {
					if ev := st.Current(); ev.Type == "response.completed" {
						raw = ev.Response.RawJSON()
					}
				}
				if err := st.Err(); err != nil {
					t.Fatal(err)
				}
			} else {
				r, err := c.Responses.New(context.Background(), params)
				if err != nil {
					t.Fatal(err)
				}
				raw = r.RawJSON()
			}
			s := f.One(t)
			if s.Name != "Responses" || spantest.Attr(t, s, "mlflow.spanType") != "CHAT_MODEL" || spantest.Attr(t, s, "mlflow.message.format") != "openai" {
				t.Errorf("span %s %v", s.Name, s.Attributes)
			}
			if !spantest.JSONEqual(t, s.Attributes["mlflow.spanOutputs"], raw) {
				t.Errorf("outputs %s\nwant %s", s.Attributes["mlflow.spanOutputs"], raw)
			}
			if spantest.Attr(t, s, "instructions") != "Be brief." {
				t.Error("instructions attribute")
			}
			if got := s.Attributes["mlflow.chat.tools"]; got != `[{"type": "function", "function": {"name": "get_weather", "parameters": {"properties": {"city": {"type": "string"}}, "type": "object", "required": ["city"]}, "strict": false}}]` {
				t.Errorf("tools %s", got)
			}
			u := spantest.Attr(t, s, "mlflow.chat.tokenUsage").(map[string]any)
			if u["cache_read_input_tokens"] != 0.0 || u["total_tokens"].(float64) == 0 {
				t.Errorf("usage %v", u)
			}
		})
	}
}

func TestEmbeddingsAndCompletions(t *testing.T) {
	f := setup(t)
	c := f.client()
	emb, err := c.Embeddings.New(context.Background(), openai.EmbeddingNewParams{
		Model: "text-embedding-3-small", Input: openai.EmbeddingNewParamsInputUnion{OfArrayOfStrings: []string{"a", "b"}}, Dimensions: openai.Int(4),
	})
	if err != nil {
		t.Fatal(err)
	}
	comp, err := c.Completions.New(context.Background(), openai.CompletionNewParams{
		Model: "gpt-3.5-turbo-instruct", Prompt: openai.CompletionNewParamsPromptUnion{OfString: openai.String("Say hi")},
	})
	if err != nil {
		t.Fatal(err)
	}
	st := c.Completions.NewStreaming(context.Background(), openai.CompletionNewParams{
		Model: "gpt-3.5-turbo-instruct", Prompt: openai.CompletionNewParamsPromptUnion{OfString: openai.String("Say hi")},
		StreamOptions: openai.ChatCompletionStreamOptionsParam{IncludeUsage: openai.Bool(true)},
	})
	var text strings.Builder
	for st.Next() {
		if ch := st.Current(); len(ch.Choices) > 0 {
			text.WriteString(ch.Choices[0].Text)
		}
	}
	if err := st.Err(); err != nil {
		t.Fatal(err)
	}
	spans := f.Spans(t)
	if len(spans) != 3 {
		t.Fatalf("spans %v", spantest.Names(spans))
	}
	e, p, s := spans[0], spans[1], spans[2]
	if e.Name != "Embeddings" || spantest.Attr(t, e, "mlflow.spanType") != "EMBEDDING" || !spantest.JSONEqual(t, e.Attributes["mlflow.spanOutputs"], emb.RawJSON()) {
		t.Errorf("embedding span %s %v", e.Name, e.Attributes)
	}
	if _, ok := e.Attributes["mlflow.message.format"]; ok {
		t.Error("embedding span has a message format")
	}
	if _, ok := e.Attributes["mlflow.chat.tokenUsage"]; ok {
		t.Error("MLflow records no usage for embeddings")
	}
	if p.Name != "Completions" || spantest.Attr(t, p, "mlflow.spanType") != "LLM" || !spantest.JSONEqual(t, p.Attributes["mlflow.spanOutputs"], comp.RawJSON()) {
		t.Errorf("completion span %v", p.Attributes)
	}
	if spantest.Attr(t, p, "prompt") != "Say hi" || spantest.Attr(t, p, "mlflow.llm.model") != "gpt-3.5-turbo-instruct:20230824-v2" {
		t.Error("completion attributes")
	}
	if got := spantest.Attr(t, s, "mlflow.spanOutputs"); got != text.String() {
		t.Errorf("streamed completion outputs %q, want %q", got, text.String())
	}
	if spantest.Attr(t, s, "mlflow.llm.model") != "gpt-3.5-turbo-instruct" {
		t.Error("a streamed legacy completion's model is the request's, as in MLflow")
	}
	if _, ok := s.Attributes["mlflow.chat.tokenUsage"]; !ok {
		t.Error("streamed completion usage")
	}
}

func TestRetriesAreEventsOfOneSpan(t *testing.T) {
	for _, status := range []int{429, 500} {
		t.Run(http.StatusText(status), func(t *testing.T) {
			f := setup(t)
			f.Fake.AddFault(llmtest.Fault{Status: status, Count: 2, RetryAfter: "0.01"})
			if _, err := f.client().Chat.Completions.New(context.Background(), chatParams("Hello")); err != nil {
				t.Fatal(err)
			}
			if n := len(f.Fake.Requests()); n != 3 {
				t.Fatalf("fake got %d requests, want 3", n)
			}
			s := f.One(t)
			if s.Status.Code != exporter.StatusCodeOK {
				t.Errorf("status %v", s.Status)
			}
			var retries []exporter.Event
			for _, e := range s.Events {
				if e.Name == "retry" {
					retries = append(retries, e)
				}
			}
			if len(retries) != 2 || retries[1].Attributes["retry.attempt"] != int64(2) || retries[0].Attributes["http.response.status_code"] != int64(status) {
				t.Errorf("retry events %+v", s.Events)
			}
			if _, ok := s.Attributes["mlflow.spanOutputs"]; !ok {
				t.Error("no outputs")
			}
		})
	}
}

func TestStreamRetried(t *testing.T) {
	f := setup(t)
	f.Fake.AddFault(llmtest.Fault{Status: 503, RetryAfter: "0.01"})
	st := f.client().Chat.Completions.NewStreaming(context.Background(), chatParams("Hello"))
	for st.Next() {
	}
	if err := st.Err(); err != nil {
		t.Fatal(err)
	}
	s := f.One(t)
	if s.Events[0].Name != "retry" || s.Status.Code != exporter.StatusCodeOK {
		t.Errorf("events %v status %v", s.Events, s.Status)
	}
}

func exceptions(s *exporter.Span) []exporter.Event { return spantest.Events(s, "exception") }

func TestErrors(t *testing.T) {
	tests := []struct {
		name      string
		fault     *llmtest.Fault
		opts      []option.RequestOption
		params    func() openai.ChatCompletionNewParams
		ctx       func() (context.Context, context.CancelFunc)
		wantType  string
		wantMsg   string
		requests  int
		wantRetry int
	}{
		{name: "unknown model 404", params: func() openai.ChatCompletionNewParams {
			p := chatParams("hi")
			p.Model = "gpt-nope"
			return p
		}, wantType: "openai.APIError", wantMsg: "404 Not Found: The model `gpt-nope` does not exist", requests: 1},
		{name: "retries exhausted", fault: &llmtest.Fault{Status: 500, Count: 5, RetryAfter: "0.01"}, opts: []option.RequestOption{option.WithMaxRetries(1)},
			wantType: "openai.APIError", wantMsg: "500 Internal Server Error: The server had an error", requests: 2, wantRetry: 1},
		{name: "request timeout", fault: &llmtest.Fault{Delay: 5 * time.Second}, opts: []option.RequestOption{option.WithRequestTimeout(50 * time.Millisecond)},
			wantType: "url.Error", wantMsg: "context deadline exceeded", requests: 1},
		{name: "cancelled while waiting to retry", fault: &llmtest.Fault{Status: 429, RetryAfter: "10"},
			ctx: func() (context.Context, context.CancelFunc) {
				ctx, cancel := context.WithCancel(context.Background())
				time.AfterFunc(200*time.Millisecond, cancel)
				return ctx, cancel
			}, wantType: "errors.errorString", wantMsg: "context canceled", requests: 1},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			f := setup(t)
			if tt.fault != nil {
				f.Fake.AddFault(*tt.fault)
			}
			p := chatParams("hi")
			if tt.params != nil {
				p = tt.params()
			}
			ctx := context.Background()
			if tt.ctx != nil {
				var cancel context.CancelFunc
				ctx, cancel = tt.ctx()
				defer cancel()
			}
			if _, err := f.client(tt.opts...).Chat.Completions.New(ctx, p); err == nil {
				t.Fatal("no error")
			}
			s := f.One(t)
			ex := exceptions(s)
			if s.Status.Code != exporter.StatusCodeError || len(ex) != 1 {
				t.Fatalf("status %v events %v", s.Status, s.Events)
			}
			if ex[0].Attributes["exception.type"] != tt.wantType || !strings.Contains(ex[0].Attributes["exception.message"].(string), tt.wantMsg) {
				t.Errorf("exception %v", ex[0].Attributes)
			}
			if n := len(f.Fake.Requests()); n != tt.requests {
				t.Errorf("%d requests, want %d", n, tt.requests)
			}
			if n := len(s.Events) - 1; n != tt.wantRetry {
				t.Errorf("%d retry events, want %d", n, tt.wantRetry)
			}
		})
	}
}

func TestConnectionRefused(t *testing.T) {
	f := setup(t)
	c := openai.NewClient(option.WithBaseURL("http://127.0.0.1:1/v1/"), option.WithAPIKey("k"), option.WithMaxRetries(1),
		option.WithMaxRetryDelay(10*time.Millisecond), RequestOption())
	_, err := c.Chat.Completions.New(context.Background(), chatParams("hi"))
	if err == nil {
		t.Fatal("no error")
	}
	s := f.One(t)
	if s.Status.Code != exporter.StatusCodeError || len(exceptions(s)) != 1 || s.Events[0].Name != "retry" {
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
		{name: "connection cut", fault: &llmtest.Fault{CutAfter: 3}, wantType: "errors.errorString"},
		{name: "error event", fault: &llmtest.Fault{CutAfter: 3, StreamError: true}, wantType: "openai.StreamError"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			f := setup(t)
			if tt.fault != nil {
				f.Fake.AddFault(*tt.fault)
			}
			st := f.client(option.WithMaxRetries(0)).Chat.Completions.NewStreaming(context.Background(), chatParams("one two three four five six seven"))
			n := 0
			for st.Next() {
				n++
				if n == tt.stopAt {
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
	c := f.client()
	p := chatParams("What's the weather in Paris?")
	p.Tools = []openai.ChatCompletionToolUnionParam{weatherTool}
	p.StreamOptions = openai.ChatCompletionStreamOptionsParam{IncludeUsage: openai.Bool(true)}
	st := c.Chat.Completions.NewStreaming(context.Background(), p)
	for st.Next() {
	}
	if _, err := c.Responses.New(context.Background(), responses.ResponseNewParams{
		Model: "gpt-4o-mini", Instructions: openai.String("secret instructions"),
		Input: responses.ResponseNewParamsInputUnion{OfString: openai.String("hi")},
	}); err != nil {
		t.Fatal(err)
	}
	for _, s := range f.Spans(t) {
		for _, k := range []string{"mlflow.spanInputs", "mlflow.spanOutputs", "instructions", "messages", "input"} {
			if _, ok := s.Attributes[k]; ok {
				t.Errorf("%s: content attribute %s recorded", s.Name, k)
			}
		}
		if len(s.Events) != 0 {
			t.Errorf("%s: events %v", s.Name, s.Events)
		}
		for _, k := range []string{"mlflow.llm.model", "mlflow.chat.tokenUsage", "model"} {
			if _, ok := s.Attributes[k]; !ok {
				t.Errorf("%s: metadata %s missing", s.Name, k)
			}
		}
		if strings.Contains(strings.Join(values(s.Attributes), " "), "Paris") {
			t.Errorf("%s: content leaked: %v", s.Name, s.Attributes)
		}
	}
}

func values(m map[string]string) []string {
	var v []string
	for _, x := range m {
		v = append(v, x)
	}
	return v
}

func TestSpanFilterRedacts(t *testing.T) {
	f := setup(t, tracing.WithSpanFilter(func(s *tracing.Span) {
		if s.SpanType() == tracing.SpanTypeChatModel {
			s.SetOutputs("[redacted]")
		}
	}))
	if _, err := f.client().Chat.Completions.New(context.Background(), chatParams("my secret")); err != nil {
		t.Fatal(err)
	}
	if got := spantest.Attr(t, f.One(t), "mlflow.spanOutputs"); got != "[redacted]" {
		t.Errorf("outputs %v", got)
	}
}

func TestChildOfCurrentSpanAndUntracedEndpoints(t *testing.T) {
	f := setup(t)
	c := f.client()
	err := tracing.Run(context.Background(), "agent", func(ctx context.Context) error {
		if _, err := c.Models.List(ctx); err != nil {
			return err
		}
		_, err := c.Chat.Completions.New(ctx, chatParams("hi"))
		return err
	}, tracing.WithSpanType(tracing.SpanTypeAgent))
	if err != nil {
		t.Fatal(err)
	}
	spans := f.Spans(t)
	if len(spans) != 2 || spans[1].Name != "Completions" || spans[1].ParentSpanID != spans[0].SpanID {
		t.Errorf("spans %v", spantest.Names(spans))
	}
}

func TestDisabled(t *testing.T) {
	f := setup(t, tracing.WithDisabled())
	if _, err := f.client().Chat.Completions.New(context.Background(), chatParams("hi")); err != nil {
		t.Fatal(err)
	}
	if tp := f.Fake.Requests()[0].Header.Get("Traceparent"); tp != "" {
		t.Errorf("traceparent %q without tracing", tp)
	}
}

func TestConcurrentCallsSameContext(t *testing.T) {
	f := setup(t)
	c := f.client()
	f.Fake.AddFault(llmtest.Fault{Status: 500, Count: 3, RetryAfter: "0.01"})
	ctx := context.Background()
	var wg sync.WaitGroup
	errs := make(chan error, 8)
	for i := 0; i < 8; i++ {
		wg.Add(1)
		go func(i int) {
			defer wg.Done()
			st := c.Chat.Completions.NewStreaming(ctx, chatParams("hello number "+string(rune('a'+i))))
			for st.Next() {
			}
			errs <- st.Err()
		}(i)
	}
	wg.Wait()
	close(errs)
	for err := range errs {
		if err != nil {
			t.Fatal(err)
		}
	}
	spans := f.Spans(t)
	if len(spans) != 8 {
		t.Fatalf("%d spans, want 8", len(spans))
	}
	retries := 0
	for _, s := range spans {
		in := spantest.Attr(t, s, "mlflow.spanInputs").(map[string]any)
		want := in["messages"].([]any)[1].(map[string]any)["content"].(string)
		got := spantest.Attr(t, s, "mlflow.spanOutputs").(map[string]any)["choices"].([]any)[0].(map[string]any)["message"].(map[string]any)["content"]
		if got != "You said: "+want {
			t.Errorf("span mixes calls: input %q output %q", want, got)
		}
		for _, e := range s.Events {
			if e.Name == "retry" {
				retries++
			}
		}
	}
	if retries != 3 {
		t.Errorf("%d retry events, want 3", retries)
	}
}

var _ = errors.New

// callerKey is a context key of the tests: a value the caller put in its context.
type callerKey struct{}
