package llmtest

import (
	"encoding/base64"
	"encoding/binary"
	"encoding/json"
	"fmt"
	"math"
	"net/http"
	"regexp"
	"strings"

	"github.com/mlflowtrace/mlflowtrace-go/internal/llmspan"
)

// created is the "created" time of every answer: fixed, so that the same
// request gets the same answer (see brain.go).
const created = 1767225600 // 2026-01-01T00:00:00Z

// openAIModel is a model the fake serves.
type openAIModel struct {
	snapshot string // the model name answers report
	kind     string // chat, completion, embedding
	dims     int    // embedding size
}

var openAIModels = map[string]openAIModel{
	"gpt-4o-mini":            {snapshot: "gpt-4o-mini-2024-07-18", kind: "chat"},
	"gpt-4o-mini-2024-07-18": {snapshot: "gpt-4o-mini-2024-07-18", kind: "chat"},
	"gpt-4o":                 {snapshot: "gpt-4o-2024-08-06", kind: "chat"},
	"gpt-4.1-mini":           {snapshot: "gpt-4.1-mini-2025-04-14", kind: "chat"},
	"gpt-4.1":                {snapshot: "gpt-4.1-2025-04-14", kind: "chat"},
	"gpt-3.5-turbo-instruct": {snapshot: "gpt-3.5-turbo-instruct:20230824-v2", kind: "completion"},
	"davinci-002":            {snapshot: "davinci-002", kind: "completion"},
	"text-embedding-3-small": {snapshot: "text-embedding-3-small", kind: "embedding", dims: 1536},
	"text-embedding-3-large": {snapshot: "text-embedding-3-large", kind: "embedding", dims: 3072},
	"text-embedding-ada-002": {snapshot: "text-embedding-ada-002", kind: "embedding", dims: 1536},
}

const fingerprint = "fp_f4k3d00d01"

// ---- errors ----

type openAIErrorBody struct {
	Error openAIErrorDetail `json:"error"`
}

type openAIErrorDetail struct {
	Message string  `json:"message"`
	Type    string  `json:"type"`
	Param   *string `json:"param"`
	Code    *string `json:"code"`
}

func strPtr(s string) *string {
	if s == "" {
		return nil
	}
	return &s
}

func openAIError(w http.ResponseWriter, status int, typ, msg, param, code string) {
	writeJSON(w, status, openAIErrorBody{Error: openAIErrorDetail{Message: msg, Type: typ, Param: strPtr(param), Code: strPtr(code)}})
}

// openAIStatusError answers a fault status with the body OpenAI sends for it.
func openAIStatusError(w http.ResponseWriter, status int) {
	switch {
	case status == http.StatusTooManyRequests:
		openAIError(w, status, "requests", "Rate limit reached for gpt-4o-mini in organization org-fake on requests per min (RPM): Limit 3, Used 3, Requested 1. Please try again in 20s.", "", "rate_limit_exceeded")
	case status >= 500:
		openAIError(w, status, "server_error", "The server had an error while processing your request. Sorry about that!", "", "")
	default:
		openAIError(w, status, "invalid_request_error", http.StatusText(status), "", "")
	}
}

// badRequest is a 400 the handler returns.
type badRequest struct {
	status      int
	typ, msg    string
	param, code string
}

func (e *badRequest) Error() string { return e.msg }

func invalid(param, code, format string, args ...any) *badRequest {
	return &badRequest{status: 400, typ: "invalid_request_error", msg: fmt.Sprintf(format, args...), param: param, code: code}
}

func missing(param string) *badRequest {
	return invalid(param, "missing_required_parameter", "Missing required parameter: '%s'.", param)
}

func wrongType(param, want string, got json.RawMessage) *badRequest {
	return invalid(param, "invalid_type", "Invalid type for '%s': expected %s, but got %s instead.", param, want, jsonKind(got))
}

func jsonKind(v json.RawMessage) string {
	s := strings.TrimSpace(string(v))
	switch {
	case s == "" || s == "null":
		return "null"
	case s[0] == '"':
		return "a string"
	case s[0] == '[':
		return "an array"
	case s[0] == '{':
		return "an object"
	case s == "true" || s == "false":
		return "a boolean"
	default:
		return "a number"
	}
}

// ---- request parsing ----

// params are the members of a request object, in order, with lookup.
type params struct {
	fields []llmspan.Field
	byKey  map[string]json.RawMessage
}

func parseParams(body []byte) (*params, *badRequest) {
	fields, err := llmspan.ObjectFields(body)
	if err != nil {
		return nil, &badRequest{status: 400, typ: "invalid_request_error",
			msg: "We could not parse the JSON body of your request. (HINT: This likely means you aren't using your HTTP library correctly. The OpenAI API expects a JSON payload, but what was sent was not valid JSON. If you have trouble figuring out how to fix this, please contact us through our help center at help.openai.com.)"}
	}
	p := &params{fields: fields, byKey: map[string]json.RawMessage{}}
	for _, f := range fields {
		p.byKey[f.Key] = f.Value
	}
	return p, nil
}

func (p *params) has(k string) bool {
	v, ok := p.byKey[k]
	return ok && strings.TrimSpace(string(v)) != "null"
}

