package assemble

import (
	"encoding/json"
	"strings"

	"go.opentelemetry.io/otel/attribute"

	"github.com/mlflowtrace/mlflowtrace-go/internal/bufpool"
	"github.com/mlflowtrace/mlflowtrace-go/internal/chatmodel"
	"github.com/mlflowtrace/mlflowtrace-go/internal/encode"
	"github.com/mlflowtrace/mlflowtrace-go/internal/keys"
	"github.com/mlflowtrace/mlflowtrace-go/internal/rawjson"
)

// This file translates the spans of Firebase Genkit for Go
// (github.com/firebase/genkit/go) into MLflow's shape. MLflow 3.17.2 has no
// Genkit translator; Genkit records every action (flows, models, tools,
// embedders, retrievers, prompts, the generate loop) through
// core/tracing.RunInNewSpan on its "genkit-tracer" scope, with the action's
// JSON input and output and its kind in genkit:* attributes. The translation
// gives those spans the span type, inputs, outputs, chat messages (MLflow's
// chat shape, as chatmodel writes it), tools, model, provider and token
// usage MLflow shows, for every destination. It runs after MLflow's own
// translators and sets only what they left unset; the genkit:* attributes
// are kept.

// genkitScope is the instrumentation scope of Genkit for Go's spans.
const genkitScope = "genkit-tracer"

// genkitFormat is the mlflow.message.format of Genkit model spans: their
// messages are in MLflow's chat shape, which MLflow's UI reads for formats
// it has no reader of its own for.
const genkitFormat = "genkit"

// Span types of Genkit's action kinds (genkit:metadata:subtype).
var genkitKinds = map[string]string{
	"flow": "CHAIN", "flowStep": "CHAIN", "util": "CHAIN", "executable-prompt": "CHAIN", "prompt": "CHAIN",
	"model": "CHAT_MODEL", "background-model": "CHAT_MODEL",
	"tool": "TOOL", "tool.v2": "TOOL",
	"embedder": "EMBEDDING", "retriever": "RETRIEVER", "indexer": "CHAIN",
	"reranker": "RERANKER", "evaluator": "EVALUATOR",
}

// genkitProviders maps Genkit plugin names (the prefix of a model action's
// name) to the provider names MLflow's cost calculation uses; other plugin
// names are used as they are.
var genkitProviders = map[string]string{
	"googleai": "gemini", "vertexai": "vertex_ai", "compat-oai": "openai",
}

// genkitAttr returns the string value of attribute k.
func genkitAttr(attrs []attribute.KeyValue, k string) (string, bool) {
	for _, kv := range attrs {
		if string(kv.Key) == k && kv.Value.Type() == attribute.STRING {
			return kv.Value.AsString(), true
		}
	}
	return "", false
}

// genkitContent are the attributes of a Genkit span that hold what was said
// (ConvertSpanContent without content drops them).
var genkitContent = []string{"genkit:input", "genkit:output", keys.SpanInputs, keys.SpanOutputs}

