package assemble

import (
	"context"
	"encoding/json"
	"reflect"
	"testing"

	"go.opentelemetry.io/otel/attribute"
	sdktrace "go.opentelemetry.io/otel/sdk/trace"
	"go.opentelemetry.io/otel/trace"
)

// Attribute values as Genkit for Go v1.4.0 (core/tracing) records them for
// a flow that calls genkit.Generate with a tool, on openai-go through the
// compat_oai plugin (captured from a real run against the fake OpenAI API).
const (
	gkTools    = `[{"description":"Current weather of a city","inputSchema":{"additionalProperties":false,"properties":{"city":{"description":"City name","type":"string"}},"required":["city"],"type":"object"},"metadata":{"multipart":false},"name":"get_weather","outputSchema":{"type":"string"}}]`
	gkFirst    = `[{"content":[{"text":"You are a travel assistant."}],"role":"system"},{"content":[{"text":"What's the weather in Paris?"}],"role":"user"}]`
	gkCall     = `{"content":[{"toolRequest":{"input":{"city":"Paris"},"name":"get_weather","ref":"call_1"}}],"role":"model"}`
	gkResult   = `{"content":[{"toolResponse":{"name":"get_weather","output":"18°C and sunny in Paris","ref":"call_1"}}],"role":"tool"}`
	gkRequest  = `{"messages":` + gkFirst + `,"output":{"contentType":"text/plain"},"tools":` + gkTools + `}`
	gkModelIn  = gkRequest
	gkModelOut = `{"custom":{"id":"chatcmpl-1","model":"gpt-4o-mini-2024-07-18"},"finishReason":"stop","latencyMs":1.5,"message":` + gkCall +
		`,"request":` + gkRequest + `,"usage":{"inputCharacters":55,"inputTokens":69,"outputTokens":10,"totalTokens":79}}`
	gkSecondIn = `{"messages":[{"content":[{"text":"You are a travel assistant."}],"role":"system"},{"content":[{"text":"What's the weather in Paris?"}],"role":"user"},` +
		gkCall + `,` + gkResult + `],"tools":` + gkTools + `}`
	gkSecondOut = `{"finishReason":"stop","message":{"content":[{"text":"It is 18°C."}],"role":"model"},"usage":{"inputTokens":90,"outputTokens":5,"cachedContentTokens":64}}`
)

type genkitCase struct {
	name  string
	attrs []attribute.KeyValue
	want  map[string]any // decoded attributes expected after conversion; nil value: absent
}

func gkSpan(name, subtype, in, out string, extra ...attribute.KeyValue) []attribute.KeyValue {
	typ := "action"
	if subtype == "util" || subtype == "flowStep" {
		typ = subtype
	}
	attrs := []attribute.KeyValue{
		attribute.String("genkit:type", typ), attribute.String("genkit:name", name),
		attribute.String("genkit:state", "success"), attribute.String("genkit:input", in),
		attribute.String("genkit:path", "/{weatherFlow,t:flow}/{"+name+"}"),
		attribute.String("genkit:metadata:subtype", subtype),
	}
	if out != "" {
		attrs = append(attrs, attribute.String("genkit:output", out))
	}
	return append(attrs, extra...)
}