func (p *params) checkKnown(known map[string]bool) *badRequest {
	for _, f := range p.fields {
		if !known[f.Key] {
			return invalid("", "", "Unrecognized request argument supplied: %s", f.Key)
		}
	}
	return nil
}

func (p *params) str(k string, required bool) (string, *badRequest) {
	v, ok := p.byKey[k]
	if !ok || strings.TrimSpace(string(v)) == "null" {
		if required {
			return "", missing(k)
		}
		return "", nil
	}
	var s string
	if json.Unmarshal(v, &s) != nil {
		return "", wrongType(k, "a string", v)
	}
	return s, nil
}

func (p *params) boolean(k string) (bool, bool, *badRequest) {
	v, ok := p.byKey[k]
	if !ok || strings.TrimSpace(string(v)) == "null" {
		return false, false, nil
	}
	var b bool
	if json.Unmarshal(v, &b) != nil {
		return false, false, wrongType(k, "a boolean", v)
	}
	return b, true, nil
}

func (p *params) number(k string, lo, hi float64) (float64, bool, *badRequest) {
	v, ok := p.byKey[k]
	if !ok || strings.TrimSpace(string(v)) == "null" {
		return 0, false, nil
	}
	var f float64
	if json.Unmarshal(v, &f) != nil {
		return 0, false, wrongType(k, "a number", v)
	}
	if f < lo || f > hi {
		return 0, false, invalid(k, "decimal_above_max_value", "Invalid '%s': must be between %g and %g, got %g.", k, lo, hi, f)
	}
	return f, true, nil
}

func (p *params) integer(k string, lo int) (int, bool, *badRequest) {
	v, ok := p.byKey[k]
	if !ok || strings.TrimSpace(string(v)) == "null" {
		return 0, false, nil
	}
	var n int
	if json.Unmarshal(v, &n) != nil {
		return 0, false, wrongType(k, "an integer", v)
	}
	if n < lo {
		return 0, false, invalid(k, "integer_below_min_value", "Invalid '%s': integer below minimum value. Expected a value >= %d, but got %d instead.", k, lo, n)
	}
	return n, true, nil
}

// streamOptions checks stream / stream_options and returns (stream, include usage).
func (p *params) streamOptions() (bool, bool, *badRequest) {
	stream, _, bad := p.boolean("stream")
	if bad != nil {
		return false, false, bad
	}
	if !p.has("stream_options") {
		return stream, false, nil
	}
	if !stream {
		return false, false, invalid("stream_options", "invalid_value", "The 'stream_options' parameter is only allowed when 'stream' is enabled.")
	}
	var so map[string]json.RawMessage
	if json.Unmarshal(p.byKey["stream_options"], &so) != nil {
		return false, false, wrongType("stream_options", "an object", p.byKey["stream_options"])
	}
	include := false
	for k, v := range so {
		switch k {
		case "include_usage":
			if json.Unmarshal(v, &include) != nil {
				return false, false, wrongType("stream_options.include_usage", "a boolean", v)
			}
		case "include_obfuscation":
		default:
			return false, false, invalid("stream_options."+k, "unknown_parameter", "Unknown parameter: 'stream_options.%s'.", k)
		}
	}
	return true, include, nil
}

func (p *params) model(kind string) (string, openAIModel, *badRequest) {
	name, bad := p.str("model", true)
	if bad != nil {
		return "", openAIModel{}, bad
	}
	m, ok := openAIModels[name]
	if !ok {
		return "", openAIModel{}, &badRequest{status: 404, typ: "invalid_request_error",
			msg: fmt.Sprintf("The model `%s` does not exist or you do not have access to it.", name), code: "model_not_found"}
	}
	if m.kind != kind {
		switch kind {
		case "completion":
			return "", m, &badRequest{status: 404, typ: "invalid_request_error",
				msg: "This is a chat model and not supported in the v1/completions endpoint. Did you mean to use v1/chat/completions?", param: "model"}
		case "embedding":
			return "", m, &badRequest{status: 400, typ: "invalid_request_error", msg: fmt.Sprintf("The model `%s` does not support embeddings.", name), param: "model"}
		default:
			return "", m, &badRequest{status: 404, typ: "invalid_request_error",
				msg: "This is not a chat model and thus not supported in the v1/chat/completions endpoint. Did you mean to use v1/completions?", param: "model"}
		}
	}
	return name, m, nil
}

// ---- routing ----

func (f *Fake) openAI(w http.ResponseWriter, r *http.Request, body []byte) {
	if bad := f.openAIAuth(r); bad != nil {
		openAIError(w, bad.status, bad.typ, bad.msg, bad.param, bad.code)
		return
	}
	var bad *badRequest
	switch r.URL.Path {
	case "/v1/chat/completions":
		bad = f.chatCompletions(w, r, body)
	case "/v1/completions":
		bad = f.completions(w, r, body)
	case "/v1/embeddings":
		bad = f.embeddings(w, r, body)
	case "/v1/responses":
		bad = f.responses(w, r, body)
	case "/v1/models":
		f.models(w, r)
	default:
		openAIError(w, http.StatusNotFound, "invalid_request_error", fmt.Sprintf("Invalid URL (%s %s)", r.Method, r.URL.Path), "", "")
	}
	if bad != nil {
		openAIError(w, bad.status, bad.typ, bad.msg, bad.param, bad.code)
	}
}

