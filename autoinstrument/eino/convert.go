package eino

import (
	"encoding/json"
	"slices"
	"strings"
	"sync"

	"github.com/cloudwego/eino/callbacks"
	"github.com/cloudwego/eino/components"
	"github.com/cloudwego/eino/components/embedding"
	"github.com/cloudwego/eino/components/indexer"
	"github.com/cloudwego/eino/components/model"
	"github.com/cloudwego/eino/components/prompt"
	"github.com/cloudwego/eino/components/retriever"
	"github.com/cloudwego/eino/components/tool"
	"github.com/cloudwego/eino/compose"
	"github.com/cloudwego/eino/schema"

	"github.com/mlflowtrace/mlflowtrace-go/internal/chatmodel"
	"github.com/mlflowtrace/mlflowtrace-go/internal/keys"
	"github.com/mlflowtrace/mlflowtrace-go/internal/llmspan"
	"github.com/mlflowtrace/mlflowtrace-go/tracing"
)

// messageFormat is the mlflow.message.format of chat model spans. The
// messages are in the chat shape MLflow's LangChain tracer writes, which
// MLflow's UI reads for any format it has no reader of its own for.
const messageFormat = "eino"

// kind is how the handler records a component.
type kind uint8

const (
	kindChain kind = iota // graphs' nodes without a kind of their own: lambdas, templates, …
	kindGraph             // a graph, chain or workflow
	kindToolsNode
	kindModel
	kindTool
	kindRetriever
	kindEmbedding
	kindPrompt
	kindIndexer
)

func kindOf(c components.Component) kind {
	switch c {
	case components.ComponentOfChatModel:
		return kindModel
	case components.ComponentOfTool:
		return kindTool
	case components.ComponentOfRetriever:
		return kindRetriever
	case components.ComponentOfEmbedding:
		return kindEmbedding
	case components.ComponentOfPrompt:
		return kindPrompt
	case components.ComponentOfIndexer:
		return kindIndexer
	case compose.ComponentOfGraph, compose.ComponentOfChain, compose.ComponentOfWorkflow:
		return kindGraph
	case compose.ComponentOfToolsNode:
		return kindToolsNode
	}
	return kindChain
}

// spanType is the MLflow span type of a kind, as MLflow's LangChain tracer
// types the analogous runs: chat models CHAT_MODEL, tools TOOL, retrievers
// RETRIEVER, every other runnable CHAIN; embedders EMBEDDING.
func (k kind) spanType() tracing.SpanType {
	switch k {
	case kindModel:
		return tracing.SpanTypeChatModel
	case kindTool:
		return tracing.SpanTypeTool
	case kindRetriever:
		return tracing.SpanTypeRetriever
	case kindEmbedding:
		return tracing.SpanTypeEmbedding
	}
	return tracing.SpanTypeChain
}

// spanName is the run's node or tool name, else Eino's name for the
// component ({Type}{Component}, e.g. "OpenAIChatModel"), else the component.
func spanName(info *callbacks.RunInfo) string {
	switch {
	case info.Name != "":
		return info.Name
	case info.Type != "" || info.Component != "":
		return info.Type + string(info.Component)
	}
	return "eino"
}

// providers maps the component types of eino-ext's model and embedding
// components to the provider names MLflow's cost calculation uses.
var providers = map[string]string{
	"openai": "openai", "azureopenai": "azure", "claude": "anthropic", "gemini": "gemini",
	"ark": "volcengine", "arkbot": "volcengine", "ollama": "ollama", "deepseek": "deepseek",
	"qwen": "dashscope", "dashscope": "dashscope", "qianfan": "qianfan", "openrouter": "openrouter",
	"mistral": "mistral",
}

// llmAttributes records the model and provider of a chat model or
// embedding run.
func (h *Handler) llmAttributes(r *run, model string) {
	if model == "" {
		model = h.cfg.model
	}
	if model != "" {
		r.model = model
		r.span.SetModel(model)
	}
	p := h.cfg.provider
	if p == "" {
		p = providers[strings.ToLower(r.typ)]
	}
	if p != "" {
		r.provider = p
		r.span.SetProvider(p)
	}
}

