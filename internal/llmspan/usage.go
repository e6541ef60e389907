package llmspan

import (
	"github.com/mlflowtrace/mlflowtrace-go/internal/encode"
	"github.com/mlflowtrace/mlflowtrace-go/internal/keys"
	"github.com/mlflowtrace/mlflowtrace-go/tracing"
)

// Usage is MLflow's token usage (mlflow.chat.tokenUsage) with MLflow's keys
// in MLflow's order. Optional counts are recorded when the provider reported
// them, also when they are 0, as MLflow's autolog does.
type Usage struct {
	InputTokens                    int  `json:"input_tokens"`
	OutputTokens                   int  `json:"output_tokens"`
	TotalTokens                    int  `json:"total_tokens"`
	CacheReadInputTokens           *int `json:"cache_read_input_tokens,omitempty"`
	CacheCreationInputTokens       *int `json:"cache_creation_input_tokens,omitempty"`
	CacheCreationInputTokens1hPlus *int `json:"cache_creation_input_tokens_above_1hr,omitempty"`
	// TotalLast puts total_tokens after the cache counts, the order of
	// MLflow's Bedrock autolog (input, output, cache read, cache creation,
	// total); the other autologs write it third.
	TotalLast bool `json:"-"`
}

// Set records u on span.
func (u Usage) Set(span *tracing.Span) {
	span.SetAttribute(keys.ChatTokenUsage, encode.ValidJSON(u.json()))
}

// json is the usage's JSON text.
func (u Usage) json() []byte {
	// The members in the order of the struct's fields (json.Marshal's), or
	// with total_tokens last.
	var o Object
	o.Set("input_tokens", u.InputTokens)
	o.Set("output_tokens", u.OutputTokens)
	if !u.TotalLast {
		o.Set("total_tokens", u.TotalTokens)
	}
	if u.CacheReadInputTokens != nil {
		o.Set("cache_read_input_tokens", *u.CacheReadInputTokens)
	}
	if u.CacheCreationInputTokens != nil {
		o.Set("cache_creation_input_tokens", *u.CacheCreationInputTokens)
	}
	if u.CacheCreationInputTokens1hPlus != nil {
		o.Set("cache_creation_input_tokens_above_1hr", *u.CacheCreationInputTokens1hPlus)
	}
	if u.TotalLast {
		o.Set("total_tokens", u.TotalTokens)
	}
	return o.JSON()
}

// Int returns a pointer to n.
func Int(n int) *int { return &n }