// translateGenkit adds MLflow's attributes to dst, the converted attributes
// of a span of genkitScope. A bug here must not take the exporter down: a
// panic leaves the span with what was translated so far.
func translateGenkit(dst map[string]string, attrs []attribute.KeyValue) {
	defer func() { _ = recover() }()
	subtype, _ := genkitAttr(attrs, "genkit:metadata:subtype")
	if subtype == "" {
		subtype, _ = genkitAttr(attrs, "genkit:type")
	}
	name, _ := genkitAttr(attrs, "genkit:name")
	if t := genkitKinds[subtype]; t != "" {
		cur, ok := dst[keys.SpanType]
		if !ok || cur == "null" || kindOf(unwrapJSON(cur)) == "UNKNOWN" {
			dst[keys.SpanType] = `"` + t + `"`
		}
	}
	in, hasIn := genkitJSON(attrs, "genkit:input")
	out, hasOut := genkitJSON(attrs, "genkit:output")
	switch subtype {
	case "model", "background-model", "util":
		chat := subtype != "util"
		if hasIn {
			req := decodeGenkitRequest(in, chat)
			if v, ok := genkitChatInputs(req); ok {
				setMissing(dst, keys.SpanInputs, v)
			}
			if chat {
				if v, ok := genkitTools(req.ToolDefs); ok {
					setMissing(dst, keys.ChatTools, v)
				}
			}
		}
		if hasOut {
			resp := decodeGenkitResponse(out)
			if v, ok := genkitChatOutputs(resp); ok {
				setMissing(dst, keys.SpanOutputs, v)
			}
			if chat {
				if v, ok := genkitUsage(resp.TokenUsage); ok {
					setMissing(dst, keys.ChatTokenUsage, v)
				}
			}
		}
		if chat {
			setMissing(dst, keys.MessageFormat, `"`+genkitFormat+`"`)
			genkitModel(dst, name)
		}
	case "tool.v2":
		// A multipart tool's output is {"output": …, "content": [...]}: the
		// tool's result is its output when there is no content.
		if hasOut {
			var mp struct {
				Output  json.RawMessage   `json:"output"`
				Content []json.RawMessage `json:"content"`
			}
			if json.Unmarshal(stringBytes(out), &mp) == nil && len(mp.Output) > 0 && len(mp.Content) == 0 {
				setMissing(dst, keys.SpanOutputs, redumped(mp.Output))
			}
		}
	case "embedder":
		genkitModel(dst, name)
	case "retriever":
		if hasIn {
			if q, ok := genkitQuery(in); ok {
				setMissing(dst, keys.SpanInputs, q)
			}
		}
		if hasOut {
			if v, ok := genkitDocuments(out); ok {
				setMissing(dst, keys.SpanOutputs, v)
			}
		}
	}
	if _, ok := dst[keys.SpanInputs]; hasIn && !ok {
		dst[keys.SpanInputs] = redumped(stringBytes(in))
	}
	if _, ok := dst[keys.SpanOutputs]; hasOut && !ok {
		dst[keys.SpanOutputs] = redumped(stringBytes(out))
	}
}

// genkitJSON returns attribute k's JSON text as Genkit wrote it (with
// json.Marshal); "null" and text that is not JSON count as absent. What is
// recorded of it is re-dumped as Python writes JSON (redumped): the whole
// text, or only the members a translation keeps.
func genkitJSON(attrs []attribute.KeyValue, k string) (string, bool) {
	v, ok := genkitAttr(attrs, k)
	if !ok {
		return "", false
	}
	v = strings.TrimSpace(v)
	if v == "" || v == "null" || !rawjson.Valid(stringBytes(v)) {
		return "", false
	}
	return v, true
}

// redumped is Python's json.dumps text of the valid JSON text v.
func redumped(v []byte) string { return string(encode.AppendRedump(nil, v, false)) }

func setMissing(dst map[string]string, k, v string) {
	if _, ok := dst[k]; !ok {
		dst[k] = v
	}
}

// genkitModel records the model and provider of a model or embedder action
// named "plugin/model".
func genkitModel(dst map[string]string, name string) {
	plugin, model, ok := strings.Cut(name, "/")
	if !ok || model == "" {
		return
	}
	setMissing(dst, keys.LLMModel, encode.JSON(model))
	if p := genkitProviders[plugin]; p != "" {
		plugin = p
	}
	if plugin != "" {
		setMissing(dst, keys.LLMProvider, encode.JSON(plugin))
	}
}

// Genkit's JSON shapes (ai.ModelRequest, ai.ModelResponse, ai.Message,
// ai.Part, ai.Document), decoded only as far as the translation reads them.
type (
	genkitMessage struct {
		Role    string       `json:"role"`
		Content []genkitPart `json:"content"`
	}
	genkitPart struct {
		Text         *string         `json:"text"`
		Media        *genkitMedia    `json:"media"`
		ToolRequest  *genkitToolReq  `json:"toolRequest"`
		ToolResponse *genkitToolResp `json:"toolResponse"`
		Reasoning    *string         `json:"reasoning"`
		Data         json.RawMessage `json:"data"`
		Custom       json.RawMessage `json:"custom"`
	}
	genkitMedia struct {
		ContentType string `json:"contentType"`
		URL         string `json:"url"`
	}
	genkitToolReq struct {
		Name  string          `json:"name"`
		Ref   string          `json:"ref"`
		Input json.RawMessage `json:"input"`
	}
	genkitToolResp struct {
		Name   string          `json:"name"`
		Ref    string          `json:"ref"`
		Output json.RawMessage `json:"output"`
	}
	genkitDocument struct {
		Content  []genkitPart   `json:"content"`
		Metadata map[string]any `json:"metadata"`
	}
)

