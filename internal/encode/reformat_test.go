package encode

import (
	"bytes"
	"encoding/json"
	"math/rand/v2"
	"os"
	"strconv"
	"testing"

	"github.com/mlflowtrace/mlflowtrace-go/internal/rawjson"
)

// reformatSamples are texts on which reformat must write what refReformat,
// its byte-at-a-time oracle, writes: escapes, DEL, non-ASCII and invalid
// UTF-8 before, across and after an eight-byte word.
var reformatSamples = []string{
	`{"city":"Paris","n":[1,-0,2.50,1e2,-3E-7,true,false,null],"o":{}}`,
	` { "a" : [ 1 , { "b" : "c" } ] , "d" :null } `,
	`{"plain key long enough for a word":"and a value that is longer than eight bytes"}`,
	`{"é":"Zürich \u00e9 \ud83d\ude00 \"q\" \\ \n\t\u0001 \u007f","del":"a` + "\x7f" + `b"}`,
	"{\"bad utf8 \xff\xfe\":\"x\xc3\"}",
	`["\u2028\u2029", "` + "\u2028" + `", "\ud800", "abcdefgh\"", "abcdefg\\\\", "abcdefgh\\u0041"]`,
	`"just a string"`, `12345678901234567890`, `-1.0e+3`, `[]`, `{}`, `[[[["deep"]]]]`,
	`{"a":"12345678","b":"1234567","c":"123456789","d":"` + "\x80abcdefg" + `","e":"abcdefg` + "\x80" + `"}`,
}

// TestReformatAsReference holds reformat, which copies plain strings and
// runs of other bytes whole, to refReformat in its four modes.
func TestReformatAsReference(t *testing.T) {
	check := func(t *testing.T, in []byte) {
		t.Helper()
		if !rawjson.Valid(in) {
			return
		}
		for _, ascii := range []bool{false, true} {
			for _, floats := range []bool{false, true} {
				got := reformat(nil, in, ascii, floats)
				want := refReformat(nil, in, ascii, floats)
				if !bytes.Equal(got, want) {
					t.Fatalf("reformat(%q, ascii %v, floats %v) =\n%q\nthe reference gives\n%q", in, ascii, floats, got, want)
				}
			}
		}
	}
	for _, s := range reformatSamples {
		check(t, []byte(s))
	}
	// Random JSON: strings of every length around the word size, with
	// escapes, quotes, DEL, non-ASCII and invalid UTF-8 at every offset.
	r := rand.New(rand.NewPCG(1, 2))
	pieces := []string{"a", "b", " ", `\"`, `\\`, `\n`, `\u00e9`, `\ud83d\ude00`, "\x7f", "é", "\xff", "😀", "\u2028", "12345678"}
	for range 20000 {
		var b bytes.Buffer
		b.WriteString(`{"k`)
		b.WriteString(strconv.Itoa(r.IntN(100)))
		b.WriteString(`":["`)
		for range r.IntN(24) {
			b.WriteString(pieces[r.IntN(len(pieces))])
		}
		b.WriteString(`",`)
		b.WriteString([]string{"1", "-0", "2.50", "1e2", "null", "true", "{}", `"x"`}[r.IntN(8)])
		b.WriteString("]}")
		check(t, b.Bytes())
	}
	check(t, genaiInputs(t))
	// Raw control characters are not valid JSON, but a caller's "valid"
	// text may hold them: they are still escaped, at any offset.
	for _, in := range []string{"[\"a\x01b\"]", "[\"abcdefgh\x1fijklmnop\"]", "{\"k\x00\":\"1234567\n\"}"} {
		for _, floats := range []bool{false, true} {
			if got, want := reformat(nil, []byte(in), false, floats), refReformat(nil, []byte(in), false, floats); !bytes.Equal(got, want) {
				t.Errorf("reformat(%q) = %q, the reference gives %q", in, got, want)
			}
		}
	}
}

// genaiInputs is a Gemini GenerateContent call's inputs as
// autoinstrument/genai builds them before SetInputs (compact JSON, the
// Python SDK's model_dump with its many nulls, a tool's schema).
func genaiInputs(tb testing.TB) []byte {
	in, err := os.ReadFile("testdata/genai_inputs.json")
	if err != nil {
		tb.Fatal(err)
	}
	return in
}

// BenchmarkReformat: a span's JSON inputs written as MLflow's Python SDK
// writes them (encode.JSON of a json.RawMessage: validated, then
// reformatted).
func BenchmarkReformat(b *testing.B) {
	in := json.RawMessage(genaiInputs(b))
	b.ReportAllocs()
	b.SetBytes(int64(len(in)))
	for b.Loop() {
		_ = JSON(in)
	}
}

func FuzzReformat(f *testing.F) {
	for _, s := range reformatSamples {
		f.Add([]byte(s))
	}
	f.Fuzz(func(t *testing.T, in []byte) {
		if !rawjson.Valid(in) {
			return
		}
		for _, ascii := range []bool{false, true} {
			for _, floats := range []bool{false, true} {
				if got, want := reformat(nil, in, ascii, floats), refReformat(nil, in, ascii, floats); !bytes.Equal(got, want) {
					t.Fatalf("reformat(%q, ascii %v, floats %v) = %q, the reference gives %q", in, ascii, floats, got, want)
				}
			}
		}
	})
}