func genkitCases() []genkitCase {
	system := map[string]any{"role": "system", "content": "You are a travel assistant.", "tool_calls": nil, "refusal": nil, "tool_call_id": nil}
	user := map[string]any{"role": "user", "content": "What's the weather in Paris?", "tool_calls": nil, "refusal": nil, "tool_call_id": nil}
	call := map[string]any{"role": "assistant", "content": nil, "refusal": nil, "tool_call_id": nil, "tool_calls": []any{
		map[string]any{"id": "call_1", "type": "function", "function": map[string]any{"name": "get_weather", "arguments": `{"city": "Paris"}`}}}}
	result := map[string]any{"role": "tool", "content": "18°C and sunny in Paris", "tool_calls": nil, "refusal": nil, "tool_call_id": "call_1"}
	tools := []any{map[string]any{"type": "function", "function": map[string]any{"name": "get_weather", "description": "Current weather of a city",
		"parameters": map[string]any{"additionalProperties": false, "properties": map[string]any{"city": map[string]any{"description": "City name", "type": "string"}},
			"required": []any{"city"}, "type": "object"}}}}
	var toolsRaw any
	_ = json.Unmarshal([]byte(gkTools), &toolsRaw)
	return []genkitCase{
		{name: "model call with tools", attrs: gkSpan("openai/gpt-4o-mini", "model", gkModelIn, gkModelOut), want: map[string]any{
			"mlflow.spanType": "CHAT_MODEL", "mlflow.message.format": "genkit",
			"mlflow.llm.model": "gpt-4o-mini", "mlflow.llm.provider": "openai", "mlflow.chat.tools": tools,
			"mlflow.chat.tokenUsage": map[string]any{"input_tokens": 69.0, "output_tokens": 10.0, "total_tokens": 79.0},
			"mlflow.spanInputs":      map[string]any{"messages": []any{system, user}, "output": map[string]any{"contentType": "text/plain"}, "tools": toolsRaw},
			"mlflow.spanOutputs": map[string]any{
				"choices":   []any{map[string]any{"message": call, "finish_reason": "stop"}},
				"usage":     map[string]any{"inputCharacters": 55.0, "inputTokens": 69.0, "outputTokens": 10.0, "totalTokens": 79.0},
				"latencyMs": 1.5, "custom": map[string]any{"id": "chatcmpl-1", "model": "gpt-4o-mini-2024-07-18"}},
		}},
		{name: "model call with tool results", attrs: gkSpan("googleai/gemini-2.5-flash", "model", gkSecondIn, gkSecondOut), want: map[string]any{
			"mlflow.spanType": "CHAT_MODEL", "mlflow.llm.model": "gemini-2.5-flash", "mlflow.llm.provider": "gemini",
			"mlflow.chat.tokenUsage": map[string]any{"input_tokens": 90.0, "output_tokens": 5.0, "total_tokens": 95.0, "cache_read_input_tokens": 64.0},
			"mlflow.spanOutputs": map[string]any{
				"choices": []any{map[string]any{"finish_reason": "stop", "message": map[string]any{
					"role": "assistant", "content": "It is 18°C.", "tool_calls": nil, "refusal": nil, "tool_call_id": nil}}},
				"usage": map[string]any{"inputTokens": 90.0, "outputTokens": 5.0, "cachedContentTokens": 64.0}},
		}},
		{name: "generate loop", attrs: gkSpan("generate", "util", gkSecondIn, gkSecondOut), want: map[string]any{
			"mlflow.spanType": "CHAIN", "mlflow.llm.model": nil, "mlflow.chat.tokenUsage": nil, "mlflow.message.format": nil,
			"mlflow.spanInputs": map[string]any{"messages": []any{system, user, call, result}, "tools": toolsRaw},
		}},
		{name: "tool", attrs: gkSpan("get_weather", "tool.v2", `{"city":"Paris"}`, `{"output":"18°C and sunny in Paris"}`), want: map[string]any{
			"mlflow.spanType": "TOOL", "mlflow.spanInputs": map[string]any{"city": "Paris"}, "mlflow.spanOutputs": "18°C and sunny in Paris",
		}},
		{name: "flow", attrs: gkSpan("weatherFlow", "flow", `"What's the weather?"`, `"Sunny."`, attribute.Bool("genkit:isRoot", true)), want: map[string]any{
			"mlflow.spanType": "CHAIN", "mlflow.spanInputs": "What's the weather?", "mlflow.spanOutputs": "Sunny.",
		}},
		{name: "flow step without input", attrs: gkSpan("step", "flowStep", "null", `{"n":1}`), want: map[string]any{
			"mlflow.spanType": "CHAIN", "mlflow.spanInputs": nil, "mlflow.spanOutputs": map[string]any{"n": 1.0},
		}},
		{name: "retriever", attrs: gkSpan("devLocalVectorStore/guide", "retriever",
			`{"query":{"content":[{"text":"paris weather"}]},"options":{"k":2}}`,
			`{"documents":[{"content":[{"text":"Paris is mild "},{"text":"in spring."}],"metadata":{"source":"guide.md"}}]}`), want: map[string]any{
			"mlflow.spanType": "RETRIEVER", "mlflow.spanInputs": "paris weather",
			"mlflow.spanOutputs": []any{map[string]any{"page_content": "Paris is mild in spring.", "metadata": map[string]any{"source": "guide.md"}, "id": nil}},
		}},
		{name: "embedder", attrs: gkSpan("openai/text-embedding-3-small", "embedder", `{"input":[{"content":[{"text":"hi"}]}]}`, `{"embeddings":[{"embedding":[0.5]}]}`), want: map[string]any{
			"mlflow.spanType": "EMBEDDING", "mlflow.llm.model": "text-embedding-3-small", "mlflow.llm.provider": "openai",
			"mlflow.spanOutputs": map[string]any{"embeddings": []any{map[string]any{"embedding": []any{0.5}}}},
		}},
		{name: "failed model call", attrs: gkSpan("openai/gpt-4o-mini", "model", gkModelIn, "", attribute.String("genkit:state", "error")), want: map[string]any{
			"mlflow.spanType": "CHAT_MODEL", "mlflow.spanOutputs": nil, "mlflow.llm.model": "gpt-4o-mini",
		}},
		{name: "span type set by the program kept", attrs: gkSpan("custom", "custom", `1`, `2`, attribute.String("mlflow.spanType", `"AGENT"`)), want: map[string]any{
			"mlflow.spanType": "AGENT", "mlflow.spanInputs": 1.0,
		}},
		{name: "broken JSON left as is", attrs: gkSpan("openai/gpt-4o-mini", "model", `{"messages":[`, `{`), want: map[string]any{
			"mlflow.spanType": "CHAT_MODEL", "mlflow.spanInputs": nil, "mlflow.spanOutputs": nil,
		}},
	}
}