// recordInput records a run's input.
func (h *Handler) recordInput(r *run, input callbacks.CallbackInput) {
	content := r.span.CapturesContent()
	switch r.kind {
	case kindModel:
		if in := model.ConvCallbackInput(input); in != nil {
			r.span.SetMessageFormat(messageFormat)
			var m string
			if in.Config != nil {
				m = in.Config.Model
			}
			h.llmAttributes(r, m)
			if tools, ok := h.tools.get(in.Tools); ok {
				r.span.SetAttribute(keys.ChatTools, tools)
			}
			if content {
				r.span.SetInputs(chatmodel.Inputs{Messages: messages(in.Messages)})
			}
			return
		}
	case kindTool:
		if in := tool.ConvCallbackInput(input); in != nil {
			if content {
				r.span.SetInputs(chatmodel.ToolInput(in.ArgumentsInJSON))
			}
			return
		}
	case kindRetriever:
		if in := retriever.ConvCallbackInput(input); in != nil {
			if content {
				r.span.SetInputs(in.Query)
			}
			return
		}
	case kindEmbedding:
		if in := embedding.ConvCallbackInput(input); in != nil {
			var m string
			if in.Config != nil {
				m = in.Config.Model
			}
			h.llmAttributes(r, m)
			if content {
				r.span.SetInputs(in.Texts)
			}
			return
		}
	case kindPrompt:
		if in := prompt.ConvCallbackInput(input); in != nil {
			if content {
				r.span.SetInputs(in.Variables)
			}
			return
		}
	case kindIndexer:
		if in := indexer.ConvCallbackInput(input); in != nil {
			if content {
				r.span.SetInputs(documents(in.Docs))
			}
			return
		}
	}
	if content {
		r.span.SetInputs(value(input))
	}
}

// recordOutput records a run's output (before its span ends).
func (h *Handler) recordOutput(r *run, output callbacks.CallbackOutput) {
	content := r.span.CapturesContent()
	switch r.kind {
	case kindModel:
		if out := model.ConvCallbackOutput(output); out != nil {
			if r.model == "" && out.Config != nil && out.Config.Model != "" {
				h.llmAttributes(r, out.Config.Model)
			}
			if u, ok := usage(out.TokenUsage, out.Message); ok {
				u.Set(r.span)
			}
			if content && out.Message != nil {
				r.span.SetOutputs(chatOutputs(out.Message))
			}
			return
		}
	case kindTool:
		if out := tool.ConvCallbackOutput(output); out != nil {
			if content {
				if out.ToolOutput != nil && out.Response == "" {
					r.span.SetOutputs(out.ToolOutput)
				} else {
					r.span.SetOutputs(out.Response)
				}
			}
			return
		}
	case kindRetriever:
		if out := retriever.ConvCallbackOutput(output); out != nil {
			if content {
				r.span.SetOutputs(documents(out.Docs))
			}
			return
		}
	case kindEmbedding:
		if out := embedding.ConvCallbackOutput(output); out != nil {
			if r.model == "" && out.Config != nil && out.Config.Model != "" {
				h.llmAttributes(r, out.Config.Model)
			}
			if content {
				r.span.SetOutputs(out.Embeddings)
			}
			return
		}
	case kindPrompt:
		if out := prompt.ConvCallbackOutput(output); out != nil {
			if content {
				r.span.SetOutputs(chatmodel.Inputs{Messages: messages(out.Result)})
			}
			return
		}
	case kindIndexer:
		if out := indexer.ConvCallbackOutput(output); out != nil {
			if content {
				r.span.SetOutputs(out.IDs)
			}
			return
		}
	}
	if content {
		r.span.SetOutputs(value(output))
	}
}

// value is how a graph's, chain's or lambda's input or output is recorded:
// messages as {"messages": [...]} in MLflow's chat shape (the shape of a
// LangGraph state, which MLflow's previews and UI read), anything else as
// the Go value (package tracing encodes it as JSON).
func value(v any) any {
	switch x := v.(type) {
	case []*schema.Message:
		return chatmodel.Inputs{Messages: messages(x)}
	case *schema.Message:
		if x == nil {
			return nil
		}
		return chatmodel.Inputs{Messages: messages([]*schema.Message{x})}
	case []*schema.Document:
		return documents(x)
	}
	return v
}

