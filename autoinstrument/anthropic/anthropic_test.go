package anthropic

import (
	"context"
	"reflect"
	"strings"
	"testing"

	"github.com/anthropics/anthropic-sdk-go/v2"
	"github.com/anthropics/anthropic-sdk-go/v2/option"
	"go.uber.org/goleak"

	"github.com/mlflowtrace/mlflowtrace-go/exporter"
	"github.com/mlflowtrace/mlflowtrace-go/internal/llmtest"
	"github.com/mlflowtrace/mlflowtrace-go/internal/spantest"
	"github.com/mlflowtrace/mlflowtrace-go/tracing"
)

func TestMain(m *testing.M) { goleak.VerifyTestMain(m) }

// fixture is the fake API and tracing into memory, with the global tracer
// provider set (so the SDK's own spans would show).
type fixture struct{ *spantest.LLM }

func setup(t *testing.T, opts ...tracing.Option) fixture {
	return fixture{spantest.StartLLM(t, opts...)}
}

// client is an anthropic-sdk-go client of the fake API, with RequestOption.
func (f fixture) client(opts ...option.RequestOption) *anthropic.Client {
	base := []option.RequestOption{option.WithBaseURL(f.Fake.AnthropicBaseURL()), option.WithAPIKey(llmtest.AnthropicKey),
		option.WithHTTPClient(f.Fake.Client()), RequestOption()}
	c := anthropic.NewClient(append(base, opts...)...)
	return &c
}

var weather = anthropic.ToolParam{
	Name:        "get_weather",
	Description: anthropic.String("Current weather of a city"),
	InputSchema: anthropic.ToolInputSchemaParam{
		Properties: map[string]any{"city": map[string]any{"type": "string", "description": "City name"}},
		Required:   []string{"city"},
	},
}

func params(text string) anthropic.MessageNewParams {
	return anthropic.MessageNewParams{
		Model:     "claude-sonnet-4-6",
		MaxTokens: 256,
		Messages:  []anthropic.MessageParam{anthropic.NewUserMessage(anthropic.NewTextBlock(text))},
		Tools:     []anthropic.ToolUnionParam{{OfTool: &weather}},
	}
}

func TestPerCallGroupsAttempts(t *testing.T) {
	if _, _, ok := (&config{}).requestOption(); !ok {
		t.Fatal("anthropic-sdk-go's option is no longer an interface of one Apply method")
	}
}

// TestSDKCallSpanHook fails loudly when the SDK's public hook of a logical
// call (its own span per API call, through option.WithTracerProvider) is
// not taken: an attempt without the SDK's span would be a call of its own,
// and retries separate spans.
func TestSDKCallSpanHook(t *testing.T) {
	f := setup(t)
	f.Fake.AddFault(llmtest.Fault{Status: 529, Count: 1, RetryAfter: "0"})
	opt, ct, _ := (&config{}).requestOption()
	c := anthropic.NewClient(option.WithBaseURL(f.Fake.AnthropicBaseURL()), option.WithAPIKey(llmtest.AnthropicKey),
		option.WithHTTPClient(f.Fake.Client()), opt)
	if _, err := c.Messages.New(context.Background(), params("Hi")); err != nil {
		t.Fatal(err)
	}
	st := c.Messages.NewStreaming(context.Background(), params("Hi"))
	for st.Next() {
	}
	if n := ct.Fallbacks(); n != 0 || len(f.Spans(t)) != 2 {
		t.Fatalf("%d attempts came without anthropic-sdk-go's call span (option.WithTracerProvider no longer "+
			"brackets a logical call): retries would be recorded as separate spans", n)
	}
}

