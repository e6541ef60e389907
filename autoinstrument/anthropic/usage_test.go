package anthropic

import (
	"encoding/json"
	"reflect"
	"testing"

	"github.com/mlflowtrace/mlflowtrace-go/internal/llmspan"
)

// TestUsageAsEncodingJSON holds usage, which decodes ordinary objects
// without encoding/json, to what encoding/json's decoding of the same
// message gives: wrong types, nulls, duplicates, names in other case.
func TestUsageAsEncodingJSON(t *testing.T) {
	cases := []string{
		`{"id":"msg_1","type":"message","role":"assistant","content":[{"type":"text","text":"hi \"there\""}],"usage":{"input_tokens":12,"output_tokens":5}}`,
		`{"usage":{"input_tokens":12,"output_tokens":5,"cache_read_input_tokens":3,"cache_creation_input_tokens":4,"cache_creation":{"ephemeral_5m_input_tokens":1,"ephemeral_1h_input_tokens":3}}}`,
		`{"usage":{"input_tokens":12,"cache_read_input_tokens":null,"cache_creation_input_tokens":null,"cache_creation":null}}`,
		`{"usage":{"cache_creation":{}}}`, `{"usage":{"cache_creation":{"ephemeral_1h_input_tokens":null}}}`,
		`{"usage":{"cache_creation":{"ephemeral_1h_input_tokens":1,"ephemeral_1h_input_tokens":2}}}`,
		`{"usage":{"cache_creation":{"Ephemeral_1H_Input_Tokens":2}}}`, `{"usage":{"cache_creation":[]}}`,
		`{"usage":{"cache_creation":{"ephemeral_1h_input_tokens":"2"}}}`,
		`{"usage":{"input_tokens":1.5}}`, `{"usage":{"input_tokens":"1"}}`, `{"usage":{"input_tokens":1e2}}`,
		`{"usage":{"input_tokens":-0}}`, `{"usage":{"input_tokens":null,"output_tokens":true}}`,
		`{"usage":{"input_tokens":99999999999999999999}}`, `{"usage":{"Input_Tokens":4}}`,
		`{"usage":{"input_tokens":4,"input_tokens":5}}`, `{"usage":{"input_tokens":1},"usage":{"output_tokens":2}}`,
		`{"Usage":{"input_tokens":1}}`, `{"usage":null}`, `{"usage":[]}`, `{"usage":{}}`, `{"usage":"x"}`,
		`{"us\u0061ge":{"input_t\u006fkens":7}}`, `{}`, `[]`, `"usage"`, `12`, `null`, `{"usage":{"input_tokens":1}`, ``,
	}
	for _, c := range cases {
		var want messageUsageJSON
		err := json.Unmarshal([]byte(c), &want)
		got, ok := usage(json.RawMessage(c))
		wantOK := err == nil && want.Usage != nil
		if ok != wantOK {
			t.Errorf("usage(%s) ok = %v; encoding/json: error %v, usage %v", c, ok, err, want.Usage)
		} else if ok && !reflect.DeepEqual(got, usageOf(want.Usage)) {
			t.Errorf("usage(%s) = %+v, want %+v", c, got, usageOf(want.Usage))
		}
	}
}

// TestUsageMapping: what MLflow's _parse_usage records of a message's
// usage, written out (TestUsageAsEncodingJSON maps both sides through
// usageOf): the cache's reads and writes count as input tokens, and in the
// total.
func TestUsageMapping(t *testing.T) {
	n := func(v int) *int { return &v }
	for _, c := range []struct {
		in   string
		want llmspan.Usage
	}{
		{`{"usage":{"input_tokens":12,"output_tokens":5}}`, llmspan.Usage{InputTokens: 12, OutputTokens: 5, TotalTokens: 17}},
		{`{"usage":{"input_tokens":12,"output_tokens":5,"cache_read_input_tokens":3,"cache_creation_input_tokens":4,"cache_creation":{"ephemeral_1h_input_tokens":1}}}`,
			llmspan.Usage{InputTokens: 19, OutputTokens: 5, TotalTokens: 24, CacheReadInputTokens: n(3), CacheCreationInputTokens: n(4), CacheCreationInputTokens1hPlus: n(1)}},
	} {
		if got, ok := usage(json.RawMessage(c.in)); !ok || !reflect.DeepEqual(got, c.want) {
			t.Errorf("usage(%s) = %+v, %v; want %+v", c.in, got, ok, c.want)
		}
	}
}