func (f *Fake) openAIAuth(r *http.Request) *badRequest {
	h := r.Header.Get("Authorization")
	if h == "" {
		return &badRequest{status: 401, typ: "invalid_request_error",
			msg: "You didn't provide an API key. You need to provide your API key in an Authorization header using Bearer auth (i.e. Authorization: Bearer YOUR_KEY), or as the password field (with blank username) if you're accessing the API from your browser and are prompted for a username and password. You can obtain an API key from https://platform.openai.com/account/api-keys."}
	}
	key, ok := strings.CutPrefix(h, "Bearer ")
	if !ok || key != f.openAIKey {
		shown := key
		if len(shown) > 8 {
			shown = shown[:3] + strings.Repeat("*", 8) + shown[len(shown)-4:]
		}
		return &badRequest{status: 401, typ: "invalid_request_error", code: "invalid_api_key",
			msg: fmt.Sprintf("Incorrect API key provided: %s. You can find your API key at https://platform.openai.com/account/api-keys.", shown)}
	}
	return nil
}

func methodPost(r *http.Request) *badRequest {
	if r.Method != http.MethodPost {
		return &badRequest{status: 405, typ: "invalid_request_error", msg: fmt.Sprintf("Invalid method for URL (%s %s)", r.Method, r.URL.Path)}
	}
	return nil
}

func (f *Fake) models(w http.ResponseWriter, _ *http.Request) {
	type model struct {
		ID      string `json:"id"`
		Object  string `json:"object"`
		Created int64  `json:"created"`
		OwnedBy string `json:"owned_by"`
	}
	var list struct {
		Object string  `json:"object"`
		Data   []model `json:"data"`
	}
	list.Object = "list"
	for _, id := range sortedKeys(openAIModels) {
		list.Data = append(list.Data, model{ID: id, Object: "model", Created: created, OwnedBy: "system"})
	}
	writeJSON(w, 200, list)
}

func sortedKeys[V any](m map[string]V) []string {
	keys := make([]string, 0, len(m))
	for k := range m {
		keys = append(keys, k)
	}
	for i := 1; i < len(keys); i++ {
		for j := i; j > 0 && keys[j] < keys[j-1]; j-- {
			keys[j], keys[j-1] = keys[j-1], keys[j]
		}
	}
	return keys
}

// ---- chat completions ----

var chatParams = set("messages", "model", "audio", "frequency_penalty", "function_call", "functions", "logit_bias",
	"logprobs", "max_completion_tokens", "max_tokens", "metadata", "modalities", "n", "parallel_tool_calls",
	"prediction", "presence_penalty", "prompt_cache_key", "prompt_cache_retention", "reasoning_effort",
	"response_format", "safety_identifier", "seed", "service_tier", "stop", "store", "stream", "stream_options",
	"temperature", "tool_choice", "tools", "top_logprobs", "top_p", "user", "verbosity", "web_search_options")

func set(keys ...string) map[string]bool {
	m := make(map[string]bool, len(keys))
	for _, k := range keys {
		m[k] = true
	}
	return m
}

var toolNameRE = regexp.MustCompile(`^[a-zA-Z0-9_-]{1,64}$`)

type chatMessage struct {
	Role       string          `json:"role"`
	Content    json.RawMessage `json:"content"`
	Name       string          `json:"name"`
	ToolCallID string          `json:"tool_call_id"`
	ToolCalls  []struct {
		ID       string `json:"id"`
		Type     string `json:"type"`
		Function struct {
			Name      string `json:"name"`
			Arguments string `json:"arguments"`
		} `json:"function"`
	} `json:"tool_calls"`
}

// contentText is the text of a message content: a string, or the text parts
// of an array of content parts.
func contentText(c json.RawMessage) (string, bool) {
	var s string
	if json.Unmarshal(c, &s) == nil {
		return s, true
	}
	var parts []map[string]any
	if json.Unmarshal(c, &parts) != nil {
		return "", false
	}
	var b strings.Builder
	for _, p := range parts {
		if t, _ := p["text"].(string); t != "" {
			if b.Len() > 0 {
				b.WriteByte('\n')
			}
			b.WriteString(t)
		}
	}
	return b.String(), true
}

type chatRequest struct {
	model    string
	snapshot string
	stream   bool
	usage    bool
	n        int
	maxOut   int
	in       decideInput
	promptN  int
	cacheKey string
	cachePre int
}

