package rawjson

import (
	"encoding/json"
	"strings"
	"testing"
)

// validCases are read by TestValid and seed FuzzValid: each is judged by
// encoding/json.Valid, the rule Valid keeps.
var validCases = []string{
	``, ` `, `null`, ` true `, `false`, `nul`, `truex`, `nullnull`,
	`0`, `-0`, `01`, `-`, `1.`, `1.5`, `.5`, `1e5`, `1E+5`, `1e-5`, `1e`, `1e+`, `-1.5e10`, `2 3`, `+1`, `0x10`,
	`""`, `"a"`, `"\""`, `"\\"`, `"\/"`, `"\b\f\n\r\t"`, `"\u00e9"`, `"\u00E9"`, `"\u00g9"`, `"\u00e"`, `"\x"`, `"\`,
	`"abc`, "\"tab\there\"", "\"nl\nhere\"", "\"\x7f\"", "\"\xff\xfe invalid utf-8\"", `"é 中文 😀"`,
	`"0123456789abcdef0123456789abcdef"`, `"0123456789abcdef\"0123456789abcdef"`, "\"0123456789abcdef\x01\"",
	`{}`, `{ }`, `[]`, `[ ]`, `{"a":1}`, `{"a" : 1 , "b" : [1, 2, {"c": null}]}`, `{"a"}`, `{"a":}`, `{"a":1,}`,
	`{,}`, `{1:2}`, `{"a":1 "b":2}`, `[1,]`, `[,1]`, `[1 2]`, `[1,,2]`, `{"a":[}`, `[{]}`, `[}`, `{]`, `[[]`, `[]]`,
	`{"a":{"b":{"c":[[[["deep"]]]]}}}`, `{"k\u00e9": "v", "k": "v"}`, "{\"a\":\n\t[ 1 ,\r\n 2 ]\n}",
	`{"messages":[{"role":"user","content":"Hi \"there\""}],"model":"gpt"}`,
}

func TestValid(t *testing.T) {
	for _, in := range validCases {
		if got, want := Valid([]byte(in)), json.Valid([]byte(in)); got != want {
			t.Errorf("Valid(%q) = %v, encoding/json says %v", in, got, want)
		}
	}
}

func TestValidDepth(t *testing.T) {
	for _, tt := range []struct {
		depth int
		inner string
	}{{maxDepth, ""}, {maxDepth + 1, ""}, {maxDepth, "1"}, {maxDepth + 1, "1"}} {
		for _, open := range []string{"[", `{"k":`} {
			closer := "]"
			if open != "[" {
				closer = "}"
			}
			// depth-1 wrappers around one array (empty or holding inner).
			in := strings.Repeat(open, tt.depth-1) + "[" + tt.inner + "]" + strings.Repeat(closer, tt.depth-1)
			if got, want := Valid([]byte(in)), json.Valid([]byte(in)); got != want {
				t.Errorf("depth %d with %q in %q: Valid = %v, encoding/json says %v", tt.depth, tt.inner, open, got, want)
			}
		}
	}
}

func FuzzValid(f *testing.F) {
	for _, in := range validCases {
		f.Add([]byte(in))
	}
	f.Fuzz(func(t *testing.T, b []byte) {
		if got, want := Valid(b), json.Valid(b); got != want {
			t.Fatalf("Valid(%q) = %v, encoding/json says %v", b, got, want)
		}
		if json.Valid(b) && len(b) > 0 {
			// skipValue, on valid text, ends where the value ends.
			i := skipSpace(b, 0)
			if end := skipSpace(b, skipValue(b, i)); end != len(b) {
				t.Fatalf("skipValue(%q) stops at %d of %d", b, end, len(b))
			}
		}
	})
}

// BenchmarkValid compares Valid with encoding/json.Valid on an LLM
// request body of about 3 KB.
func BenchmarkValid(b *testing.B) {
	body := []byte(`{"model":"gpt-4o-mini","temperature":0.2,"messages":[` +
		strings.Repeat(`{"role":"user","content":"The quick brown fox jumps over the lazy dog, \"quoted\" and é."},`, 30) +
		`{"role":"assistant","content":"ok"}],"tools":[{"type":"function","function":{"name":"get_weather","parameters":{"type":"object","properties":{"city":{"type":"string"}}}}}]}`)
	for _, impl := range []struct {
		name  string
		valid func([]byte) bool
	}{{"rawjson", Valid}, {"encoding-json", json.Valid}} {
		b.Run(impl.name, func(b *testing.B) {
			b.ReportAllocs()
			b.SetBytes(int64(len(body)))
			for b.Loop() {
				if !impl.valid(body) {
					b.Fatal("invalid")
				}
			}
		})
	}
}
