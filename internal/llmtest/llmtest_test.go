package llmtest

import (
	"encoding/json"
	"io"
	"net/http"
	"strings"
	"testing"

	"go.uber.org/goleak"
)

func TestMain(m *testing.M) { goleak.VerifyTestMain(m) }

func TestStrictness(t *testing.T) {
	s := Start(t)
	openai := map[string]string{"Authorization": "Bearer " + OpenAIKey}
	anthropic := map[string]string{"X-Api-Key": AnthropicKey, "Anthropic-Version": "2023-06-01"}
	tests := []struct {
		name    string
		path    string
		headers map[string]string
		body    string
		status  int
		want    string // in the error message
	}{
		{"no key", "/v1/chat/completions", nil, `{}`, 401, "didn't provide an API key"},
		{"wrong key", "/v1/chat/completions", map[string]string{"Authorization": "Bearer sk-wrong-key-000"}, `{}`, 401, "Incorrect API key provided: sk-********-000"},
		{"bad JSON", "/v1/chat/completions", openai, `{`, 400, "could not parse the JSON body"},
		{"missing messages", "/v1/chat/completions", openai, `{"model":"gpt-4o-mini"}`, 400, "Missing required parameter: 'messages'."},
		{"messages not an array", "/v1/chat/completions", openai, `{"model":"gpt-4o-mini","messages":"hi"}`, 400, "expected an array of objects, but got a string instead"},
		{"unknown model", "/v1/chat/completions", openai, `{"model":"gpt-x","messages":[{"role":"user","content":"hi"}]}`, 404, "The model `gpt-x` does not exist"},
		{"unknown argument", "/v1/chat/completions", openai, `{"model":"gpt-4o-mini","messages":[{"role":"user","content":"hi"}],"foo":1}`, 400, "Unrecognized request argument supplied: foo"},
		{"bad role", "/v1/chat/completions", openai, `{"model":"gpt-4o-mini","messages":[{"role":"robot","content":"hi"}]}`, 400, "Invalid value: 'robot'"},
		{"temperature out of range", "/v1/chat/completions", openai, `{"model":"gpt-4o-mini","messages":[{"role":"user","content":"hi"}],"temperature":3}`, 400, "must be between 0 and 2"},
		{"bad tool name", "/v1/chat/completions", openai, `{"model":"gpt-4o-mini","messages":[{"role":"user","content":"hi"}],"tools":[{"type":"function","function":{"name":"a b"}}]}`, 400, "does not match pattern"},
		{"chat model on completions", "/v1/completions", openai, `{"model":"gpt-4o-mini","prompt":"x"}`, 404, "This is a chat model"},
		{"embedding dims too large", "/v1/embeddings", openai, `{"model":"text-embedding-3-small","input":"x","dimensions":5000}`, 400, "integer above maximum value"},
		{"unknown path", "/v1/nope", openai, `{}`, 404, "Invalid URL (POST /v1/nope)"},
		{"anthropic no key", "/v1/messages", nil, `{}`, 401, "x-api-key header is required"},
		{"anthropic no version", "/v1/messages", map[string]string{"X-Api-Key": AnthropicKey}, `{}`, 400, "anthropic-version: header is required"},
		{"anthropic missing max_tokens", "/v1/messages", anthropic, `{"model":"claude-sonnet-4-6","messages":[{"role":"user","content":"hi"}]}`, 400, "max_tokens: Field required"},
		{"anthropic retired model", "/v1/messages", anthropic, `{"model":"claude-3-5-haiku-latest","max_tokens":5,"messages":[{"role":"user","content":"hi"}]}`, 404, "model: claude-3-5-haiku-latest"},
		{"anthropic extra input", "/v1/messages", anthropic, `{"model":"claude-sonnet-4-6","max_tokens":5,"messages":[{"role":"user","content":"hi"}],"n":2}`, 400, "n: Extra inputs are not permitted"},
		{"anthropic system role", "/v1/messages", anthropic, `{"model":"claude-sonnet-4-6","max_tokens":5,"messages":[{"role":"system","content":"hi"}]}`, 400, "Input should be 'user' or 'assistant'"},
		{"anthropic unanswered tool_use", "/v1/messages", anthropic, `{"model":"claude-sonnet-4-6","max_tokens":5,"messages":[{"role":"user","content":"hi"},{"role":"assistant","content":[{"type":"tool_use","id":"t1","name":"f","input":{}}]},{"role":"user","content":"next"}]}`, 400, "`tool_use` ids were found without `tool_result` blocks"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			expectAnswer(t, s, tt.path, tt.headers, tt.body, tt.status, tt.want)
		})
	}
}

