package bedrock

import (
	"context"
	"encoding/json"
	"strings"
	"testing"
	"time"

	"github.com/aws/aws-sdk-go-v2/aws"
	"github.com/aws/aws-sdk-go-v2/aws/retry"
	"github.com/aws/aws-sdk-go-v2/credentials"
	"github.com/aws/aws-sdk-go-v2/service/bedrockruntime"
	"github.com/aws/aws-sdk-go-v2/service/bedrockruntime/document"
	"github.com/aws/aws-sdk-go-v2/service/bedrockruntime/types"
	"go.uber.org/goleak"

	"github.com/mlflowtrace/mlflowtrace-go/exporter"
	"github.com/mlflowtrace/mlflowtrace-go/internal/llmtest"
	"github.com/mlflowtrace/mlflowtrace-go/internal/spantest"
	"github.com/mlflowtrace/mlflowtrace-go/tracing"
)

func TestMain(m *testing.M) { goleak.VerifyTestMain(m) }

type fixture struct{ *spantest.LLM }

func setup(t *testing.T, opts ...tracing.Option) fixture {
	return fixture{spantest.StartLLM(t, opts...)}
}

// options are the SDK options of a client of the fake: its credentials and
// endpoint, and retries without waiting.
func (f fixture) options() bedrockruntime.Options {
	return bedrockruntime.Options{
		Region:       llmtest.AWSRegion,
		Credentials:  credentials.NewStaticCredentialsProvider(llmtest.AWSAccessKeyID, llmtest.AWSSecretAccessKey, ""),
		BaseEndpoint: aws.String(f.Fake.BedrockURL()),
		HTTPClient:   f.Fake.AWSClient(),
		Retryer: retry.NewStandard(func(o *retry.StandardOptions) {
			o.Backoff = retry.BackoffDelayerFunc(func(int, error) (time.Duration, error) { return 0, nil })
			o.RateLimiter = noRateLimit{}
		}),
	}
}

type noRateLimit struct{}

func (noRateLimit) GetToken(context.Context, uint) (func() error, error) {
	return func() error { return nil }, nil
}
func (noRateLimit) AddTokens(uint) error { return nil }

// client is a bedrockruntime client of the fake with ClientOption.
func (f fixture) client() *bedrockruntime.Client {
	return bedrockruntime.New(f.options(), ClientOption())
}

const claude = "anthropic.claude-3-haiku-20240307-v1:0"

var cityTool = &types.ToolConfiguration{Tools: []types.Tool{&types.ToolMemberToolSpec{Value: types.ToolSpecification{
	Name: aws.String("get_weather"), Description: aws.String("Current weather of a city"),
	InputSchema: &types.ToolInputSchemaMemberJson{Value: document.NewLazyDocument(map[string]any{
		"type": "object", "properties": map[string]any{"city": map[string]any{"type": "string", "description": "City name"}}, "required": []string{"city"},
	})},
}}}}

func userText(s string) []types.Message {
	return []types.Message{{Role: types.ConversationRoleUser, Content: []types.ContentBlock{&types.ContentBlockMemberText{Value: s}}}}
}

// value decodes a JSON attribute.
func value(t *testing.T, s *exporter.Span, key string) map[string]any {
	t.Helper()
	m, ok := spantest.Attr(t, s, key).(map[string]any)
	if !ok {
		t.Fatalf("%s is not an object: %s", key, s.Attributes[key])
	}
	return m
}

