package llmspan

import (
	"encoding/json"
	"testing"
)

func TestChatTools(t *testing.T) {
	raw := func(s string) json.RawMessage { return json.RawMessage(s) }
	tests := []struct {
		name  string
		tools []Tool
		want  string
		ok    bool
	}{
		{name: "MLflow's members in MLflow's order, others dropped",
			tools: []Tool{{Name: raw(`"f"`), Description: raw(`"d"`), Strict: raw(`true`),
				Parameters: raw(`{"type":"object","additionalProperties":false,"required":["a"],"$schema":"x","properties":{"a":{"minLength":1,"description":"A","type":"string","enum":["x","y"]},"b":{"type":"array","items":{"type":"integer","format":"int32"}}}}`)}},
			want: `[{"type":"function","function":{"name":"f","description":"d","parameters":{"properties":{"a":{"type":"string","description":"A","enum":["x","y"]},"b":{"type":"array","items":{"type":"integer"}}},"type":"object","required":["a"],"additionalProperties":false},"strict":true}}]`,
			ok:   true},
		{name: "only what is set; explicit nulls kept", tools: []Tool{{Name: raw(`"g"`), Description: raw(`null`)}},
			want: `[{"type":"function","function":{"name":"g","description":null}}]`, ok: true},
		{name: "empty list", tools: nil, want: `[]`, ok: true},
		{name: "no properties: MLflow rejects", tools: []Tool{{Name: raw(`"f"`), Parameters: raw(`{"type":"object"}`)}}},
		{name: "unknown JSON-schema type", tools: []Tool{{Name: raw(`"f"`), Parameters: raw(`{"properties":{"a":{"type":"date"}}}`)}}},
		{name: "object enum values", tools: []Tool{{Name: raw(`"f"`), Parameters: raw(`{"properties":{"a":{"enum":[{"x":1}]}}}`)}}},
		{name: "no name", tools: []Tool{{}}},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			got, ok := ChatTools(tt.tools)
			if ok != tt.ok || (ok && string(got) != tt.want) {
				t.Errorf("got %s %v, want %s %v", got, ok, tt.want, tt.ok)
			}
		})
	}
}

func TestToolList(t *testing.T) {
	named := func(fields []Field) (Tool, bool) {
		name, ok := Lookup(fields, "name")
		return Tool{Name: name}, ok
	}
	tests := []struct {
		raw  string
		want string
		ok   bool
	}{
		{`[{"name":"a"},{"name":"b"}]`, `[{"type":"function","function":{"name":"a"}},{"type":"function","function":{"name":"b"}}]`, true},
		{`[]`, `[]`, true},
		{`[{"name":"a"},{"other":1}]`, "", false}, // one definition rejected: no tools
		{`[1]`, "", false},
		{`{"name":"a"}`, "", false},
	}
	for _, tt := range tests {
		got, ok := ToolList([]byte(tt.raw), named)
		if ok != tt.ok || (ok && string(got) != tt.want) {
			t.Errorf("%s: got %s %v, want %s %v", tt.raw, got, ok, tt.want, tt.ok)
		}
	}
}

func TestObjectFields(t *testing.T) {
	f, err := ObjectFields([]byte(` {"b": 1, "a": {"x": [1,2]}, "c": null} `))
	if err != nil || len(f) != 3 || f[0].Key != "b" || string(f[1].Value) != `{"x": [1,2]}` || !IsNull(f[2].Value) {
		t.Fatalf("%v %v", f, err)
	}
	for _, bad := range []string{`[]`, `{"a":}`, `{"a":1`, ``} {
		if _, err := ObjectFields([]byte(bad)); err == nil {
			t.Errorf("%q: no error", bad)
		}
	}
}

// FuzzObjectFields checks the scanner against encoding/json's decoder.
func FuzzObjectFields(f *testing.F) {
	for _, s := range []string{`{}`, `{"a":1,"b":"x\"}","c":[1,{"d":"]"}],"e":null}`, ` { "k" : { "x" : [ ] } } `, `{"\u00e9":true}`, `[1]`, `{"a":1`} {
		f.Add(s)
	}
	f.Fuzz(func(t *testing.T, s string) {
		got, err := ObjectFields([]byte(s))
		var want map[string]json.RawMessage
		werr := json.Unmarshal([]byte(s), &want)
		isObject := werr == nil && want != nil
		if !isObject {
			if err == nil && len(got) > 0 {
				t.Fatalf("%q: fields %v from a non-object", s, got)
			}
			return
		}
		if err != nil {
			t.Fatalf("%q: %v", s, err)
		}
		seen := map[string]json.RawMessage{}
		for _, fl := range got {
			seen[fl.Key] = fl.Value // duplicate keys: the last wins, as in encoding/json
		}
		if len(seen) != len(want) {
			t.Fatalf("%q: %v vs %v", s, got, want)
		}
		for k, v := range want {
			var a, b any
			_ = json.Unmarshal(v, &a)
			if err := json.Unmarshal(seen[k], &b); err != nil || !jsonEq(a, b) {
				t.Fatalf("%q: %s = %s, want %s", s, k, seen[k], v)
			}
		}
	})
}

func jsonEq(a, b any) bool {
	x, _ := json.Marshal(a)
	y, _ := json.Marshal(b)
	return string(x) == string(y)
}

func TestString(t *testing.T) {
	for _, tt := range []struct{ in, want string }{
		{`"plain"`, "plain"}, {` "spaced" `, "spaced"}, {`"a\"b"`, `a"b`}, {`"\u00e9t\u00e9"`, "été"}, {`"été"`, "été"},
		{"\"\xff\"", "\ufffd"}, {"\"a\tb\"", ""}, {`1`, ""}, {`null`, ""}, {`"unterminated`, ""},
	} {
		if got := String(json.RawMessage(tt.in)); got != tt.want {
			t.Errorf("String(%q) = %q, want %q", tt.in, got, tt.want)
		}
	}
}

func TestPrepend(t *testing.T) {
	for _, tt := range []struct{ obj, want string }{
		{`{"b":1}`, `{"a":"x","b":1}`}, {` { } `, `{"a":"x"}`}, {`{ "b" : [1] }`, `{"a":"x","b" : [1] }`},
	} {
		got, ok := Prepend(json.RawMessage(tt.obj), "a", "x")
		if !ok || string(got) != tt.want || !json.Valid(got) {
			t.Errorf("Prepend(%s) = %s %v, want %s", tt.obj, got, ok, tt.want)
		}
	}
	for _, bad := range []string{`[1]`, `"s"`, ``} {
		if _, ok := Prepend(json.RawMessage(bad), "a", 1); ok {
			t.Errorf("Prepend(%s) ok", bad)
		}
	}
}
