package llmspan

import (
	"encoding/json"
	"testing"
)

// TestObjectSetMatchesMarshal holds Object.Set's writing of ints and
// strings without reflection to json.Marshal's.
func TestObjectSetMatchesMarshal(t *testing.T) {
	for _, v := range []any{0, -7, 1 << 40, "", "plain text", "quote \" and \\", "<html>&", "é", "\u2028", "ctl\n", "a\xffb"} {
		var o Object
		o.Set("k", v)
		want, _ := json.Marshal(map[string]any{"k": v})
		if got := string(o.JSON()); got != string(want) {
			t.Errorf("Set(%q) = %s, json.Marshal gives %s", v, got, want)
		}
	}
}

// TestUsageJSON holds the usage Set writes to json.Marshal of the struct
// (its field order) and, with TotalLast, to Bedrock's order.
func TestUsageJSON(t *testing.T) {
	usages := []Usage{
		{InputTokens: 3, OutputTokens: 4, TotalTokens: 7},
		{InputTokens: 3, OutputTokens: 4, TotalTokens: 7, CacheReadInputTokens: Int(0), CacheCreationInputTokens: Int(2), CacheCreationInputTokens1hPlus: Int(1)},
	}
	for _, u := range usages {
		want, _ := json.Marshal(u)
		if got := string(u.json()); got != string(want) {
			t.Errorf("%+v: got %s, json.Marshal gives %s", u, got, want)
		}
	}
	u := usages[1]
	u.TotalLast = true
	want := `{"input_tokens":3,"output_tokens":4,"cache_read_input_tokens":0,"cache_creation_input_tokens":2,"cache_creation_input_tokens_above_1hr":1,"total_tokens":7}`
	if got := string(u.json()); got != want {
		t.Errorf("total last: got %s, want %s", got, want)
	}
}
