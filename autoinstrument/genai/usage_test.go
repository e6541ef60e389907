package genai

import (
	"encoding/json"
	"testing"
)

// TestUsageAsEncodingJSON holds usage, which decodes ordinary objects
// without encoding/json, to what encoding/json's decoding of the same
// answer gives: wrong types, nulls, duplicates, names in other case.
func TestUsageAsEncodingJSON(t *testing.T) {
	cases := []string{
		`{"candidates":[{"content":{"parts":[{"text":"hi \"there\""}],"role":"model"}}],"usageMetadata":{"promptTokenCount":12,"candidatesTokenCount":5,"totalTokenCount":17}}`,
		`{"usageMetadata":{"promptTokenCount":12,"candidatesTokenCount":5,"totalTokenCount":20,"cachedContentTokenCount":3,"thoughtsTokenCount":3}}`,
		`{"usageMetadata":{"promptTokenCount":null,"totalTokenCount":null}}`, `{"usageMetadata":{}}`,
		`{"usageMetadata":{"promptTokenCount":1.5}}`, `{"usageMetadata":{"promptTokenCount":"1"}}`,
		`{"usageMetadata":{"promptTokenCount":1e2}}`, `{"usageMetadata":{"promptTokenCount":-0}}`,
		`{"usageMetadata":{"promptTokenCount":true}}`, `{"usageMetadata":{"promptTokenCount":99999999999999999999}}`,
		`{"usageMetadata":{"PromptTokenCount":4}}`, `{"usageMetadata":{"prompttokencount":4,"totalTokenCount":4}}`,
		`{"usageMetadata":{"promptTokenCount":4,"promptTokenCount":5}}`,
		`{"usageMetadata":{"promptTokenCount":1},"usageMetadata":{"totalTokenCount":2}}`,
		`{"UsageMetadata":{"promptTokenCount":1}}`, `{"usageMetadata":null}`, `{"usageMetadata":[]}`,
		`{"usageMetadata":"x"}`, `{"usage\u004detadata":{"prompt\u0054okenCount":7}}`, `{}`, `[]`, `"usage"`, `12`, `null`,
	}
	for _, c := range cases {
		var want responseUsageJSON
		err := json.Unmarshal([]byte(c), &want)
		got, ok := usage(json.RawMessage(c))
		var wantText json.RawMessage
		wantOK := err == nil && want.UsageMetadata != nil
		if wantOK {
			wantText, wantOK = usageOf(want.UsageMetadata)
		}
		if ok != wantOK || string(got) != string(wantText) {
			t.Errorf("usage(%s) = %s, %v; encoding/json gives %s, %v (error %v)", c, got, ok, wantText, wantOK, err)
		}
	}
}

// TestUsageMapping: what MLflow's Gemini _parse_usage records of an
// answer's usageMetadata, written out (TestUsageAsEncodingJSON maps both
// sides through usageOf): thinking tokens are in the total only.
func TestUsageMapping(t *testing.T) {
	for _, c := range []struct{ in, want string }{
		{`{"usageMetadata":{"promptTokenCount":12,"candidatesTokenCount":5,"totalTokenCount":20,"cachedContentTokenCount":3,"thoughtsTokenCount":3}}`,
			`{"input_tokens":12,"output_tokens":5,"total_tokens":20,"cache_read_input_tokens":3}`},
		{`{"usageMetadata":{"promptTokenCount":12}}`, `{"input_tokens":12}`},
	} {
		if got, ok := usage(json.RawMessage(c.in)); !ok || string(got) != c.want {
			t.Errorf("usage(%s) = %s, %v; want %s", c.in, got, ok, c.want)
		}
	}
	if got, ok := usage(json.RawMessage(`{"usageMetadata":{}}`)); ok {
		t.Errorf("usage of an empty usageMetadata = %s, true; want false", got)
	}
}
