package llmtest

import (
	"encoding/json"
	"fmt"
	"net/http"
	"strings"
)

// anthropicModels maps the model ids the fake serves to the id answers
// report. Retired models (past their end-of-life date in the anthropic
// package's DEPRECATED_MODELS) are unknown: 404, as the API answers.
var anthropicModels = map[string]string{
	"claude-sonnet-4-6":         "claude-sonnet-4-6",
	"claude-opus-4-6":           "claude-opus-4-6",
	"claude-opus-4-7":           "claude-opus-4-7",
	"claude-opus-4-5":           "claude-opus-4-5-20251101",
	"claude-opus-4-5-20251101":  "claude-opus-4-5-20251101",
	"claude-haiku-4-5":          "claude-haiku-4-5-20251001",
	"claude-haiku-4-5-20251001": "claude-haiku-4-5-20251001",
}

var anthropicParams = set("model", "messages", "max_tokens", "container", "context_management", "inference_geo",
	"mcp_servers", "metadata", "output_config", "service_tier", "stop_sequences", "stream", "system",
	"temperature", "thinking", "tool_choice", "tools", "top_k", "top_p")

// Minimum cacheable prompt of the fake (Anthropic: 1024 tokens for Sonnet/Opus).
const minCacheTokens = 1024

type anthropicErrorBody struct {
	Type      string               `json:"type"`
	Error     anthropicErrorDetail `json:"error"`
	RequestID string               `json:"request_id,omitempty"`
}

type anthropicErrorDetail struct {
	Type    string `json:"type"`
	Message string `json:"message"`
}

func anthropicError(w http.ResponseWriter, status int, typ, msg string) {
	writeJSON(w, status, anthropicErrorBody{Type: "error", Error: anthropicErrorDetail{Type: typ, Message: msg}, RequestID: "req_fake"})
}

func anthropicStatusError(w http.ResponseWriter, status int) {
	switch {
	case status == http.StatusTooManyRequests:
		anthropicError(w, status, "rate_limit_error", "Number of request tokens has exceeded your per-minute rate limit.")
	case status == 529:
		anthropicError(w, status, "overloaded_error", "Overloaded")
	case status >= 500:
		anthropicError(w, status, "api_error", "Internal server error")
	default:
		anthropicError(w, status, "invalid_request_error", http.StatusText(status))
	}
}

type anthropicBad struct {
	status   int
	typ, msg string
}

func aInvalid(format string, args ...any) *anthropicBad {
	return &anthropicBad{status: 400, typ: "invalid_request_error", msg: fmt.Sprintf(format, args...)}
}

type anthropicBlock struct {
	Type         string          `json:"type"`
	Text         string          `json:"text"`
	ID           string          `json:"id"`
	Name         string          `json:"name"`
	Input        json.RawMessage `json:"input"`
	ToolUseID    string          `json:"tool_use_id"`
	Content      json.RawMessage `json:"content"`
	Thinking     string          `json:"thinking"`
	CacheControl json.RawMessage `json:"cache_control"`
}

// blocks parses message content: a string or an array of blocks.
func blocks(c json.RawMessage) ([]anthropicBlock, bool) {
	var s string
	if json.Unmarshal(c, &s) == nil {
		return []anthropicBlock{{Type: "text", Text: s}}, true
	}
	var bs []anthropicBlock
	if json.Unmarshal(c, &bs) != nil {
		return nil, false
	}
	return bs, true
}

func (f *Fake) anthropic(w http.ResponseWriter, r *http.Request, body []byte) {
	if r.URL.Path != "/v1/messages" {
		anthropicError(w, http.StatusNotFound, "not_found_error", "Not Found")
		return
	}
	if r.Method != http.MethodPost {
		anthropicError(w, http.StatusMethodNotAllowed, "invalid_request_error", "Method Not Allowed")
		return
	}
	key := r.Header.Get("X-Api-Key")
	if key == "" {
		if tok, ok := strings.CutPrefix(r.Header.Get("Authorization"), "Bearer "); ok {
			key = tok
		}
	}
	if key == "" {
		anthropicError(w, http.StatusUnauthorized, "authentication_error", "x-api-key header is required")
		return
	}
	if key != f.anthropicKey {
		anthropicError(w, http.StatusUnauthorized, "authentication_error", "invalid x-api-key")
		return
	}
	if r.Header.Get("Anthropic-Version") == "" {
		anthropicError(w, http.StatusBadRequest, "invalid_request_error", "anthropic-version: header is required")
		return
	}
	if bad := f.messages(w, r, body); bad != nil {
		anthropicError(w, bad.status, bad.typ, bad.msg)
	}
}

