package rawjson

import (
	"encoding/json"
	"math/rand/v2"
	"testing"
)

// unquoteCases are string literals with every kind of escape, surrogates
// joined and lone, invalid UTF-8, and invalid literals.
var unquoteCases = []string{
	`""`, `"plain"`, `"a\"b\\c\/d"`, `"\b\f\n\r\t"`, `"\u00e9\u4e2d"`, `"caf\u00E9"`,
	`"\ud83d\ude00"`, `"\ud83d"`, `"\ud83dx"`, `"\ude00\ud83d"`, `"\ud83d\u0041"`, `"\ud83d\ud83d\ude00"`,
	`"\ud83d\"`, `"\u12"`, `"\u12G4"`, `"\x"`, `"a\"`, "\"tab\there\"", "\"nl\nhere\"", `"quote"inside"`,
	"\"\xff\xfe\"", "\"a\xc3\"", "\"\xe2\x82\xac euro\"", "\"\xed\xa0\x80 encoded surrogate\"",
	`"{\"city\":\"Paris\",\"unit\":\"celsius\"}"`, `"`, `x"`, `"x`, `42`, `"é ü 中 😀"`,
}

func TestAppendUnquotedAsEncodingJSON(t *testing.T) {
	check := func(lit string) {
		t.Helper()
		var want string
		wantErr := json.Unmarshal([]byte(lit), &want)
		got, ok := AppendUnquoted([]byte("prefix:"), []byte(lit))
		switch {
		case wantErr != nil && ok:
			t.Errorf("AppendUnquoted(%q) = %q, ok; encoding/json: %v", lit, got, wantErr)
		case wantErr != nil:
			if string(got) != "prefix:" {
				t.Errorf("AppendUnquoted(%q) refused but left %q", lit, got)
			}
		case !ok:
			t.Errorf("AppendUnquoted(%q) refused; encoding/json: %q", lit, want)
		case string(got) != "prefix:"+want:
			t.Errorf("AppendUnquoted(%q) = %q, want %q", lit, got[len("prefix:"):], want)
		}
	}
	for _, lit := range unquoteCases {
		check(lit)
	}
	// Random literals over an alphabet of escape pieces and raw bytes.
	pieces := []string{`a`, `\"`, `\\`, `\/`, `\n`, `\t`, `\u00e9`, `\ud83d`, `\ude00`, `\uDBFF`, `\uDFFF`, `\u0000`,
		`\`, `"`, "\x01", "\xff", "\xc3", "\xa9", "é", "😀", ` `, `u`, `d83d`}
	r := rand.New(rand.NewPCG(1, 2))
	for range 20000 {
		b := []byte{'"'}
		for range r.IntN(8) {
			b = append(b, pieces[r.IntN(len(pieces))]...)
		}
		check(string(append(b, '"')))
	}
}

func BenchmarkAppendUnquoted(b *testing.B) {
	lit := []byte(`"{\"city\":\"Paris\",\"unit\":\"celsius\",\"note\":\"caf\u00e9 \ud83d\ude00\"}"`)
	b.Run("AppendUnquoted", func(b *testing.B) {
		b.ReportAllocs()
		var dst []byte
		for b.Loop() {
			dst, _ = AppendUnquoted(dst[:0], lit)
		}
	})
	b.Run("json.Unmarshal", func(b *testing.B) {
		b.ReportAllocs()
		for b.Loop() {
			var s string
			_ = json.Unmarshal(lit, &s)
		}
	})
}

// FuzzAppendUnquoted holds AppendUnquoted to json.Unmarshal into a string:
// the same text, or both refuse.
func FuzzAppendUnquoted(f *testing.F) {
	for _, c := range unquoteCases {
		f.Add([]byte(c))
	}
	f.Fuzz(func(t *testing.T, lit []byte) {
		var want string
		wantErr := json.Unmarshal(lit, &want)
		got, ok := AppendUnquoted(nil, lit)
		if wantErr != nil {
			// encoding/json also refuses what is not a string literal
			// (numbers, objects, space around it) that AppendUnquoted
			// must refuse too.
			if ok {
				t.Fatalf("AppendUnquoted(%q) = %q, ok; encoding/json: %v", lit, got, wantErr)
			}
			return
		}
		if len(lit) == 0 || lit[0] != '"' || lit[len(lit)-1] != '"' {
			return // valid JSON that is not a bare string literal: not AppendUnquoted's input
		}
		if !ok || string(got) != want {
			t.Fatalf("AppendUnquoted(%q) = %q, %v; want %q", lit, got, ok, want)
		}
	})
}