func (f *Fake) parseChat(body []byte) (*chatRequest, *badRequest) {
	p, bad := parseParams(body)
	if bad != nil {
		return nil, bad
	}
	if bad := p.checkKnown(chatParams); bad != nil {
		return nil, bad
	}
	if !p.has("messages") {
		return nil, missing("messages")
	}
	name, m, bad := p.model("chat")
	if bad != nil {
		return nil, bad
	}
	var msgs []chatMessage
	if json.Unmarshal(p.byKey["messages"], &msgs) != nil {
		return nil, wrongType("messages", "an array of objects", p.byKey["messages"])
	}
	if len(msgs) == 0 {
		return nil, invalid("messages", "empty_array", "Invalid 'messages': empty array. Expected an array with minimum length 1, but got an empty array instead.")
	}
	req := &chatRequest{model: name, snapshot: m.snapshot, n: 1}
	if req.stream, req.usage, bad = p.streamOptions(); bad != nil {
		return nil, bad
	}
	for _, k := range []string{"temperature"} {
		if _, _, bad := p.number(k, 0, 2); bad != nil {
			return nil, bad
		}
	}
	if _, _, bad := p.number("top_p", 0, 1); bad != nil {
		return nil, bad
	}
	if n, ok, bad := p.integer("n", 1); bad != nil {
		return nil, bad
	} else if ok {
		req.n = n
	}
	for _, k := range []string{"max_tokens", "max_completion_tokens"} {
		if n, ok, bad := p.integer(k, 1); bad != nil {
			return nil, bad
		} else if ok {
			req.maxOut = n
		}
	}

	// Tools.
	tools, bad := parseChatTools(p)
	if bad != nil {
		return nil, bad
	}
	req.in.Tools = tools
	req.in.Parallel = true
	if v, ok, bad := p.boolean("parallel_tool_calls"); bad != nil {
		return nil, bad
	} else if ok {
		if len(tools) == 0 {
			return nil, invalid("parallel_tool_calls", "", "Invalid value for 'parallel_tool_calls': 'parallel_tool_calls' is only allowed when 'tools' are specified.")
		}
		req.in.Parallel = v
	}
	if req.in.Choice, req.in.ChoiceName, bad = parseChoice(p, tools, "tool_choice", chatChoice); bad != nil {
		return nil, bad
	}

	// Messages: roles, content, tool call / tool result pairing.
	pending := map[string]string{} // tool_call_id -> name, awaiting results
	var lastUser string
	var results []toolResult
	for i, msg := range msgs {
		path := fmt.Sprintf("messages[%d]", i)
		switch msg.Role {
		case "system", "developer", "user":
			if len(pending) > 0 {
				return nil, unansweredCalls(pending)
			}
			if len(msg.Content) == 0 || string(msg.Content) == "null" {
				return nil, missing(path + ".content")
			}
			text, ok := contentText(msg.Content)
			if !ok {
				return nil, wrongType(path+".content", "one of a string or array of objects", msg.Content)
			}
			req.promptN += tokens(text) + 4
			if msg.Role == "user" {
				lastUser, results = text, nil
			}
		case "assistant":
			if len(pending) > 0 {
				return nil, unansweredCalls(pending)
			}
			text, _ := contentText(msg.Content)
			req.promptN += tokens(text) + 4
			if len(msg.ToolCalls) == 0 && (len(msg.Content) == 0 || string(msg.Content) == "null") {
				return nil, invalid(path+".content", "", "Invalid value for '%s.content': expected a string, got null.", path)
			}
			for j, tc := range msg.ToolCalls {
				if tc.ID == "" {
					return nil, missing(fmt.Sprintf("%s.tool_calls[%d].id", path, j))
				}
				if tc.Type != "function" {
					return nil, invalid(fmt.Sprintf("%s.tool_calls[%d].type", path, j), "invalid_value", "Invalid value: '%s'. Supported values are: 'function' and 'custom'.", tc.Type)
				}
				pending[tc.ID] = tc.Function.Name
				req.promptN += tokens(tc.Function.Name) + tokens(tc.Function.Arguments)
			}
			results = nil
		case "tool":
			if msg.ToolCallID == "" {
				return nil, missing(path + ".tool_call_id")
			}
			name, ok := pending[msg.ToolCallID]
			if !ok {
				return nil, invalid(path+".role", "", "Invalid parameter: messages with role 'tool' must be a response to a preceeding message with 'tool_calls'.")
			}
			delete(pending, msg.ToolCallID)
			text, _ := contentText(msg.Content)
			req.promptN += tokens(text) + 4
			results = append(results, toolResult{Name: name, Content: text})
		case "function":
			text, _ := contentText(msg.Content)
			req.promptN += tokens(text) + 4
		default:
			return nil, invalid(path+".role", "invalid_value", "Invalid value: '%s'. Supported values are: 'system', 'assistant', 'user', 'function', 'tool', and 'developer'.", msg.Role)
		}
	}
	if len(pending) > 0 {
		return nil, unansweredCalls(pending)
	}
	req.in.LastUser, req.in.ToolResults = lastUser, results
	req.promptN += 3
	for _, t := range tools {
		req.promptN += tokens(t.Name) + tokens(string(t.Schema)) + 8
	}
	// Automatic prompt caching: prompts of 1024+ tokens; the prefix is
	// everything but the last message.
	if req.promptN >= 1024 {
		prefix, _ := json.Marshal(msgs[:len(msgs)-1])
		req.cacheKey = requestHash("openai-prefix", append(prefix, p.byKey["tools"]...))
		req.cachePre = req.promptN - tokens(string(msgs[len(msgs)-1].Content)) - 4
	}
	return req, nil
}

