package llmtest

import (
	"encoding/json"
	"fmt"
	"net/http"
	"strings"
)

var responsesParams = set("background", "conversation", "include", "input", "instructions", "max_output_tokens",
	"max_tool_calls", "metadata", "model", "parallel_tool_calls", "previous_response_id", "prompt",
	"prompt_cache_key", "prompt_cache_retention", "reasoning", "safety_identifier", "service_tier", "store",
	"stream", "stream_options", "temperature", "text", "tool_choice", "tools", "top_logprobs", "top_p",
	"truncation", "user", "context_management")

// Response object of the Responses API, fields in the API's order.
type responseObject struct {
	ID                 string            `json:"id"`
	Object             string            `json:"object"`
	CreatedAt          int64             `json:"created_at"`
	Status             string            `json:"status"`
	Background         bool              `json:"background"`
	Error              json.RawMessage   `json:"error"`
	IncompleteDetails  json.RawMessage   `json:"incomplete_details"`
	Instructions       json.RawMessage   `json:"instructions"`
	MaxOutputTokens    json.RawMessage   `json:"max_output_tokens"`
	MaxToolCalls       json.RawMessage   `json:"max_tool_calls"`
	Model              string            `json:"model"`
	Output             []json.RawMessage `json:"output"`
	ParallelToolCalls  bool              `json:"parallel_tool_calls"`
	PreviousResponseID json.RawMessage   `json:"previous_response_id"`
	PromptCacheKey     json.RawMessage   `json:"prompt_cache_key"`
	Reasoning          json.RawMessage   `json:"reasoning"`
	SafetyIdentifier   json.RawMessage   `json:"safety_identifier"`
	ServiceTier        string            `json:"service_tier"`
	Store              bool              `json:"store"`
	Temperature        json.RawMessage   `json:"temperature"`
	Text               json.RawMessage   `json:"text"`
	ToolChoice         json.RawMessage   `json:"tool_choice"`
	Tools              json.RawMessage   `json:"tools"`
	TopLogprobs        int               `json:"top_logprobs"`
	TopP               json.RawMessage   `json:"top_p"`
	Truncation         string            `json:"truncation"`
	Usage              *responseUsage    `json:"usage"`
	User               json.RawMessage   `json:"user"`
	Metadata           json.RawMessage   `json:"metadata"`
}

type responseUsage struct {
	InputTokens         int             `json:"input_tokens"`
	InputTokensDetails  json.RawMessage `json:"input_tokens_details"`
	OutputTokens        int             `json:"output_tokens"`
	OutputTokensDetails json.RawMessage `json:"output_tokens_details"`
	TotalTokens         int             `json:"total_tokens"`
}

type outputMessage struct {
	ID      string       `json:"id"`
	Type    string       `json:"type"`
	Status  string       `json:"status"`
	Content []outputText `json:"content"`
	Role    string       `json:"role"`
}

type outputText struct {
	Type        string `json:"type"`
	Annotations []any  `json:"annotations"`
	Logprobs    []any  `json:"logprobs"`
	Text        string `json:"text"`
}

type outputRefusal struct {
	Type    string `json:"type"`
	Refusal string `json:"refusal"`
}

type functionCallItem struct {
	ID        string `json:"id"`
	Type      string `json:"type"`
	Status    string `json:"status"`
	Arguments string `json:"arguments"`
	CallID    string `json:"call_id"`
	Name      string `json:"name"`
}

func rawJSON(v any) json.RawMessage { b, _ := json.Marshal(v); return b }

