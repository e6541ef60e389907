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