func TestConverse(t *testing.T) {
	f := setup(t)
	ctx, parent := tracing.StartSpan(context.Background(), "agent", tracing.WithSpanType(tracing.SpanTypeAgent))
	out, err := f.client().Converse(ctx, &bedrockruntime.ConverseInput{ModelId: aws.String(claude), Messages: userText("What's the weather in Paris?"),
		ToolConfig: cityTool, InferenceConfig: &types.InferenceConfiguration{MaxTokens: aws.Int32(256), Temperature: aws.Float32(0.2)}})
	if err != nil {
		t.Fatal(err)
	}
	parent.End()
	spans := f.Spans(t)
	if len(spans) != 2 {
		t.Fatalf("spans %v", spantest.Names(spans))
	}
	s := spans[1]
	if s.Name != "BedrockRuntime.converse" || s.ParentSpanID != spans[0].SpanID || spantest.Attr(t, s, "mlflow.spanType") != "CHAT_MODEL" {
		t.Errorf("span %s %s %v", s.Name, s.ParentSpanID, s.Attributes)
	}
	for k, want := range map[string]any{"mlflow.message.format": "bedrock", "mlflow.llm.model": claude, "mlflow.llm.provider": "anthropic"} {
		if got := spantest.Attr(t, s, k); got != want {
			t.Errorf("%s = %v, want %v", k, got, want)
		}
	}
	// Inputs: the arguments, modelId first, then the body as the SDK sent it.
	body := string(f.Fake.Requests()[0].Body)
	if in := s.Attributes["mlflow.spanInputs"]; !strings.HasPrefix(in, `{"modelId": "`+claude+`", "inferenceConfig": {"maxTokens": 256, "temperature": 0.2}, "messages": [`) ||
		!spantest.JSONEqual(t, in, `{"modelId":"`+claude+`",`+body[1:]) {
		t.Errorf("inputs %s\nbody %s", in, body)
	}
	wantTools := `[{"type": "function", "function": {"name": "get_weather", "description": "Current weather of a city", "parameters": {"properties": {"city": {"type": "string", "description": "City name"}}, "type": "object", "required": ["city"]}}}]`
	if s.Attributes["mlflow.chat.tools"] != wantTools {
		t.Errorf("tools %s", s.Attributes["mlflow.chat.tools"])
	}
	outputs := value(t, s, "mlflow.spanOutputs")
	meta := outputs["ResponseMetadata"].(map[string]any)
	headers := meta["HTTPHeaders"].(map[string]any)
	if meta["HTTPStatusCode"] != 200.0 || meta["RetryAttempts"] != 0.0 || meta["RequestId"] != headers["x-amzn-requestid"] || headers["content-type"] != "application/json" {
		t.Errorf("ResponseMetadata %v", meta)
	}
	msg := outputs["output"].(map[string]any)["message"].(map[string]any)
	use := msg["content"].([]any)[1].(map[string]any)["toolUse"].(map[string]any)
	if outputs["stopReason"] != "tool_use" || use["name"] != "get_weather" || use["input"].(map[string]any)["city"] != "Paris" {
		t.Errorf("outputs %v", outputs)
	}
	u := out.Usage
	want := `{"input_tokens": ` + itoa(*u.InputTokens) + `, "output_tokens": ` + itoa(*u.OutputTokens) + `, "total_tokens": ` + itoa(*u.TotalTokens) + `}`
	if s.Attributes["mlflow.chat.tokenUsage"] != want {
		t.Errorf("usage %s, want %s", s.Attributes["mlflow.chat.tokenUsage"], want)
	}
}

func itoa(n int32) string { b, _ := json.Marshal(n); return string(b) }

func TestConverseStream(t *testing.T) {
	f := setup(t)
	st, err := f.client().ConverseStream(context.Background(), &bedrockruntime.ConverseStreamInput{ModelId: aws.String(claude),
		Messages: userText("What's the weather in Paris?"), ToolConfig: cityTool})
	if err != nil {
		t.Fatal(err)
	}
	n := 0
	for range st.GetStream().Events() {
		n++
	}
	if err := st.GetStream().Close(); err != nil {
		t.Fatal(err)
	}
	s := f.One(t)
	if s.Name != "BedrockRuntime.converse_stream" || spantest.Attr(t, s, "mlflow.spanType") != "CHAT_MODEL" || s.Status.Code != exporter.StatusCodeOK {
		t.Errorf("span %s %v %v", s.Name, s.Attributes, s.Status)
	}
	if len(s.Events) != n || s.Events[0].Name != "messageStart" || s.Events[n-1].Name != "metadata" {
		t.Fatalf("%d events for %d stream events: %v", len(s.Events), n, s.Events)
	}
	if got := s.Events[0].Attributes["json"]; got != `{"role": "assistant"}` {
		t.Errorf("messageStart json %v (Bedrock's padding must be dropped)", got)
	}
	outputs := value(t, s, "mlflow.spanOutputs")
	content := outputs["output"].(map[string]any)["message"].(map[string]any)["content"].([]any)
	if len(content) != 2 || content[0].(map[string]any)["text"] != "I'll use the get_weather tool." ||
		content[1].(map[string]any)["toolUse"].(map[string]any)["input"].(map[string]any)["city"] != "Paris" || outputs["stopReason"] != "tool_use" {
		t.Errorf("outputs %s", s.Attributes["mlflow.spanOutputs"])
	}
	if spantest.Attr(t, s, "mlflow.chat.tokenUsage").(map[string]any)["total_tokens"] == nil {
		t.Error("no usage")
	}
}