func (f *Fake) responses(w http.ResponseWriter, r *http.Request, body []byte) *badRequest {
	if bad := methodPost(r); bad != nil {
		return bad
	}
	p, bad := parseParams(body)
	if bad != nil {
		return bad
	}
	if bad := p.checkKnown(responsesParams); bad != nil {
		return bad
	}
	_, m, bad := p.model("chat")
	if bad != nil {
		return bad
	}
	if !p.has("input") && !p.has("previous_response_id") && !p.has("prompt") && !p.has("conversation") {
		return missing("input")
	}
	stream, _, bad := p.boolean("stream")
	if bad != nil {
		return bad
	}
	if p.has("stream_options") && !stream {
		return invalid("stream_options", "invalid_value", "The 'stream_options' parameter is only allowed when 'stream' is enabled.")
	}
	temperature, ok, bad := p.number("temperature", 0, 2)
	if bad != nil {
		return bad
	}
	if !ok {
		temperature = 1
	}
	topP, ok, bad := p.number("top_p", 0, 1)
	if bad != nil {
		return bad
	}
	if !ok {
		topP = 1
	}
	instructions, bad := p.str("instructions", false)
	if bad != nil {
		return bad
	}

	// Tools: {"type":"function","name":...,"parameters":...}; built-in tools pass.
	var tools []toolDef
	if p.has("tools") {
		var raw []map[string]json.RawMessage
		if json.Unmarshal(p.byKey["tools"], &raw) != nil {
			return wrongType("tools", "an array of objects", p.byKey["tools"])
		}
		for i, t := range raw {
			var typ, name string
			_ = json.Unmarshal(t["type"], &typ)
			_ = json.Unmarshal(t["name"], &name)
			switch typ {
			case "function":
				if !toolNameRE.MatchString(name) {
					return invalid(fmt.Sprintf("tools[%d].name", i), "invalid_value", "Invalid 'tools[%d].name': string does not match pattern. Expected a string that matches the pattern '^[a-zA-Z0-9_-]+$'.", i)
				}
				tools = append(tools, toolDef{Name: name, Schema: t["parameters"]})
			case "file_search", "web_search", "web_search_preview", "computer_use_preview", "code_interpreter", "image_generation", "local_shell", "mcp", "custom":
			default:
				return invalid(fmt.Sprintf("tools[%d].type", i), "invalid_value", "Invalid value: '%s'.", typ)
			}
		}
	}
	in := decideInput{Tools: tools, Parallel: true}
	if v, ok, bad := p.boolean("parallel_tool_calls"); bad != nil {
		return bad
	} else if ok {
		in.Parallel = v
	}
	if in.Choice, in.ChoiceName, bad = parseChoice(p, tools, "tool_choice", responsesChoice); bad != nil {
		return bad
	}

	// Input: a string or a list of items.
	promptN := tokens(instructions)
	if p.has("input") {
		var s string
		if json.Unmarshal(p.byKey["input"], &s) == nil {
			in.LastUser = s
			promptN += tokens(s) + 4
		} else {
			var items []map[string]json.RawMessage
			if json.Unmarshal(p.byKey["input"], &items) != nil {
				return wrongType("input", "a string or an array", p.byKey["input"])
			}
			calls := map[string]string{}
			for i, it := range items {
				var typ, role string
				_ = json.Unmarshal(it["type"], &typ)
				_ = json.Unmarshal(it["role"], &role)
				if typ == "" && role != "" {
					typ = "message"
				}
				switch typ {
				case "message":
					text, ok := contentText(it["content"])
					if !ok {
						return wrongType(fmt.Sprintf("input[%d].content", i), "a string or an array", it["content"])
					}
					switch role {
					case "user":
						in.LastUser, in.ToolResults = text, nil
					case "system", "developer", "assistant":
					default:
						return invalid(fmt.Sprintf("input[%d].role", i), "invalid_value", "Invalid value: '%s'. Supported values are: 'assistant', 'system', 'developer', and 'user'.", role)
					}
					promptN += tokens(text) + 4
				case "function_call":
					var callID, name, args string
					_ = json.Unmarshal(it["call_id"], &callID)
					_ = json.Unmarshal(it["name"], &name)
					_ = json.Unmarshal(it["arguments"], &args)
					if callID == "" {
						return missing(fmt.Sprintf("input[%d].call_id", i))
					}
					calls[callID] = name
					promptN += tokens(name) + tokens(args)
				case "function_call_output":
					var callID, output string
					_ = json.Unmarshal(it["call_id"], &callID)
					if t, ok := contentText(it["output"]); ok {
						output = t
					}
					name, ok := calls[callID]
					if !ok {
						return invalid("input", "", "No tool call found for function call output with call_id %s.", callID)
					}
					in.ToolResults = append(in.ToolResults, toolResult{Name: name, Content: output})
					promptN += tokens(output) + 4
				case "reasoning", "item_reference":
				default:
					return invalid(fmt.Sprintf("input[%d].type", i), "invalid_value", "Invalid value: '%s'.", typ)
				}
			}
		}
	}
	seed := requestHash(r.URL.Path, body)
	in.Seed = seed
	t := f.answer(in)

	resp := responseObject{
		ID: "resp_" + hashID(seed, "resp", 0), Object: "response", CreatedAt: created, Status: "completed",
		Error: null, IncompleteDetails: null, Instructions: null, MaxOutputTokens: null, MaxToolCalls: null,
		Model: m.snapshot, Output: []json.RawMessage{}, ParallelToolCalls: in.Parallel, PreviousResponseID: null,
		PromptCacheKey: null, Reasoning: json.RawMessage(`{"effort":null,"summary":null}`), SafetyIdentifier: null,
		ServiceTier: "default", Store: true, Temperature: decimal(temperature), Text: json.RawMessage(`{"format":{"type":"text"},"verbosity":"medium"}`),
		ToolChoice: json.RawMessage(`"auto"`), Tools: json.RawMessage(`[]`), TopP: decimal(topP), Truncation: "disabled",
		User: null, Metadata: json.RawMessage(`{}`),
	}
	if instructions != "" {
		resp.Instructions = rawJSON(instructions)
	}
	if p.has("tools") {
		resp.Tools = p.byKey["tools"]
	}
	if p.has("tool_choice") {
		resp.ToolChoice = p.byKey["tool_choice"]
	}
	if p.has("metadata") {
		resp.Metadata = p.byKey["metadata"]
	}
	completion := 0
	var items []any
	if len(t.ToolCalls) > 0 {
		for i, c := range t.ToolCalls {
			items = append(items, functionCallItem{ID: "fc_" + hashID(seed, "fc", i), Type: "function_call", Status: "completed",
				Arguments: c.Args, CallID: "call_" + c.ID, Name: c.Name})
			completion += tokens(c.Name) + tokens(c.Args) + 3
		}
	} else {
		msg := outputMessage{ID: "msg_" + hashID(seed, "msg", 0), Type: "message", Status: "completed", Role: "assistant"}
		if t.Refusal != "" {
			items = append(items, struct {
				ID      string          `json:"id"`
				Type    string          `json:"type"`
				Status  string          `json:"status"`
				Content []outputRefusal `json:"content"`
				Role    string          `json:"role"`
			}{msg.ID, msg.Type, msg.Status, []outputRefusal{{Type: "refusal", Refusal: t.Refusal}}, msg.Role})
			completion += tokens(t.Refusal)
		} else {
			msg.Content = []outputText{{Type: "output_text", Annotations: []any{}, Logprobs: []any{}, Text: t.Text}}
			items = append(items, msg)
			completion += tokens(t.Text)
		}
	}
	usage := &responseUsage{InputTokens: promptN, InputTokensDetails: ordered("cached_tokens", 0),
		OutputTokens: completion, OutputTokensDetails: ordered("reasoning_tokens", 0), TotalTokens: promptN + completion}
	if !stream {
		for _, it := range items {
			resp.Output = append(resp.Output, rawJSON(it))
		}
		resp.Usage = usage
		writeJSON(w, 200, resp)
		return nil
	}
	f.responsesStream(w, r, resp, items, t, usage)
	return nil
}

