package llmtest

import (
	"context"
	"encoding/json"
	"errors"
	"io"
	"net/http"
	"strings"
	"testing"

	"github.com/aws/aws-sdk-go-v2/aws"
	"github.com/aws/aws-sdk-go-v2/credentials"
	"github.com/aws/aws-sdk-go-v2/service/bedrockruntime"
	"github.com/aws/aws-sdk-go-v2/service/bedrockruntime/document"
	"github.com/aws/aws-sdk-go-v2/service/bedrockruntime/types"
	"github.com/aws/smithy-go"

	"github.com/mlflowtrace/mlflowtrace-go/internal/eventstream"
)

// bedrockClient is the AWS SDK's client against the fake, signing with
// secret.
func bedrockClient(s *Server, secret string) *bedrockruntime.Client {
	return bedrockruntime.New(bedrockruntime.Options{
		Region:           AWSRegion,
		Credentials:      credentials.NewStaticCredentialsProvider(AWSAccessKeyID, secret, ""),
		BaseEndpoint:     aws.String(s.BedrockURL()),
		HTTPClient:       s.AWSClient(),
		RetryMaxAttempts: 1,
	})
}

func weatherTool() types.Tool {
	return &types.ToolMemberToolSpec{Value: types.ToolSpecification{
		Name: aws.String("get_weather"), Description: aws.String("Current weather of a city"),
		InputSchema: &types.ToolInputSchemaMemberJson{Value: document.NewLazyDocument(map[string]any{
			"type": "object", "properties": map[string]any{"city": map[string]any{"type": "string"}}, "required": []string{"city"},
		})},
	}}
}

func userText(s string) types.Message {
	return types.Message{Role: types.ConversationRoleUser, Content: []types.ContentBlock{&types.ContentBlockMemberText{Value: s}}}
}

// The real Go SDK (SigV4 signing, rest-json, event-stream decoding) talks to
// the fake: a tool-calling conversation through Converse and ConverseStream.
func TestBedrockConverseWithTheSDK(t *testing.T) {
	s := Start(t)
	c := bedrockClient(s, AWSSecretAccessKey)
	ctx := context.Background()
	model := aws.String("anthropic.claude-3-haiku-20240307-v1:0")
	tools := &types.ToolConfiguration{Tools: []types.Tool{weatherTool()}}
	msgs := []types.Message{userText("What's the weather in Paris?")}

	out, err := c.Converse(ctx, &bedrockruntime.ConverseInput{ModelId: model, Messages: msgs, ToolConfig: tools,
		System: []types.SystemContentBlock{&types.SystemContentBlockMemberText{Value: "You are a travel assistant."}}})
	if err != nil {
		t.Fatal(err)
	}
	reply := out.Output.(*types.ConverseOutputMemberMessage).Value
	if out.StopReason != types.StopReasonToolUse || len(reply.Content) != 2 || *out.Usage.TotalTokens != *out.Usage.InputTokens+*out.Usage.OutputTokens {
		t.Fatalf("answer %+v usage %+v", out, out.Usage)
	}
	use := reply.Content[1].(*types.ContentBlockMemberToolUse).Value
	var args map[string]any
	if err := use.Input.UnmarshalSmithyDocument(&args); err != nil || args["city"] != "Paris" || *use.Name != "get_weather" {
		t.Fatalf("tool use %+v %v %v", use, args, err)
	}

	// The tool result, answered in a stream.
	msgs = append(msgs, reply, types.Message{Role: types.ConversationRoleUser, Content: []types.ContentBlock{
		&types.ContentBlockMemberToolResult{Value: types.ToolResultBlock{ToolUseId: use.ToolUseId,
			Content: []types.ToolResultContentBlock{&types.ToolResultContentBlockMemberJson{Value: document.NewLazyDocument(map[string]any{"temp_c": 18})}}}},
	}})
	st, err := c.ConverseStream(ctx, &bedrockruntime.ConverseStreamInput{ModelId: model, Messages: msgs, ToolConfig: tools})
	if err != nil {
		t.Fatal(err)
	}
	var text strings.Builder
	var kinds []string
	for ev := range st.GetStream().Events() {
		switch e := ev.(type) {
		case *types.ConverseStreamOutputMemberMessageStart:
			kinds = append(kinds, "start")
		case *types.ConverseStreamOutputMemberContentBlockDelta:
			if d, ok := e.Value.Delta.(*types.ContentBlockDeltaMemberText); ok {
				text.WriteString(d.Value)
			}
		case *types.ConverseStreamOutputMemberMessageStop:
			kinds = append(kinds, "stop:"+string(e.Value.StopReason))
		case *types.ConverseStreamOutputMemberMetadata:
			kinds = append(kinds, "metadata")
		}
	}
	if err := st.GetStream().Close(); err != nil {
		t.Fatal(err)
	}
	if text.String() != `Here is what I found. get_weather: {"temp_c":18}.` || strings.Join(kinds, ",") != "start,stop:end_turn,metadata" {
		t.Errorf("stream %q %v", text.String(), kinds)
	}

	// Without toolConfig a conversation with tool blocks is rejected.
	_, err = c.Converse(ctx, &bedrockruntime.ConverseInput{ModelId: model, Messages: msgs})
	var ve *types.ValidationException
	if !errors.As(err, &ve) || !strings.Contains(ve.ErrorMessage(), "toolConfig field must be defined") {
		t.Errorf("no toolConfig: %v", err)
	}
}