// messages converts Eino messages to MLflow chat messages.
func messages(ms []*schema.Message) []chatmodel.Message {
	out := make([]chatmodel.Message, 0, len(ms))
	for _, m := range ms {
		if m != nil {
			out = append(out, message(m))
		}
	}
	return out
}

func message(m *schema.Message) chatmodel.Message {
	var parts []any
	if m.Content != "" {
		parts = append(parts, chatmodel.Text(m.Content))
	}
	for _, p := range m.MultiContent {
		parts = append(parts, chatPart(p))
	}
	for _, p := range m.UserInputMultiContent {
		parts = append(parts, inputPart(p))
	}
	for _, p := range m.AssistantGenMultiContent {
		parts = append(parts, outputPart(p))
	}
	msg := chatmodel.Message{Role: string(m.Role), Content: chatmodel.Content(parts)}
	for _, tc := range m.ToolCalls {
		typ := tc.Type
		if typ == "" {
			typ = "function"
		}
		msg.ToolCalls = append(msg.ToolCalls, chatmodel.ToolCall{ID: tc.ID, Type: typ,
			Function: chatmodel.ToolFunction{Name: tc.Function.Name, Arguments: chatmodel.ToolArguments(tc.Function.Arguments)}})
	}
	if len(msg.ToolCalls) > 0 && len(parts) == 0 {
		msg.Content = nil // OpenAI's form: no content next to tool calls
	}
	if m.ToolCallID != "" {
		id := m.ToolCallID
		msg.ToolCallID = &id
	}
	return msg
}

// chatPart converts a part of Message.MultiContent.
//
//lint:ignore SA1019 Eino deprecated MultiContent, but agents still fill it and it must be recorded.
func chatPart(p schema.ChatMessagePart) any {
	switch {
	case p.Type == schema.ChatMessagePartTypeText:
		return chatmodel.Text(p.Text)
	case p.ImageURL != nil:
		return chatmodel.Image(p.ImageURL.URL, string(p.ImageURL.Detail))
	case p.AudioURL != nil:
		return chatmodel.Text("[audio: " + p.AudioURL.URL + "]")
	case p.VideoURL != nil:
		return chatmodel.Text("[video: " + p.VideoURL.URL + "]")
	case p.FileURL != nil:
		return chatmodel.Text("[file: " + p.FileURL.URL + "]")
	}
	return chatmodel.Text(p.Text)
}

// media converts inline or linked media: a URL as an image URL (images) or
// a text naming it, base64 data as chatmodel.Media.
func media(c schema.MessagePartCommon, what, detail string) any {
	if c.Base64Data != nil {
		return chatmodel.Media(c.MIMEType, *c.Base64Data)
	}
	url := ""
	if c.URL != nil {
		url = *c.URL
	}
	if what == "image" {
		return chatmodel.Image(url, detail)
	}
	return chatmodel.Text("[" + what + ": " + url + "]")
}

// inputPart converts a part of Message.UserInputMultiContent.
func inputPart(p schema.MessageInputPart) any {
	switch {
	case p.Image != nil:
		return media(p.Image.MessagePartCommon, "image", string(p.Image.Detail))
	case p.Audio != nil:
		return media(p.Audio.MessagePartCommon, "audio", "")
	case p.Video != nil:
		return media(p.Video.MessagePartCommon, "video", "")
	case p.File != nil:
		return media(p.File.MessagePartCommon, "file", "")
	}
	return chatmodel.Text(p.Text)
}

// outputPart converts a part of Message.AssistantGenMultiContent.
func outputPart(p schema.MessageOutputPart) any {
	switch {
	case p.Image != nil:
		return media(p.Image.MessagePartCommon, "image", "")
	case p.Audio != nil:
		return media(p.Audio.MessagePartCommon, "audio", "")
	case p.Video != nil:
		return media(p.Video.MessagePartCommon, "video", "")
	}
	return chatmodel.Text(p.Text)
}

