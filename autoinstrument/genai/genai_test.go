package genai

import (
	"context"
	"errors"
	"fmt"
	"net/http"
	"strings"
	"testing"
	"time"

	"go.uber.org/goleak"
	"google.golang.org/genai"

	"github.com/mlflowtrace/mlflowtrace-go/exporter"
	"github.com/mlflowtrace/mlflowtrace-go/internal/llmtest"
	"github.com/mlflowtrace/mlflowtrace-go/internal/spantest"
	"github.com/mlflowtrace/mlflowtrace-go/tracing"
)

func TestMain(m *testing.M) { goleak.VerifyTestMain(m) }

// fixture is the fake APIs and tracing into memory.
type fixture struct{ *spantest.LLM }

// client is a genai client of the fake Gemini API through NewClient; edit
// changes its configuration first.
func (f fixture) client(t *testing.T, edit ...func(*genai.ClientConfig)) *genai.Client {
	t.Helper()
	cfg := &genai.ClientConfig{APIKey: llmtest.GeminiKey, Backend: genai.BackendGeminiAPI,
		HTTPClient: f.Fake.Client(), HTTPOptions: genai.HTTPOptions{BaseURL: f.Fake.URL}}
	for _, e := range edit {
		e(cfg)
	}
	c, err := NewClient(context.Background(), cfg)
	if err != nil {
		t.Fatal(err)
	}
	return c
}

// vertex is a client of the fake Vertex AI (project and location, OAuth
// token).
func (f fixture) vertex(t *testing.T) *genai.Client {
	t.Helper()
	hc := &http.Client{Transport: bearer{token: llmtest.VertexToken, base: f.Fake.Client().Transport}}
	c, err := NewClient(context.Background(), &genai.ClientConfig{Backend: genai.BackendVertexAI, Project: "p", Location: "us-central1",
		HTTPClient: hc, HTTPOptions: genai.HTTPOptions{BaseURL: f.Fake.URL}})
	if err != nil {
		t.Fatal(err)
	}
	return c
}

type bearer struct {
	token string
	base  http.RoundTripper
}

func (b bearer) RoundTrip(r *http.Request) (*http.Response, error) {
	r = r.Clone(r.Context())
	r.Header.Set("Authorization", "Bearer "+b.token)
	return b.base.RoundTrip(r)
}

const model = "gemini-2.5-flash"

var weatherTool = &genai.Tool{FunctionDeclarations: []*genai.FunctionDeclaration{{
	Name: "get_weather", Description: "Current weather of a city",
	Parameters: &genai.Schema{Type: genai.TypeObject, Required: []string{"city"},
		Properties: map[string]*genai.Schema{"city": {Type: genai.TypeString, Description: "City name"}}},
}}}

func tools() *genai.GenerateContentConfig {
	return &genai.GenerateContentConfig{Tools: []*genai.Tool{weatherTool}}
}

func attr(t *testing.T, s *exporter.Span, key string) any { return spantest.Attr(t, s, key) }

// path walks a decoded JSON value: keys of objects, indexes of arrays.
func path(v any, steps ...any) any {
	for _, st := range steps {
		switch k := st.(type) {
		case string:
			m, _ := v.(map[string]any)
			v = m[k]
		case int:
			l, _ := v.([]any)
			if k >= len(l) {
				return nil
			}
			v = l[k]
		}
	}
	return v
}

func byName(spans []*exporter.Span, name string) *exporter.Span {
	for _, s := range spans {
		if s.Name == name {
			return s
		}
	}
	return nil
}