func TestInvokeModel(t *testing.T) {
	tests := []struct {
		name, model, body string
		typ               string
		usage             string
	}{
		{"anthropic", claude, `{"anthropic_version":"bedrock-2023-05-31","max_tokens":64,"messages":[{"role":"user","content":"Hello Paris"}]}`, "LLM",
			`{"input_tokens": 3, "output_tokens": 6, "cache_read_input_tokens": 0, "cache_creation_input_tokens": 0, "total_tokens": 9}`},
		{"nova", "amazon.nova-lite-v1:0", `{"messages":[{"role":"user","content":[{"text":"Hello Paris"}]}]}`, "LLM",
			`{"input_tokens": 3, "output_tokens": 6, "cache_read_input_tokens": 0, "cache_creation_input_tokens": 0, "total_tokens": 9}`},
		{"llama", "meta.llama3-8b-instruct-v1:0", `{"prompt":"Hello Paris"}`, "LLM", `{"input_tokens": 3, "output_tokens": 6, "total_tokens": 9}`},
		// MLflow finds no usage in Titan's and Cohere's bodies: Bedrock's headers.
		{"titan", "amazon.titan-text-express-v1", `{"inputText":"Hello Paris"}`, "LLM", `{"input_tokens": 3, "output_tokens": 6, "total_tokens": 9}`},
		{"cohere", "cohere.command-r-v1:0", `{"message":"Hello Paris"}`, "LLM", `{"input_tokens": 3, "output_tokens": 6, "total_tokens": 9}`},
		{"embedding", "amazon.titan-embed-text-v2:0", `{"inputText":"Paris","dimensions":256}`, "EMBEDDING", `{"input_tokens": 2, "output_tokens": 0, "total_tokens": 2}`},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			f := setup(t)
			out, err := f.client().InvokeModel(context.Background(), &bedrockruntime.InvokeModelInput{ModelId: aws.String(tt.model),
				Body: []byte(tt.body), ContentType: aws.String("application/json")})
			if err != nil {
				t.Fatal(err)
			}
			s := f.One(t)
			if s.Name != "BedrockRuntime.invoke_model" || spantest.Attr(t, s, "mlflow.spanType") != tt.typ || s.Attributes["mlflow.message.format"] != "" {
				t.Errorf("span %s %v", s.Name, s.Attributes)
			}
			in := `{"modelId": "` + tt.model + `", "body": ` + mustJSON(tt.body) + `, "contentType": "application/json"}`
			if s.Attributes["mlflow.spanInputs"] != in {
				t.Errorf("inputs %s, want %s", s.Attributes["mlflow.spanInputs"], in)
			}
			outputs := value(t, s, "mlflow.spanOutputs")
			var body any
			_ = json.Unmarshal(out.Body, &body)
			if outputs["contentType"] != "application/json" || !spantest.JSONEqual(t, mustJSON(outputs["body"]), string(out.Body)) {
				t.Errorf("outputs %v", outputs)
			}
			if got := s.Attributes["mlflow.chat.tokenUsage"]; got != tt.usage {
				t.Errorf("usage %s, want %s", got, tt.usage)
			}
		})
	}
}

func mustJSON(v any) string {
	b, _ := json.Marshal(v)
	return string(b)
}