// Every InvokeModel body family, plain and streamed, through the SDK.
func TestBedrockInvokeModelWithTheSDK(t *testing.T) {
	s := Start(t)
	c := bedrockClient(s, AWSSecretAccessKey)
	ctx := context.Background()
	tests := []struct {
		model, body string
		want        []string // in the answer (the streamed chunks concatenated)
	}{
		{"anthropic.claude-3-haiku-20240307-v1:0", `{"anthropic_version":"bedrock-2023-05-31","max_tokens":64,"messages":[{"role":"user","content":"Hello Paris"}]}`,
			[]string{`"model":"claude-3-haiku-20240307"`, `"text":"You said: Hello Paris"`, `"output_tokens":`}},
		{"us.anthropic.claude-sonnet-4-20250514-v1:0", `{"anthropic_version":"bedrock-2023-05-31","max_tokens":64,"messages":[{"role":"user","content":"Hi"}]}`,
			[]string{`"model":"claude-sonnet-4-20250514"`}},
		{"amazon.nova-lite-v1:0", `{"schemaVersion":"messages-v1","messages":[{"role":"user","content":[{"text":"Hello Paris"}]}],"inferenceConfig":{"maxTokens":64}}`,
			[]string{`You said: Hello Paris`, `"inputTokens":`}},
		{"meta.llama3-8b-instruct-v1:0", `{"prompt":"<|begin_of_text|><|start_header_id|>user<|end_header_id|>\n\nHello Paris<|eot_id|><|start_header_id|>assistant<|end_header_id|>\n\n","max_gen_len":64}`,
			[]string{`You said: Hello Paris`, `"prompt_token_count":`}},
		{"amazon.titan-text-express-v1", `{"inputText":"User: Hello Paris\nBot:","textGenerationConfig":{"maxTokenCount":64}}`,
			[]string{`You said: Hello Paris`, `"inputTextTokenCount":`}},
		{"cohere.command-r-v1:0", `{"message":"Hello Paris","max_tokens":64}`,
			[]string{`You said: Hello Paris`, `"finish_reason":"COMPLETE"`}},
		{"amazon.titan-embed-text-v2:0", `{"inputText":"Paris","dimensions":256}`, []string{`"embedding":[`, `"inputTextTokenCount":2`}},
	}
	for _, tt := range tests {
		t.Run(tt.model, func(t *testing.T) {
			out, err := c.InvokeModel(ctx, &bedrockruntime.InvokeModelInput{ModelId: aws.String(tt.model), Body: []byte(tt.body),
				ContentType: aws.String("application/json"), Accept: aws.String("application/json")})
			if err != nil {
				t.Fatal(err)
			}
			for _, w := range tt.want {
				if !strings.Contains(string(out.Body), w) {
					t.Errorf("%s not in %s", w, out.Body)
				}
			}
			st, err := c.InvokeModelWithResponseStream(ctx, &bedrockruntime.InvokeModelWithResponseStreamInput{ModelId: aws.String(tt.model), Body: []byte(tt.body)})
			if strings.HasPrefix(tt.model, "amazon.titan-embed") {
				var ve *types.ValidationException
				if !errors.As(err, &ve) {
					t.Errorf("embedding stream: %v", err)
				}
				return
			}
			if err != nil {
				t.Fatal(err)
			}
			var all strings.Builder
			var last map[string]any
			for ev := range st.GetStream().Events() {
				chunk := ev.(*types.ResponseStreamMemberChunk).Value.Bytes
				all.Write(chunk)
				last = nil
				if err := json.Unmarshal(chunk, &last); err != nil {
					t.Fatalf("chunk %s: %v", chunk, err)
				}
			}
			if err := st.GetStream().Close(); err != nil {
				t.Fatal(err)
			}
			if last["amazon-bedrock-invocationMetrics"] == nil {
				t.Errorf("last chunk has no invocation metrics: %v", last)
			}
			if !strings.Contains(all.String(), `said: "`) || !strings.Contains(all.String(), `Paris"`) && !strings.Contains(all.String(), `Hi"`) {
				t.Errorf("stream %s", all.String())
			}
		})
	}
}