func TestMessage(t *testing.T) {
	f := setup(t)
	msg, err := f.client().Messages.New(context.Background(), params("Hello there"))
	if err != nil {
		t.Fatal(err)
	}
	s := f.One(t) // the SDK's own OpenTelemetry span is off, even with the global tracer provider set
	if s.Name != "Messages.create" || spantest.Attr(t, s, "mlflow.spanType") != "CHAT_MODEL" || spantest.Attr(t, s, "mlflow.message.format") != "anthropic" {
		t.Errorf("span %s %v", s.Name, s.Attributes)
	}
	if !spantest.JSONEqual(t, s.Attributes["mlflow.spanInputs"], string(f.Fake.Requests()[0].Body)) {
		t.Error("inputs are not the request body")
	}
	if !spantest.JSONEqual(t, s.Attributes["mlflow.spanOutputs"], msg.RawJSON()) {
		t.Error("outputs are not the answer")
	}
	if spantest.Attr(t, s, "mlflow.llm.model") != "claude-sonnet-4-6" || spantest.Attr(t, s, "mlflow.llm.provider") != "anthropic" {
		t.Error("model/provider")
	}
	want := `[{"type": "function", "function": {"name": "get_weather", "description": "Current weather of a city", "parameters": {"properties": {"city": {"type": "string", "description": "City name"}}, "type": "object", "required": ["city"]}}}]`
	if got := s.Attributes["mlflow.chat.tools"]; got != want {
		t.Errorf("tools\n got %s\nwant %s", got, want)
	}
	u := spantest.Attr(t, s, "mlflow.chat.tokenUsage").(map[string]any)
	if u["input_tokens"] != float64(msg.Usage.InputTokens) || u["total_tokens"] != float64(msg.Usage.InputTokens+msg.Usage.OutputTokens) ||
		u["cache_read_input_tokens"] != 0.0 || u["cache_creation_input_tokens"] != 0.0 || u["cache_creation_input_tokens_above_1hr"] != 0.0 {
		t.Errorf("usage %v", u)
	}
	if !strings.Contains(f.Fake.Requests()[0].Header.Get("Traceparent"), s.SpanID.String()) {
		t.Error("traceparent")
	}
}

func TestStreamToolUse(t *testing.T) {
	f := setup(t)
	st := f.client().Messages.NewStreaming(context.Background(), params("What's the weather in Paris?"))
	var acc anthropic.Message
	for st.Next() {
		if err := acc.Accumulate(st.Current()); err != nil {
			t.Fatal(err)
		}
	}
	if err := st.Err(); err != nil {
		t.Fatal(err)
	}
	s := f.One(t)
	out := spantest.Attr(t, s, "mlflow.spanOutputs").(map[string]any)
	content := out["content"].([]any)
	if len(content) != 2 || content[0].(map[string]any)["text"] != acc.Content[0].Text {
		t.Fatalf("content %v", content)
	}
	tool := content[1].(map[string]any)
	if tool["type"] != "tool_use" || tool["id"] != acc.Content[1].ID || !reflect.DeepEqual(tool["input"], map[string]any{"city": "Paris"}) {
		t.Errorf("tool_use %v", tool)
	}
	if out["stop_reason"] != "tool_use" || out["usage"].(map[string]any)["output_tokens"] != float64(acc.Usage.OutputTokens) {
		t.Errorf("stop/usage %v", out)
	}
	if u := spantest.Attr(t, s, "mlflow.chat.tokenUsage").(map[string]any); u["output_tokens"] != float64(acc.Usage.OutputTokens) {
		t.Errorf("usage %v", u)
	}
}

func TestCacheTokens(t *testing.T) {
	f := setup(t)
	long := strings.Repeat("You are a meticulous travel assistant. ", 120) // > 1024 tokens
	p := params("Hello")
	p.System = []anthropic.TextBlockParam{{Text: long, CacheControl: anthropic.NewCacheControlEphemeralParam()}}
	c := f.client()
	for i := 0; i < 2; i++ {
		if _, err := c.Messages.New(context.Background(), p); err != nil {
			t.Fatal(err)
		}
	}
	spans := f.Spans(t)
	first := spantest.Attr(t, spans[0], "mlflow.chat.tokenUsage").(map[string]any)
	second := spantest.Attr(t, spans[1], "mlflow.chat.tokenUsage").(map[string]any)
	if first["cache_creation_input_tokens"].(float64) < 1024 || first["cache_read_input_tokens"] != 0.0 {
		t.Errorf("first %v", first)
	}
	if second["cache_read_input_tokens"].(float64) < 1024 || second["cache_creation_input_tokens"] != 0.0 {
		t.Errorf("second %v", second)
	}
	if first["input_tokens"] != second["input_tokens"] || first["input_tokens"].(float64) < 1024 {
		t.Errorf("input tokens must include cache tokens: %v %v", first, second)
	}
}