func TestGenerateContent(t *testing.T) {
	f := fixture{spantest.StartLLM(t)}
	resp, err := f.client(t).Models.GenerateContent(context.Background(), model, genai.Text("Say hello to Paris"), nil)
	if err != nil {
		t.Fatal(err)
	}
	s := f.One(t)
	if s.Name != "Models.generate_content" || attr(t, s, "mlflow.spanType") != "LLM" || attr(t, s, "mlflow.message.format") != "gemini" {
		t.Fatalf("span %s %v", s.Name, s.Attributes)
	}
	if attr(t, s, "mlflow.llm.model") != model || attr(t, s, "mlflow.llm.provider") != "gemini" {
		t.Error("model / provider")
	}
	in := attr(t, s, "mlflow.spanInputs")
	if path(in, "model") != model || path(in, "contents", 0, "parts", 0, "text") != "Say hello to Paris" ||
		path(in, "contents", 0, "role") != "user" {
		t.Errorf("inputs %v", in)
	}
	if _, ok := in.(map[string]any)["config"]; ok {
		t.Error("inputs have a config, the call had none")
	}
	if _, ok := path(in, "contents", 0, "parts", 0).(map[string]any)["function_call"]; !ok {
		t.Error("a part's dump lacks the Python model's other fields (function_call: null)")
	}
	out := attr(t, s, "mlflow.spanOutputs")
	if path(out, "candidates", 0, "content", "parts", 0, "text") != resp.Text() || path(out, "finish_reason") != nil ||
		path(out, "candidates", 0, "finish_reason") != "STOP" || path(out, "sdk_http_response", "headers", "content-type") != "application/json" {
		t.Errorf("outputs %v", out)
	}
	u := resp.UsageMetadata
	want := fmt.Sprintf(`{"input_tokens": %d, "output_tokens": %d, "total_tokens": %d}`, u.PromptTokenCount, u.CandidatesTokenCount, u.TotalTokenCount)
	if s.Attributes["mlflow.chat.tokenUsage"] != want {
		t.Errorf("usage %s, want %s", s.Attributes["mlflow.chat.tokenUsage"], want)
	}
	if _, ok := s.Attributes["mlflow.chat.tools"]; ok {
		t.Error("tools recorded for a call without tools")
	}
	if tp := f.Fake.Requests()[0].Header.Get("Traceparent"); !strings.Contains(tp, s.SpanID.String()) {
		t.Errorf("traceparent %q does not name the span", tp)
	}
}

func TestFunctionCallAndTools(t *testing.T) {
	f := fixture{spantest.StartLLM(t)}
	cfg := tools()
	cfg.Temperature = genai.Ptr[float32](1)
	resp, err := f.client(t).Models.GenerateContent(context.Background(), model, genai.Text("What's the weather in Paris?"), cfg)
	if err != nil {
		t.Fatal(err)
	}
	if len(resp.FunctionCalls()) != 1 {
		t.Fatalf("no function call: %v", resp.Text())
	}
	s := f.One(t)
	want := `[{"type": "function", "function": {"name": "get_weather", "description": "Current weather of a city", "parameters": {"properties": {"city": {"type": "string", "description": "City name", "enum": null}}, "required": ["city"]}}}]`
	if got := s.Attributes["mlflow.chat.tools"]; got != want {
		t.Errorf("tools\n got %s\nwant %s", got, want)
	}
	in := attr(t, s, "mlflow.spanInputs")
	if path(in, "config", "tools", 0, "function_declarations", 0, "parameters", "properties", "city", "type") != "STRING" ||
		!strings.Contains(s.Attributes["mlflow.spanInputs"], `"temperature": 1.0`) {
		t.Errorf("config %s", s.Attributes["mlflow.spanInputs"])
	}
	out := attr(t, s, "mlflow.spanOutputs")
	if path(out, "candidates", 0, "content", "parts", 0, "function_call", "name") != "get_weather" ||
		path(out, "candidates", 0, "content", "parts", 0, "function_call", "args", "city") != "Paris" {
		t.Errorf("outputs %v", out)
	}
}

