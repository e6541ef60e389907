package llmspan

import (
	"encoding/json"

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
}

// Set records u on span.
func (u Usage) Set(span *tracing.Span) {
	b, err := json.Marshal(u)
	if err != nil {
		return
	}
	span.SetAttribute(keys.ChatTokenUsage, json.RawMessage(b))
}

// Int returns a pointer to n.
func Int(n int) *int { return &n }
