package rawjson

import (
	"encoding/json"
	"testing"
)

// TestMembersInto: the named members' text lands in dst, others are
// skipped; a name twice or in another case is not ordinary.
func TestMembersInto(t *testing.T) {
	for _, c := range []struct {
		obj  string
		ok   bool
		a, b string
		why  string
	}{
		{`{"a":1,"x":[2],"b":"s"}`, true, `1`, `"s"`, ""},
		{`{"b":null}`, true, ``, `null`, ""},
		{`{"a":1,"a":2}`, false, ``, ``, "a twice"},
		{`{"A":1}`, false, ``, ``, "a in another case"},
		{`[1]`, false, ``, ``, "not an object"},
	} {
		var a, b json.RawMessage
		ok := MembersInto([]byte(c.obj), []string{"a", "b"}, &a, &b)
		if ok != c.ok || ok && (string(a) != c.a || string(b) != c.b) {
			t.Errorf("MembersInto(%s) = %v, a=%s b=%s; want %v, a=%s b=%s %s", c.obj, ok, a, b, c.ok, c.a, c.b, c.why)
		}
	}
}
