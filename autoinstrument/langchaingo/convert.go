package langchaingo

import (
	"encoding/base64"
	"encoding/json"
	"fmt"
	"strconv"

	"github.com/tmc/langchaingo/llms"
	"github.com/tmc/langchaingo/schema"

	"github.com/mlflowtrace/mlflowtrace-go/internal/chatmodel"
	"github.com/mlflowtrace/mlflowtrace-go/internal/llmspan"
)

// The shapes are chatmodel's: those MLflow's Python LangChain tracer writes.

// role maps a langchaingo message type to the chat role MLflow records.
func role(t llms.ChatMessageType) string {
	switch t {
	case llms.ChatMessageTypeAI:
		return "assistant"
	case llms.ChatMessageTypeHuman, llms.ChatMessageTypeGeneric:
		return "user"
	case llms.ChatMessageTypeSystem:
		return "system"
	case llms.ChatMessageTypeFunction:
		return "function"
	case llms.ChatMessageTypeTool:
		return "tool"
	}
	return string(t)
}

// chatMessages converts langchaingo messages to MLflow chat messages. A
// message of tool results becomes one "tool" message per result, as in
// LangChain (one ToolMessage each).
func chatMessages(ms []llms.MessageContent) []chatmodel.Message {
	out := make([]chatmodel.Message, 0, len(ms))
	for _, m := range ms {
		var (
			parts []any
			calls []chatmodel.ToolCall
		)
		for _, p := range m.Parts {
			switch p := p.(type) {
			case llms.TextContent:
				parts = append(parts, chatmodel.Text(p.Text))
			case llms.ImageURLContent:
				parts = append(parts, chatmodel.Image(p.URL, p.Detail))
			case llms.BinaryContent:
				parts = append(parts, chatmodel.Media(p.MIMEType, base64.StdEncoding.EncodeToString(p.Data)))
			case llms.ToolCall:
				calls = append(calls, convertToolCall(p))
			case llms.ToolCallResponse:
				id := p.ToolCallID
				out = append(out, chatmodel.Message{Role: "tool", Content: p.Content, ToolCallID: &id})
			default:
				parts = append(parts, chatmodel.Text(fmt.Sprint(p)))
			}
		}
		if len(parts) == 0 && len(calls) == 0 && len(m.Parts) > 0 {
			continue // only tool results, emitted above
		}
		msg := chatmodel.Message{Role: role(m.Role), Content: chatmodel.Content(parts), ToolCalls: calls}
		if len(calls) > 0 && msg.Content == "" {
			msg.Content = nil // OpenAI's form: no content next to tool calls
		}
		out = append(out, msg)
	}
	return out
}

func convertToolCall(c llms.ToolCall) chatmodel.ToolCall {
	tc := chatmodel.ToolCall{ID: c.ID, Type: c.Type}
	if tc.Type == "" {
		tc.Type = "function"
	}
	if c.FunctionCall != nil {
		tc.Function = chatmodel.ToolFunction{Name: c.FunctionCall.Name, Arguments: chatmodel.ToolArguments(c.FunctionCall.Arguments)}
	}
	return tc
}

// chatOutputs converts a model response to {"choices": [...]}.
func chatOutputs(res *llms.ContentResponse) chatmodel.Outputs {
	out := chatmodel.Outputs{Choices: make([]chatmodel.Choice, 0, len(res.Choices))}
	for _, c := range res.Choices {
		if c == nil {
			continue
		}
		msg := chatmodel.Message{Role: "assistant", Content: c.Content}
		for _, tc := range c.ToolCalls {
			msg.ToolCalls = append(msg.ToolCalls, convertToolCall(tc))
		}
		if len(msg.ToolCalls) == 0 && c.FuncCall != nil {
			msg.ToolCalls = []chatmodel.ToolCall{{Type: "function", Function: chatmodel.ToolFunction{Name: c.FuncCall.Name, Arguments: chatmodel.ToolArguments(c.FuncCall.Arguments)}}}
		}
		if len(msg.ToolCalls) > 0 && c.Content == "" {
			msg.Content = nil
		}
		// finish_reason: null, as MLflow's tracer writes it (on_llm_end).
		out.Choices = append(out.Choices, chatmodel.Choice{Message: msg})
	}
	return out
}

// Token count keys of the GenerationInfo langchaingo's model clients return
// (llms/openai: PromptTokens…, llms/anthropic: InputTokens…, others in
// snake case).
var (
	inputKeys      = []string{"PromptTokens", "InputTokens", "prompt_tokens", "input_tokens"}
	outputKeys     = []string{"CompletionTokens", "OutputTokens", "completion_tokens", "output_tokens"}
	totalKeys      = []string{"TotalTokens", "total_tokens"}
	cacheReadKeys  = []string{"PromptCachedTokens", "CacheReadInputTokens", "cache_read_input_tokens", "CachedTokens", "cached_tokens"}
	cacheWriteKeys = []string{"CacheCreationInputTokens", "cache_creation_input_tokens"}
)

// tokenUsage reads the usage of the first choice that reports some, as
// MLflow's tracer writes it (parse_token_usage): the cache counts are present
// whenever the model client reports them, zero included, as LangChain's
// usage_metadata carries OpenAI's prompt_tokens_details.cached_tokens and
// Anthropic's cache counts (tracing.TokenUsage leaves zero cache counts out).
func tokenUsage(res *llms.ContentResponse) (llmspan.Usage, bool) {
	for _, c := range res.Choices {
		if c == nil || len(c.GenerationInfo) == 0 {
			continue
		}
		in, okIn := count(c.GenerationInfo, inputKeys)
		out, okOut := count(c.GenerationInfo, outputKeys)
		if !okIn && !okOut {
			continue
		}
		u := llmspan.Usage{InputTokens: in, OutputTokens: out}
		if total, ok := count(c.GenerationInfo, totalKeys); ok && total != 0 {
			u.TotalTokens = total
		} else {
			u.TotalTokens = in + out
		}
		if n, ok := count(c.GenerationInfo, cacheReadKeys); ok {
			u.CacheReadInputTokens = &n
		}
		if n, ok := count(c.GenerationInfo, cacheWriteKeys); ok {
			u.CacheCreationInputTokens = &n
		}
		return u, true
	}
	return llmspan.Usage{}, false
}

func count(info map[string]any, ks []string) (int, bool) {
	for _, k := range ks {
		v, ok := info[k]
		if !ok {
			continue
		}
		switch n := v.(type) {
		case int:
			return n, true
		case int32:
			return int(n), true
		case int64:
			return int(n), true
		case float64:
			return int(n), true
		case float32:
			return int(n), true
		case json.Number:
			if i, err := n.Int64(); err == nil {
				return int(i), true
			}
		case string:
			if i, err := strconv.Atoi(n); err == nil {
				return i, true
			}
		}
	}
	return 0, false
}

func mlflowDocuments(docs []schema.Document) []chatmodel.Document {
	out := make([]chatmodel.Document, len(docs))
	for i, d := range docs {
		var score any
		if d.Score != 0 {
			score = d.Score
		}
		out[i] = chatmodel.NewDocument(d.PageContent, d.Metadata, "", score)
	}
	return out
}

// jsonText encodes v for an event attribute (LangChain's dumps).
func jsonText(v any) string {
	b, err := json.Marshal(v)
	if err != nil {
		return fmt.Sprint(v)
	}
	return string(b)
}