func TestStream(t *testing.T) {
	f := fixture{spantest.StartLLM(t)}
	var text strings.Builder
	var last *genai.GenerateContentResponse
	for chunk, err := range f.client(t).Models.GenerateContentStream(context.Background(), model, genai.Text("Say hello to the people of Paris"), nil) {
		if err != nil {
			t.Fatal(err)
		}
		text.WriteString(chunk.Text())
		last = chunk
	}
	s := f.One(t)
	if s.Name != "Models.generate_content_stream" || attr(t, s, "mlflow.spanType") != "LLM" || s.Status.Code != exporter.StatusCodeOK {
		t.Fatalf("span %s %v %v", s.Name, s.Status, s.Attributes)
	}
	out := attr(t, s, "mlflow.spanOutputs")
	parts, _ := path(out, "candidates", 0, "content", "parts").([]any)
	if len(parts) != 1 || path(parts[0], "text") != text.String() || path(out, "candidates", 0, "finish_reason") != "STOP" {
		t.Errorf("outputs %v, want the text %q in one part", out, text.String())
	}
	u := last.UsageMetadata
	if path(attr(t, s, "mlflow.chat.tokenUsage"), "total_tokens") != float64(u.TotalTokenCount) {
		t.Errorf("usage %v", s.Attributes["mlflow.chat.tokenUsage"])
	}
}

func TestChat(t *testing.T) {
	tests := []struct {
		name        string
		send        func(*genai.Chat) error
		chat, model string
	}{
		{"send", func(c *genai.Chat) error {
			_, err := c.SendMessage(context.Background(), genai.Part{Text: "What's the weather in Paris?"})
			return err
		}, "Chat.send_message", "Models.generate_content"},
		{"stream", func(c *genai.Chat) error {
			for _, err := range c.SendMessageStream(context.Background(), genai.Part{Text: "Hello there"}) {
				if err != nil {
					return err
				}
			}
			return nil
		}, "Chat.send_message_stream", "Models.generate_content_stream"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			f := fixture{spantest.StartLLM(t)}
			chat, err := f.client(t).Chats.Create(context.Background(), model, tools(), nil)
			if err != nil {
				t.Fatal(err)
			}
			if err := tt.send(chat); err != nil {
				t.Fatal(err)
			}
			spans := f.Spans(t)
			if got := spantest.Names(spans); len(got) != 2 || got[0] != tt.chat || got[1] != tt.model {
				t.Fatalf("spans %v", got)
			}
			outer, inner := spans[0], spans[1]
			if inner.ParentSpanID != outer.SpanID || attr(t, outer, "mlflow.spanType") != "CHAT_MODEL" || inner.EndTime.After(outer.EndTime) {
				t.Error("the model call is not a child inside the chat turn's span")
			}
			in := attr(t, outer, "mlflow.spanInputs")
			if path(in, "message", 0, "text") == nil || attr(t, outer, "mlflow.llm.model") != model {
				t.Errorf("chat inputs %v", in)
			}
			if _, ok := outer.Attributes["mlflow.chat.tools"]; ok {
				t.Error("tools on the chat turn (MLflow records them on the model call)")
			}
			if _, ok := inner.Attributes["mlflow.chat.tools"]; !ok {
				t.Error("no tools on the model call")
			}
			if outer.Attributes["mlflow.spanOutputs"] != inner.Attributes["mlflow.spanOutputs"] ||
				outer.Attributes["mlflow.chat.tokenUsage"] != inner.Attributes["mlflow.chat.tokenUsage"] {
				t.Error("the chat turn does not record the model call's result")
			}
		})
	}
}

