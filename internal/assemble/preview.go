package assemble

import (
	"encoding/json"
	"strings"

	"github.com/mlflowtrace/mlflowtrace-go/internal/encode"
)

// Preview derives a request (role "user") or response (role "assistant")
// preview from the JSON text of a root span's inputs or outputs, as MLflow's
// Python SDK does: when the value is an object holding chat messages (OpenAI
// chat "messages", chat completion "choices[0].message", Responses API
// "input" / "output" items, or any of them under "request"), the preview is
// the text of the last message with that role (else of the last message);
// otherwise it is the JSON text itself. The result is cut to maxChars
// characters with MLflow's rule (first maxChars-3 and "...").
func Preview(jsonText, role string, maxChars int) string {
	content := ""
	// Every chat message has a "role" member: text without one (and without
	// an escape that could spell it) holds none, and is not decoded.
	mayHoldMessages := strings.Contains(jsonText, `"role"`) || strings.Contains(jsonText, `\u`)
	if t := strings.TrimLeft(jsonText, " \t\r\n"); mayHoldMessages && strings.HasPrefix(t, "{") {
		// Only the members that can hold messages are decoded: an LLM
		// span's inputs and outputs are mostly other data.
		var obj map[string]json.RawMessage
		if json.Unmarshal([]byte(jsonText), &obj) == nil {
			if msgs := extractMessages(obj); len(msgs) > 0 {
				content = messageText(lastMessage(msgs, role))
			}
		}
	}
	if content == "" {
		content = jsonText
	}
	return encode.Truncate(content, maxChars)
}

// truthy reports Python truthiness for a decoded JSON value.
func truthy(v any) bool {
	switch x := v.(type) {
	case nil:
		return false
	case bool:
		return x
	case string:
		return x != ""
	case float64:
		return x != 0
	case []any:
		return len(x) > 0
	case map[string]any:
		return len(x) > 0
	}
	return true
}

// extractMessages is MLflow's _try_extract_messages on the members of an
// object (decoded only as far as needed).
func extractMessages(obj map[string]json.RawMessage) []map[string]any {
	list := func(key string) []any {
		raw := obj[key]
		if len(raw) == 0 || raw[0] != '[' {
			return nil
		}
		var l []any
		_ = json.Unmarshal(raw, &l)
		return l
	}
	if msgs := list("messages"); len(msgs) > 0 {
		return filterMessages(msgs)
	}
	if choices := list("choices"); len(choices) > 0 {
		if c0, ok := choices[0].(map[string]any); ok {
			if msg := c0["message"]; truthy(msg) && isMessage(msg) {
				return []map[string]any{msg.(map[string]any)}
			}
		}
	}
	if items := list("input"); len(items) > 0 {
		return filterMessages(items)
	}
	if items := list("output"); len(items) > 0 {
		return filterMessages(items)
	}
	if req, ok := obj["request"]; ok {
		var inner map[string]json.RawMessage
		if len(req) > 0 && req[0] == '{' && json.Unmarshal(req, &inner) == nil {
			return extractMessages(inner)
		}
	}
	return nil
}

func isMessage(v any) bool {
	m, ok := v.(map[string]any)
	if !ok {
		return false
	}
	_, hasRole := m["role"]
	_, hasContent := m["content"]
	return hasRole && hasContent
}

func filterMessages(items []any) []map[string]any {
	var out []map[string]any
	for _, it := range items {
		if isMessage(it) {
			out = append(out, it.(map[string]any))
		}
	}
	return out
}

func lastMessage(msgs []map[string]any, role string) map[string]any {
	for i := len(msgs) - 1; i >= 0; i-- {
		if r, ok := msgs[i]["role"].(string); ok && r == role {
			return msgs[i]
		}
	}
	return msgs[len(msgs)-1]
}

// messageText returns a message's text: a string content, or the first
// string part / "text" or "output_text" part of a list content; "" when the
// message has no such text (the caller then falls back to the JSON).
func messageText(msg map[string]any) string {
	switch c := msg["content"].(type) {
	case string:
		return c
	case []any:
		for _, part := range c {
			switch p := part.(type) {
			case string:
				return p
			case map[string]any:
				if t, _ := p["type"].(string); t == "text" || t == "output_text" {
					s, _ := p["text"].(string)
					return s
				}
			}
		}
	}
	return ""
}
