package langchaingo

import (
	"encoding/base64"
	"encoding/json"
	"fmt"
	"strconv"
	"strings"

	"github.com/tmc/langchaingo/llms"
	"github.com/tmc/langchaingo/schema"

	"github.com/mlflowtrace/mlflowtrace-go/internal/encode"
	"github.com/mlflowtrace/mlflowtrace-go/internal/llmspan"
)

// The JSON shapes below are those MLflow's Python LangChain tracer writes:
// mlflow.types.chat.ChatMessage.model_dump() (every field present, null when
// unset) inside {"messages": [...]} and {"choices": [{"message", "finish_reason"}]}.

type chatInputs struct {
	Messages []chatMessage `json:"messages"`
}

type chatMessage struct {
	Role       string     `json:"role"`
	Content    any        `json:"content"` // string, []contentPart or nil
	ToolCalls  []toolCall `json:"tool_calls"`
	Refusal    *string    `json:"refusal"`
	ToolCallID *string    `json:"tool_call_id"`
}

type toolCall struct {
	ID       string       `json:"id"`
	Type     string       `json:"type"`
	Function toolFunction `json:"function"`
}

type toolFunction struct {
	Name      string `json:"name"`
	Arguments string `json:"arguments"`
}

type textPart struct {
	Type string `json:"type"`
	Text string `json:"text"`
}

type imagePart struct {
	Type     string   `json:"type"`
	ImageURL imageURL `json:"image_url"`
}

type imageURL struct {
	URL    string  `json:"url"`
	Detail *string `json:"detail"`
}

type audioPart struct {
	Type       string     `json:"type"`
	InputAudio inputAudio `json:"input_audio"`
}

type inputAudio struct {
	Data   string `json:"data"`
	Format string `json:"format"`
}

type chatOutputsShape struct {
	Choices []chatChoice `json:"choices"`
}

type chatChoice struct {
	Message chatMessage `json:"message"`
	// FinishReason is always null: MLflow 3.17's tracer does not record the
	// finish reason (on_llm_end writes None).
	FinishReason *string `json:"finish_reason"`
}

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
func chatMessages(ms []llms.MessageContent) []chatMessage {
	out := make([]chatMessage, 0, len(ms))
	for _, m := range ms {
		var (
			parts []any
			calls []toolCall
		)
		for _, p := range m.Parts {
			switch p := p.(type) {
			case llms.TextContent:
				parts = append(parts, textPart{Type: "text", Text: p.Text})
			case llms.ImageURLContent:
				var detail *string
				if p.Detail != "" {
					detail = &p.Detail
				}
				parts = append(parts, imagePart{Type: "image_url", ImageURL: imageURL{URL: p.URL, Detail: detail}})
			case llms.BinaryContent:
				parts = append(parts, binaryPart(p))
			case llms.ToolCall:
				calls = append(calls, convertToolCall(p))
			case llms.ToolCallResponse:
				id := p.ToolCallID
				out = append(out, chatMessage{Role: "tool", Content: p.Content, ToolCallID: &id})
			default:
				parts = append(parts, textPart{Type: "text", Text: fmt.Sprint(p)})
			}
		}
		if len(parts) == 0 && len(calls) == 0 && len(m.Parts) > 0 {
			continue // only tool results, emitted above
		}
		msg := chatMessage{Role: role(m.Role), Content: content(parts), ToolCalls: calls}
		if len(calls) > 0 && msg.Content == "" {
			msg.Content = nil // OpenAI's form: no content next to tool calls
		}
		out = append(out, msg)
	}
	return out
}

// content is a message's content: a string for one text part (LangChain's
// usual string content), else the list of parts.
func content(parts []any) any {
	switch len(parts) {
	case 0:
		return ""
	case 1:
		if t, ok := parts[0].(textPart); ok {
			return t.Text
		}
	}
	return parts
}