func unansweredCalls(pending map[string]string) *badRequest {
	ids := sortedKeys(pending)
	return invalid("messages", "", "An assistant message with 'tool_calls' must be followed by tool messages responding to each 'tool_call_id'. The following tool_call_ids did not have response messages: %s", strings.Join(ids, ", "))
}

func parseChatTools(p *params) ([]toolDef, *badRequest) {
	if !p.has("tools") {
		return nil, nil
	}
	var raw []map[string]json.RawMessage
	if json.Unmarshal(p.byKey["tools"], &raw) != nil {
		return nil, wrongType("tools", "an array of objects", p.byKey["tools"])
	}
	var tools []toolDef
	for i, t := range raw {
		var typ string
		_ = json.Unmarshal(t["type"], &typ)
		if typ != "function" && typ != "custom" {
			return nil, invalid(fmt.Sprintf("tools[%d].type", i), "invalid_value", "Invalid value: '%s'. Supported values are: 'function' and 'custom'.", typ)
		}
		var fn struct {
			Name       string          `json:"name"`
			Parameters json.RawMessage `json:"parameters"`
		}
		if typ == "function" {
			if len(t["function"]) == 0 {
				return nil, missing(fmt.Sprintf("tools[%d].function", i))
			}
			if json.Unmarshal(t["function"], &fn) != nil {
				return nil, wrongType(fmt.Sprintf("tools[%d].function", i), "an object", t["function"])
			}
		} else {
			_ = json.Unmarshal(t["custom"], &fn)
		}
		if !toolNameRE.MatchString(fn.Name) {
			return nil, invalid(fmt.Sprintf("tools[%d].function.name", i), "invalid_value", "Invalid 'tools[%d].function.name': string does not match pattern. Expected a string that matches the pattern '^[a-zA-Z0-9_-]+$'.", i)
		}
		tools = append(tools, toolDef{Name: fn.Name, Schema: fn.Parameters})
	}
	return tools, nil
}

type choiceShape int

const (
	chatChoice      choiceShape = iota // {"type":"function","function":{"name":...}}
	responsesChoice                    // {"type":"function","name":...}
)

func parseChoice(p *params, tools []toolDef, key string, shape choiceShape) (string, string, *badRequest) {
	if !p.has(key) {
		return "auto", "", nil
	}
	if len(tools) == 0 {
		return "", "", invalid(key, "", "Invalid value for '%s': '%s' is only allowed when 'tools' are specified.", key, key)
	}
	v := p.byKey[key]
	var s string
	if json.Unmarshal(v, &s) == nil {
		switch s {
		case "none", "auto", "required":
			return s, "", nil
		}
		return "", "", invalid(key, "invalid_value", "Invalid value: '%s'. Supported values are: 'none', 'auto', and 'required'.", s)
	}
	var obj struct {
		Type     string `json:"type"`
		Name     string `json:"name"`
		Function struct {
			Name string `json:"name"`
		} `json:"function"`
	}
	if json.Unmarshal(v, &obj) != nil || obj.Type != "function" {
		return "", "", wrongType(key, "a string or an object with type 'function'", v)
	}
	name := obj.Function.Name
	if shape == responsesChoice {
		name = obj.Name
	}
	for _, t := range tools {
		if t.Name == name {
			return "tool", name, nil
		}
	}
	return "", "", invalid(key, "", "Invalid value for '%s': tool '%s' is not in 'tools'.", key, name)
}

// Chat completion answer, fields in the order the API sends them.
type chatCompletion struct {
	ID                string          `json:"id"`
	Object            string          `json:"object"`
	Created           int64           `json:"created"`
	Model             string          `json:"model"`
	Choices           []chatChoiceOut `json:"choices"`
	Usage             *chatUsage      `json:"usage"`
	ServiceTier       string          `json:"service_tier"`
	SystemFingerprint string          `json:"system_fingerprint"`
}

type chatChoiceOut struct {
	Index        int             `json:"index"`
	Message      chatMessageOut  `json:"message"`
	Logprobs     json.RawMessage `json:"logprobs"`
	FinishReason string          `json:"finish_reason"`
}

type chatMessageOut struct {
	Role        string        `json:"role"`
	Content     *string       `json:"content"`
	ToolCalls   []toolCallOut `json:"tool_calls,omitempty"`
	Refusal     *string       `json:"refusal"`
	Annotations []any         `json:"annotations"`
}

type toolCallOut struct {
	Index    *int         `json:"index,omitempty"`
	ID       string       `json:"id,omitempty"`
	Type     string       `json:"type,omitempty"`
	Function toolFunction `json:"function"`
}

type toolFunction struct {
	Name      string `json:"name,omitempty"`
	Arguments string `json:"arguments"`
}

type chatUsage struct {
	PromptTokens            int             `json:"prompt_tokens"`
	CompletionTokens        int             `json:"completion_tokens"`
	TotalTokens             int             `json:"total_tokens"`
	PromptTokensDetails     json.RawMessage `json:"prompt_tokens_details"`
	CompletionTokensDetails json.RawMessage `json:"completion_tokens_details"`
}