func TestEmbedAndCountTokens(t *testing.T) {
	f := fixture{spantest.StartLLM(t)}
	c := f.client(t)
	ctx := context.Background()
	if _, err := c.Models.EmbedContent(ctx, "text-embedding-004", []*genai.Content{genai.NewContentFromText("Paris", genai.RoleUser)},
		&genai.EmbedContentConfig{OutputDimensionality: genai.Ptr[int32](3)}); err != nil {
		t.Fatal(err)
	}
	ct, err := c.Models.CountTokens(ctx, model, genai.Text("How many tokens?"), nil)
	if err != nil {
		t.Fatal(err)
	}
	spans := f.Spans(t)
	e, n := byName(spans, "Models.embed_content"), byName(spans, "Models.count_tokens")
	if e == nil || n == nil {
		t.Fatalf("spans %v", spantest.Names(spans))
	}
	if attr(t, e, "mlflow.spanType") != "EMBEDDING" || path(attr(t, e, "mlflow.spanInputs"), "config", "output_dimensionality") != float64(3) {
		t.Errorf("embed %v", e.Attributes)
	}
	vals, _ := path(attr(t, e, "mlflow.spanOutputs"), "embeddings", 0, "values").([]any)
	if len(vals) != 3 {
		t.Errorf("embedding %v", vals)
	}
	if path(attr(t, n, "mlflow.spanOutputs"), "total_tokens") != float64(ct.TotalTokens) || attr(t, n, "mlflow.spanType") != "LLM" {
		t.Errorf("count tokens %v", n.Attributes)
	}
	for _, s := range spans {
		if _, ok := s.Attributes["mlflow.chat.tokenUsage"]; ok {
			t.Errorf("%s has token usage (MLflow records none for it)", s.Name)
		}
	}
}

func TestVertexAI(t *testing.T) {
	f := fixture{spantest.StartLLM(t)}
	c := f.vertex(t)
	ctx := context.Background()
	if _, err := c.Models.GenerateContent(ctx, model, genai.Text("What's the weather in Paris?"), tools()); err != nil {
		t.Fatal(err)
	}
	if _, err := c.Models.EmbedContent(ctx, "text-embedding-005", []*genai.Content{genai.NewContentFromText("Rome", genai.RoleUser)}, nil); err != nil {
		t.Fatal(err)
	}
	spans := f.Spans(t)
	g, e := byName(spans, "Models.generate_content"), byName(spans, "Models.embed_content")
	if g == nil || e == nil {
		t.Fatalf("spans %v", spantest.Names(spans))
	}
	out := attr(t, g, "mlflow.spanOutputs")
	ct, _ := path(out, "create_time").(string)
	if attr(t, g, "mlflow.llm.model") != model || len(ct) < len("2006-01-02 15:04:05+00:00") || ct[10] != ' ' || !strings.HasSuffix(ct, "+00:00") ||
		path(out, "usage_metadata", "traffic_type") != "ON_DEMAND" {
		t.Errorf("vertex outputs %v", out)
	}
	if got := f.Fake.Requests()[1].Path; !strings.HasSuffix(got, "/publishers/google/models/text-embedding-005:predict") {
		t.Fatalf("embedding path %s", got)
	}
	vals, _ := path(attr(t, e, "mlflow.spanOutputs"), "embeddings", 0, "values").([]any)
	if len(vals) != 768 || path(attr(t, e, "mlflow.spanOutputs"), "embeddings", 0, "statistics", "token_count") == nil ||
		path(attr(t, e, "mlflow.spanInputs"), "contents", 0, "parts", 0, "text") != "Rome" {
		t.Errorf("vertex embedding %v", e.Attributes["mlflow.spanInputs"])
	}
}

func exceptions(s *exporter.Span) []exporter.Event { return spantest.Events(s, "exception") }

func retries(s *exporter.Span) int { return len(spantest.Events(s, "retry")) }

func withRetries(attempts int32) func(*genai.ClientConfig) {
	return func(c *genai.ClientConfig) {
		c.HTTPOptions.RetryOptions = &genai.HTTPRetryOptions{Attempts: genai.Ptr(attempts), InitialDelay: genai.Ptr(0.01),
			MaxDelay: genai.Ptr(0.05), Jitter: genai.Ptr(0.0)}
	}
}