// Errors as Bedrock sends them reach the SDK as its typed exceptions.
func TestBedrockErrorsWithTheSDK(t *testing.T) {
	s := Start(t)
	ctx := context.Background()
	in := func(model string) *bedrockruntime.ConverseInput {
		return &bedrockruntime.ConverseInput{ModelId: aws.String(model), Messages: []types.Message{userText("Hi")}}
	}
	code := func(err error) string {
		var ae smithy.APIError
		if errors.As(err, &ae) {
			return ae.ErrorCode() + ": " + ae.ErrorMessage()
		}
		return "not an API error: " + err.Error()
	}
	good := bedrockClient(s, AWSSecretAccessKey)
	if _, err := bedrockClient(s, "wrong-secret").Converse(ctx, in("amazon.nova-lite-v1:0")); !strings.HasPrefix(code(err), "InvalidSignatureException: The request signature we calculated") {
		t.Errorf("wrong secret: %s", code(err))
	}
	if _, err := good.Converse(ctx, in("amazon.nova-ultra-v9:0")); code(err) != "ValidationException: The provided model identifier is invalid." {
		t.Errorf("unknown model: %s", code(err))
	}
	if _, err := good.Converse(ctx, in("anthropic.claude-sonnet-4-20250514-v1:0")); !strings.Contains(code(err), "with on-demand throughput isn’t supported") {
		t.Errorf("profile-only model: %s", code(err))
	}
	s.AddFault(Fault{Status: 429})
	var te *types.ThrottlingException
	if _, err := good.Converse(ctx, in("amazon.nova-lite-v1:0")); !errors.As(err, &te) {
		t.Errorf("throttled: %s", code(err))
	}
	s.AddFault(Fault{CutAfter: 2, StreamError: true})
	st, err := good.ConverseStream(ctx, &bedrockruntime.ConverseStreamInput{ModelId: aws.String("amazon.nova-lite-v1:0"), Messages: []types.Message{userText("Hi")}})
	if err != nil {
		t.Fatal(err)
	}
	n := 0
	for range st.GetStream().Events() {
		n++
	}
	var me *types.ModelStreamErrorException
	if err := st.GetStream().Close(); n != 2 || !errors.As(err, &me) {
		t.Errorf("stream error after %d events: %v", n, err)
	}
}

