package assemble

import (
	"encoding/json"
	"strings"

	"github.com/mlflowtrace/mlflowtrace-go/internal/encode"
	"github.com/mlflowtrace/mlflowtrace-go/internal/rawjson"
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
	if t := strings.TrimLeft(jsonText, " \t\r\n"); strings.HasPrefix(t, "{") {
		// Only the members that can hold messages are looked at, split
		// without decoding: an LLM span's inputs and outputs are mostly
		// other data. Duplicate members count as encoding/json's map
		// decoding counts them (the last one).
		if b := []byte(jsonText); json.Valid(b) {
			if obj, err := rawjson.ValidObjectFields(b); err == nil {
				if msgs := extractMessages(obj); len(msgs) > 0 {
					content = messageText(lastMessage(msgs, role))
				}
			}
		}
	}
	if content == "" {
		content = jsonText
	}
	return encode.Truncate(content, maxChars)
}

// message is the members of a chat message: an object with "role" and
// "content" members.
type message []rawjson.Field

// extractMessages is MLflow's _try_extract_messages on the members of an
// object (valid JSON, split as far as needed).
func extractMessages(obj []rawjson.Field) []message {
	list := func(key string) []json.RawMessage {
		raw, _ := rawjson.LookupLast(obj, key)
		if len(raw) == 0 || raw[0] != '[' {
			return nil
		}
		items, _ := rawjson.ValidArrayItems(raw)
		return items
	}
	if msgs := list("messages"); len(msgs) > 0 {
		return filterMessages(msgs)
	}
	if choices := list("choices"); len(choices) > 0 {
		if c0 := object(choices[0]); c0 != nil {
			if raw, ok := rawjson.LookupLast(c0, "message"); ok {
				if msg, ok := asMessage(raw); ok {
					return []message{msg}
				}
			}
		}
	}
	if items := list("input"); len(items) > 0 {
		return filterMessages(items)
	}
	if items := list("output"); len(items) > 0 {
		return filterMessages(items)
	}
	if req, ok := rawjson.LookupLast(obj, "request"); ok {
		if inner := object(req); inner != nil {
			return extractMessages(inner)
		}
	}
	return nil
}

// object returns the members of raw (valid JSON), nil when it is not an
// object.
func object(raw json.RawMessage) []rawjson.Field {
	if len(raw) == 0 || raw[0] != '{' {
		return nil
	}
	fields, err := rawjson.ValidObjectFields(raw)
	if err != nil {
		return nil
	}
	return fields
}

// asMessage reports whether raw is a chat message: an object with "role"
// and "content" members (of any value).
func asMessage(raw json.RawMessage) (message, bool) {
	m := object(raw)
	if m == nil {
		return nil, false
	}
	_, hasRole := rawjson.Lookup(m, "role")
	_, hasContent := rawjson.Lookup(m, "content")
	return m, hasRole && hasContent
}

func filterMessages(items []json.RawMessage) []message {
	var out []message
	for _, it := range items {
		if m, ok := asMessage(it); ok {
			out = append(out, m)
		}
	}
	return out
}

func lastMessage(msgs []message, role string) message {
	for i := len(msgs) - 1; i >= 0; i-- {
		raw, _ := rawjson.LookupLast(msgs[i], "role")
		if r, ok := rawjson.StringValue(raw); ok && r == role {
			return msgs[i]
		}
	}
	return msgs[len(msgs)-1]
}

// messageText returns a message's text: a string content, or the first
// string part / "text" or "output_text" part of a list content; "" when the
// message has no such text (the caller then falls back to the JSON).
func messageText(msg message) string {
	c, _ := rawjson.LookupLast(msg, "content")
	if s, ok := rawjson.StringValue(c); ok {
		return s
	}
	if len(c) == 0 || c[0] != '[' {
		return ""
	}
	parts, _ := rawjson.ValidArrayItems(c)
	for _, part := range parts {
		if s, ok := rawjson.StringValue(part); ok {
			return s
		}
		p := object(part)
		if p == nil {
			continue
		}
		typ, _ := rawjson.LookupLast(p, "type")
		if t, _ := rawjson.StringValue(typ); t == "text" || t == "output_text" {
			text, _ := rawjson.LookupLast(p, "text")
			s, _ := rawjson.StringValue(text)
			return s
		}
	}
	return ""
}