// Message object, fields in the API's order.
type anthropicMessage struct {
	ID           string            `json:"id"`
	Type         string            `json:"type"`
	Role         string            `json:"role"`
	Model        string            `json:"model"`
	Content      []json.RawMessage `json:"content"`
	StopReason   *string           `json:"stop_reason"`
	StopSequence *string           `json:"stop_sequence"`
	Usage        anthropicUsage    `json:"usage"`
}

type anthropicUsage struct {
	InputTokens              int             `json:"input_tokens"`
	CacheCreationInputTokens int             `json:"cache_creation_input_tokens"`
	CacheReadInputTokens     int             `json:"cache_read_input_tokens"`
	CacheCreation            json.RawMessage `json:"cache_creation"`
	OutputTokens             int             `json:"output_tokens"`
	ServiceTier              string          `json:"service_tier,omitempty"`
}

type textBlock struct {
	Type      string `json:"type"`
	Text      string `json:"text"`
	Citations *[]any `json:"citations,omitempty"`
}

type toolUseBlock struct {
	Type  string          `json:"type"`
	ID    string          `json:"id"`
	Name  string          `json:"name"`
	Input json.RawMessage `json:"input"`
}

func (f *Fake) messages(w http.ResponseWriter, r *http.Request, body []byte) *anthropicBad {
	p, bad := parseParams(body)
	if bad != nil {
		return aInvalid("There was an issue with your request: invalid JSON body")
	}
	for _, fl := range p.fields {
		if !anthropicParams[fl.Key] {
			return aInvalid("%s: Extra inputs are not permitted", fl.Key)
		}
	}
	for _, k := range []string{"model", "messages", "max_tokens"} {
		if !p.has(k) {
			return aInvalid("%s: Field required", k)
		}
	}
	model, _ := p.str("model", true)
	snapshot, ok := anthropicModels[model]
	if !ok {
		return &anthropicBad{status: 404, typ: "not_found_error", msg: "model: " + model}
	}
	stream, _, sbad := p.boolean("stream")
	if sbad != nil {
		return aInvalid("stream: Input should be a valid boolean")
	}
	seed := requestHash(r.URL.Path, body)
	msg, content, abad := f.anthropicAnswer(p, seed, model, snapshot, "msg_")
	if abad != nil {
		return abad
	}
	w.Header().Set("request-id", "req_"+hashID(seed, "req", 0))
	if !stream {
		for _, c := range content {
			msg.Content = append(msg.Content, rawJSON(c))
		}
		writeJSON(w, 200, msg)
		return nil
	}
	s := newSSE(w, r, func(s *sseWriter) {
		s.raw("error", []byte(`{"type":"error","error":{"type":"overloaded_error","message":"Overloaded"}}`))
	})
	anthropicEvents(msg, content, s.event)
	return nil
}

