package encode

import (
	"bytes"
	"encoding/json"
	"errors"
	"fmt"
	"math"
	"strings"
	"testing"
	"time"
	"unicode/utf8"
)

type inner struct {
	A int    `json:"a"`
	B string `json:"b,omitempty"`
}

type Embedded struct {
	E1 int
	E2 string `json:"e2"`
}

type outer struct {
	Embedded
	X      int               `json:"x"`
	Y      *inner            `json:"y"`
	Z      []inner           `json:"z"`
	M      map[string]int    `json:"m"`
	Skip   int               `json:"-"`
	priv   int               //nolint:unused
	Q      int64             `json:"q,string"`
	O      *int              `json:"o,omitempty"`
	T      time.Time         `json:"t"`
	Raw    json.RawMessage   `json:"raw"`
	Bytes  []byte            `json:"bytes"`
	IntMap map[int]string    `json:"int_map"`
	Iface  any               `json:"iface"`
	Arr    [2]bool           `json:"arr"`
	Nested map[string][]any  `json:"nested"`
	Str    map[string]string `json:"str"`
}

// compact turns Python-style JSON into encoding/json's compact form.
func compact(t *testing.T, s string) string {
	t.Helper()
	var b bytes.Buffer
	if err := json.Compact(&b, []byte(s)); err != nil {
		t.Fatalf("invalid JSON %q: %v", s, err)
	}
	return b.String()
}

func goJSON(t *testing.T, v any) string {
	t.Helper()
	var b bytes.Buffer
	enc := json.NewEncoder(&b)
	enc.SetEscapeHTML(false)
	if err := enc.Encode(v); err != nil {
		t.Fatal(err)
	}
	return strings.TrimSuffix(b.String(), "\n")
}

func TestJSONMatchesEncodingJSON(t *testing.T) {
	n := 5
	values := map[string]any{
		"struct": outer{
			Embedded: Embedded{E1: 1, E2: "e"},
			X:        2, Y: &inner{A: 3}, Z: []inner{{A: 4, B: "<b>&"}},
			M: map[string]int{"b": 2, "a": 1}, Skip: 9, priv: 1, Q: 77, O: &n,
			T:   time.Date(2024, 1, 2, 3, 4, 5, 6, time.UTC),
			Raw: json.RawMessage(`{"z": 1,  "a":[1,2]}`), Bytes: []byte("hi"),
			IntMap: map[int]string{10: "x", 2: "y"}, Iface: map[string]any{"k": []any{1, "s", nil, true}},
			Nested: map[string][]any{"n": {map[string]any{"deep": "é"}}}, Str: map[string]string{"b": "1", "a": "2"},
		},
		"nil slice":    []int(nil),
		"empty map":    map[string]any{},
		"ptr to int":   &n,
		"nil ptr":      (*inner)(nil),
		"string slice": []string{"a", "b\n"},
		"named string": time.Month(3),
		"bytes":        []byte{0, 1, 2, 250},
		"int keys":     map[int64]bool{-1: true, 3: false},
	}
	for name, v := range values {
		t.Run(name, func(t *testing.T) {
			got := compact(t, JSON(v))
			want := goJSON(t, v)
			if got != want {
				t.Errorf("JSON mismatch\n got: %s\nwant: %s", got, want)
			}
		})
	}
}

type badMarshaler struct{}

func (badMarshaler) MarshalJSON() ([]byte, error) { return nil, errors.New("boom") }

type panicMarshaler struct{}

func (panicMarshaler) MarshalJSON() ([]byte, error) { panic("kaboom") }

type invalidMarshaler struct{}

func (invalidMarshaler) MarshalJSON() ([]byte, error) { return []byte(`{"a":`), nil }

type okMarshaler struct{}

func (okMarshaler) MarshalJSON() ([]byte, error) {
	return []byte(`{"z":1,"a":"x\u003cy","b":[1,2.50,{}]}`), nil
}

type ptrMarshaler struct{ V int }

func (p *ptrMarshaler) MarshalJSON() ([]byte, error) { return []byte(`"ptr"`), nil }

type node struct {
	Name string `json:"name"`
	Next *node  `json:"next"`
}

type textKey struct{ a, b int }

func (k textKey) MarshalText() ([]byte, error) { return []byte("tk"), nil }

type errStruct struct{ Code int }

func (e *errStruct) Error() string { return "code error" }

type panicError struct{}

func (panicError) Error() string { panic("no") }