// genkitMessages converts Genkit messages to MLflow chat messages: role
// "model" is "assistant"; each tool response is a "tool" message of its own.
func genkitMessages(ms []genkitMessage) []chatmodel.Message {
	out := make([]chatmodel.Message, 0, len(ms))
	for _, m := range ms {
		role := m.Role
		if role == "model" {
			role = "assistant"
		}
		var (
			parts []any
			calls []chatmodel.ToolCall
		)
		for _, p := range m.Content {
			switch {
			case p.Text != nil:
				parts = append(parts, chatmodel.Text(*p.Text))
			case p.Media != nil:
				if strings.HasPrefix(p.Media.ContentType, "image/") || strings.HasPrefix(p.Media.URL, "data:image/") {
					parts = append(parts, chatmodel.Image(p.Media.URL, ""))
				} else {
					parts = append(parts, chatmodel.Text("["+p.Media.ContentType+": "+p.Media.URL+"]"))
				}
			case p.ToolRequest != nil:
				args := "{}"
				if len(p.ToolRequest.Input) > 0 {
					args = chatmodel.ToolArguments(string(p.ToolRequest.Input))
				}
				calls = append(calls, chatmodel.ToolCall{ID: p.ToolRequest.Ref, Type: "function",
					Function: chatmodel.ToolFunction{Name: p.ToolRequest.Name, Arguments: args}})
			case p.ToolResponse != nil:
				id := p.ToolResponse.Ref
				out = append(out, chatmodel.Message{Role: "tool", Content: toolOutput(p.ToolResponse.Output), ToolCallID: &id})
			case p.Data != nil:
				parts = append(parts, chatmodel.Text(string(p.Data)))
			case p.Custom != nil:
				parts = append(parts, chatmodel.Text(string(p.Custom)))
			}
		}
		if len(parts) == 0 && len(calls) == 0 && len(m.Content) > 0 {
			continue // only tool responses (or reasoning), emitted above
		}
		msg := chatmodel.Message{Role: role, Content: chatmodel.Content(parts), ToolCalls: calls}
		if len(calls) > 0 && len(parts) == 0 {
			msg.Content = nil
		}
		out = append(out, msg)
	}
	return out
}

// toolOutput is a tool message's content: a string output as it is, any
// other output as its JSON text.
func toolOutput(raw json.RawMessage) string {
	var s string
	if json.Unmarshal(raw, &s) == nil {
		return s
	}
	return string(raw)
}

// genkitRequest is what the translation reads of an ai.ModelRequest and
// genkitResponse of an ai.ModelResponse: the members it records as they
// are, as text (json.RawMessage, nil when absent), and the ones it reads,
// decoded (nil when absent, null, or refused as json.Unmarshal refuses
// them). Only those members are decoded and re-dumped, not the whole
// request (with its tool schemas) nor the request a response repeats.
type (
	genkitRequest struct {
		Config     json.RawMessage `json:"config"`
		Docs       json.RawMessage `json:"docs"`
		Output     json.RawMessage `json:"output"`
		ToolChoice json.RawMessage `json:"toolChoice"`
		Tools      json.RawMessage `json:"tools"`
		Messages   []genkitMessage `json:"messages"`
		ToolDefs   []genkitToolDef `json:"-"` // the tools, decoded
	}
	genkitToolDef struct {
		Name        string          `json:"name"`
		Description string          `json:"description"`
		InputSchema json.RawMessage `json:"inputSchema"`
	}
	genkitResponse struct {
		Custom        json.RawMessage   `json:"custom"`
		FinishMessage json.RawMessage   `json:"finishMessage"`
		FinishReason  string            `json:"finishReason"`
		LatencyMs     json.RawMessage   `json:"latencyMs"`
		Message       *genkitMessage    `json:"message"`
		Operation     json.RawMessage   `json:"operation"`
		Raw           json.RawMessage   `json:"raw"`
		Usage         json.RawMessage   `json:"usage"`
		TokenUsage    *genkitTokenUsage `json:"-"` // the usage, decoded
	}
	genkitTokenUsage struct {
		InputTokens         *int `json:"inputTokens"`
		OutputTokens        *int `json:"outputTokens"`
		TotalTokens         *int `json:"totalTokens"`
		CachedContentTokens *int `json:"cachedContentTokens"`
	}
)

var (
	genkitRequestNames  = []string{"config", "docs", "output", "toolChoice", "tools", "messages"}
	genkitResponseNames = []string{"custom", "finishMessage", "finishReason", "latencyMs", "message", "operation", "raw", "usage"}
)

