package assemble

import (
	"encoding/json"
	"flag"
	"os"
	"reflect"
	"testing"
)

var updateGenkit = flag.Bool("update-genkit", false, "rewrite testdata/genkit_translate.golden.json")

// genkitTextCases add to genkitCases inputs whose members encoding/json
// reads in ways a scanner could get wrong: null and mistyped members, keys
// in another case, duplicates, escapes and floats to re-dump, an echoed
// request.
func genkitTextCases() []genkitCase {
	cases := genkitCases()
	add := func(name, subtype, in, out string) {
		cases = append(cases, genkitCase{name: name, attrs: gkSpan("openai/gpt-4o-mini", subtype, in, out)})
	}
	add("members null", "model", `{"messages":null,"tools":null,"config":null}`, `{"message":null,"usage":null,"finishReason":null}`)
	add("messages empty, config float", "model", `{"messages":[],"config":{"temperature":0.50,"topK":1e1},"docs":[]}`, `{"message":{"role":"model","content":[]},"finishReason":"length","latencyMs":2E-3}`)
	add("keys in another case", "model", `{"Messages":[{"Role":"user","Content":[{"Text":"hi"}]}],"TOOLS":[{"Name":"t"}]}`, `{"Message":{"role":"model","content":[{"text":"ok"}]},"Usage":{"InputTokens":3}}`)
	add("duplicate members", "model", `{"messages":[{"role":"user","content":[{"text":"a"}]}],"messages":[{"role":"user","content":[{"text":"b"}]}],"tools":[],"tools":[{"name":"x","inputSchema":{"type":"object"}}]}`,
		`{"message":{"role":"model","content":[{"text":"c"}]},"message":{"role":"model","content":[{"text":"d"}]},"usage":{"inputTokens":1},"usage":{"outputTokens":2}}`)
	add("mistyped members", "model", `{"messages":[{"role":5,"content":[]}],"tools":"none"}`, `{"message":7,"finishReason":3,"usage":{"inputTokens":"1"}}`)
	add("mistyped finish reason", "model", gkModelIn, `{"message":{"role":"model","content":[{"text":"x"}]},"finishReason":["stop"]}`)
	add("escapes and unicode", "model", `{"messages":[{"role":"user","content":[{"text":"caf\u00e9 \"q\" \ud83d\ude00 </tag>"},{"data":{"k":"v\n"}},{"custom":{"n":1.0}}]}],"output":{"format":"json","schema":{"x":"\u2028"}}}`,
		`{"message":{"role":"model","content":[{"toolRequest":{"name":"f","ref":"r","input":{"a":[1.5,2,"\u00e9"]}}},{"toolResponse":{"name":"f","ref":"r","output":{"z":0.10}}}]},"raw":{"id":"x","n":1.25e3},"operation":{"done":true},"finishMessage":"ok \u00e9"}`)
	add("request echoed at the end", "model", gkModelIn, `{"message":{"role":"model","content":[{"text":"hi"}]},"request":`+gkModelIn+`,"custom":{"a":1}}`)
	add("generate loop, escapes", "util", `{"messages":[{"role":"user","content":[{"text":"\u00e9"}]}],"tools":[{"name":"t","inputSchema":{"v":1.50}}]}`, `{"message":{"role":"model","content":[{"text":"ok"}]}}`)
	add("not an object", "model", `[1,2]`, `"text"`)
	add("escaped member names", "model", `{"mess\u0061ges":[{"role":"user","content":[{"text":"hi"}]}],"tool\u0073":[{"name":"t"}]}`,
		`{"mess\u0061ge":{"role":"model","content":[{"text":"ok"}]},"finishReason":null,"us\u0061ge":{"totalTokens":4}}`)
	add("other members twice", "model", `{"messages":[],"extra":1,"extra":2}`, `{"message":{"role":"model","content":[]},"request":{},"request":{"x":1}}`)
	add("usage mistyped, message fine", "model", gkModelIn, `{"message":{"role":"model","content":[{"text":"x"}]},"usage":{"inputTokens":1.5}}`)
	add("messages mistyped, tools fine", "model", `{"messages":[{"content":"x"}],"tools":[{"name":"t","description":"d"}]}`, `{}`)
	cases = append(cases,
		genkitCase{name: "retriever with floats", attrs: gkSpan("store/r", "retriever", `{"query":{"content":[{"text":"q"}]},"options":{"k":2.0}}`, `{"documents":[{"content":[{"text":"d"}],"metadata":{"score":0.50}}]}`)},
		genkitCase{name: "multipart tool", attrs: gkSpan("t", "tool.v2", `{"a":1.0}`, `{"output":{"v":2.50},"content":[]}`)},
		genkitCase{name: "tool with content", attrs: gkSpan("t", "tool.v2", `{}`, `{"output":1,"content":[{"text":"x"}]}`)},
	)
	return cases
}

// TestTranslateGenkitText holds the translation's text, byte for byte, to
// testdata/genkit_translate.golden.json (written by the translation at
// 1153de1 with -update-genkit): a change to how the genkit:* JSON is read
// must not change what is written.
func TestTranslateGenkitText(t *testing.T) {
	got := map[string]map[string]string{}
	for _, c := range genkitTextCases() {
		dst := map[string]string{}
		translateGenkit(dst, c.attrs)
		got[c.name] = dst
	}
	const file = "testdata/genkit_translate.golden.json"
	if *updateGenkit {
		b, err := json.MarshalIndent(got, "", "  ")
		if err != nil {
			t.Fatal(err)
		}
		if err := os.WriteFile(file, append(b, '\n'), 0o644); err != nil {
			t.Fatal(err)
		}
		return
	}
	b, err := os.ReadFile(file)
	if err != nil {
		t.Fatal(err)
	}
	var want map[string]map[string]string
	if err := json.Unmarshal(b, &want); err != nil {
		t.Fatal(err)
	}
	for name, w := range want {
		if !reflect.DeepEqual(got[name], w) {
			for k := range merge(got[name], w) {
				if got[name][k] != w[k] {
					t.Errorf("%s: %s\n got %s\nwant %s", name, k, got[name][k], w[k])
				}
			}
		}
	}
	if len(got) != len(want) {
		t.Errorf("%d cases, golden file has %d", len(got), len(want))
	}
}

func merge(a, b map[string]string) map[string]bool {
	m := map[string]bool{}
	for k := range a {
		m[k] = true
	}
	for k := range b {
		m[k] = true
	}
	return m
}