func TestInvokeModelWithResponseStream(t *testing.T) {
	tests := []struct {
		name, model, body, firstEvent, usage string
	}{
		{"anthropic", claude, `{"anthropic_version":"bedrock-2023-05-31","max_tokens":64,"messages":[{"role":"user","content":"Hello Paris"}]}`, "message_start",
			`{"input_tokens": 3, "output_tokens": 6, "cache_read_input_tokens": 0, "cache_creation_input_tokens": 0, "total_tokens": 9}`},
		// MLflow gathers usage only from Anthropic's chunks: the final
		// chunk's invocation metrics for the others.
		{"llama", "meta.llama3-8b-instruct-v1:0", `{"prompt":"Hello Paris"}`, "chunk", `{"input_tokens": 3, "output_tokens": 6, "total_tokens": 9}`},
		{"nova", "amazon.nova-lite-v1:0", `{"messages":[{"role":"user","content":[{"text":"Hello Paris"}]}]}`, "chunk", `{"input_tokens": 3, "output_tokens": 6, "total_tokens": 9}`},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			f := setup(t)
			out, err := f.client().InvokeModelWithResponseStream(context.Background(), &bedrockruntime.InvokeModelWithResponseStreamInput{
				ModelId: aws.String(tt.model), Body: []byte(tt.body)})
			if err != nil {
				t.Fatal(err)
			}
			var chunks []string
			for ev := range out.GetStream().Events() {
				chunks = append(chunks, string(ev.(*types.ResponseStreamMemberChunk).Value.Bytes))
			}
			if err := out.GetStream().Close(); err != nil {
				t.Fatal(err)
			}
			s := f.One(t)
			if s.Name != "BedrockRuntime.invoke_model_with_response_stream" || spantest.Attr(t, s, "mlflow.spanType") != "LLM" || len(s.Events) != len(chunks) || s.Events[0].Name != tt.firstEvent {
				t.Fatalf("span %s %v events %v", s.Name, s.Attributes, s.Events)
			}
			if !spantest.JSONEqual(t, s.Events[len(chunks)-1].Attributes["json"].(string), chunks[len(chunks)-1]) {
				t.Errorf("last event %v, chunk %s", s.Events[len(chunks)-1], chunks[len(chunks)-1])
			}
			outputs := value(t, s, "mlflow.spanOutputs")
			if outputs["body"] != "EventStream" || outputs["contentType"] != "application/json" {
				t.Errorf("outputs %v", outputs)
			}
			if got := s.Attributes["mlflow.chat.tokenUsage"]; got != tt.usage {
				t.Errorf("usage %s, want %s", got, tt.usage)
			}
		})
	}
}

func TestRetriesAreEventsOfOneSpan(t *testing.T) {
	f := setup(t)
	f.Fake.AddFault(llmtest.Fault{Status: 429, Count: 2})
	if _, err := f.client().Converse(context.Background(), &bedrockruntime.ConverseInput{ModelId: aws.String(claude), Messages: userText("Hi")}); err != nil {
		t.Fatal(err)
	}
	s := f.One(t)
	if len(s.Events) != 2 || s.Events[0].Name != "retry" || s.Events[1].Attributes["retry.attempt"] != int64(2) ||
		s.Events[0].Attributes["http.response.status_code"] != int64(429) || s.Status.Code != exporter.StatusCodeOK {
		t.Errorf("events %v status %v", s.Events, s.Status)
	}
	if meta := value(t, s, "mlflow.spanOutputs")["ResponseMetadata"].(map[string]any); meta["RetryAttempts"] != 2.0 {
		t.Errorf("ResponseMetadata %v", meta)
	}
	if len(f.Fake.Requests()) != 3 {
		t.Errorf("%d requests", len(f.Fake.Requests()))
	}
}

// TestUnmodeledErrorIsClientError: an error code Bedrock Runtime's model
// does not define (the fake's signature check) is botocore's ClientError.
func TestUnmodeledErrorIsClientError(t *testing.T) {
	f := setup(t)
	o := f.options()
	o.Credentials = credentials.NewStaticCredentialsProvider(llmtest.AWSAccessKeyID, "wrong-secret", "")
	c := bedrockruntime.New(o, ClientOption())
	if _, err := c.Converse(context.Background(), &bedrockruntime.ConverseInput{ModelId: aws.String(claude), Messages: userText("Hi")}); err == nil {
		t.Fatal("no error")
	}
	s := f.One(t)
	want := "ClientError: An error occurred (InvalidSignatureException) when calling the Converse operation: "
	if !strings.HasPrefix(s.Status.Message, want) {
		t.Errorf("status %q, want the prefix %q", s.Status.Message, want)
	}
}

