package assemble

import (
	"encoding/json"
	"fmt"
	"reflect"
	"strings"
	"testing"

	"github.com/mlflowtrace/mlflowtrace-go/internal/encode"
)

// previewSamples are inputs on which Preview must answer as the reference
// below (the decoding implementation it replaced) does: duplicate members,
// escapes, whitespace, values of the wrong type.
var previewSamples = []string{
	`{"messages": [{"role": "user", "content": "a"}, {"role": "user", "content": "b"}]}`,
	`{"messages": [{"role": "user", "content": "a", "content": "dup"}]}`,
	`{"messages": [{"role": "user", "role": "assistant", "content": "x"}], "messages": [{"role": "user", "content": "second"}]}`,
	`{"messages": [1, "s", null, {"role": "user"}, {"content": "c"}]}`,
	`{"messages": [{"role": null, "content": "n"}, {"role": 3, "content": "three"}]}`,
	` {"messages" : [ {"role" : "user" , "content" : "sp\u00e9\n\"q\"" } ] } `,
	`{"messages": [{"role": "us\u0065r", "content": [{"type": "te\u0078t", "text": "esc"}]}]}`,
	`{"messages": [{"role": "user", "content": [{"type": "text"}]}]}`,
	`{"messages": [{"role": "user", "content": [{"type": "text", "text": 5}]}]}`,
	`{"messages": [{"role": "user", "content": [{"type": "image"}, {"type": "output_text", "text": "ot"}, "later"]}]}`,
	`{"messages": [{"role": "user", "content": [3, null, [], "s"]}]}`,
	`{"messages": [{"role": "user", "content": ""}]}`,
	`{"messages": [{"role": "user", "content": {}}]}`,
	`{"messages": {}, "choices": [{"message": {"role": "assistant", "content": "c"}}]}`,
	`{"choices": [{"message": {}}], "input": [{"role": "user", "content": "i"}]}`,
	`{"choices": [1], "output": [{"role": "assistant", "content": "o"}]}`,
	`{"choices": [{"message": {"role": "a", "content": "x"}, "message": 1}], "input": [{"role": "user", "content": "i"}]}`,
	`{"choices": [], "request": {"messages": [{"role": "user", "content": "r"}]}}`,
	`{"request": {"request": {"input": [{"role": "user", "content": "deep"}]}}}`,
	`{"request": [], "input": "x"}`,
	`{"output": [{"type": "message", "role": "assistant", "content": [{"type": "output_text", "text": "\ud83d\ude00 \u2028"}]}]}`,
	`{"messages": [{"role": "user", "content": "\ud800 lone surrogate"}]}`,
	`{"messages": [{"role": "user", "content": "x"}]} trailing`,
	`{"messages": []}`,
	`{}`,
	`[{"role": "user", "content": "array"}]`,
	"{\"messages\": [{\"role\": \"user\", \"content\": \"bad utf8 \xff\"}]}",
}

func TestPreviewMatchesDecodingReference(t *testing.T) {
	for _, in := range previewSamples {
		for _, role := range []string{"user", "assistant"} {
			for _, max := range []int{1000, 6} {
				if got, want := Preview(in, role, max), previewReference(in, role, max); got != want {
					t.Errorf("Preview(%q, %q, %d) = %q, the reference gives %q", in, role, max, got, want)
				}
			}
		}
	}
}

func FuzzPreview(f *testing.F) {
	for _, s := range previewSamples {
		f.Add(s)
	}
	f.Fuzz(func(t *testing.T, in string) {
		for _, role := range []string{"user", "assistant"} {
			if got, want := Preview(in, role, 1000), previewReference(in, role, 1000); got != want {
				t.Errorf("Preview(%q, %q) = %q, the reference gives %q", in, role, got, want)
			}
		}
	})
}

// previewReference is Preview as it was written first: the object's members
// decoded into a map, the messages into []any.
func previewReference(jsonText, role string, maxChars int) string {
	content := ""
	if t := strings.TrimLeft(jsonText, " \t\r\n"); strings.HasPrefix(t, "{") {
		// Only the members that can hold messages are decoded: an LLM
		// span's inputs and outputs are mostly other data.
		var obj map[string]json.RawMessage
		if json.Unmarshal([]byte(jsonText), &obj) == nil {
			if msgs := refExtractMessages(obj); len(msgs) > 0 {
				content = refMessageText(refLastMessage(msgs, role))
			}
		}
	}
	if content == "" {
		content = jsonText
	}
	return encode.Truncate(content, maxChars)
}

// refTruthy reports Python truthiness for a decoded JSON value.
func refTruthy(v any) bool {
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

// refExtractMessages is MLflow's _try_extract_messages on the members of an
// object (decoded only as far as needed).
func refExtractMessages(obj map[string]json.RawMessage) []map[string]any {
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
		return refFilterMessages(msgs)
	}
	if choices := list("choices"); len(choices) > 0 {
		if c0, ok := choices[0].(map[string]any); ok {
			if msg := c0["message"]; refTruthy(msg) && refIsMessage(msg) {
				return []map[string]any{msg.(map[string]any)}
			}
		}
	}
	if items := list("input"); len(items) > 0 {
		return refFilterMessages(items)
	}
	if items := list("output"); len(items) > 0 {
		return refFilterMessages(items)
	}
	if req, ok := obj["request"]; ok {
		var inner map[string]json.RawMessage
		if len(req) > 0 && req[0] == '{' && json.Unmarshal(req, &inner) == nil {
			return refExtractMessages(inner)
		}
	}
	return nil
}