// anthropicAnswer validates the members of a Messages request that the
// Anthropic API and Bedrock's Anthropic body share (max_tokens, temperature,
// tools, tool_choice, system, messages) and answers it: the Message (model
// snapshot, id idPrefix+hash of seed, usage, no content yet) and its content
// blocks.
func (f *Fake) anthropicAnswer(p *params, seed, model, snapshot, idPrefix string) (anthropicMessage, []any, *anthropicBad) {
	fail := func(b *anthropicBad) (anthropicMessage, []any, *anthropicBad) { return anthropicMessage{}, nil, b }
	maxTokens, _, ibad := p.integer("max_tokens", 1)
	if ibad != nil {
		return fail(aInvalid("max_tokens: Input should be a valid integer, greater than or equal to 1"))
	}
	if _, _, tbad := p.number("temperature", 0, 1); tbad != nil {
		return fail(aInvalid("temperature: Input should be less than or equal to 1"))
	}

	// Tools.
	var tools []toolDef
	promptN := 0
	cacheUpTo := -1 // prompt tokens up to the last cache_control breakpoint
	mark := func(cc json.RawMessage) {
		if len(cc) > 0 && string(cc) != "null" {
			cacheUpTo = promptN
		}
	}
	if p.has("tools") {
		var raw []struct {
			Type         string          `json:"type"`
			Name         string          `json:"name"`
			Description  string          `json:"description"`
			InputSchema  json.RawMessage `json:"input_schema"`
			CacheControl json.RawMessage `json:"cache_control"`
		}
		if json.Unmarshal(p.byKey["tools"], &raw) != nil {
			return fail(aInvalid("tools: Input should be a valid list"))
		}
		for i, t := range raw {
			if t.Type == "" || t.Type == "custom" {
				if !toolNameRE.MatchString(t.Name) {
					return fail(aInvalid("tools.%d.custom.name: String should match pattern '^[a-zA-Z0-9_-]{1,128}$'", i))
				}
				if len(t.InputSchema) == 0 {
					return fail(aInvalid("tools.%d.custom.input_schema: Field required", i))
				}
				tools = append(tools, toolDef{Name: t.Name, Schema: t.InputSchema})
			}
			promptN += tokens(t.Name) + tokens(t.Description) + tokens(string(t.InputSchema)) + 8
			mark(t.CacheControl)
		}
	}
	in := decideInput{Tools: tools, Parallel: true, Choice: "auto"}
	if p.has("tool_choice") {
		var tc struct {
			Type                   string `json:"type"`
			Name                   string `json:"name"`
			DisableParallelToolUse bool   `json:"disable_parallel_tool_use"`
		}
		if json.Unmarshal(p.byKey["tool_choice"], &tc) != nil {
			return fail(aInvalid("tool_choice: Input should be a valid dictionary"))
		}
		switch tc.Type {
		case "auto":
		case "any":
			in.Choice = "required"
		case "none":
			in.Choice = "none"
		case "tool":
			in.Choice, in.ChoiceName = "tool", tc.Name
			found := false
			for _, t := range tools {
				found = found || t.Name == tc.Name
			}
			if !found {
				return fail(aInvalid("tool_choice: tool `%s` not found in tools", tc.Name))
			}
		default:
			return fail(aInvalid("tool_choice.type: Input should be 'auto', 'any', 'tool' or 'none'"))
		}
		in.Parallel = !tc.DisableParallelToolUse
	}

	// System.
	if p.has("system") {
		var s string
		if json.Unmarshal(p.byKey["system"], &s) == nil {
			promptN += tokens(s)
		} else {
			bs, ok := blocks(p.byKey["system"])
			if !ok {
				return fail(aInvalid("system: Input should be a valid string or list"))
			}
			for i, b := range bs {
				if b.Type != "text" {
					return fail(aInvalid("system.%d.type: Input should be 'text'", i))
				}
				promptN += tokens(b.Text)
				mark(b.CacheControl)
			}
		}
	}

	// Messages.
	var msgs []struct {
		Role    string          `json:"role"`
		Content json.RawMessage `json:"content"`
	}
	if json.Unmarshal(p.byKey["messages"], &msgs) != nil {
		return fail(aInvalid("messages: Input should be a valid list"))
	}
	if len(msgs) == 0 {
		return fail(aInvalid("messages: at least one message is required"))
	}
	var prevToolUses map[string]string
	for i, m := range msgs {
		if m.Role != "user" && m.Role != "assistant" {
			return fail(aInvalid("messages.%d.role: Input should be 'user' or 'assistant'", i))
		}
		if len(m.Content) == 0 {
			return fail(aInvalid("messages.%d.content: Field required", i))
		}
		bs, ok := blocks(m.Content)
		if !ok {
			return fail(aInvalid("messages.%d.content: Input should be a valid list", i))
		}
		uses := map[string]string{}
		var results []toolResult
		var text []string
		for j, b := range bs {
			switch b.Type {
			case "text":
				if m.Role == "user" && b.Text == "" && len(bs) == 1 {
					return fail(aInvalid("messages.%d: all messages must have non-empty content except for the optional final assistant message", i))
				}
				text = append(text, b.Text)
				promptN += tokens(b.Text)
			case "tool_use":
				if m.Role != "assistant" {
					return fail(aInvalid("messages.%d.content.%d: tool_use blocks are only allowed in assistant messages", i, j))
				}
				uses[b.ID] = b.Name
				promptN += tokens(b.Name) + tokens(string(b.Input))
			case "tool_result":
				if m.Role != "user" {
					return fail(aInvalid("messages.%d.content.%d: tool_result blocks are only allowed in user messages", i, j))
				}
				name, ok := prevToolUses[b.ToolUseID]
				if !ok {
					return fail(aInvalid("messages.%d.content.%d: unexpected `tool_use_id` found in `tool_result` blocks: %s. Each `tool_result` block must have a corresponding `tool_use` block in the previous message.", i, j, b.ToolUseID))
				}
				delete(prevToolUses, b.ToolUseID)
				content := ""
				if t, ok := contentText(b.Content); ok {
					content = t
				}
				results = append(results, toolResult{Name: name, Content: content})
				promptN += tokens(content)
			case "image", "document", "thinking", "redacted_thinking", "search_result":
				promptN += tokens(b.Thinking) + 100
			default:
				return fail(aInvalid("messages.%d.content.%d.type: Input tag '%s' found using 'type' does not match any of the expected tags", i, j, b.Type))
			}
			mark(b.CacheControl)
		}
		if len(prevToolUses) > 0 {
			ids := sortedKeys(prevToolUses)
			return fail(aInvalid("messages.%d: `tool_use` ids were found without `tool_result` blocks immediately after: %s. Each `tool_use` block must have a corresponding `tool_result` block in the next message.", i, strings.Join(ids, ", ")))
		}
		prevToolUses = uses
		if m.Role == "user" {
			if len(results) > 0 {
				in.ToolResults = results
			} else {
				in.LastUser, in.ToolResults = strings.Join(text, "\n"), nil
			}
		}
	}
	if len(prevToolUses) > 0 && msgs[len(msgs)-1].Role == "assistant" {
		// A final assistant message with tool_use is a prefill the model continues; allowed.
		prevToolUses = nil
	}
	in.Seed = seed
	t := f.answer(in)

	// Usage, with explicit prompt caching (cache_control breakpoints).
	u := anthropicUsage{InputTokens: promptN, CacheCreation: ordered("ephemeral_5m_input_tokens", 0, "ephemeral_1h_input_tokens", 0), ServiceTier: "standard"}
	if cacheUpTo >= minCacheTokens {
		key := requestHash("anthropic-prefix", []byte(fmt.Sprint(model, cacheUpTo, string(p.byKey["system"]), string(p.byKey["tools"]))))
		if f.seenPrefix(key) {
			u.CacheReadInputTokens = cacheUpTo
		} else {
			u.CacheCreationInputTokens = cacheUpTo
			u.CacheCreation = ordered("ephemeral_5m_input_tokens", cacheUpTo, "ephemeral_1h_input_tokens", 0)
		}
		u.InputTokens = promptN - cacheUpTo
	}

	var content []any
	stop := "end_turn"
	switch {
	case len(t.ToolCalls) > 0:
		names := make([]string, len(t.ToolCalls))
		for i, c := range t.ToolCalls {
			names[i] = c.Name
		}
		content = append(content, textBlock{Type: "text", Text: "I'll use the " + strings.Join(names, " and ") + " tool."})
		for _, c := range t.ToolCalls {
			content = append(content, toolUseBlock{Type: "tool_use", ID: "toolu_" + c.ID, Name: c.Name, Input: json.RawMessage(c.Args)})
			u.OutputTokens += tokens(c.Name) + tokens(c.Args) + 3
		}
		stop = "tool_use"
	case t.Refusal != "":
		content = append(content, textBlock{Type: "text", Text: t.Refusal})
	default:
		text, wasCut := cut(t.Text, maxTokens)
		if wasCut {
			stop = "max_tokens"
		}
		content = append(content, textBlock{Type: "text", Text: text})
	}
	for _, c := range content {
		if tb, ok := c.(textBlock); ok {
			u.OutputTokens += tokens(tb.Text)
		}
	}
	msg := anthropicMessage{ID: idPrefix + hashID(seed, "msg", 0), Type: "message", Role: "assistant", Model: snapshot,
		Content: []json.RawMessage{}, StopReason: &stop, Usage: u}
	return msg, content, nil
}