// chatOutputs is a chat model span's outputs: {"choices": [...]} with the
// model's finish reason when it reports one.
func chatOutputs(m *schema.Message) chatmodel.Outputs {
	c := chatmodel.Choice{Message: message(m)}
	if m.ResponseMeta != nil && m.ResponseMeta.FinishReason != "" {
		fr := m.ResponseMeta.FinishReason
		c.FinishReason = &fr
	}
	return chatmodel.Outputs{Choices: []chatmodel.Choice{c}}
}

// usage is MLflow's token usage of a model call: the callback output's
// TokenUsage, else the message's ResponseMeta usage. The cached prompt
// tokens are recorded when not zero (Eino's usage cannot tell 0 from
// unreported).
func usage(tu *model.TokenUsage, m *schema.Message) (llmspan.Usage, bool) {
	var in, out, total, cached int
	switch {
	case tu != nil:
		in, out, total, cached = tu.PromptTokens, tu.CompletionTokens, tu.TotalTokens, tu.PromptTokenDetails.CachedTokens
	case m != nil && m.ResponseMeta != nil && m.ResponseMeta.Usage != nil:
		u := m.ResponseMeta.Usage
		in, out, total, cached = u.PromptTokens, u.CompletionTokens, u.TotalTokens, u.PromptTokenDetails.CachedTokens
	default:
		return llmspan.Usage{}, false
	}
	if in == 0 && out == 0 && total == 0 {
		return llmspan.Usage{}, false
	}
	if total == 0 {
		total = in + out
	}
	u := llmspan.Usage{InputTokens: in, OutputTokens: out, TotalTokens: total}
	if cached != 0 {
		u.CacheReadInputTokens = llmspan.Int(cached)
	}
	return u, true
}

// toolsCache remembers the last tools conversion: an agent offers its model
// the same tool definitions on every call.
type toolsCache struct {
	mu    sync.Mutex
	infos []*schema.ToolInfo
	val   json.RawMessage
	ok    bool
}

// get returns chatTools(infos), from the cache when infos holds the same
// definitions as last time.
func (c *toolsCache) get(infos []*schema.ToolInfo) (json.RawMessage, bool) {
	c.mu.Lock()
	if len(infos) > 0 && slices.Equal(c.infos, infos) {
		v, ok := c.val, c.ok
		c.mu.Unlock()
		return v, ok
	}
	c.mu.Unlock()
	v, ok := chatTools(infos)
	c.mu.Lock()
	c.infos, c.val, c.ok = slices.Clone(infos), v, ok
	c.mu.Unlock()
	return v, ok
}

// chatTools is mlflow.chat.tools for the tools offered to a chat model: each
// in the form MLflow's ChatTool model accepts, or (as MLflow's LangChain
// tracer does for a definition its model rejects) with only its name and
// description.
func chatTools(infos []*schema.ToolInfo) (json.RawMessage, bool) {
	if len(infos) == 0 {
		return nil, false
	}
	tools := make([]llmspan.Tool, 0, len(infos))
	for _, ti := range infos {
		if ti == nil || ti.Name == "" {
			continue
		}
		t := llmspan.Tool{Name: jsonString(ti.Name)}
		if ti.Desc != "" {
			t.Description = jsonString(ti.Desc)
		}
		if ti.ParamsOneOf != nil {
			if s, err := ti.ParamsOneOf.ToJSONSchema(); err == nil && s != nil {
				if b, err := json.Marshal(s); err == nil {
					t.Parameters = b
				}
			}
		}
		if _, ok := llmspan.ChatTools([]llmspan.Tool{t}); !ok {
			t.Parameters = nil
		}
		tools = append(tools, t)
	}
	return llmspan.ChatTools(tools)
}

func jsonString(s string) json.RawMessage {
	b, _ := json.Marshal(s)
	return b
}

// documents converts Eino documents to MLflow's documents (metadata as
// Eino keeps it, the score included as "_score").
func documents(docs []*schema.Document) []chatmodel.Document {
	out := make([]chatmodel.Document, 0, len(docs))
	for _, d := range docs {
		if d != nil {
			out = append(out, chatmodel.NewDocument(d.Content, d.MetaData, d.ID, nil))
		}
	}
	return out
}