func TestErrors(t *testing.T) {
	f := setup(t)
	c := f.client()
	ctx := context.Background()
	_, err := c.Converse(ctx, &bedrockruntime.ConverseInput{ModelId: aws.String("amazon.nova-ultra-v9:0"), Messages: userText("Hi")})
	if err == nil {
		t.Fatal("no error")
	}
	f.Fake.AddFault(llmtest.Fault{Status: 503, Count: 5})
	if _, err := c.InvokeModel(ctx, &bedrockruntime.InvokeModelInput{ModelId: aws.String(claude), Body: []byte(`{}`)}); err == nil {
		t.Fatal("no error")
	}
	f.Fake.ClearFaults()
	f.Fake.AddFault(llmtest.Fault{CutAfter: 2, StreamError: true})
	st, err := c.ConverseStream(ctx, &bedrockruntime.ConverseStreamInput{ModelId: aws.String(claude), Messages: userText("one two three four")})
	if err != nil {
		t.Fatal(err)
	}
	for range st.GetStream().Events() {
	}
	_ = st.GetStream().Close()
	// A stream the caller stops reading and closes.
	st, err = c.ConverseStream(ctx, &bedrockruntime.ConverseStreamInput{ModelId: aws.String(claude), Messages: userText("one two three four five six")})
	if err != nil {
		t.Fatal(err)
	}
	<-st.GetStream().Events()
	_ = st.GetStream().Close()

	spans := f.Spans(t)
	for deadline := time.Now().Add(5 * time.Second); len(spans) < 4 && time.Now().Before(deadline); spans = f.Spans(t) {
		time.Sleep(10 * time.Millisecond)
	}
	want := []struct{ name, typ, msg string }{
		// botocore's class names and ClientError wording, as MLflow records
		// boto3's exceptions.
		{"BedrockRuntime.converse", "ValidationException",
			"An error occurred (ValidationException) when calling the Converse operation: The provided model identifier is invalid."},
		{"BedrockRuntime.invoke_model", "ServiceUnavailableException",
			"An error occurred (ServiceUnavailableException) when calling the InvokeModel operation (reached max retries: 2): Bedrock is unable to process your request."},
		{"BedrockRuntime.converse_stream", "EventStreamError",
			"An error occurred (modelStreamErrorException) when calling the ConverseStream operation: The model stream was interrupted. Try your request again."},
		{"BedrockRuntime.converse_stream", "IncompleteStreamError", "stream closed before its final event"},
	}
	if len(spans) != len(want) {
		t.Fatalf("spans %v", spantest.Names(spans))
	}
	for i, w := range want {
		s := spans[i]
		var exc *exporter.Event
		for j := range s.Events {
			if s.Events[j].Name == "exception" {
				exc = &s.Events[j]
			}
		}
		if s.Name != w.name || s.Status.Code != exporter.StatusCodeError || exc == nil ||
			exc.Attributes["exception.type"] != w.typ || exc.Attributes["exception.message"] != w.msg {
			t.Errorf("span %d %s: status %v events %v", i, s.Name, s.Status, s.Events)
		}
		if _, ok := s.Attributes["mlflow.spanOutputs"]; ok && i < 2 {
			t.Errorf("span %s of a failed call has outputs", s.Name)
		}
	}
	if spantest.Attr(t, spans[1], "mlflow.spanType") != "UNKNOWN" {
		t.Error("a failed InvokeModel keeps MLflow's UNKNOWN type")
	}
	if n := len(spans[1].Events); n != 3 { // two retries, the exception
		t.Errorf("invoke_model events %v", spans[1].Events)
	}
}

