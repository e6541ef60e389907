package encode

import (
	"bytes"
	"encoding/json"
	"errors"
	"math"
	"strings"
	"testing"

	"github.com/mlflowtrace/mlflowtrace-go/internal/pyenv"
)

type stringer struct{}

func (stringer) String() string { return "I am 'it'" }

func TestPyStr(t *testing.T) {
	var nilPtr *int
	n := 7
	for _, c := range []struct {
		v    any
		want string
	}{
		{"plain", "plain"},
		{nil, "None"},
		{true, "True"},
		{false, "False"},
		{42, "42"},
		{int64(-3), "-3"},
		{uint8(200), "200"},
		{1.0, "1.0"},
		{0.1, "0.1"},
		{1e16, "1e+16"},
		{1e-5, "1e-05"},
		{float32(0.1), "0.1"},
		{math.NaN(), "nan"},
		{math.Inf(-1), "-inf"},
		{json.Number("3"), "3"},
		{json.Number("3.50"), "3.5"},
		{[]any{1, "a", nil, 2.5, true}, "[1, 'a', None, 2.5, True]"},
		{[]string{"it's", `say "hi"`, "both ' \"", "tab\tnew\nline\\"}, `["it's", 'say "hi"', 'both \' "', 'tab\tnew\nline\\']`},
		{map[string]any{"b": 1, "a": []int{1, 2}}, "{'a': [1, 2], 'b': 1}"},
		{[]string(nil), "[]"},
		{nilPtr, "None"},
		{&n, "7"},
		{errors.New("boom"), "boom"},
		{stringer{}, "I am 'it'"},
		{[]any{stringer{}}, `["I am 'it'"]`},
		{[]byte("bytes"), "bytes"},
		{[]string{"\x00\x7f é \u00a0 \u200b \U0001F600 \U000E0001"}, `['\x00\x7f é \xa0 \u200b 😀 \U000e0001']`},
	} {
		if got := PyStr(c.v); got != c.want {
			t.Errorf("PyStr(%#v) = %s, want %s", c.v, got, c.want)
		}
	}
	cyc := []any{nil}
	cyc[0] = cyc
	if got := PyStr(cyc); !strings.Contains(got, "...") {
		t.Errorf("cyclic value: %s", got)
	}
}

// TestPyStrMatchesPython: str() of JSON values as Python's json.loads reads
// them (objects with sorted keys: a Go map has no order).
func TestPyStrMatchesPython(t *testing.T) {
	py := pyenv.Python(t)
	docs := []string{
		`"x"`, `null`, `true`, `0`, `-12`, `1.5`, `2.0`, `1e300`, `123456789012345678`, `1e-7`, `0.30000000000000004`,
		`[1, "two", null, false, 3.25, [], {}]`,
		`{"a": "it's", "b": ["\"q\"", "\\", "\n\t\r", "\u0001", "é", "\u00a0", "\u2028", "\ud83d\ude00"], "c": {"d": null}}`,
		`["mixed ' and \"", "\u0085", "\u00ad", "\u0378"]`,
	}
	out := pyenv.Run(t, py, `
import json, sys
print(json.dumps([str(json.loads(d)) for d in json.loads(sys.argv[1])]))
`, func() string { b, _ := json.Marshal(docs); return string(b) }())
	var want []string
	if err := json.Unmarshal(out, &want); err != nil {
		t.Fatalf("%v: %s", err, out)
	}
	for i, d := range docs {
		dec := json.NewDecoder(bytes.NewReader([]byte(d)))
		dec.UseNumber()
		var v any
		if err := dec.Decode(&v); err != nil {
			t.Fatal(err)
		}
		if got := PyStr(v); got != want[i] {
			t.Errorf("%s: PyStr = %q, Python %q", d, got, want[i])
		}
	}
}

// orderedDict is a PyDict: a mapping that keeps its keys' order.
type orderedDict struct {
	keys []string
	vals []any
}

func (d *orderedDict) PyItems() ([]string, []any) { return d.keys, d.vals }

func TestPyDictAndRepr(t *testing.T) {
	d := &orderedDict{keys: []string{"z", "it's", "a"}, vals: []any{1, []any{"x"}, &orderedDict{keys: []string{"k"}, vals: []any{nil}}}}
	if got, want := PyStr(d), `{'z': 1, "it's": ['x'], 'a': {'k': None}}`; got != want {
		t.Errorf("PyStr(dict) = %s, want %s (keys in their order)", got, want)
	}
	if got := PyStr([]any{d}); !strings.HasPrefix(got, "[{'z': 1,") {
		t.Errorf("PyStr([dict]) = %s", got)
	}
	if got := PyStr((*orderedDict)(nil)); got != "None" {
		t.Errorf("PyStr(nil dict) = %s, want None", got)
	}
	for v, want := range map[any]string{"a": "'a'", `it's a\b`: `"it's a\\b"`, 2.0: "2.0", nil: "None"} {
		if got := PyRepr(v); got != want {
			t.Errorf("PyRepr(%#v) = %s, want %s", v, got, want)
		}
	}
}