// decodeGenkitRequest reads a model request (valid JSON text) as the
// translation's json.Unmarshal of the whole request (re-dumped) into
// genkitRequest, and of its tools (when withTools), would: Messages is nil
// where that decoding fails. An ordinary object (each member once, named
// exactly) is read member by member (rawjson.Members); anything else as
// that.
func decodeGenkitRequest(in string, withTools bool) genkitRequest {
	var r genkitRequest
	var messages json.RawMessage
	ordinary := rawjson.MembersInto(stringBytes(in), genkitRequestNames,
		&r.Config, &r.Docs, &r.Output, &r.ToolChoice, &r.Tools, &messages)
	if ordinary {
		if len(messages) > 0 && !decodeRedumped(messages, &r.Messages) {
			r.Messages = nil
		}
		if withTools && len(r.Tools) > 0 && !decodeRedumped(r.Tools, &r.ToolDefs) {
			r.ToolDefs = nil
		}
		return r
	}
	whole := encode.AppendRedump(nil, stringBytes(in), false)
	r = genkitRequest{}
	if json.Unmarshal(whole, &r) != nil {
		r.Messages = nil
	}
	var t struct {
		Tools []genkitToolDef `json:"tools"`
	}
	if withTools && json.Unmarshal(whole, &t) == nil {
		r.ToolDefs = t.Tools
	}
	return r
}

// decodeGenkitResponse is decodeGenkitRequest of a model response: Message
// is nil where json.Unmarshal of the whole response fails, TokenUsage where
// that of its usage does.
func decodeGenkitResponse(out string) genkitResponse {
	var r genkitResponse
	var finishReason, message json.RawMessage
	ordinary := rawjson.MembersInto(stringBytes(out), genkitResponseNames,
		&r.Custom, &r.FinishMessage, &finishReason, &r.LatencyMs, &message, &r.Operation, &r.Raw, &r.Usage)
	if ordinary {
		if (len(finishReason) > 0 && !rawjson.SetString(&r.FinishReason, finishReason)) ||
			(len(message) > 0 && !decodeRedumped(message, &r.Message)) {
			r.Message = nil // json.Unmarshal refuses the whole response
		}
		if len(r.Usage) > 0 && json.Unmarshal(r.Usage, &r.TokenUsage) != nil {
			r.TokenUsage = nil
		}
		return r
	}
	whole := encode.AppendRedump(nil, stringBytes(out), false)
	r = genkitResponse{}
	if json.Unmarshal(whole, &r) != nil {
		r.Message = nil
	}
	var u struct {
		Usage *genkitTokenUsage `json:"usage"`
	}
	if json.Unmarshal(whole, &u) == nil {
		r.TokenUsage = u.Usage
	}
	return r
}

// decodeRedumped decodes the JSON text raw, re-dumped first, into v: the
// json.RawMessage members v holds are then in Python's text (copies:
// json.Unmarshal keeps nothing of its input, so the re-dump's buffer is
// reused).
func decodeRedumped(raw json.RawMessage, v any) bool {
	bp := redumpBuffers.Get()
	b := encode.AppendRedump(*bp, raw, false)
	ok := json.Unmarshal(b, v) == nil
	redumpBuffers.Put(bp, b)
	return ok
}

// redumpBuffers holds decodeRedumped's buffers (the exporter's background
// translation; one that grew beyond 64 KB is dropped).
var redumpBuffers = bufpool.New(4<<10, 64<<10)

// appendRaws appends the members given as name, value pairs (string,
// json.RawMessage) that are present, re-dumped.
func appendRaws(b []byte, pairs ...any) []byte {
	for i := 0; i+1 < len(pairs); i += 2 {
		name, _ := pairs[i].(string)
		if raw, _ := pairs[i+1].(json.RawMessage); len(raw) > 0 {
			b = appendMember(b, name, "")
			b = encode.AppendRedump(b, raw, false)
		}
	}
	return b
}

// genkitChatInputs is a model request as {"messages": [...]} followed by
// the request's other members (config, docs, output, toolChoice, tools).
func genkitChatInputs(req genkitRequest) (string, bool) {
	if req.Messages == nil {
		return "", false
	}
	b := appendMember(nil, "messages", encode.JSON(genkitMessages(req.Messages)))
	b = appendRaws(b, "config", req.Config, "docs", req.Docs, "output", req.Output,
		"toolChoice", req.ToolChoice, "tools", req.Tools)
	return string(append(b, '}')), true
}