func TestCacheTokens(t *testing.T) {
	f := setup(t)
	system := []types.SystemContentBlock{&types.SystemContentBlockMemberText{Value: strings.Repeat("You are a careful assistant. ", 200)},
		&types.SystemContentBlockMemberCachePoint{Value: types.CachePointBlock{Type: types.CachePointTypeDefault}}}
	for _, q := range []string{"one", "two"} {
		if _, err := f.client().Converse(context.Background(), &bedrockruntime.ConverseInput{ModelId: aws.String(claude), System: system, Messages: userText(q)}); err != nil {
			t.Fatal(err)
		}
	}
	spans := f.Spans(t)
	write := spantest.Attr(t, spans[0], "mlflow.chat.tokenUsage").(map[string]any)
	read := spantest.Attr(t, spans[1], "mlflow.chat.tokenUsage").(map[string]any)
	if write["cache_creation_input_tokens"].(float64) < 1024 || write["cache_read_input_tokens"] != 0.0 || read["cache_read_input_tokens"] != write["cache_creation_input_tokens"] {
		t.Errorf("usage %v then %v", write, read)
	}
	// MLflow counts the cache reads and writes into input and total tokens.
	if read["input_tokens"].(float64) <= read["cache_read_input_tokens"].(float64) || read["total_tokens"] != read["input_tokens"].(float64)+read["output_tokens"].(float64) {
		t.Errorf("usage %v", read)
	}
	if !strings.HasSuffix(spans[1].Attributes["mlflow.chat.tokenUsage"], `"cache_creation_input_tokens": 0, "total_tokens": `+mustJSON(read["total_tokens"])+`}`) {
		t.Errorf("usage order %s", spans[1].Attributes["mlflow.chat.tokenUsage"])
	}
}

func TestUntraced(t *testing.T) {
	f := setup(t, tracing.WithDisabled())
	if _, err := f.client().Converse(context.Background(), &bedrockruntime.ConverseInput{ModelId: aws.String(claude), Messages: userText("Hi")}); err != nil {
		t.Fatal(err)
	}
	if n := len(f.Spans(t)); n != 0 {
		t.Errorf("%d spans with tracing off", n)
	}
}

// Operations MLflow does not trace pass through without a span.
func TestOtherOperationsUntraced(t *testing.T) {
	f := setup(t)
	_, err := f.client().CountTokens(context.Background(), &bedrockruntime.CountTokensInput{ModelId: aws.String(claude),
		Input: &types.CountTokensInputMemberConverse{Value: types.ConverseTokensRequest{Messages: userText("Hi")}}})
	if err == nil {
		t.Fatal("the fake has no CountTokens")
	}
	if n := len(f.Spans(t)); n != 0 || len(f.Fake.Requests()) != 1 {
		t.Errorf("%d spans, %d requests", n, len(f.Fake.Requests()))
	}
}

func TestOptionTwiceAndPerCall(t *testing.T) {
	f := setup(t)
	opts := f.options()
	opts.APIOptions = append(opts.APIOptions, Middleware())
	c := bedrockruntime.New(opts, ClientOption())
	if _, err := c.Converse(context.Background(), &bedrockruntime.ConverseInput{ModelId: aws.String(claude), Messages: userText("Hi")}, ClientOption()); err != nil {
		t.Fatal(err)
	}
	if n := len(f.Spans(t)); n != 1 {
		t.Errorf("%d spans", n)
	}
}

func TestContentCaptureOff(t *testing.T) {
	f := setup(t, tracing.WithContentCapture(false))
	st, err := f.client().ConverseStream(context.Background(), &bedrockruntime.ConverseStreamInput{ModelId: aws.String(claude),
		Messages: userText("What's the weather in Paris?"), ToolConfig: cityTool})
	if err != nil {
		t.Fatal(err)
	}
	for range st.GetStream().Events() {
	}
	_ = st.GetStream().Close()
	s := f.One(t)
	for _, k := range []string{"mlflow.spanInputs", "mlflow.spanOutputs"} {
		if _, ok := s.Attributes[k]; ok {
			t.Errorf("%s recorded with content capture off", k)
		}
	}
	if len(s.Events) != 0 || s.Attributes["mlflow.chat.tokenUsage"] == "" || s.Attributes["mlflow.llm.model"] == "" {
		t.Errorf("span %v events %v", s.Attributes, s.Events)
	}
}