func TestRetriesAndErrors(t *testing.T) {
	tests := []struct {
		name        string
		edit        []func(*genai.ClientConfig)
		model       string
		fault       *llmtest.Fault
		wantErr     bool
		wantRetries int
		wantType    string // exception.type
		wantMsg     string // in exception.message
	}{
		{name: "retried 429 then answered", edit: []func(*genai.ClientConfig){withRetries(3)},
			fault: &llmtest.Fault{Status: 429}, wantRetries: 1},
		{name: "retries exhausted", edit: []func(*genai.ClientConfig){withRetries(3)},
			fault: &llmtest.Fault{Status: 503, Count: 3}, wantErr: true, wantRetries: 2,
			wantType: "ServerError", wantMsg: "503 UNAVAILABLE. {'error': {'code': 503, 'message': 'The model is overloaded. Please try again later.', 'status': 'UNAVAILABLE'}}"},
		{name: "no retry options: the error ends the call", fault: &llmtest.Fault{Status: 503},
			wantErr: true, wantType: "ServerError", wantMsg: "503 UNAVAILABLE."},
		{name: "unknown model", model: "gemini-unknown", wantErr: true, wantType: "ClientError",
			wantMsg: "404 NOT_FOUND. {'error': {'code': 404, 'message': 'models/gemini-unknown is not found for API version v1"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			f := fixture{spantest.StartLLM(t)}
			if tt.fault != nil {
				f.Fake.AddFault(*tt.fault)
			}
			m := model
			if tt.model != "" {
				m = tt.model
			}
			_, err := f.client(t, tt.edit...).Models.GenerateContent(context.Background(), m, genai.Text("hi"), nil)
			if (err != nil) != tt.wantErr {
				t.Fatalf("err %v", err)
			}
			s := f.One(t)
			if got := retries(s); got != tt.wantRetries {
				t.Errorf("%d retry events, want %d", got, tt.wantRetries)
			}
			ex := exceptions(s)
			if !tt.wantErr {
				if len(ex) != 0 || s.Status.Code != exporter.StatusCodeOK {
					t.Errorf("status %v, exceptions %v", s.Status, ex)
				}
				return
			}
			if len(ex) != 1 || s.Status.Code != exporter.StatusCodeError || ex[0].Attributes["exception.type"] != tt.wantType ||
				!strings.Contains(fmt.Sprint(ex[0].Attributes["exception.message"]), tt.wantMsg) {
				t.Errorf("status %v, exceptions %v", s.Status, ex)
			}
			if attr(t, s, "mlflow.llm.model") != m || attr(t, s, "mlflow.llm.provider") != "gemini" {
				t.Error("a failed call lost its model / provider")
			}
		})
	}
}

func TestStreamErrors(t *testing.T) {
	tests := []struct {
		name     string
		fault    llmtest.Fault
		stopAt   int // break out of the loop after this many chunks (0: drain)
		wantType string
	}{
		{name: "error event", fault: llmtest.Fault{CutAfter: 2, StreamError: true}, wantType: "ServerError"},
		{name: "connection cut", fault: llmtest.Fault{CutAfter: 2}, wantType: "*errors.errorString"},
		{name: "caller stops early", stopAt: 1, wantType: "IncompleteStreamError"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			f := fixture{spantest.StartLLM(t)}
			if tt.fault != (llmtest.Fault{}) {
				f.Fake.AddFault(tt.fault)
			}
			n := 0
			for _, err := range f.client(t).Models.GenerateContentStream(context.Background(), model, genai.Text("Say hello to the people of Paris"), nil) {
				if err != nil {
					break
				}
				n++
				if n == tt.stopAt {
					break
				}
			}
			s := f.One(t)
			ex := exceptions(s)
			if s.Status.Code != exporter.StatusCodeError || len(ex) != 1 {
				t.Fatalf("status %v, exceptions %v", s.Status, ex)
			}
			if got := fmt.Sprint(ex[0].Attributes["exception.type"]); tt.wantType != "*errors.errorString" && got != tt.wantType {
				t.Errorf("exception type %s, want %s", got, tt.wantType)
			}
			if path(attr(t, s, "mlflow.spanOutputs"), "candidates", 0, "content", "parts", 0, "text") == nil {
				t.Error("the chunks that came are not in the outputs")
			}
		})
	}
}

