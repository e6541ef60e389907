package genai

import (
	"bytes"
	"encoding/json"
	"testing"
)

// TestCompactMatchesJSONCompact holds compact's shortcut to json.Compact's
// result (the value itself when Compact fails).
func TestCompactMatchesJSONCompact(t *testing.T) {
	for _, in := range []string{
		`"a b\"  c\\"`, `12.5`, `true`, `null`, `{"a":[1,2],"b":"x y"}`, `{"a": 1}`, "[1,\n2]", `"\t"`, ``, `{"a":`, `"unterminated`,
	} {
		var b bytes.Buffer
		want := []byte(in)
		if json.Compact(&b, []byte(in)) == nil {
			want = b.Bytes()
		}
		if got := compact(json.RawMessage(in)); !bytes.Equal(got, want) {
			t.Errorf("compact(%q) = %q, json.Compact gives %q", in, got, want)
		}
	}
}