func TestJSONEdgeCases(t *testing.T) {
	selfMap := map[string]any{"a": 1}
	selfMap["self"] = selfMap
	selfSlice := []any{1, nil}
	selfSlice[1] = selfSlice
	cyc := &node{Name: "a"}
	cyc.Next = &node{Name: "b", Next: cyc}
	shared := map[string]any{"x": 1}
	dag := map[string]any{"l": shared, "r": shared}
	tests := []struct {
		name string
		in   any
		want string
	}{
		{"nil", nil, `null`},
		{"string", "héllo \"w\"\n\x01\x7f<>&\u2028", "\"héllo \\\"w\\\"\\n\\u0001\x7f<>&\u2028\""},
		{"invalid utf8", "a\xffb", "\"a\uFFFDb\""},
		{"bool", true, `true`},
		{"int", -42, `-42`},
		{"uint64 max", uint64(math.MaxUint64), `18446744073709551615`},
		{"float integral", 1.0, `1.0`},
		{"float", 2.5, `2.5`},
		{"float32", float32(0.1), `0.1`},
		{"float big", 1e16, `1e+16`},
		{"float 1e15", 1e15, `1000000000000000.0`},
		{"float small", 0.00001, `1e-05`},
		{"float 1e-4", 0.0001, `0.0001`},
		{"float 1.5e-7", 1.5e-7, `1.5e-07`},
		{"float 1.2345678901234568e+17", 123456789012345678.0, `1.2345678901234568e+17`},
		{"float max", math.MaxFloat64, `1.7976931348623157e+308`},
		{"float min", 5e-324, `5e-324`},
		{"neg zero", math.Copysign(0, -1), `-0.0`},
		{"NaN", math.NaN(), `"NaN"`},
		{"+Inf", math.Inf(1), `"Infinity"`},
		{"-Inf", math.Inf(-1), `"-Infinity"`},
		{"NaN inside", map[string]any{"a": 1, "b": math.NaN()}, `{"a": 1, "b": "NaN"}`},
		{"chan", make(chan int), `"<chan int>"`},
		{"func", func() {}, `"<func()>"`},
		{"chan inside", []any{1, make(chan string), "x"}, `[1, "<chan string>", "x"]`},
		{"complex", complex(1, 2), `"(1+2i)"`},
		{"map python style", map[string]any{"b": []any{1, 2}, "a": map[string]any{}}, `{"a": {}, "b": [1, 2]}`},
		{"self map", selfMap, `{"a": 1, "self": "<cycle map[string]interface {}>"}`},
		{"self slice", selfSlice, `[1, "<cycle []interface {}>"]`},
		{"pointer cycle", cyc, `{"name": "a", "next": {"name": "b", "next": "<cycle *encode.node>"}}`},
		{"shared is not a cycle", dag, `{"l": {"x": 1}, "r": {"x": 1}}`},
		{"marshaler error", badMarshaler{}, `"<encode.badMarshaler: boom>"`},
		{"marshaler panic", panicMarshaler{}, `"<encode.panicMarshaler: panic in MarshalJSON: kaboom>"`},
		{"marshaler invalid", invalidMarshaler{}, `"<encode.invalidMarshaler: invalid JSON from MarshalJSON>"`},
		{"marshaler reformatted", okMarshaler{}, `{"z": 1, "a": "x<y", "b": [1, 2.50, {}]}`},
		{"bad part only", map[string]any{"ok": 1, "bad": badMarshaler{}}, `{"bad": "<encode.badMarshaler: boom>", "ok": 1}`},
		{"ptr marshaler via addressable field", &struct{ P ptrMarshaler }{}, `{"P": "ptr"}`},
		{"ptr marshaler field not addressable", struct{ P ptrMarshaler }{}, `{"P": {"V": 0}}`},
		{"ptr marshaler value not addressable", ptrMarshaler{V: 1}, `{"V": 1}`},
		{"nil ptr marshaler", (*ptrMarshaler)(nil), `null`},
		{"text key", map[textKey]int{{1, 2}: 3}, `{"tk": 3}`},
		{"float keys", map[float64]int{1.5: 1}, `{"1.5": 1}`},
		{"error", errors.New("it failed"), `"it failed"`},
		{"error struct", &errStruct{Code: 3}, `"code error"`},
		{"error panics", panicError{}, `"panic in Error: no"`},
		{"error in map", map[string]any{"err": errors.New("x")}, `{"err": "x"}`},
		{"json.Number", json.Number("12.50"), `12.50`},
		{"bad json.Number", json.Number("abc"), `"abc"`},
		{"raw message", json.RawMessage(`[1,{"a":"b"}]`), `[1, {"a": "b"}]`},
		{"unicode escape kept as char", json.RawMessage(`"\u00e9\n"`), `"é\n"`},
		{"valid JSON as raw message", ValidJSON(` [1,{"a":"\u00e9"}] `), `[1, {"a": "é"}]`},
		{"empty valid JSON as raw message", ValidJSON(nil), `"<json.RawMessage: invalid JSON from MarshalJSON>"`},
		{"valid JSON inside", map[string]any{"v": ValidJSON(`{"b":2}`)}, `{"v": {"b": 2}}`},
		{"valid JSON in a struct", struct{ V ValidJSON }{ValidJSON(`[1,2]`)}, `{"V": [1, 2]}`},
		{"formatted as is", Formatted(`{"a": [1, 2]}`), `{"a": [1, 2]}`},
		{"formatted inside", []any{Formatted(`{"a": 1}`)}, `[{"a": 1}]`},
		{"formatted in a struct", struct{ F Formatted }{Formatted(`{"a": 1}`)}, `{"F": {"a": 1}}`},
		{"time", time.Date(2024, 1, 2, 3, 4, 5, 0, time.UTC), `"2024-01-02T03:04:05Z"`},
		{"struct with func field", struct {
			F func() `json:"f"`
			A int    `json:"a"`
		}{A: 1}, `{"f": "<func()>", "a": 1}`},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			got := JSON(tt.in)
			if got != tt.want {
				t.Errorf("JSON(%s)\n got: %s\nwant: %s", tt.name, got, tt.want)
			}
			if !json.Valid([]byte(got)) {
				t.Errorf("not valid JSON: %s", got)
			}
			if string(AppendJSON([]byte("x"), tt.in)) != "x"+tt.want {
				t.Errorf("AppendJSON differs")
			}
		})
	}
}