var null = json.RawMessage("null")

func (f *Fake) chatUsage(req *chatRequest, completion int) *chatUsage {
	cached := 0
	if req.cacheKey != "" && f.seenPrefix(req.cacheKey) && req.cachePre >= 1024 {
		cached = 1024 + (req.cachePre-1024)/128*128
	}
	return &chatUsage{
		PromptTokens: req.promptN, CompletionTokens: completion, TotalTokens: req.promptN + completion,
		PromptTokensDetails:     ordered("cached_tokens", cached, "audio_tokens", 0),
		CompletionTokensDetails: ordered("reasoning_tokens", 0, "audio_tokens", 0, "accepted_prediction_tokens", 0, "rejected_prediction_tokens", 0),
	}
}

// cut shortens text to max output tokens; it reports whether it did.
func cut(text string, maxOut int) (string, bool) {
	if maxOut <= 0 || tokens(text) <= maxOut {
		return text, false
	}
	n := maxOut * 4
	for n > 0 && !utf8Start(text[n]) {
		n--
	}
	return text[:n], true
}

func (f *Fake) chatCompletions(w http.ResponseWriter, r *http.Request, body []byte) *badRequest {
	if bad := methodPost(r); bad != nil {
		return bad
	}
	req, bad := f.parseChat(body)
	if bad != nil {
		return bad
	}
	seed := requestHash(r.URL.Path, body)
	req.in.Seed = seed
	t := f.answer(req.in)
	finish := "stop"
	text := t.Text
	if len(t.ToolCalls) > 0 {
		finish = "tool_calls"
	} else if c, wasCut := cut(text, req.maxOut); wasCut {
		text, finish = c, "length"
	}
	completion := tokens(text) + tokens(t.Refusal)
	for _, c := range t.ToolCalls {
		completion += tokens(c.Name) + tokens(c.Args) + 3
	}
	id := "chatcmpl-" + hashID(seed, "chatcmpl", 0)
	if req.stream {
		f.chatStream(w, r, req, id, t, text, finish, completion)
		return nil
	}
	resp := chatCompletion{ID: id, Object: "chat.completion", Created: created, Model: req.snapshot,
		ServiceTier: "default", SystemFingerprint: fingerprint, Usage: f.chatUsage(req, completion)}
	for i := 0; i < req.n; i++ {
		msg := chatMessageOut{Role: "assistant", Annotations: []any{}}
		if t.Refusal != "" {
			msg.Refusal = &t.Refusal
		} else if len(t.ToolCalls) == 0 {
			msg.Content = &text
		}
		for _, c := range t.ToolCalls {
			msg.ToolCalls = append(msg.ToolCalls, toolCallOut{ID: "call_" + c.ID, Type: "function", Function: toolFunction{Name: c.Name, Arguments: c.Args}})
		}
		resp.Choices = append(resp.Choices, chatChoiceOut{Index: i, Message: msg, Logprobs: null, FinishReason: finish})
	}
	w.Header().Set("x-request-id", "req_"+hashID(seed, "req", 0))
	writeJSON(w, 200, resp)
	return nil
}

// Chunk of a streamed chat completion, fields in the API's order.
type chatChunk struct {
	ID                string            `json:"id"`
	Object            string            `json:"object"`
	Created           int64             `json:"created"`
	Model             string            `json:"model"`
	ServiceTier       string            `json:"service_tier"`
	SystemFingerprint string            `json:"system_fingerprint"`
	Choices           []chatChunkChoice `json:"choices"`
	Usage             *chatUsage        `json:"usage,omitempty"`
	withUsage         bool
}

type chatChunkChoice struct {
	Index        int             `json:"index"`
	Delta        chatDelta       `json:"delta"`
	Logprobs     json.RawMessage `json:"logprobs"`
	FinishReason *string         `json:"finish_reason"`
}

type chatDelta struct {
	Role      string        `json:"role,omitempty"`
	Content   *string       `json:"content,omitempty"`
	ToolCalls []toolCallOut `json:"tool_calls,omitempty"`
	Refusal   *string       `json:"refusal,omitempty"`
}

func (c chatChunk) marshal() []byte {
	b, _ := json.Marshal(c)
	if c.withUsage && c.Usage == nil {
		// With include_usage every chunk but the last has "usage": null.
		b = append(b[:len(b)-1], []byte(`,"usage":null}`)...)
	}
	return b
}

