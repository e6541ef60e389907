package llmcost

import (
	"testing"

	"github.com/mlflowtrace/mlflowtrace-go/internal/keys"
	"github.com/mlflowtrace/mlflowtrace-go/internal/tracemodel"
)

// agentTrace is a typical agent trace: an AGENT root, two chat model calls
// (one with cache reads), three tool calls.
func agentTrace(llm bool) *tracemodel.Trace {
	span := func(id, parent byte, typ string) *tracemodel.Span {
		s := &tracemodel.Span{SpanID: [8]byte{7: id}, Attributes: map[string]string{
			keys.SpanType:    `"` + typ + `"`,
			keys.SpanInputs:  `{"messages": [{"role": "user", "content": "What's the weather in Paris?"}]}`,
			keys.SpanOutputs: `{"content": "Sunny, 20 degrees."}`,
		}}
		if parent != 0 {
			s.ParentSpanID = [8]byte{7: parent}
		}
		return s
	}
	spans := []*tracemodel.Span{span(1, 0, "AGENT")}
	for i := byte(2); i < 8; i++ {
		if i%2 == 0 && llm {
			s := span(i, 1, "CHAT_MODEL")
			s.Attributes[keys.LLMModel] = `"claude-sonnet-4-6"`
			s.Attributes[keys.LLMProvider] = `"anthropic"`
			s.Attributes[keys.ChatTokenUsage] = `{"input_tokens": 1820, "output_tokens": 140, "total_tokens": 1960, "cache_read_input_tokens": 1500}`
			spans = append(spans, s)
			continue
		}
		spans = append(spans, span(i, 1, "TOOL"))
	}
	return &tracemodel.Trace{Info: tracemodel.TraceInfo{TraceID: "tr-1", Metadata: map[string]string{}}, Spans: spans}
}

// BenchmarkPriceTrace is the cost work the Databricks destination adds per
// exported trace (background export worker).
func BenchmarkPriceTrace(b *testing.B) {
	for _, bc := range []struct {
		name string
		llm  bool
	}{{"3llm+4spans", true}, {"noLLM", false}} {
		b.Run(bc.name, func(b *testing.B) {
			t := agentTrace(bc.llm)
			c := Bundled()
			c.PriceTrace(t) // parse the catalog outside the loop
			b.ReportAllocs()
			b.ResetTimer()
			for b.Loop() {
				c.PriceTrace(t)
			}
		})
	}
}

// BenchmarkSpanCost is one span's lookup and arithmetic.
func BenchmarkSpanCost(b *testing.B) {
	attrs := agentTrace(true).Spans[1].Attributes
	for _, bc := range []struct{ name, provider string }{
		{"provider", `"anthropic"`}, {"scan", ""}, {"unknownModel", `"fake"`},
	} {
		b.Run(bc.name, func(b *testing.B) {
			a := map[string]string{keys.ChatTokenUsage: attrs[keys.ChatTokenUsage], keys.LLMModel: attrs[keys.LLMModel]}
			if bc.provider != "" {
				a[keys.LLMProvider] = bc.provider
			}
			if bc.name == "unknownModel" {
				a[keys.LLMModel] = `"my-local-model"`
			}
			c := Bundled()
			c.SpanCost(a)
			b.ReportAllocs()
			b.ResetTimer()
			for b.Loop() {
				c.SpanCost(a)
			}
		})
	}
}

// BenchmarkParseBundled is the one-time cost of the embedded catalog (first
// priced span of a process).
func BenchmarkParseBundled(b *testing.B) {
	b.ReportAllocs()
	for b.Loop() {
		if _, err := parseTSV(pricesTSV); err != nil {
			b.Fatal(err)
		}
	}
}