func TestJSONDeepNesting(t *testing.T) {
	var v any = 1
	for i := 0; i < 2*maxDepth; i++ {
		v = []any{v}
	}
	got := JSON(v)
	if !json.Valid([]byte(got)) {
		t.Fatal("not valid JSON")
	}
	if !strings.Contains(got, "<max depth exceeded>") {
		t.Fatal("depth limit not applied")
	}
}

func TestJSONHugeString(t *testing.T) {
	s := strings.Repeat("é\"x", 1<<20)
	got := JSON(s)
	var back string
	if err := json.Unmarshal([]byte(got), &back); err != nil || back != s {
		t.Fatalf("round trip failed: %v", err)
	}
}

func TestTruncate(t *testing.T) {
	tests := []struct {
		in   string
		max  int
		want string
	}{
		{"hello", 10, "hello"},
		{"hello", 5, "hello"},
		{"hello world", 8, "hello..."},
		{"héllo wörld", 8, "héllo..."},
		{"日本語のテキストです", 5, "日本..."},
		{"😀😀😀😀😀", 4, "😀..."},
		{"abc", 0, "abc"},
		{"abc", -1, "abc"},
		{"abcdef", 3, "..."},
		{"abcdef", 2, "..."},
		{"", 3, ""},
	}
	for _, tt := range tests {
		if got := Truncate(tt.in, tt.max); got != tt.want {
			t.Errorf("Truncate(%q, %d) = %q, want %q", tt.in, tt.max, got, tt.want)
		}
	}
}

// runeOffset skips ASCII eight bytes at a time: it must agree with a plain
// rune-by-rune walk (invalid bytes one rune each) at every n, with the
// multi-byte characters at every position of an eight-byte word.
func TestRuneOffsetAgreesWithRuneWalk(t *testing.T) {
	walk := func(s string, n int) int {
		i := 0
		for ; n > 0 && i < len(s); n-- {
			_, size := utf8.DecodeRuneInString(s[i:])
			i += size
		}
		return i
	}
	var inputs []string
	for _, odd := range []string{"é", "日", "😀", "\xff", "\xe6\x97", "\x7f"} {
		for pos := range 17 {
			inputs = append(inputs, strings.Repeat("a", pos)+odd+strings.Repeat("b", 20)+odd)
		}
	}
	inputs = append(inputs, "", "short", strings.Repeat("x", 64))
	for _, s := range inputs {
		for n := 0; n <= len(s)+2; n++ {
			if got, want := runeOffset(s, n), walk(s, n); got != want {
				t.Fatalf("runeOffset(%q, %d) = %d, want %d", s, n, got, want)
			}
		}
	}
}

func TestAppendStringASCII(t *testing.T) {
	got := string(AppendString(nil, "\x7f\u2028<>&\x01 é😀", true))
	want := `"\u007f\u2028<>&\u0001 \u00e9\ud83d\ude00"`
	if got != want {
		t.Fatalf("got %s want %s", got, want)
	}
}

