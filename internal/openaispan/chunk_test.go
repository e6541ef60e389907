package openaispan

import (
	"encoding/json"
	"reflect"
	"testing"
)

// chunkSamples are chunks decodeChatChunk must decode exactly as
// json.Unmarshal does: ordinary ones (read without reflection) and odd ones
// (left to encoding/json).
var chunkSamples = []string{
	`{"id":"c1","object":"chat.completion.chunk","created":1700000000,"model":"gpt-4o-mini","system_fingerprint":"fp","service_tier":"default",` +
		`"choices":[{"index":0,"delta":{"role":"assistant","content":"","refusal":null},"logprobs":null,"finish_reason":null}],"usage":null}`,
	`{"id":"c1","object":"chat.completion.chunk","created":1,"model":"m","choices":[{"index":0,"delta":{"tool_calls":[` +
		`{"index":0,"id":"call_1","type":"function","function":{"name":"get_weather","arguments":""}},{"index":1,"function":{"arguments":"{\"city\": \"Paris\"}"}}]},"finish_reason":null}]}`,
	`{"id":"c1","object":"chat.completion.chunk","choices":[{"index":0,"delta":{},"finish_reason":"tool_calls"}]}`,
	`{"id":"c1","object":"chat.completion.chunk","choices":[],"usage":{"prompt_tokens":9,"completion_tokens":3,"total_tokens":12}}`,
	`{"id":"\u00e9\n","object":"chat.completion.chunk","choices":null,"model":null}`,
	`{"ID":"upper","object":"chat.completion.chunk"}`,
	`{"id":"a","id":"b","object":"chat.completion.chunk"}`,
	`{"object":"chat.completion.chunk","choices":[{"index":"0"}]}`,
	`{"object":"chat.completion.chunk","choices":[{"index":1.0}]}`,
	`{"object":"chat.completion.chunk","choices":[{"index":1e2}]}`,
	`{"object":"chat.completion.chunk","choices":[null,{"index":2}]}`,
	`{"object":"chat.completion.chunk","choices":{"index":0}}`,
	`{"object":"chat.completion.chunk","choices":[{"delta":null,"finish_reason":3}]}`,
	`{"object":"chat.completion.chunk","choices":[{"delta":{"content":5}}]}`,
	`{"object":"chat.completion.chunk","choices":[{"delta":{"Content":"x","content":"y"}}]}`,
	`{"object":"chat.completion.chunk","choices":[{"delta":{"tool_calls":[{"function":null,"index":99999999999999999999}]}}]}`,
	`{"object":"chat.completion.chunk","choices":[{"delta":{"tool_calls":[{"function":{"name":1}}]}}]}`,
	`{"object":7}`,
	`[1,2]`,
	`"text"`,
	`null`,
	`{}`,
}

func TestDecodeChatChunkMatchesUnmarshal(t *testing.T) {
	for _, in := range chunkSamples {
		checkChunkDecoding(t, in)
	}
}

func FuzzDecodeChatChunk(f *testing.F) {
	for _, in := range chunkSamples {
		f.Add(in)
	}
	f.Fuzz(func(t *testing.T, in string) {
		if json.Valid([]byte(in)) {
			checkChunkDecoding(t, in)
		}
	})
}

func checkChunkDecoding(t *testing.T, in string) {
	t.Helper()
	data := []byte(in)
	got, ok := decodeChatChunk(data)
	var want chatChunk
	wantOK := json.Unmarshal(data, &want) == nil
	if ok != wantOK || (ok && !reflect.DeepEqual(got, want)) {
		t.Errorf("decodeChatChunk(%s) = %+v, %v; json.Unmarshal gives %+v, %v", in, got, ok, want, wantOK)
	}
}

func TestModelAndUsageMatchesUnmarshal(t *testing.T) {
	for _, in := range []string{
		`{"id":"x","model":"gpt-4o","usage":{"prompt_tokens":1}}`,
		`{"MODEL":"upper","model":"lower","Usage":null}`,
		`{"model":"first","model":7,"usage":1,"usage":{"a":2}}`,
		`{"model":null,"usage":[]}`,
		`{"model":"\u00e9"}`,
		`[1]`, `null`, `{}`,
	} {
		var want struct {
			Model string          `json:"model"`
			Usage json.RawMessage `json:"usage"`
		}
		_ = json.Unmarshal([]byte(in), &want)
		model, usage := modelAndUsage(json.RawMessage(in))
		if model != want.Model || string(usage) != string(want.Usage) {
			t.Errorf("modelAndUsage(%s) = %q, %s; json.Unmarshal gives %q, %s", in, model, usage, want.Model, want.Usage)
		}
	}
}

func BenchmarkDecodeChatChunk(b *testing.B) {
	data := []byte(chunkSamples[1])
	b.Run("split", func(b *testing.B) {
		b.ReportAllocs()
		for b.Loop() {
			_, _ = decodeChatChunk(data)
		}
	})
	b.Run("encoding-json", func(b *testing.B) {
		b.ReportAllocs()
		for b.Loop() {
			var c chatChunk
			_ = json.Unmarshal(data, &c)
		}
	})
}
