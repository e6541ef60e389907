package llmcost_test

import (
	"fmt"
	"testing/fstest"

	"github.com/mlflowtrace/mlflowtrace-go/internal/keys"
	"github.com/mlflowtrace/mlflowtrace-go/internal/llmcost"
	"github.com/mlflowtrace/mlflowtrace-go/internal/tracemodel"
)

func ExampleCatalog_Cost() {
	c := llmcost.Bundled()
	cost, ok := c.Cost("claude-sonnet-4-6", "anthropic", llmcost.Usage{
		InputTokens: 1200, OutputTokens: 80, CacheReadInputTokens: 1000,
	})
	// MLflow's own digits: 80 × 15/1e6 is 0.0012000000000000001 in float64.
	fmt.Println(ok, string(cost.AppendJSON(nil)))

	_, ok = c.Cost("my-local-model", "", llmcost.Usage{InputTokens: 10})
	fmt.Println(ok)
	// Output:
	// true {"input_cost": 0.0009, "output_cost": 0.0012000000000000001, "total_cost": 0.0021000000000000003}
	// false
}

func ExampleCatalog_PriceTrace() {
	llm := &tracemodel.Span{Attributes: map[string]string{
		keys.LLMModel:       `"gpt-4o-mini"`,
		keys.LLMProvider:    `"openai"`,
		keys.ChatTokenUsage: `{"input_tokens": 12, "output_tokens": 8, "total_tokens": 20}`,
	}}
	t := llmcost.Bundled().PriceTrace(&tracemodel.Trace{Spans: []*tracemodel.Span{llm}})
	fmt.Println(t.Spans[0].Attributes[keys.LLMCost])
	fmt.Println(t.Info.Metadata[keys.MetaCost])
	// Output:
	// {"input_cost": 1.8e-06, "output_cost": 4.8e-06, "total_cost": 6.5999999999999995e-06}
	// {"input_cost": 1.8e-06, "output_cost": 4.8e-06, "total_cost": 6.5999999999999995e-06}
}

func ExampleWithDirectory() {
	// Negotiated prices for one provider, in MLflow's catalog format (the
	// files MLFLOW_MODEL_CATALOG_URI=file://<dir> names); os.DirFS(dir)
	// works the same.
	dir := fstest.MapFS{"openai.json": {Data: []byte(`{"schema_version": "1.0", "models": {
		"gpt-4o-mini": {"pricing": {"input_per_million_tokens": 0.1, "output_per_million_tokens": 0.4}}}}`)}}
	c := llmcost.New(llmcost.WithDirectory(dir), llmcost.WithErrorHandler(func(err error) { fmt.Println(err) }))
	cost, _ := c.Cost("gpt-4o-mini", "openai", llmcost.Usage{InputTokens: 1_000_000, OutputTokens: 1_000_000})
	fmt.Println(cost.Total)
	// Output:
	// 0.5
}