func recordGenkit(cases []genkitCase) []sdktrace.ReadOnlySpan {
	tp, rec := newRecorder()
	defer func() { _ = tp.Shutdown(context.Background()) }()
	tr := tp.Tracer(genkitScope)
	for _, c := range cases {
		_, s := tr.Start(context.Background(), c.name, trace.WithAttributes(c.attrs...))
		s.End()
	}
	return rec.Ended()
}

func TestTranslateGenkit(t *testing.T) {
	cases := genkitCases()
	spans := recordGenkit(cases)
	for i, c := range cases {
		t.Run(c.name, func(t *testing.T) {
			got := ConvertSpan(spans[i])
			for k, want := range c.want {
				v, ok := got.Attributes[k]
				if want == nil {
					if ok {
						t.Errorf("%s = %s, want absent", k, v)
					}
					continue
				}
				var dec any
				if err := json.Unmarshal([]byte(v), &dec); err != nil || !ok {
					t.Errorf("%s = %q (%v)", k, v, err)
					continue
				}
				if !reflect.DeepEqual(dec, want) {
					t.Errorf("%s\n got %#v\nwant %#v", k, dec, want)
				}
			}
			if _, ok := got.Attributes["genkit:input"]; !ok {
				t.Errorf("genkit:input dropped")
			}
		})
	}
}

// TestGenkitOtherScope: the genkit:* keys are translated only on Genkit's
// scope.
func TestGenkitOtherScope(t *testing.T) {
	tp, rec := newRecorder()
	defer func() { _ = tp.Shutdown(context.Background()) }()
	_, s := tp.Tracer("example.com/other").Start(context.Background(), "x",
		trace.WithAttributes(gkSpan("openai/gpt-4o-mini", "model", gkModelIn, gkModelOut)...))
	s.End()
	got := ConvertSpan(rec.Ended()[0])
	if got.Attributes["mlflow.spanType"] != `"UNKNOWN"` || got.Attributes["mlflow.llm.model"] != "" {
		t.Errorf("translated a span of another scope: %v", got.Attributes)
	}
}

func BenchmarkConvertSpanGenkit(b *testing.B) {
	cases := genkitCases()
	spans := recordGenkit(cases)
	for i, c := range cases[:4] {
		for _, on := range []bool{false, true} {
			name := c.name + "/translate=off"
			if on {
				name = c.name + "/translate=on"
			}
			b.Run(name, func(b *testing.B) {
				b.ReportAllocs()
				for b.Loop() {
					_ = convertSpan(spans[i], on, false)
				}
			})
		}
	}
}