// send POSTs body to path with headers and returns the answer and its body.
func send(t *testing.T, s *Server, path string, headers map[string]string, body string) (*http.Response, []byte) {
	t.Helper()
	req, _ := http.NewRequest(http.MethodPost, s.URL+path, strings.NewReader(body))
	for k, v := range headers {
		req.Header.Set(k, v)
	}
	resp, err := s.Client().Do(req)
	if err != nil {
		t.Fatal(err)
	}
	defer resp.Body.Close()
	b, err := io.ReadAll(resp.Body)
	if err != nil {
		t.Fatal(err)
	}
	return resp, b
}

// expectAnswer POSTs body to path and checks that the answer has the status
// and contains want, as a JSON body.
func expectAnswer(t *testing.T, s *Server, path string, headers map[string]string, body string, status int, want string) {
	t.Helper()
	resp, b := send(t, s, path, headers, body)
	if resp.StatusCode != status || !strings.Contains(string(b), want) {
		t.Errorf("%d %s, want %d with %q", resp.StatusCode, b, status, want)
	}
	if !json.Valid(b) || resp.Header.Get("Content-Type") != "application/json" {
		t.Errorf("the body is not JSON: %s", b)
	}
}

func TestDeterministicAnswers(t *testing.T) {
	in := decideInput{LastUser: "What's the weather in Paris and Rome? Also the time.", Parallel: true, Seed: "s",
		Tools: []toolDef{{Name: "get_weather", Schema: json.RawMessage(`{"type":"object","properties":{"city":{"type":"string"},"days":{"type":"integer"}},"required":["city"]}`)},
			{Name: "get_local_time"}, {Name: "book_flight"}}}
	t1, t2 := decide(in), decide(in)
	if len(t1.ToolCalls) != 2 || t1.ToolCalls[0].Args != `{"city":"Rome"}` || t1.ToolCalls[0].ID != t2.ToolCalls[0].ID {
		t.Errorf("%+v", t1)
	}
	in.Parallel = false
	if n := len(decide(in).ToolCalls); n != 1 {
		t.Errorf("%d calls without parallel tool calls", n)
	}
	in.Choice = "none"
	if got := decide(in).Text; got != "You said: "+in.LastUser {
		t.Errorf("%q", got)
	}
}

func TestScript(t *testing.T) {
	s := Start(t)
	s.Script(Reply{Text: "Action: weather"}, Reply{ToolCalls: []ReplyToolCall{{Name: "get_weather", Arguments: `{"city":"Oslo"}`}}}, Reply{Text: "third"})
	post := func(path, body string, headers map[string]string) map[string]any {
		t.Helper()
		_, b := send(t, s, path, headers, body)
		var out map[string]any
		if err := json.Unmarshal(b, &out); err != nil {
			t.Fatal(err)
		}
		return out
	}
	openai := map[string]string{"Authorization": "Bearer " + OpenAIKey}
	chat := func(body string) map[string]any {
		out := post("/v1/chat/completions", body, openai)
		if out["error"] != nil {
			return out
		}
		return out["choices"].([]any)[0].(map[string]any)["message"].(map[string]any)
	}
	const hi = `{"model":"gpt-4o-mini","messages":[{"role":"user","content":"hi"}]}`
	if got := chat(hi)["content"]; got != "Action: weather" {
		t.Errorf("first reply %v", got)
	}
	if out := chat(`{"model":"gpt-4o-mini","messages":[]}`); out["error"] == nil {
		t.Errorf("rejected request answered: %v", out)
	}
	calls, _ := chat(hi)["tool_calls"].([]any)
	if len(calls) != 1 || calls[0].(map[string]any)["function"].(map[string]any)["arguments"] != `{"city":"Oslo"}` {
		t.Errorf("scripted tool call %v", calls)
	}
	// Every API that asks for a model turn takes the next reply.
	msg := post("/v1/messages", `{"model":"claude-sonnet-4-6","max_tokens":50,"messages":[{"role":"user","content":"hi"}]}`,
		map[string]string{"X-Api-Key": AnthropicKey, "Anthropic-Version": "2023-06-01"})
	if text := msg["content"].([]any)[0].(map[string]any)["text"]; text != "third" {
		t.Errorf("anthropic reply %v", text)
	}
	if got := chat(hi)["content"]; got != "You said: hi" {
		t.Errorf("after the script: %v", got)
	}
}
