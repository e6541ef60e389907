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
	// Every chat message has a "role" member: text without one (and without
	// an escape that could spell it) holds none, and is not looked into.
	mayHoldMessages := strings.Contains(jsonText, `"role"`) || strings.Contains(jsonText, `\u`)
	if t := strings.TrimLeft(jsonText, " \t\r\n"); mayHoldMessages && strings.HasPrefix(t, "{") {
		// Only the members that can hold messages are looked at, found
		// without decoding: an LLM span's inputs and outputs are mostly
		// other data. Duplicate members count as encoding/json's map
		// decoding counts them (the last one). The text is read in place,
		// not copied: nothing here writes to it, and what is kept of it
		// (the message's text) is decoded into a string of its own.
		if b := stringBytes(jsonText); rawjson.Valid(b) {
			if msgs := extractMessages(b); len(msgs) > 0 {
				content = messageText(lastMessage(msgs, role))
			}
		}
	}
	if content == "" {
		content = jsonText
	}
	return encode.Truncate(content, maxChars)
}

// extractMessages is MLflow's _try_extract_messages on an object (valid
// JSON text; a chat message is an object with "role" and "content"
// members). The members it looks at are found in one pass over the object
// (the last of each name, as encoding/json's map decoding keeps), not one
// pass per name: an LLM span's inputs (a request with its tool schemas)
// hold none of them, and were read five times over.
func extractMessages(obj []byte) []json.RawMessage {
	var messages, choices, input, output, request json.RawMessage
	rawjson.EachMember(obj, func(key []byte, value json.RawMessage) bool {
		switch string(rawjson.KeyText(key)) {
		case "messages":
			messages = value
		case "choices":
			choices = value
		case "input":
			input = value
		case "output":
			output = value
		case "request":
			request = value
		}
		return true
	})
	list := func(raw json.RawMessage) []json.RawMessage {
		if len(raw) == 0 || raw[0] != '[' {
			return nil
		}
		items, _ := rawjson.ValidArrayItems(raw)
		return items
	}
	if msgs := list(messages); len(msgs) > 0 {
		return filterMessages(msgs)
	}
	if items := list(choices); len(items) > 0 {
		if msg, ok := rawjson.LastMember(items[0], "message"); ok && isMessage(msg) {
			return []json.RawMessage{msg}
		}
	}
	if items := list(input); len(items) > 0 {
		return filterMessages(items)
	}
	if items := list(output); len(items) > 0 {
		return filterMessages(items)
	}
	if len(request) > 0 && request[0] == '{' {
		return extractMessages(request)
	}
	return nil
}

// isMessage reports whether raw is an object with "role" and "content"
// members (of any value).
func isMessage(raw json.RawMessage) bool {
	var role, content bool
	isObject := rawjson.EachMember(raw, func(key []byte, _ json.RawMessage) bool {
		switch string(rawjson.KeyText(key)) {
		case "role":
			role = true
		case "content":
			content = true
		}
		return true
	})
	return isObject && role && content
}

func filterMessages(items []json.RawMessage) []json.RawMessage {
	var out []json.RawMessage
	for _, it := range items {
		if isMessage(it) {
			out = append(out, it)
		}
	}
	return out
}

func lastMessage(msgs []json.RawMessage, role string) json.RawMessage {
	for i := len(msgs) - 1; i >= 0; i-- {
		raw, _ := rawjson.LastMember(msgs[i], "role")
		if r, ok := rawjson.StringValue(raw); ok && r == role {
			return msgs[i]
		}
	}
	return msgs[len(msgs)-1]
}

// messageText returns a message's text: a string content, or the first
// string part / "text" or "output_text" part of a list content; "" when the
// message has no such text (the caller then falls back to the JSON).
func messageText(msg json.RawMessage) string {
	c, _ := rawjson.LastMember(msg, "content")
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
		typ, ok := rawjson.LastMember(part, "type")
		if !ok {
			continue
		}
		if t, _ := rawjson.StringValue(typ); t == "text" || t == "output_text" {
			text, _ := rawjson.LastMember(part, "text")
			s, _ := rawjson.StringValue(text)
			return s
		}
	}
	return ""
}