func binaryPart(p llms.BinaryContent) any {
	mime := strings.ToLower(strings.TrimSpace(strings.SplitN(p.MIMEType, ";", 2)[0]))
	switch {
	case strings.HasPrefix(mime, "image/"):
		return imagePart{Type: "image_url", ImageURL: imageURL{URL: p.String()}}
	case mime == "audio/wav" || mime == "audio/x-wav" || mime == "audio/wave":
		return audioPart{Type: "input_audio", InputAudio: inputAudio{Data: base64.StdEncoding.EncodeToString(p.Data), Format: "wav"}}
	case mime == "audio/mpeg" || mime == "audio/mp3":
		return audioPart{Type: "input_audio", InputAudio: inputAudio{Data: base64.StdEncoding.EncodeToString(p.Data), Format: "mp3"}}
	}
	return textPart{Type: "text", Text: fmt.Sprintf("[%s, %d bytes]", p.MIMEType, len(p.Data))}
}

func convertToolCall(c llms.ToolCall) toolCall {
	tc := toolCall{ID: c.ID, Type: c.Type}
	if tc.Type == "" {
		tc.Type = "function"
	}
	if c.FunctionCall != nil {
		tc.Function = toolFunction{Name: c.FunctionCall.Name, Arguments: toolArguments(c.FunctionCall.Arguments)}
	}
	return tc
}

// toolArguments is a tool call's arguments as MLflow's tracer records them:
// LangChain parses the model's JSON arguments into a dict and MLflow writes
// json.dumps(args) (", " and ": " separators, non-ASCII as \uXXXX). Arguments
// that are not a JSON object (LangChain's invalid tool calls) stay as sent.
func toolArguments(args string) string {
	t := strings.TrimSpace(args)
	if t == "" || t[0] != '{' {
		return args
	}
	if s, ok := encode.Redump([]byte(t), true); ok {
		return s
	}
	return args
}

// chatOutputs converts a model response to {"choices": [...]}.
func chatOutputs(res *llms.ContentResponse) chatOutputsShape {
	out := chatOutputsShape{Choices: make([]chatChoice, 0, len(res.Choices))}
	for _, c := range res.Choices {
		if c == nil {
			continue
		}
		msg := chatMessage{Role: "assistant", Content: c.Content}
		for _, tc := range c.ToolCalls {
			msg.ToolCalls = append(msg.ToolCalls, convertToolCall(tc))
		}
		if len(msg.ToolCalls) == 0 && c.FuncCall != nil {
			msg.ToolCalls = []toolCall{{Type: "function", Function: toolFunction{Name: c.FuncCall.Name, Arguments: toolArguments(c.FuncCall.Arguments)}}}
		}
		if len(msg.ToolCalls) > 0 && c.Content == "" {
			msg.Content = nil
		}
		// finish_reason: null, as MLflow's tracer writes it (on_llm_end).
		out.Choices = append(out.Choices, chatChoice{Message: msg})
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

// toolInput is the tool span's inputs: the input decoded when it is a JSON
// object or array (function-calling agents pass JSON arguments; MLflow's
// tracer parses Python literals the same way), else the input string.
func toolInput(input string) any {
	t := strings.TrimSpace(input)
	if t != "" && (t[0] == '{' || t[0] == '[') {
		var v any
		dec := json.NewDecoder(strings.NewReader(t))
		dec.UseNumber()
		if dec.Decode(&v) == nil && !dec.More() {
			return v
		}
	}
	return input
}

// mlflowDocument is mlflow.entities.Document.
type mlflowDocument struct {
	PageContent string         `json:"page_content"`
	Metadata    map[string]any `json:"metadata"`
	ID          *string        `json:"id"`
}

func mlflowDocuments(docs []schema.Document) []mlflowDocument {
	out := make([]mlflowDocument, len(docs))
	for i, d := range docs {
		md := make(map[string]any, len(d.Metadata)+1)
		for k, v := range d.Metadata {
			md[k] = v
		}
		if d.Score != 0 {
			if _, ok := md["score"]; !ok {
				md["score"] = d.Score
			}
		}
		out[i] = mlflowDocument{PageContent: d.PageContent, Metadata: md}
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