func TestContentCaptureOff(t *testing.T) {
	f := fixture{spantest.StartLLM(t, tracing.WithContentCapture(false))}
	if _, err := f.client(t).Models.GenerateContent(context.Background(), model, genai.Text("secret prompt"), tools()); err != nil {
		t.Fatal(err)
	}
	s := f.One(t)
	for _, k := range []string{"mlflow.spanInputs", "mlflow.spanOutputs"} {
		if _, ok := s.Attributes[k]; ok {
			t.Errorf("%s recorded with content capture off", k)
		}
	}
	for _, k := range []string{"mlflow.chat.tokenUsage", "mlflow.llm.model", "mlflow.llm.provider", "mlflow.chat.tools"} {
		if _, ok := s.Attributes[k]; !ok {
			t.Errorf("%s missing", k)
		}
	}
}

func TestCachedTokens(t *testing.T) {
	f := fixture{spantest.StartLLM(t)}
	c := f.client(t)
	long := strings.Repeat("Paris is the capital of France. ", 200)
	cfg := &genai.GenerateContentConfig{SystemInstruction: genai.NewContentFromText(long, genai.RoleUser)}
	for _, q := range []string{"First question?", "Second question?"} {
		if _, err := c.Models.GenerateContent(context.Background(), model, genai.Text(q), cfg); err != nil {
			t.Fatal(err)
		}
	}
	spans := f.Spans(t)
	if len(spans) != 2 {
		t.Fatalf("%d spans", len(spans))
	}
	if _, ok := path(attr(t, spans[0], "mlflow.chat.tokenUsage"), "cache_read_input_tokens").(float64); ok {
		t.Error("cached tokens on the first call")
	}
	if n, _ := path(attr(t, spans[1], "mlflow.chat.tokenUsage"), "cache_read_input_tokens").(float64); n < 1024 {
		t.Errorf("usage %s: no cached tokens on the repeated prompt", spans[1].Attributes["mlflow.chat.tokenUsage"])
	}
}

func TestUntracedAndOff(t *testing.T) {
	t.Run("tracing off", func(t *testing.T) {
		f := fixture{spantest.StartLLM(t, tracing.WithDisabled())}
		if _, err := f.client(t).Models.GenerateContent(context.Background(), model, genai.Text("hi"), nil); err != nil {
			t.Fatal(err)
		}
		if n := len(f.Recorder.Traces()); n != 0 {
			t.Errorf("%d traces with tracing off", n)
		}
	})
	t.Run("a configuration used twice is traced once", func(t *testing.T) {
		f := fixture{spantest.StartLLM(t)}
		cfg := &genai.ClientConfig{APIKey: llmtest.GeminiKey, Backend: genai.BackendGeminiAPI, HTTPOptions: genai.HTTPOptions{BaseURL: f.Fake.URL}}
		if _, err := NewClient(context.Background(), cfg); err != nil {
			t.Fatal(err)
		}
		c, err := NewClient(context.Background(), cfg) // cfg.HTTPClient is the first client's now
		if err != nil {
			t.Fatal(err)
		}
		if _, err := c.Models.GenerateContent(context.Background(), model, genai.Text("hi"), nil); err != nil {
			t.Fatal(err)
		}
		if n := len(f.Spans(t)); n != 1 {
			t.Errorf("%d spans for one call", n)
		}
	})
	t.Run("caller's HTTP client not changed", func(t *testing.T) {
		f := fixture{spantest.StartLLM(t)}
		hc := f.Fake.Client()
		before := hc.Transport
		f.client(t, func(c *genai.ClientConfig) { c.HTTPClient = hc })
		if hc.Transport != before {
			t.Error("NewClient changed the caller's http.Client")
		}
	})
}

