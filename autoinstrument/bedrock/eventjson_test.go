package bedrock

import (
	"testing"

	"github.com/mlflowtrace/mlflowtrace-go/internal/encode"
	"github.com/mlflowtrace/mlflowtrace-go/internal/llmspan"
)

// TestEventJSONMatchesRedump holds eventJSON to Redump of the object
// without "p", as it was first written.
func TestEventJSONMatchesRedump(t *testing.T) {
	for _, in := range []string{
		`{"contentBlockIndex":0,"delta":{"text":"Hé\u2028 \"q\""},"p":"abcdef"}`,
		`{"metrics":{"latencyMs":1.50},"usage":{"inputTokens":3,"outputTokens":1e2,"totalTokens":-0}}`,
		`{"p":"only"}`, `{}`, `{"k\u00e9y":[1, 2.0, {"a":null}],"b":true}`, `{"a":1,"a":2}`,
	} {
		fields, err := llmspan.ObjectFields([]byte(in))
		if err != nil {
			t.Fatal(err)
		}
		var o llmspan.Object
		for _, f := range fields {
			if f.Key != "p" {
				o.Set(f.Key, f.Value)
			}
		}
		want, wantOK := encode.Redump(o.JSON(), true)
		if got, ok := eventJSON(fields); got != want || ok != wantOK {
			t.Errorf("eventJSON(%s) = %s, %v; Redump gives %s, %v", in, got, ok, want, wantOK)
		}
	}
}