// pyString is json.dumps of one str, written rune by rune as the Python
// documentation states it: the oracle of AppendString.
func pyString(s string, ascii bool) string {
	var b strings.Builder
	b.WriteByte('"')
	u4 := func(r rune) { fmt.Fprintf(&b, `\u%04x`, r) }
	for i := 0; i < len(s); {
		r, size := utf8.DecodeRuneInString(s[i:])
		i += size
		switch {
		case r == '"':
			b.WriteString(`\"`)
		case r == '\\':
			b.WriteString(`\\`)
		case r == '\n':
			b.WriteString(`\n`)
		case r == '\r':
			b.WriteString(`\r`)
		case r == '\t':
			b.WriteString(`\t`)
		case r == '\b':
			b.WriteString(`\b`)
		case r == '\f':
			b.WriteString(`\f`)
		case r < 0x20:
			u4(r)
		case ascii && r > 0xFFFF:
			u4(0xD800 + (r-0x10000)>>10)
			u4(0xDC00 + (r-0x10000)&0x3FF)
		case ascii && r >= 0x7f:
			u4(r) // an invalid byte decodes as U+FFFD
		default:
			b.WriteRune(r) // an invalid byte decodes as U+FFFD
		}
	}
	b.WriteByte('"')
	return b.String()
}

// AppendString's eight-byte scan writes what json.dumps writes (pyString), for escapes at every offset of a word and at the
// end of the string, in both modes.
func TestAppendStringMatchesReference(t *testing.T) {
	specials := []string{`"`, `\`, "\n", "\x01", "\x1f", "\x7f", "é", "😀", "\xff", "\u2028", " ", "~"}
	for _, sp := range specials {
		for pre := range 20 {
			for post := range 10 {
				s := strings.Repeat("a", pre) + sp + strings.Repeat("b", post)
				for _, ascii := range []bool{false, true} {
					got := string(AppendString(nil, s, ascii))
					want := pyString(s, ascii)
					if got != want {
						t.Fatalf("AppendString(%q, %v) = %s, want %s", s, ascii, got, want)
					}
				}
			}
		}
	}
}

// QuotedLen is the length AppendString writes, in both modes.
func TestQuotedLen(t *testing.T) {
	specials := []string{`"`, `\\`, "\n", "\x01", "\x7f", "é", "😀", "\xff", `""`, `\"`}
	for _, sp := range specials {
		for pre := range 17 {
			for post := range 10 {
				s := strings.Repeat(`a"`, pre/2) + strings.Repeat("a", pre%2) + sp + strings.Repeat("b", post)
				for _, ascii := range []bool{false, true} {
					if got, want := QuotedLen(s, ascii), len(AppendString(nil, s, ascii)); got != want {
						t.Fatalf("QuotedLen(%q, %v) = %d, want %d", s, ascii, got, want)
					}
				}
			}
		}
	}
}

func FuzzAppendString(f *testing.F) {
	for _, s := range []string{"", "plain ascii text here", `{"q": "x", "k": [1, 2]}`, "é😀\x7f\x00\xff"} {
		f.Add(s)
	}
	f.Fuzz(func(t *testing.T, s string) {
		for _, ascii := range []bool{false, true} {
			got, want := string(AppendString(nil, s, ascii)), pyString(s, ascii)
			if got != want {
				t.Fatalf("AppendString(%q, %v) = %s, want %s", s, ascii, got, want)
			}
			if n := QuotedLen(s, ascii); n != len(want) {
				t.Fatalf("QuotedLen(%q, %v) = %d, want %d", s, ascii, n, len(want))
			}
		}
	})
}

// ASCIILen counts what json.dumps(ensure_ascii=True) writes: the length of
// the text re-encoded by AppendString in that mode, for any string body.
func TestASCIILen(t *testing.T) {
	for _, c := range []struct {
		in   string
		want int
	}{{`"a"`, 3}, {`"é"`, 8}, {`"😀"`, 14}, {"\"\x7f\"", 8}, {`"你好"`, 14}, {`"0123456789abcdefé"`, 24}, {"\"0123456\x7f89abcdef\"", 23}} {
		if got := ASCIILen([]byte(c.in)); got != c.want {
			t.Errorf("ASCIILen(%q) = %d, want %d", c.in, got, c.want)
		}
	}
	for _, sp := range []string{"é", "😀", "\x7f", "a", "你"} {
		for pre := range 17 {
			s := strings.Repeat("x", pre) + sp + strings.Repeat("y", 9)
			plain := AppendString(nil, s, false)
			if got, want := ASCIILen(plain), len(AppendString(nil, s, true)); got != want {
				t.Errorf("ASCIILen(%q) = %d, want %d", plain, got, want)
			}
		}
	}
}