// Requests the SDK would never send, over raw HTTP.
func TestBedrockStrictness(t *testing.T) {
	s := Start(t)
	tests := []struct {
		name, path, auth, body string
		status                 int
		code, want             string
	}{
		{"unsigned", "/model/amazon.nova-lite-v1:0/converse", "", `{}`, 403, "MissingAuthenticationTokenException", "Missing Authentication Token"},
		{"no credential", "/model/amazon.nova-lite-v1:0/converse", "AWS4-HMAC-SHA256 SignedHeaders=host, Signature=00", `{}`, 403, "IncompleteSignatureException", "requires 'Credential'"},
		{"unknown key id", "/model/amazon.nova-lite-v1:0/converse", "AWS4-HMAC-SHA256 Credential=AKIAOTHER/20260101/us-east-1/bedrock/aws4_request, SignedHeaders=host;x-amz-date, Signature=00", `{}`, 403, "UnrecognizedClientException", "security token included in the request is invalid"},
		{"bad API key", "/model/amazon.nova-lite-v1:0/converse", "Bearer nope", `{}`, 403, "UnrecognizedClientException", "Invalid API Key"},
		{"unknown operation", "/model/amazon.nova-lite-v1:0/chat", "Bearer " + BedrockAPIKey, `{}`, 404, "UnknownOperationException", ""},
		{"unknown member", "/model/amazon.nova-lite-v1:0/converse", "Bearer " + BedrockAPIKey, `{"messages":[{"role":"user","content":[{"text":"Hi"}]}],"foo":1}`, 400, "SerializationException", "Unknown member foo"},
		{"assistant first", "/model/amazon.nova-lite-v1:0/converse", "Bearer " + BedrockAPIKey, `{"messages":[{"role":"assistant","content":[{"text":"Hi"}]}]}`, 400, "ValidationException", "must start with a user message"},
		{"roles not alternating", "/model/amazon.nova-lite-v1:0/converse", "Bearer " + BedrockAPIKey, `{"messages":[{"role":"user","content":[{"text":"Hi"}]},{"role":"user","content":[{"text":"Hi"}]}]}`, 400, "ValidationException", "must alternate"},
		{"blank text", "/model/amazon.nova-lite-v1:0/converse", "Bearer " + BedrockAPIKey, `{"messages":[{"role":"user","content":[{"text":" "}]}]}`, 400, "ValidationException", "is blank"},
		{"two members in a block", "/model/amazon.nova-lite-v1:0/converse", "Bearer " + BedrockAPIKey, `{"messages":[{"role":"user","content":[{"text":"a","cachePoint":{"type":"default"}}]}]}`, 400, "ValidationException", "exactly one member"},
		{"temperature too high", "/model/amazon.nova-lite-v1:0/converse", "Bearer " + BedrockAPIKey, `{"messages":[{"role":"user","content":[{"text":"Hi"}]}],"inferenceConfig":{"temperature":3}}`, 400, "ValidationException", "'inferenceConfig.temperature' failed to satisfy constraint"},
		{"tools on a model without tool use", "/model/meta.llama3-8b-instruct-v1:0/converse", "Bearer " + BedrockAPIKey, `{"messages":[{"role":"user","content":[{"text":"Hi"}]}],"toolConfig":{"tools":[{"toolSpec":{"name":"f","inputSchema":{"json":{}}}}]}}`, 400, "ValidationException", "doesn't support tool use"},
		{"embedding model on Converse", "/model/amazon.titan-embed-text-v2:0/converse", "Bearer " + BedrockAPIKey, `{"messages":[{"role":"user","content":[{"text":"Hi"}]}]}`, 400, "ValidationException", "doesn't support the model"},
		{"anthropic body without version", "/model/anthropic.claude-3-haiku-20240307-v1:0/invoke", "Bearer " + BedrockAPIKey, `{"max_tokens":5,"messages":[{"role":"user","content":"hi"}]}`, 400, "ValidationException", "required key [anthropic_version] not found"},
		{"anthropic body with model", "/model/anthropic.claude-3-haiku-20240307-v1:0/invoke", "Bearer " + BedrockAPIKey, `{"anthropic_version":"bedrock-2023-05-31","model":"x","max_tokens":5,"messages":[{"role":"user","content":"hi"}]}`, 400, "ValidationException", "extraneous key [model] is not permitted"},
		{"llama body without prompt", "/model/meta.llama3-8b-instruct-v1:0/invoke", "Bearer " + BedrockAPIKey, `{"max_gen_len":5}`, 400, "ValidationException", "required key [prompt] not found"},
		{"titan embedding dimensions", "/model/amazon.titan-embed-text-v2:0/invoke", "Bearer " + BedrockAPIKey, `{"inputText":"x","dimensions":7}`, 400, "ValidationException", "#/dimensions: 7 is not a valid enum value"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			req, _ := http.NewRequest(http.MethodPost, s.URL+tt.path, strings.NewReader(tt.body))
			if tt.auth != "" {
				req.Header.Set("Authorization", tt.auth)
				req.Header.Set("X-Amz-Date", "20260101T000000Z")
			}
			resp, err := s.Client().Do(req)
			if err != nil {
				t.Fatal(err)
			}
			defer resp.Body.Close()
			b, _ := io.ReadAll(resp.Body)
			typ, _, _ := strings.Cut(resp.Header.Get("X-Amzn-Errortype"), ":")
			if resp.StatusCode != tt.status || typ != tt.code || !strings.Contains(string(b), tt.want) || resp.Header.Get("X-Amzn-Requestid") == "" {
				t.Errorf("%d %s %s, want %d %s with %q", resp.StatusCode, typ, b, tt.status, tt.code, tt.want)
			}
		})
	}
}

// The event stream is framed as AWS frames it: every message has the
// :event-type, :content-type and :message-type headers, and stream events
// carry Bedrock's "p" padding.
func TestBedrockEventStreamFraming(t *testing.T) {
	s := Start(t)
	req, _ := http.NewRequest(http.MethodPost, s.URL+"/model/amazon.nova-lite-v1:0/converse-stream",
		strings.NewReader(`{"messages":[{"role":"user","content":[{"text":"Hello"}]}]}`))
	req.Header.Set("Authorization", "Bearer "+BedrockAPIKey)
	resp, err := s.Client().Do(req)
	if err != nil {
		t.Fatal(err)
	}
	defer resp.Body.Close()
	b, _ := io.ReadAll(resp.Body)
	if resp.Header.Get("Content-Type") != "application/vnd.amazon.eventstream" {
		t.Fatalf("content type %q", resp.Header.Get("Content-Type"))
	}
	var d eventstream.Decoder
	var types []string
	d.Feed(b, func(m eventstream.Message) {
		kind, name := m.Type()
		var payload map[string]any
		if kind != "event" || m.Header(":content-type") != "application/json" || json.Unmarshal(m.Payload, &payload) != nil || payload["p"] == nil {
			t.Errorf("message %+v", m)
		}
		types = append(types, name)
	})
	if d.Err() != nil || d.Pending() || strings.Join(types, ",") != "messageStart,contentBlockDelta,contentBlockDelta,contentBlockDelta,contentBlockStop,messageStop,metadata" {
		t.Errorf("%v %v %v", d.Err(), d.Pending(), types)
	}
}
