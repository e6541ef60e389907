package llmtest

import (
	"bytes"
	"crypto/sha256"
	"encoding/hex"
	"encoding/json"
	"fmt"
	"strings"
	"unicode"

	"github.com/mlflowtrace/mlflowtrace-go/internal/llmspan"
)

// The fake "model": deterministic answers computed from the request, so two
// clients (Go and Python) sending the same request get the same response.
//
//   - The conversation ends with tool results: the answer summarises them
//     ("Here is what I found. get_weather: {...}").
//   - The last user text contains "refuse": a refusal (OpenAI: message.refusal;
//     Anthropic: a text block).
//   - Tools are offered (and tool choice is not "none"): the model calls each
//     tool whose name is mentioned in the last user text (a word of the
//     tool's name, split at "_" and "-", of 4+ letters shares a 4-letter
//     prefix with a word of the text); several when parallel tool calls are
//     allowed. A forced tool choice calls that tool; "required"/"any" with no
//     mention calls the first tool. Arguments are made from the JSON schema:
//     strings are the last capitalised word of the text ("Paris"), numbers 1,
//     booleans true, enums their first value.
//   - Otherwise the answer is "You said: <last user text>".

// toolDef is a tool offered to the model.
type toolDef struct {
	Name   string
	Schema json.RawMessage // JSON schema of the arguments (may be empty)
}

// toolCall is a call the model makes.
type toolCall struct {
	ID   string
	Name string
	Args string // JSON object text
}

// toolResult is the result of an earlier call, as the conversation gives it.
type toolResult struct {
	Name    string
	Content string
}

// turn is the model's answer.
type turn struct {
	Text      string
	Refusal   string
	ToolCalls []toolCall
}

type decideInput struct {
	LastUser    string       // text of the last user message
	ToolResults []toolResult // trailing tool results (after the last user text)
	Tools       []toolDef
	Choice      string // "auto" (default), "none", "required", or "tool"
	ChoiceName  string // the forced tool when Choice == "tool"
	Parallel    bool   // several tool calls allowed
	Seed        string // request hash, for ids
}

func decide(in decideInput) turn {
	if len(in.ToolResults) > 0 {
		var b strings.Builder
		b.WriteString("Here is what I found.")
		for _, r := range in.ToolResults {
			b.WriteString(" ")
			if r.Name != "" {
				b.WriteString(r.Name)
				b.WriteString(": ")
			}
			b.WriteString(strings.TrimSpace(r.Content))
			if !strings.HasSuffix(b.String(), ".") {
				b.WriteString(".")
			}
		}
		return turn{Text: b.String()}
	}
	if strings.Contains(strings.ToLower(in.LastUser), "refuse") {
		return turn{Refusal: "I'm sorry, but I can't help with that request."}
	}
	if len(in.Tools) > 0 && in.Choice != "none" {
		var picked []toolDef
		switch in.Choice {
		case "tool":
			for _, t := range in.Tools {
				if t.Name == in.ChoiceName {
					picked = append(picked, t)
				}
			}
		default:
			for _, t := range in.Tools {
				if mentions(in.LastUser, t.Name) {
					picked = append(picked, t)
				}
			}
			if len(picked) == 0 && in.Choice == "required" {
				picked = in.Tools[:1]
			}
		}
		if len(picked) > 1 && !in.Parallel {
			picked = picked[:1]
		}
		if len(picked) > 0 {
			var t turn
			for i, p := range picked {
				t.ToolCalls = append(t.ToolCalls, toolCall{
					ID:   hashID(in.Seed, "call", i),
					Name: p.Name,
					Args: argsFor(p.Schema, in.LastUser),
				})
			}
			return t
		}
	}
	return turn{Text: "You said: " + strings.TrimSpace(in.LastUser)}
}

// mentions reports whether text mentions the tool name.
func mentions(text, name string) bool {
	words := strings.FieldsFunc(strings.ToLower(text), func(r rune) bool { return !unicode.IsLetter(r) && !unicode.IsDigit(r) })
	for _, part := range strings.FieldsFunc(strings.ToLower(name), func(r rune) bool { return r == '_' || r == '-' }) {
		if len(part) < 4 {
			continue
		}
		for _, w := range words {
			if len(w) >= 4 && w[:4] == part[:4] {
				return true
			}
		}
	}
	return false
}