func TestRetryAndErrors(t *testing.T) {
	t.Run("overloaded then ok", func(t *testing.T) {
		f := setup(t)
		f.Fake.AddFault(llmtest.Fault{Status: 529, Count: 2, RetryAfter: "0"})
		if _, err := f.client().Messages.New(context.Background(), params("Hi")); err != nil {
			t.Fatal(err)
		}
		s := f.One(t)
		if len(s.Events) != 2 || s.Events[0].Name != "retry" || s.Status.Code != exporter.StatusCodeOK || len(f.Fake.Requests()) != 3 {
			t.Errorf("events %v status %v requests %d", s.Events, s.Status, len(f.Fake.Requests()))
		}
	})
	t.Run("unknown model", func(t *testing.T) {
		f := setup(t)
		p := params("Hi")
		p.Model = "claude-nope"
		if _, err := f.client().Messages.New(context.Background(), p); err == nil {
			t.Fatal("no error")
		}
		s := f.One(t)
		if s.Status.Code != exporter.StatusCodeError || s.Events[0].Attributes["exception.type"] != "anthropic.APIError" ||
			s.Events[0].Attributes["exception.message"] != "404 Not Found not_found_error: model: claude-nope" {
			t.Errorf("status %v events %v", s.Status, s.Events)
		}
		if _, ok := s.Attributes["mlflow.chat.tools"]; !ok {
			t.Error("MLflow records the tools at the start, also for a failed call")
		}
	})
	t.Run("error event in stream", func(t *testing.T) {
		f := setup(t)
		f.Fake.AddFault(llmtest.Fault{CutAfter: 4, StreamError: true})
		st := f.client().Messages.NewStreaming(context.Background(), params("Hi"))
		defer st.Close() // the SDK stops reading at the error event: the caller closes
		for st.Next() {
		}
		if st.Err() == nil {
			t.Fatal("no error")
		}
		s := f.One(t) // ended at the error event, before Close
		if s.Status.Code != exporter.StatusCodeError || s.Events[0].Attributes["exception.type"] != "anthropic.StreamError" {
			t.Errorf("status %v events %v", s.Status, s.Events)
		}
	})
}

func TestContentCaptureOff(t *testing.T) {
	f := setup(t, tracing.WithContentCapture(false))
	if _, err := f.client().Messages.New(context.Background(), params("secret question about Paris")); err != nil {
		t.Fatal(err)
	}
	s := f.One(t)
	for _, k := range []string{"mlflow.spanInputs", "mlflow.spanOutputs"} {
		if _, ok := s.Attributes[k]; ok {
			t.Errorf("%s recorded", k)
		}
	}
	for _, k := range []string{"mlflow.chat.tokenUsage", "mlflow.llm.model", "mlflow.chat.tools"} {
		if _, ok := s.Attributes[k]; !ok {
			t.Errorf("%s missing", k)
		}
	}
}

func TestSDKSpansKept(t *testing.T) {
	f := setup(t)
	c := anthropic.NewClient(option.WithBaseURL(f.Fake.AnthropicBaseURL()), option.WithAPIKey(llmtest.AnthropicKey),
		option.WithHTTPClient(f.Fake.Client()), RequestOption(WithSDKSpans()))
	if _, err := c.Messages.New(context.Background(), params("Hi")); err != nil {
		t.Fatal(err)
	}
	// Without the default, anthropic-sdk-go's own span records the call too
	// (what RequestOption turns off); the MLflow span is its child.
	spans := f.Spans(t)
	if len(spans) != 2 || spans[1].Name != "Messages.create" || spans[1].ParentSpanID != spans[0].SpanID {
		for _, s := range spans {
			t.Logf("%s %s parent %s", s.Name, s.SpanID, s.ParentSpanID)
		}
		t.Errorf("%d spans", len(spans))
	}
}
