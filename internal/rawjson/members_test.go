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

// TestSetPointer decodes a member into a pointer field as encoding/json
// does: null is nil, an object a new value, anything else (or an object
// Decode cannot read as a T) fails.
func TestSetPointer(t *testing.T) {
	type inner struct {
		N *int `json:"n"`
	}
	type outer struct {
		In *inner `json:"in"`
	}
	names := []string{"n"}
	for _, in := range []string{
		`{"in":{"n":3}}`, `{"in":null}`, `{"in":{}}`, `{"in":{"n":null}}`, `{"in":{"n":1.5}}`, `{"in":{"n":"3"}}`,
		`{"in":[]}`, `{"in":3}`, `{"in":{"n":1,"n":2}}`, `{"in":{"N":4}}`, `{}`,
	} {
		var want outer
		wantErr := json.Unmarshal([]byte(in), &want)
		got, ok := Decode([]byte(in), []string{"in"}, func(o *outer, _ int, v json.RawMessage) bool {
			return SetPointer(&o.In, v, names, func(i *inner, _ int, v json.RawMessage) bool { return SetIntPointer(&i.N, v) })
		})
		if ok != (wantErr == nil) {
			t.Errorf("%s: ok %v, encoding/json error %v", in, ok, wantErr)
			continue
		}
		if !ok {
			continue
		}
		gb, _ := json.Marshal(got)
		wb, _ := json.Marshal(want)
		if string(gb) != string(wb) {
			t.Errorf("%s: got %s, encoding/json gives %s", in, gb, wb)
		}
	}
}