// lastCapitalised is the last word of text that starts with an upper-case
// letter and is not the first word of a sentence, without punctuation.
func lastCapitalised(text string) string {
	words := strings.Fields(text)
	last := ""
	sentenceStart := true
	for _, w := range words {
		clean := strings.TrimFunc(w, func(r rune) bool { return !unicode.IsLetter(r) && !unicode.IsDigit(r) })
		if clean != "" && !sentenceStart && unicode.IsUpper([]rune(clean)[0]) && !strings.ContainsRune(clean, '\'') {
			last = clean
		}
		sentenceStart = strings.HasSuffix(w, ".") || strings.HasSuffix(w, "?") || strings.HasSuffix(w, "!")
	}
	if last == "" {
		return "unknown"
	}
	return last
}

// argsFor makes arguments for a JSON schema: required properties (all when
// none are required), in the schema's order.
func argsFor(schema json.RawMessage, text string) string {
	props, required := schemaProps(schema)
	req := map[string]bool{}
	for _, r := range required {
		req[r] = true
	}
	var b bytes.Buffer
	b.WriteByte('{')
	n := 0
	for _, p := range props {
		if len(required) > 0 && !req[p.name] {
			continue
		}
		if n > 0 {
			b.WriteByte(',')
		}
		n++
		k, _ := json.Marshal(p.name)
		b.Write(k)
		b.WriteByte(':')
		b.Write(valueFor(p.schema, text))
	}
	b.WriteByte('}')
	return b.String()
}

type prop struct {
	name   string
	schema json.RawMessage
}

// schemaProps returns the properties of an object schema in document order
// and its required list.
func schemaProps(schema json.RawMessage) ([]prop, []string) {
	var s struct {
		Properties json.RawMessage `json:"properties"`
		Required   []string        `json:"required"`
	}
	if len(schema) == 0 || json.Unmarshal(schema, &s) != nil {
		return nil, nil
	}
	fields, _ := llmspan.ObjectFields(s.Properties)
	out := make([]prop, 0, len(fields))
	for _, f := range fields {
		out = append(out, prop{name: f.Key, schema: f.Value})
	}
	return out, s.Required
}

func valueFor(schema json.RawMessage, text string) []byte {
	var s struct {
		Type any   `json:"type"`
		Enum []any `json:"enum"`
	}
	_ = json.Unmarshal(schema, &s)
	if len(s.Enum) > 0 {
		b, _ := json.Marshal(s.Enum[0])
		return b
	}
	typ, _ := s.Type.(string)
	if l, ok := s.Type.([]any); ok && len(l) > 0 {
		typ, _ = l[0].(string)
	}
	switch typ {
	case "number", "integer":
		return []byte("1")
	case "boolean":
		return []byte("true")
	case "array":
		return []byte("[]")
	case "object":
		return []byte("{}")
	case "null":
		return []byte("null")
	}
	b, _ := json.Marshal(lastCapitalised(text))
	return b
}

// tokens approximates a token count the way OpenAI's rule of thumb does
// (about four characters a token).
func tokens(s string) int {
	if s == "" {
		return 0
	}
	return (len(s) + 3) / 4
}

// requestHash is a hash of the request's JSON value (key order and spacing
// do not matter), so the same request from two clients gets the same ids.
func requestHash(path string, body []byte) string {
	var v any
	canon := body
	if json.Unmarshal(body, &v) == nil {
		if b, err := json.Marshal(v); err == nil {
			canon = b
		}
	}
	h := sha256.New()
	h.Write([]byte(path))
	h.Write([]byte{0})
	h.Write(canon)
	return hex.EncodeToString(h.Sum(nil))
}

// hashID derives a stable id from the request hash.
func hashID(seed, kind string, i int) string {
	h := sha256.Sum256([]byte(fmt.Sprintf("%s/%s/%d", seed, kind, i)))
	return hex.EncodeToString(h[:])[:24]
}

// pieces splits text into the chunks a stream sends: words with their
// following space.
func pieces(text string, max int) []string {
	var out []string
	for text != "" {
		i := strings.IndexByte(text, ' ')
		if i < 0 || i+1 > max {
			i = min(len(text), max) - 1
		}
		// Never split a UTF-8 sequence.
		j := i + 1
		for j < len(text) && !utf8Start(text[j]) {
			j++
		}
		out = append(out, text[:j])
		text = text[j:]
	}
	return out
}

func utf8Start(c byte) bool { return c&0xC0 != 0x80 }

// ordered is a JSON object with its members in the given order: key, value,
// key, value, ...
func ordered(kv ...any) json.RawMessage {
	var b bytes.Buffer
	b.WriteByte('{')
	for i := 0; i+1 < len(kv); i += 2 {
		if i > 0 {
			b.WriteByte(',')
		}
		k, _ := json.Marshal(kv[i])
		b.Write(k)
		b.WriteByte(':')
		v, _ := json.Marshal(kv[i+1])
		b.Write(v)
	}
	b.WriteByte('}')
	return b.Bytes()
}