func (f *Fake) responsesStream(w http.ResponseWriter, r *http.Request, final responseObject, items []any, t turn, usage *responseUsage) {
	s := newSSE(w, r, func(s *sseWriter) {
		s.raw("error", []byte(`{"type":"error","code":"server_error","message":"The server had an error while processing your request. Sorry about that!","param":null,"sequence_number":`+fmt.Sprint(s.n)+`}`))
	})
	seq := 0
	send := func(typ string, fields ...any) bool {
		// fields: alternating key, value; "type" and "sequence_number" first.
		var b strings.Builder
		b.WriteString(`{"type":`)
		b.Write(rawJSON(typ))
		b.WriteString(`,"sequence_number":`)
		b.WriteString(fmt.Sprint(seq))
		for i := 0; i+1 < len(fields); i += 2 {
			b.WriteString(",")
			b.Write(rawJSON(fields[i]))
			b.WriteString(":")
			b.Write(rawJSON(fields[i+1]))
		}
		b.WriteString("}")
		seq++
		return s.event(typ, []byte(b.String()))
	}
	start := final
	start.Status, start.Output, start.Usage = "in_progress", []json.RawMessage{}, nil
	if !send("response.created", "response", start) || !send("response.in_progress", "response", start) {
		return
	}
	for oi, it := range items {
		switch x := it.(type) {
		case functionCallItem:
			added := x
			added.Status, added.Arguments = "in_progress", ""
			if !send("response.output_item.added", "output_index", oi, "item", added) {
				return
			}
			for _, p := range pieces(x.Arguments, 8) {
				if !send("response.function_call_arguments.delta", "item_id", x.ID, "output_index", oi, "delta", p) {
					return
				}
			}
			if !send("response.function_call_arguments.done", "item_id", x.ID, "output_index", oi, "arguments", x.Arguments) {
				return
			}
			if !send("response.output_item.done", "output_index", oi, "item", x) {
				return
			}
		case outputMessage:
			added := x
			added.Status, added.Content = "in_progress", []outputText{}
			if !send("response.output_item.added", "output_index", oi, "item", added) {
				return
			}
			part := outputText{Type: "output_text", Annotations: []any{}, Logprobs: []any{}, Text: ""}
			if !send("response.content_part.added", "item_id", x.ID, "output_index", oi, "content_index", 0, "part", part) {
				return
			}
			for _, p := range pieces(t.Text, 16) {
				if !send("response.output_text.delta", "item_id", x.ID, "output_index", oi, "content_index", 0, "delta", p, "logprobs", []any{}) {
					return
				}
			}
			if !send("response.output_text.done", "item_id", x.ID, "output_index", oi, "content_index", 0, "text", t.Text, "logprobs", []any{}) {
				return
			}
			part.Text = t.Text
			if !send("response.content_part.done", "item_id", x.ID, "output_index", oi, "content_index", 0, "part", part) {
				return
			}
			if !send("response.output_item.done", "output_index", oi, "item", x) {
				return
			}
		default: // refusal message
			if !send("response.output_item.added", "output_index", oi, "item", x) {
				return
			}
			if !send("response.refusal.done", "output_index", oi, "content_index", 0, "refusal", t.Refusal) {
				return
			}
			if !send("response.output_item.done", "output_index", oi, "item", x) {
				return
			}
		}
		final.Output = append(final.Output, rawJSON(it))
	}
	final.Usage = usage
	send("response.completed", "response", final)
}

// decimal writes a number the way the API does for its float members (1.0,
// not 1).
func decimal(f float64) json.RawMessage {
	b, _ := json.Marshal(f)
	if !strings.ContainsAny(string(b), ".eE") {
		b = append(b, ".0"...)
	}
	return b
}