// anthropicEvents sends the events of a streamed Message (final, with its
// content blocks) to emit, in the API's order; emit returns false to stop.
func anthropicEvents(final anthropicMessage, content []any, emit func(typ string, data []byte) bool) {
	send := func(typ string, kv ...any) bool { return emit(typ, ordered(append([]any{"type", typ}, kv...)...)) }
	start := final
	start.StopReason = nil
	start.Usage.OutputTokens = 1
	if !send("message_start", "message", start) {
		return
	}
	for i, c := range content {
		switch b := c.(type) {
		case textBlock:
			if !send("content_block_start", "index", i, "content_block", textBlock{Type: "text", Text: ""}) {
				return
			}
			if i == 0 && !emit("ping", []byte(`{"type": "ping"}`)) {
				return
			}
			for _, p := range pieces(b.Text, 16) {
				if !send("content_block_delta", "index", i, "delta", ordered("type", "text_delta", "text", p)) {
					return
				}
			}
		case toolUseBlock:
			if !send("content_block_start", "index", i, "content_block", toolUseBlock{Type: "tool_use", ID: b.ID, Name: b.Name, Input: json.RawMessage("{}")}) {
				return
			}
			for _, p := range append([]string{""}, pieces(string(b.Input), 8)...) {
				if !send("content_block_delta", "index", i, "delta", ordered("type", "input_json_delta", "partial_json", p)) {
					return
				}
			}
		}
		if !send("content_block_stop", "index", i) {
			return
		}
	}
	if !send("message_delta", "delta", ordered("stop_reason", final.StopReason, "stop_sequence", nil),
		"usage", ordered("output_tokens", final.Usage.OutputTokens)) {
		return
	}
	send("message_stop")
}