func (f *Fake) chatStream(w http.ResponseWriter, r *http.Request, req *chatRequest, id string, t turn, text, finish string, completion int) {
	s := newSSE(w, r, func(s *sseWriter) {
		b, _ := json.Marshal(openAIErrorBody{Error: openAIErrorDetail{Message: "The server had an error while processing your request. Sorry about that!", Type: "server_error"}})
		s.raw("", b)
	})
	base := chatChunk{ID: id, Object: "chat.completion.chunk", Created: created, Model: req.snapshot,
		ServiceTier: "default", SystemFingerprint: fingerprint, withUsage: req.usage}
	send := func(c chatChunk) bool { return s.event("", c.marshal()) }
	empty := ""
	for i := 0; i < req.n; i++ {
		first := base
		d := chatDelta{Role: "assistant"}
		if t.Refusal != "" {
			d.Refusal = &empty
		} else if len(t.ToolCalls) == 0 {
			d.Content = &empty
		}
		first.Choices = []chatChunkChoice{{Index: i, Delta: d, Logprobs: null}}
		if !send(first) {
			return
		}
		for _, p := range pieces(t.Refusal, 16) {
			c := base
			p := p
			c.Choices = []chatChunkChoice{{Index: i, Delta: chatDelta{Refusal: &p}, Logprobs: null}}
			if !send(c) {
				return
			}
		}
		if t.Refusal == "" {
			for _, p := range pieces(text, 16) {
				c := base
				p := p
				c.Choices = []chatChunkChoice{{Index: i, Delta: chatDelta{Content: &p}, Logprobs: null}}
				if !send(c) {
					return
				}
			}
		}
		for k, call := range t.ToolCalls {
			k := k
			c := base
			c.Choices = []chatChunkChoice{{Index: i, Delta: chatDelta{ToolCalls: []toolCallOut{{Index: &k, ID: "call_" + call.ID, Type: "function",
				Function: toolFunction{Name: call.Name, Arguments: ""}}}}, Logprobs: null}}
			if !send(c) {
				return
			}
			for _, p := range pieces(call.Args, 8) {
				c := base
				c.Choices = []chatChunkChoice{{Index: i, Delta: chatDelta{ToolCalls: []toolCallOut{{Index: &k, Function: toolFunction{Arguments: p}}}}, Logprobs: null}}
				if !send(c) {
					return
				}
			}
		}
		last := base
		fr := finish
		last.Choices = []chatChunkChoice{{Index: i, Delta: chatDelta{}, Logprobs: null, FinishReason: &fr}}
		if !send(last) {
			return
		}
	}
	if req.usage {
		c := base
		c.Choices = []chatChunkChoice{}
		c.Usage = f.chatUsage(req, completion)
		if !send(c) {
			return
		}
	}
	s.event("", []byte("[DONE]"))
}

// ---- legacy completions ----

var completionParams = set("model", "prompt", "best_of", "echo", "frequency_penalty", "logit_bias", "logprobs",
	"max_tokens", "n", "presence_penalty", "seed", "stop", "stream", "stream_options", "suffix", "temperature",
	"top_p", "user")

type textCompletion struct {
	ID                string       `json:"id"`
	Object            string       `json:"object"`
	Created           int64        `json:"created"`
	Model             string       `json:"model"`
	Choices           []textChoice `json:"choices"`
	SystemFingerprint *string      `json:"system_fingerprint,omitempty"`
	Usage             *textUsage   `json:"usage,omitempty"`
}

type textChoice struct {
	Text         string          `json:"text"`
	Index        int             `json:"index"`
	Logprobs     json.RawMessage `json:"logprobs"`
	FinishReason *string         `json:"finish_reason"`
}

type textUsage struct {
	PromptTokens     int `json:"prompt_tokens"`
	CompletionTokens int `json:"completion_tokens"`
	TotalTokens      int `json:"total_tokens"`
}

func (f *Fake) completions(w http.ResponseWriter, r *http.Request, body []byte) *badRequest {
	if bad := methodPost(r); bad != nil {
		return bad
	}
	p, bad := parseParams(body)
	if bad != nil {
		return bad
	}
	if bad := p.checkKnown(completionParams); bad != nil {
		return bad
	}
	_, m, bad := p.model("completion")
	if bad != nil {
		return bad
	}
	if !p.has("prompt") {
		return missing("prompt")
	}
	var prompts []string
	var one string
	if json.Unmarshal(p.byKey["prompt"], &one) == nil {
		prompts = []string{one}
	} else if json.Unmarshal(p.byKey["prompt"], &prompts) != nil {
		return wrongType("prompt", "a string or an array of strings", p.byKey["prompt"])
	}
	stream, usage, bad := p.streamOptions()
	if bad != nil {
		return bad
	}
	maxOut := 16 // the API's default max_tokens for completions
	if n, ok, bad := p.integer("max_tokens", 0); bad != nil {
		return bad
	} else if ok {
		maxOut = n
	}
	seed := requestHash(r.URL.Path, body)
	id := "cmpl-" + hashID(seed, "cmpl", 0)
	u := &textUsage{}
	var choices []textChoice
	for i, pr := range prompts {
		text, wasCut := cut(" This is a completion of: "+strings.TrimSpace(pr), maxOut)
		fr := "stop"
		if wasCut {
			fr = "length"
		}
		choices = append(choices, textChoice{Text: text, Index: i, Logprobs: null, FinishReason: &fr})
		u.PromptTokens += tokens(pr)
		u.CompletionTokens += tokens(text)
	}
	u.TotalTokens = u.PromptTokens + u.CompletionTokens
	if !stream {
		writeJSON(w, 200, textCompletion{ID: id, Object: "text_completion", Created: created, Model: m.snapshot, Choices: choices, Usage: u})
		return nil
	}
	s := newSSE(w, r, func(s *sseWriter) {
		b, _ := json.Marshal(openAIErrorBody{Error: openAIErrorDetail{Message: "The server had an error while processing your request. Sorry about that!", Type: "server_error"}})
		s.raw("", b)
	})
	for _, c := range choices {
		ps := pieces(c.Text, 16)
		for k, piece := range ps {
			ch := textChoice{Text: piece, Index: c.Index, Logprobs: null}
			if k == len(ps)-1 {
				ch.FinishReason = c.FinishReason
			}
			b, _ := json.Marshal(textCompletion{ID: id, Object: "text_completion", Created: created, Model: m.snapshot, Choices: []textChoice{ch}})
			if !s.event("", b) {
				return nil
			}
		}
	}
	if usage {
		b, _ := json.Marshal(textCompletion{ID: id, Object: "text_completion", Created: created, Model: m.snapshot, Choices: []textChoice{}, Usage: u})
		if !s.event("", b) {
			return nil
		}
	}
	s.event("", []byte("[DONE]"))
	return nil
}