func TestRetryWaitEndsWithCallersContext(t *testing.T) {
	f := fixture{spantest.StartLLM(t)}
	f.Fake.AddFault(llmtest.Fault{Status: 429})
	c := f.client(t, func(cfg *genai.ClientConfig) {
		cfg.HTTPOptions.RetryOptions = &genai.HTTPRetryOptions{Attempts: genai.Ptr[int32](3), InitialDelay: genai.Ptr(30.0), Jitter: genai.Ptr(0.0)}
	})
	ctx, cancel := context.WithTimeout(context.Background(), 300*time.Millisecond)
	defer cancel()
	_, err := c.Models.GenerateContent(ctx, model, genai.Text("hi"), nil)
	if !errors.Is(err, context.DeadlineExceeded) {
		t.Fatalf("err %v", err)
	}
	s := f.One(t)
	if ex := exceptions(s); len(ex) != 1 || !strings.Contains(fmt.Sprint(ex[0].Attributes["exception.message"]), "deadline") {
		t.Errorf("exceptions %v", ex)
	}
}

// TestUndecodableAnswerIsAnError: a 200 answer whose body is not JSON makes
// the SDK's call fail (google-genai raises JSONDecodeError; the Go SDK
// returns its unmarshalling error); the span records that failure instead of
// ending OK with no outputs. An empty body is no failure (both SDKs return
// an empty response).
func TestUndecodableAnswerIsAnError(t *testing.T) {
	tests := []struct {
		name, contentType, body string
		wantErr                 bool
	}{
		{"cut JSON", "application/json", `{"candidates": [`, true},
		{"an HTML page", "text/html", "<html>maintenance</html>", true},
		{"empty body", "application/json", "", false},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			f := fixture{spantest.StartLLM(t)}
			srv := spantest.ServeAnswer(t, tt.contentType, tt.body)
			c := f.client(t, func(cfg *genai.ClientConfig) { cfg.HTTPOptions.BaseURL, cfg.HTTPClient = srv.URL, srv.Client() })
			_, err := c.Models.GenerateContent(context.Background(), model, genai.Text("hi"), nil)
			if (err != nil) != tt.wantErr {
				t.Fatalf("SDK error %v, want one: %v", err, tt.wantErr)
			}
			s := f.One(t)
			if tt.wantErr {
				spantest.WantDecodeError(t, s)
			} else if ex := exceptions(s); s.Status.Code != exporter.StatusCodeOK || len(ex) != 0 {
				t.Errorf("status %v, exceptions %v", s.Status, ex)
			}
		})
	}
}

// TestLargeRequestIsTraced: a request larger than llmspan.MaxBody (an
// inline image of 13 MB is 17 MB of base64) was not traced at all; its call
// is now a span with the answer, usage, model and provider, without inputs.
func TestLargeRequestIsTraced(t *testing.T) {
	f := fixture{spantest.StartLLM(t)}
	parts := []*genai.Part{{Text: "What is in this image?"}, {InlineData: &genai.Blob{MIMEType: "image/png", Data: make([]byte, 13<<20)}}}
	if _, err := f.client(t).Models.GenerateContent(context.Background(), model, []*genai.Content{{Role: "user", Parts: parts}}, nil); err != nil {
		t.Fatal(err)
	}
	s := f.One(t)
	if s.Name != "Models.generate_content" || s.Status.Code != exporter.StatusCodeOK {
		t.Fatalf("span %s %v", s.Name, s.Status)
	}
	if _, ok := s.Attributes["mlflow.spanInputs"]; ok {
		t.Error("inputs recorded from a cut request")
	}
	for _, k := range []string{"mlflow.spanOutputs", "mlflow.chat.tokenUsage", "mlflow.llm.model", "mlflow.llm.provider"} {
		if _, ok := s.Attributes[k]; !ok {
			t.Errorf("no %s", k)
		}
	}
}
