package genai

import (
	"encoding/json"
	"strings"
	"testing"
	"time"
)

// The expected texts are Python 3.11's repr() and str() of the same values.
func TestPythonForms(t *testing.T) {
	tests := []struct {
		name, got, want string
	}{
		{"repr of an error body", pyRepr(json.RawMessage(`{"error": {"code": 404, "message": "it's \"x\" é\n\t\u0001 ✓", "ok": true, "n": null, "f": 1.5, "g": 1e20, "h": 2.0, "l": [1, "a"]}}`)),
			`{'error': {'code': 404, 'message': 'it\'s "x" é\n\t\x01 ✓', 'ok': True, 'n': None, 'f': 1.5, 'g': 1e+20, 'h': 2.0, 'l': [1, 'a']}}`},
		{"repr of a str with a single quote", pyStrRepr("it's"), `"it's"`},
		{"bytes", pyBytesRepr([]byte("\x89PNG\r\n")), `b'\x89PNG\r\n'`},
		{"bytes with a single quote", pyBytesRepr([]byte("it's")), `b"it's"`},
		{"bytes with both quotes", pyBytesRepr([]byte(`a"b'c`)), `b'a"b\'c'`},
		{"bytes with a backslash", pyBytesRepr([]byte(`\`)), `b'\\'`},
		{"datetime", pyDatetime(time.Date(2026, 1, 2, 3, 4, 5, 123456789, time.UTC)), "2026-01-02 03:04:05.123456+00:00"},
		{"datetime without microseconds", pyDatetime(time.Date(2026, 1, 2, 3, 4, 5, 0, time.UTC)), "2026-01-02 03:04:05+00:00"},
		{"float 1e20", pyFloatRepr(1e20), "1e+20"},
		{"float 1e-7", pyFloatRepr(1e-7), "1e-07"},
		{"float 0.1", pyFloatRepr(0.1), "0.1"},
		{"float 1234567.5", pyFloatRepr(1234567.5), "1234567.5"},
		{"float 1.2345678901234568e+17", pyFloatRepr(123456789012345678), "1.2345678901234568e+17"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			if tt.got != tt.want {
				t.Errorf("got  %s\nwant %s", tt.got, tt.want)
			}
		})
	}
}

func TestDump(t *testing.T) {
	tests := []struct {
		name, model, rest, want string
	}{
		{"fields in the model's order, absent ones null", "FunctionCall", `{"name":"f","args":{"camelCase":1}}`,
			`{"id":null,"args":{"camelCase":1},"name":"f","partial_args":null,"will_continue":null}`},
		{"floats as Python writes them", "ContentEmbedding", `{"values":[1,0.5]}`, `{"values":[1.0,0.5],"statistics":null}`},
		{"bytes as Python's repr", "Blob", `{"mimeType":"image/png","data":"iVBORw=="}`,
			`{"data":"b'\\x89PNG'","display_name":null,"mime_type":"image/png"}`},
		{"not an object: kept", "Content", `"text"`, `"text"`},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			if got := string(dump(tt.model, json.RawMessage(tt.rest))); got != tt.want {
				t.Errorf("got  %s\nwant %s", got, tt.want)
			}
		})
	}
}

func TestModelMethod(t *testing.T) {
	tests := []struct {
		path, model, verb string
		ok                bool
	}{
		{"/v1beta/models/gemini-2.5-flash:generateContent", "gemini-2.5-flash", "generateContent", true},
		{"/v1beta1/projects/p/locations/l/publishers/google/models/gemini-2.5-flash:streamGenerateContent", "gemini-2.5-flash", "streamGenerateContent", true},
		{"/v1beta/tunedModels/my-model-123:generateContent", "tunedModels/my-model-123", "generateContent", true},
		{"/v1beta/models", "", "", false},
		{"/v1beta/files/abc:download", "", "", false},
	}
	for _, tt := range tests {
		t.Run(tt.path, func(t *testing.T) {
			model, verb, ok := modelMethod(tt.path)
			if model != tt.model || verb != tt.verb || ok != tt.ok {
				t.Errorf("got %q %q %v", model, verb, ok)
			}
		})
	}
}

// TestDumpListAsDecoding holds dumpList to its first form, which decoded
// the list with encoding/json and dumped every item with dump.
func TestDumpListAsDecoding(t *testing.T) {
	reference := func(model string, raw json.RawMessage) json.RawMessage {
		var items []json.RawMessage
		if json.Unmarshal(raw, &items) != nil {
			return raw
		}
		parts := make([]string, len(items))
		for i, it := range items {
			parts[i] = string(dump(model, it))
		}
		return json.RawMessage("[" + strings.Join(parts, ",") + "]")
	}
	for _, in := range []string{
		`[{"role":"user","parts":[{"text":"hi"}]},{"role":"model","parts":[{"functionCall":{"name":"f","args":{"a":1}}}]}]`,
		` [ { "parts" : [ { "text" : "sp aced" } ] } , 3 , "s" , null , [ 1 ] ] `,
		`[]`, `null`, ` null `, `{"parts":[]}`, `"s"`, `1`, `true`, `[`, `[{"parts":[{"text":"x"}]}`, ``,
		`[{"parts":[{"inlineData":{"data":"aGk=","mimeType":"text/plain"}}]}]`,
	} {
		if got, want := dumpList("Content", json.RawMessage(in)), reference("Content", json.RawMessage(in)); string(got) != string(want) {
			t.Errorf("dumpList(%q) = %s, the reference gives %s", in, got, want)
		}
	}
}