// ---- embeddings ----

var embeddingParams = set("input", "model", "dimensions", "encoding_format", "user")

func (f *Fake) embeddings(w http.ResponseWriter, r *http.Request, body []byte) *badRequest {
	if bad := methodPost(r); bad != nil {
		return bad
	}
	p, bad := parseParams(body)
	if bad != nil {
		return bad
	}
	if bad := p.checkKnown(embeddingParams); bad != nil {
		return bad
	}
	if !p.has("input") {
		return missing("input")
	}
	name, m, bad := p.model("embedding")
	if bad != nil {
		return bad
	}
	var inputs []string
	raw := p.byKey["input"]
	var one string
	var many []string
	var toks []int
	var tokLists [][]int
	switch {
	case json.Unmarshal(raw, &one) == nil:
		inputs = []string{one}
	case json.Unmarshal(raw, &many) == nil:
		inputs = many
	case json.Unmarshal(raw, &toks) == nil:
		inputs = []string{fmt.Sprint(toks)}
	case json.Unmarshal(raw, &tokLists) == nil:
		for _, t := range tokLists {
			inputs = append(inputs, fmt.Sprint(t))
		}
	default:
		return invalid("input", "invalid_type", "'$.input' is invalid. Please check the API reference: https://platform.openai.com/docs/api-reference.")
	}
	if len(inputs) == 0 {
		return invalid("input", "", "'$.input' is invalid. Please check the API reference: https://platform.openai.com/docs/api-reference.")
	}
	for _, in := range inputs {
		if in == "" {
			return invalid("input", "", "'$.input' is invalid. Please check the API reference: https://platform.openai.com/docs/api-reference.")
		}
	}
	dims := m.dims
	if n, ok, bad := p.integer("dimensions", 1); bad != nil {
		return bad
	} else if ok {
		if name == "text-embedding-ada-002" {
			return invalid("dimensions", "", "This model does not support specifying dimensions.")
		}
		if n > m.dims {
			return invalid("dimensions", "", "Invalid 'dimensions': integer above maximum value. Expected a value <= %d, but got %d instead.", m.dims, n)
		}
		dims = n
	}
	format, bad := p.str("encoding_format", false)
	if bad != nil {
		return bad
	}
	if format != "" && format != "float" && format != "base64" {
		return invalid("encoding_format", "invalid_value", "Invalid value for 'encoding_format': must be one of 'float' or 'base64'.")
	}
	type item struct {
		Object    string `json:"object"`
		Index     int    `json:"index"`
		Embedding any    `json:"embedding"`
	}
	var out struct {
		Object string `json:"object"`
		Data   []item `json:"data"`
		Model  string `json:"model"`
		Usage  struct {
			PromptTokens int `json:"prompt_tokens"`
			TotalTokens  int `json:"total_tokens"`
		} `json:"usage"`
	}
	out.Object, out.Model, out.Data = "list", m.snapshot, []item{}
	for i, in := range inputs {
		vec := embed(in, dims)
		var e any = vec
		if format == "base64" {
			buf := make([]byte, 4*len(vec))
			for k, x := range vec {
				binary.LittleEndian.PutUint32(buf[4*k:], math.Float32bits(float32(x)))
			}
			e = base64.StdEncoding.EncodeToString(buf)
		}
		out.Data = append(out.Data, item{Object: "embedding", Index: i, Embedding: e})
		out.Usage.PromptTokens += tokens(in)
	}
	out.Usage.TotalTokens = out.Usage.PromptTokens
	writeJSON(w, 200, out)
	return nil
}

// embed is a deterministic unit vector for s (values exact in float32).
func embed(s string, dims int) []float64 {
	seed := requestHash("embed", []byte(s))
	v := make([]float64, dims)
	var norm float64
	for i := range v {
		c := seed[i%len(seed)]
		x := float64(int(c)%16-8) / 8
		if x == 0 {
			x = 0.125
		}
		v[i] = x
		norm += x * x
	}
	// Quantise to 1/1024 so float32 round trips (base64) keep the value.
	for i := range v {
		v[i] = math.Round(v[i]/math.Sqrt(norm)*1024) / 1024
	}
	return v
}
