package tracing

import (
	"github.com/mlflowtrace/mlflowtrace-go/internal/keys"
)

// TokenUsage is the token count of a model call (mlflow.chat.tokenUsage).
// MLflow sums the usage of the top-most spans that carry it into the trace's
// mlflow.trace.tokenUsage.
type TokenUsage struct {
	InputTokens  int `json:"input_tokens"`
	OutputTokens int `json:"output_tokens"`
	// TotalTokens defaults to InputTokens+OutputTokens when zero.
	TotalTokens              int `json:"total_tokens"`
	CacheReadInputTokens     int `json:"cache_read_input_tokens,omitempty"`
	CacheCreationInputTokens int `json:"cache_creation_input_tokens,omitempty"`
}

// ChatTool is one tool offered to a chat model, in the OpenAI form MLflow
// displays (mlflow.chat.tools).
type ChatTool struct {
	Type     string           `json:"type"` // "function"
	Function ChatToolFunction `json:"function"`
}

// ChatToolFunction describes a function tool.
type ChatToolFunction struct {
	Name        string `json:"name"`
	Description string `json:"description,omitempty"`
	Parameters  any    `json:"parameters,omitempty"` // JSON schema
	Strict      *bool  `json:"strict,omitempty"`
}

// SetTokenUsage records the token usage of a model call.
func (s *Span) SetTokenUsage(u TokenUsage) {
	if s == nil {
		return
	}
	if u.TotalTokens == 0 {
		u.TotalTokens = u.InputTokens + u.OutputTokens
	}
	s.SetAttribute(keys.ChatTokenUsage, u)
}

// SetChatTools records the tools offered to a chat model. A ChatTool with an
// empty Type gets "function".
func (s *Span) SetChatTools(tools []ChatTool) {
	if s == nil {
		return
	}
	out := make([]ChatTool, len(tools))
	copy(out, tools)
	for i := range out {
		if out[i].Type == "" {
			out[i].Type = "function"
		}
	}
	s.SetAttribute(keys.ChatTools, out)
}

// SetModel records the model name (mlflow.llm.model).
func (s *Span) SetModel(model string) { s.SetAttribute(keys.LLMModel, model) }

// SetProvider records the model provider, e.g. "openai" (mlflow.llm.provider).
func (s *Span) SetProvider(provider string) { s.SetAttribute(keys.LLMProvider, provider) }

// SetMessageFormat tells MLflow's UI how to read chat messages in the inputs
// and outputs, e.g. "openai", "anthropic" (mlflow.message.format).
func (s *Span) SetMessageFormat(format string) { s.SetAttribute(keys.MessageFormat, format) }
