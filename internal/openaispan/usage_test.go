package openaispan

import (
	"encoding/json"
	"reflect"
	"testing"

	"github.com/mlflowtrace/mlflowtrace-go/internal/llmspan"
)

// TestUsageDecodersAsEncodingJSON holds chatUsage's and responsesUsage's
// decoding without reflection to json.Unmarshal into the same structs.
func TestUsageDecodersAsEncodingJSON(t *testing.T) {
	cases := []string{
		`{"prompt_tokens":82,"completion_tokens":17,"total_tokens":99,"prompt_tokens_details":{"cached_tokens":5,"audio_tokens":0},"completion_tokens_details":{"reasoning_tokens":0}}`,
		`{"prompt_tokens":1,"completion_tokens":2,"total_tokens":3}`,
		`{"prompt_tokens":1,"prompt_tokens_details":null,"cache_read_input_tokens":7,"cache_creation_input_tokens":3}`,
		`{"prompt_tokens":1,"prompt_tokens_details":{"cached_tokens":null},"cache_read_input_tokens":7}`,
		`{"prompt_tokens":1,"prompt_tokens_details":{}}`,
		`{"prompt_tokens":1.5}`, `{"prompt_tokens":"1"}`, `{"prompt_tokens":1e2}`, `{"prompt_tokens":-0}`,
		`{"prompt_tokens":null,"total_tokens":true}`, `{"prompt_tokens":99999999999999999999}`,
		`{"Prompt_Tokens":4}`, `{"prompt_tokens":4,"prompt_tokens":5}`, `{"prompt_tokens_details":[]}`,
		`{"prompt_tokens_details":{"Cached_Tokens":2}}`, `{"prompt_tokens_details":{"cached_tokens":2,"cached_tokens":3}}`,
		`{"prompt_tokens_details":{"cached_tokens":"2"}}`, `{"cache_creation_input_tokens":{}}`,
		`{"input_tokens":10,"output_tokens":4,"total_tokens":14,"input_tokens_details":{"cached_tokens":2},"output_tokens_details":{"reasoning_tokens":1}}`,
		`{"input_tokens":10,"input_tokens_details":null}`, `{"input_tokens":10,"input_tokens_details":{"cached_tokens":1.0}}`,
		`{"INPUT_TOKENS":3}`, `[]`, `"usage"`, `12`, `{}`,
	}
	for _, c := range cases {
		var wantChat chatUsageJSON
		chatErr := json.Unmarshal([]byte(c), &wantChat)
		got, ok := chatUsage(json.RawMessage(c))
		if ok != (chatErr == nil) {
			t.Errorf("chatUsage(%s) ok = %v, encoding/json error %v", c, ok, chatErr)
		} else if ok {
			want := chatUsageOf(wantChat)
			if !reflect.DeepEqual(got, want) {
				t.Errorf("chatUsage(%s) = %+v, want %+v", c, got, want)
			}
		}
		var wantResp responsesUsageJSON
		respErr := json.Unmarshal([]byte(c), &wantResp)
		gotResp, ok := responsesUsage(json.RawMessage(c))
		if ok != (respErr == nil) {
			t.Errorf("responsesUsage(%s) ok = %v, encoding/json error %v", c, ok, respErr)
		} else if want := responsesUsageOf(wantResp); ok && !reflect.DeepEqual(gotResp, want) {
			t.Errorf("responsesUsage(%s) = %+v, want %+v", c, gotResp, want)
		}
	}
}

// TestUsageMapping: what MLflow records of a chat and a Responses usage,
// written out (TestUsageDecodersAsEncodingJSON maps both sides through
// chatUsageOf and responsesUsageOf, so it checks the decoding only).
func TestUsageMapping(t *testing.T) {
	n := func(v int) *int { return &v }
	chat := []struct {
		in   string
		want llmspan.Usage
	}{
		{`{"prompt_tokens":82,"completion_tokens":17,"total_tokens":99,"prompt_tokens_details":{"cached_tokens":5}}`,
			llmspan.Usage{InputTokens: 82, OutputTokens: 17, TotalTokens: 99, CacheReadInputTokens: n(5)}},
		{`{"prompt_tokens":1,"completion_tokens":2,"total_tokens":3,"cache_read_input_tokens":7,"cache_creation_input_tokens":3}`,
			llmspan.Usage{InputTokens: 1, OutputTokens: 2, TotalTokens: 3, CacheReadInputTokens: n(7), CacheCreationInputTokens: n(3)}},
		{`{"prompt_tokens":1,"prompt_tokens_details":{"cached_tokens":null},"cache_read_input_tokens":7}`,
			llmspan.Usage{InputTokens: 1, CacheReadInputTokens: n(7)}},
	}
	for _, c := range chat {
		if got, ok := chatUsage(json.RawMessage(c.in)); !ok || !reflect.DeepEqual(got, c.want) {
			t.Errorf("chatUsage(%s) = %+v, %v; want %+v", c.in, got, ok, c.want)
		}
	}
	resp := []struct {
		in   string
		want llmspan.Usage
	}{
		{`{"input_tokens":10,"output_tokens":4,"total_tokens":14,"input_tokens_details":{"cached_tokens":2},"output_tokens_details":{"reasoning_tokens":1}}`,
			llmspan.Usage{InputTokens: 10, OutputTokens: 4, TotalTokens: 14, CacheReadInputTokens: n(2)}},
		{`{"input_tokens":10,"input_tokens_details":null}`, llmspan.Usage{InputTokens: 10}},
	}
	for _, c := range resp {
		if got, ok := responsesUsage(json.RawMessage(c.in)); !ok || !reflect.DeepEqual(got, c.want) {
			t.Errorf("responsesUsage(%s) = %+v, %v; want %+v", c.in, got, ok, c.want)
		}
	}
}