// genkitChatOutputs is a model response as {"choices": [{"message",
// "finish_reason"}]} followed by its other members (usage, latencyMs,
// finishMessage, custom, operation, raw); the request Genkit repeats in it
// is left out.
func genkitChatOutputs(resp genkitResponse) (string, bool) {
	if resp.Message == nil {
		return "", false
	}
	choice := chatmodel.Choice{Message: chatmodel.Message{Role: "assistant", Content: ""}}
	if ms := genkitMessages([]genkitMessage{*resp.Message}); len(ms) > 0 {
		choice.Message = ms[len(ms)-1]
	}
	if resp.FinishReason != "" {
		choice.FinishReason = &resp.FinishReason
	}
	b := appendMember(nil, "choices", encode.JSON([]chatmodel.Choice{choice}))
	b = appendRaws(b, "usage", resp.Usage, "latencyMs", resp.LatencyMs, "finishMessage", resp.FinishMessage,
		"custom", resp.Custom, "operation", resp.Operation, "raw", resp.Raw)
	return string(append(b, '}')), true
}

// genkitTools is mlflow.chat.tools of a model request's tool definitions
// ({name, description, inputSchema}).
func genkitTools(tools []genkitToolDef) (string, bool) {
	if len(tools) == 0 {
		return "", false
	}
	var b []byte
	b = append(b, '[')
	for i, t := range tools {
		if i > 0 {
			b = append(b, ", "...)
		}
		fn := appendMember(nil, "name", encode.JSON(t.Name))
		if t.Description != "" {
			fn = appendMember(fn, "description", encode.JSON(t.Description))
		}
		if len(t.InputSchema) > 0 && string(t.InputSchema) != "null" {
			fn = appendMember(fn, "parameters", string(t.InputSchema))
		}
		tool := appendMember(nil, "type", `"function"`)
		tool = appendMember(tool, "function", string(append(fn, '}')))
		b = append(b, tool...)
		b = append(b, '}')
	}
	return string(append(b, ']')), true
}

// genkitUsage is MLflow's token usage of a model response's usage.
func genkitUsage(u *genkitTokenUsage) (string, bool) {
	if u == nil || u.InputTokens == nil && u.OutputTokens == nil && u.TotalTokens == nil {
		return "", false
	}
	n := func(p *int) int {
		if p == nil {
			return 0
		}
		return *p
	}
	total := n(u.TotalTokens)
	if total == 0 {
		total = n(u.InputTokens) + n(u.OutputTokens)
	}
	v := struct {
		In     int  `json:"input_tokens"`
		Out    int  `json:"output_tokens"`
		Total  int  `json:"total_tokens"`
		Cached *int `json:"cache_read_input_tokens,omitempty"`
	}{n(u.InputTokens), n(u.OutputTokens), total, u.CachedContentTokens}
	return encode.JSON(v), true
}

// genkitQuery is a retriever request's query: the text of the query
// document when it is only text.
func genkitQuery(in string) (string, bool) {
	var req struct {
		Query *genkitDocument `json:"query"`
	}
	if json.Unmarshal([]byte(in), &req) != nil || req.Query == nil {
		return "", false
	}
	text, ok := documentText(*req.Query)
	if !ok {
		return "", false
	}
	return encode.JSON(text), true
}

// documentText joins the text parts of a document; ok is false when it has
// other parts.
func documentText(d genkitDocument) (string, bool) {
	var b strings.Builder
	for _, p := range d.Content {
		if p.Text == nil {
			return "", false
		}
		b.WriteString(*p.Text)
	}
	return b.String(), true
}

// genkitDocuments is a retriever response's documents as MLflow documents.
func genkitDocuments(out string) (string, bool) {
	var resp struct {
		Documents []genkitDocument `json:"documents"`
	}
	if json.Unmarshal([]byte(out), &resp) != nil || resp.Documents == nil {
		return "", false
	}
	docs := make([]chatmodel.Document, 0, len(resp.Documents))
	for _, d := range resp.Documents {
		text, ok := documentText(d)
		if !ok {
			return "", false
		}
		docs = append(docs, chatmodel.NewDocument(text, d.Metadata, "", nil))
	}
	return encode.JSON(docs), true
}