func refIsMessage(v any) bool {
	m, ok := v.(map[string]any)
	if !ok {
		return false
	}
	_, hasRole := m["role"]
	_, hasContent := m["content"]
	return hasRole && hasContent
}

func refFilterMessages(items []any) []map[string]any {
	var out []map[string]any
	for _, it := range items {
		if refIsMessage(it) {
			out = append(out, it.(map[string]any))
		}
	}
	return out
}

func refLastMessage(msgs []map[string]any, role string) map[string]any {
	for i := len(msgs) - 1; i >= 0; i-- {
		if r, ok := msgs[i]["role"].(string); ok && r == role {
			return msgs[i]
		}
	}
	return msgs[len(msgs)-1]
}

// refMessageText returns a message's text: a string content, or the first
// string part / "text" or "output_text" part of a list content; "" when the
// message has no such text (the caller then falls back to the JSON).
func refMessageText(msg map[string]any) string {
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

// TestNumberObjectMatchesDecoder holds aggregate's shortcut for objects of
// numbers to its Decoder (UseNumber), and leaves everything else to it.
func TestNumberObjectMatchesDecoder(t *testing.T) {
	for _, in := range []string{
		`{"input_tokens": 3, "output_tokens": 4, "total_tokens": 7}`,
		`{"a": 1.5e3, "a": -2, "k\u00e9": 0}`,
		"{\"bad \xff key\": 1}",
		` {"a": 1} `, `{}`,
		`{"a": "1"}`, `{"a": null}`, `{"a": {"b": 1}}`, `[1]`, `{"a": 1} {}`, `{"a": 1`,
	} {
		got, ok := numberObject(in)
		dec := json.NewDecoder(strings.NewReader(in))
		dec.UseNumber()
		var want any
		err := dec.Decode(&want)
		plain := err == nil && !dec.More()
		if m, isMap := want.(map[string]any); ok && (!plain || !isMap || !reflect.DeepEqual(got, m)) {
			t.Errorf("numberObject(%q) = %v; the Decoder gives %v (error %v)", in, got, want, err)
		}
	}
}

// BenchmarkPreview: the request and response previews of an LLM span's
// inputs and outputs: a Gemini request (contents and a tool's schema, no
// member Preview looks for) and answer, and an OpenAI chat request and
// answer.
func BenchmarkPreview(b *testing.B) {
	var schema strings.Builder
	for i := range 12 {
		if i > 0 {
			schema.WriteString(", ")
		}
		fmt.Fprintf(&schema, `"field_%d": {"type": "STRING", "description": "The %d-th field of the call, as the model should fill it in.", "enum": null, "nullable": null}`, i, i)
	}
	gemini := `{"model": "gemini-2.5-flash", "contents": [{"parts": [{"text": "What's the weather in Paris?"}], "role": "user"}], "config": {"temperature": null, "tools": [{"function_declarations": [{"name": "get_weather", "description": "Current weather for a city.", "parameters": {"type": "OBJECT", "properties": {` + schema.String() + `}, "required": ["field_0"]}}]}]}}`
	geminiOut := `{"candidates": [{"content": {"parts": [{"function_call": {"args": {"field_0": "Paris"}, "name": "get_weather"}}], "role": "model"}, "finish_reason": "STOP", "index": 0}], "model_version": "gemini-2.5-flash", "usage_metadata": {"candidates_token_count": 5, "prompt_token_count": 40, "total_token_count": 45}, "sdk_http_response": {"headers": {"content-type": "application/json; charset=UTF-8", "server": "fake", "vary": "Origin, X-Origin, Referer"}}}`
	openai := `{"messages": [{"role": "system", "content": "You are a helpful assistant."}, {"role": "user", "content": "What's the weather in Paris?"}], "model": "gpt-4o-mini", "tools": [{"type": "function", "function": {"name": "get_weather", "parameters": {"type": "object", "properties": {` + schema.String() + `}}}}]}`
	openaiOut := `{"id": "chatcmpl-1", "choices": [{"finish_reason": "stop", "index": 0, "message": {"content": "It is sunny in Paris.", "role": "assistant"}}], "created": 1, "model": "gpt-4o-mini", "object": "chat.completion", "usage": {"completion_tokens": 7, "prompt_tokens": 40, "total_tokens": 47}}`
	for _, c := range []struct{ name, in, out string }{{"gemini", gemini, geminiOut}, {"openai", openai, openaiOut}} {
		b.Run(c.name, func(b *testing.B) {
			b.ReportAllocs()
			b.SetBytes(int64(len(c.in) + len(c.out)))
			for b.Loop() {
				_ = Preview(c.in, "user", 1000)
				_ = Preview(c.out, "assistant", 1000)
			}
		})
	}
}
