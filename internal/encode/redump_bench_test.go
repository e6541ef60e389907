package encode

import "testing"

// chatAnswer is an OpenAI chat completion with two tool calls, the shape
// autoinstrument/openai's BenchmarkCall records as a span's outputs.
var chatAnswer = []byte(`{"id":"chatcmpl-abc123","object":"chat.completion","created":1700000000,"model":"gpt-4o-mini-2024-07-18","choices":[{"index":0,"message":{"role":"assistant","content":null,"tool_calls":[{"id":"call_1","type":"function","function":{"name":"get_weather","arguments":"{\"city\":\"Paris\",\"unit\":\"celsius\"}"}},{"id":"call_2","type":"function","function":{"name":"get_time","arguments":"{\"timezone\":\"Europe/Paris\"}"}}],"refusal":null},"logprobs":null,"finish_reason":"tool_calls"}],"usage":{"prompt_tokens":82,"completion_tokens":17,"total_tokens":99,"prompt_tokens_details":{"cached_tokens":0,"audio_tokens":0},"completion_tokens_details":{"reasoning_tokens":0,"audio_tokens":0,"accepted_prediction_tokens":0,"rejected_prediction_tokens":0}},"service_tier":"default","system_fingerprint":"fp_0123456789"}`)

func BenchmarkRedump(b *testing.B) {
	b.ReportAllocs()
	b.SetBytes(int64(len(chatAnswer)))
	var dst []byte
	for b.Loop() {
		dst = AppendRedump(dst[:0], chatAnswer, false)
	}
}
