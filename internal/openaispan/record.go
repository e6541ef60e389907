package openaispan

import (
	"bytes"
	"encoding/json"
	"fmt"
	"sort"
	"strings"

	"go.opentelemetry.io/otel/attribute"

	"github.com/mlflowtrace/mlflowtrace-go/internal/encode"
	"github.com/mlflowtrace/mlflowtrace-go/internal/exception"
	"github.com/mlflowtrace/mlflowtrace-go/internal/keys"
	"github.com/mlflowtrace/mlflowtrace-go/internal/llmspan"
	"github.com/mlflowtrace/mlflowtrace-go/internal/rawjson"
	"github.com/mlflowtrace/mlflowtrace-go/internal/sse"
	"github.com/mlflowtrace/mlflowtrace-go/tracing"
)

// The errors a call is recorded with are named after the API
// (internal/exception): an error answer "openai.APIError", an error event of
// a stream "openai.StreamError", a stream that ended before its final event
// "openai.IncompleteStreamError".
const (
	typeAPIError         = "openai.APIError"
	typeStreamError      = "openai.StreamError"
	typeIncompleteStream = "openai.IncompleteStreamError"
)

// apiError is an error answer of the API.
type apiError struct {
	statusCode int
	message    string // the error body's error.message
}

func (e *apiError) Error() string {
	msg := llmspan.StatusText(e.statusCode)
	if e.message != "" {
		msg += ": " + e.message
	}
	return msg
}

// streamError is an error event inside a stream (the stream then ends).
type streamError struct{ message string }

func (e *streamError) Error() string { return "error event in the stream: " + e.message }

// incompleteStreamError records a stream that ended — closed by the caller,
// or cut — before the API's final event.
type incompleteStreamError struct{ closed bool }

func (e *incompleteStreamError) Error() string {
	if e.closed {
		return "stream closed before its final event"
	}
	return "stream ended before its final event"
}

func newAPIError(code int, body []byte) error {
	e := &apiError{statusCode: code}
	var b struct {
		Error struct {
			Message string `json:"message"`
		} `json:"error"`
	}
	if json.Unmarshal(body, &b) == nil {
		e.message = b.Error.Message
	}
	return exception.New(typeAPIError, e)
}

func newStreamError(msg string) error {
	return exception.New(typeStreamError, &streamError{message: msg})
}

// recorder records one call's result, and aggregates its stream.
type recorder struct {
	kind     kind
	capture  bool
	span     *tracing.Span
	reqModel string
	reqTools json.RawMessage
	tools    *llmspan.ToolsCache

	chunks    int
	done      bool
	streamErr error
	usage     json.RawMessage // last usage seen in a stream

	chat     chatAgg
	text     strings.Builder // legacy completions
	response json.RawMessage // Responses: the final event's response
	items    []json.RawMessage
}

func newRecorder(k kind, fields []llmspan.Field, capture bool, span *tracing.Span) *recorder {
	r := &recorder{kind: k, capture: capture, span: span}
	if m, ok := llmspan.Lookup(fields, "model"); ok {
		r.reqModel = llmspan.String(m)
	}
	if t, ok := llmspan.Lookup(fields, "tools"); ok && !llmspan.IsNull(t) {
		r.reqTools = t
	}
	return r
}

// Event handles one server-sent event of a stream.
func (r *recorder) Event(ev sse.Event) {
	data := ev.Data
	if string(data) == "[DONE]" {
		r.done = true
		return
	}
	valid := rawjson.Valid(data)
	if r.capture {
		// MLflow records every chunk as an event mlflow.chunk.item.<i>.
		var value any = json.RawMessage(data) // invalid: encode's fallback text
		if valid {
			value = encode.ValidJSON(data)
		}
		r.span.AddEvent(keys.ChunkEvent(r.chunks), attribute.String(keys.ChunkValue, encode.JSON(value)))
	}
	r.chunks++
	if !valid {
		return
	}
	switch r.kind {
	case kindChat:
		r.chatChunk(data)
	case kindCompletion:
		r.completionChunk(data)
	case kindResponses:
		r.responsesEvent(ev.Type, data)
	}
}

func (r *recorder) StreamDone() bool { return r.done || r.streamErr != nil }

// errorEvent reports an {"error": ...} chunk (data, valid JSON; openai-go
// stops the stream on it): its error member is the one encoding/json would
// decode into a field "error", the last whose name matches ignoring case.
func (r *recorder) errorEvent(data []byte) bool {
	var e json.RawMessage
	rawjson.EachMember(data, func(key []byte, v json.RawMessage) bool {
		if bytes.EqualFold(rawjson.KeyText(key), []byte("error")) {
			e = v
		}
		return true
	})
	if llmspan.IsNull(e) {
		return false
	}
	var d struct {
		Message string `json:"message"`
	}
	if json.Unmarshal(e, &d) != nil || d.Message == "" {
		d.Message = string(e)
	}
	r.streamErr = newStreamError(d.Message)
	return true
}

// Finish records the call's result on the span.
func (r *recorder) Finish(span *tracing.Span, res llmspan.Result) {
	switch {
	case res.Stream:
		r.finishStream(span, res)
		return
	case res.Err != nil:
		span.RecordError(res.Err)
		return
	case res.Response == nil:
		return
	case res.Response.StatusCode >= 400:
		span.RecordError(newAPIError(res.Response.StatusCode, res.Body))
		return
	}
	if res.Truncated {
		return
	}
	if !rawjson.Valid(res.Body) {
		if err := llmspan.DecodeError(res.Body); err != nil {
			span.RecordError(err)
		}
		return
	}
	out := json.RawMessage(res.Body)
	if r.capture {
		span.SetOutputs(encode.ValidJSON(out))
	}
	model, usage := modelAndUsage(out)
	r.setChatAttributes(span, model, usage)
}

// modelAndUsage reads an answer's (valid JSON) model and usage as
// json.Unmarshal into struct{Model string; Usage json.RawMessage} does: the
// last member whose name matches ignoring case, a model only when it is a
// string.
func modelAndUsage(answer json.RawMessage) (model string, usage json.RawMessage) {
	rawjson.EachMember(answer, func(key []byte, v json.RawMessage) bool {
		switch k := rawjson.KeyText(key); {
		case bytes.EqualFold(k, []byte("model")):
			if s, ok := rawjson.StringValue(v); ok {
				model = s
			}
		case bytes.EqualFold(k, []byte("usage")):
			usage = v
		}
		return true
	})
	return model, usage
}

// setChatAttributes is MLflow's set_span_chat_attributes: tools of the
// request, the model (the response's, else the request's), and token usage
// for Chat Completions and Responses answers.
func (r *recorder) setChatAttributes(span *tracing.Span, model string, usage json.RawMessage) {
	if r.reqTools != nil {
		var cache llmspan.ToolsCache
		if r.tools == nil {
			r.tools = &cache
		}
		if t, ok := r.tools.Attribute(r.reqTools, chatTools); ok {
			span.SetAttribute(keys.ChatTools, t)
		}
	}
	if model == "" {
		model = r.reqModel
	}
	if model != "" {
		span.SetModel(model)
	}
	switch r.kind {
	case kindChat:
		if u, ok := chatUsage(usage); ok {
			u.Set(span)
		}
	case kindResponses:
		if u, ok := responsesUsage(usage); ok {
			u.Set(span)
		}
	}
}

func (r *recorder) finishStream(span *tracing.Span, res llmspan.Result) {
	var out json.RawMessage
	model := ""
	switch r.kind {
	case kindChat:
		out = r.chat.completion(r.usage)
		model = r.chat.model
		// MLflow sets the usage of the stream's last usage chunk.
		if u, ok := chatUsage(r.usage); ok {
			u.Set(span)
		}
	case kindCompletion:
		// MLflow records a streamed legacy completion as its text.
		out, _ = json.Marshal(r.text.String())
		if u, ok := chatUsage(r.usage); ok {
			u.Set(span)
		}
	case kindResponses:
		if r.response != nil {
			out = r.response
			model, r.usage = modelAndUsage(out)
		} else {
			var o llmspan.Object
			o.Set("output", json.RawMessage("["+joinRaw(r.items)+"]"))
			out = o.JSON()
		}
	}
	if r.capture && out != nil {
		span.SetOutputs(out)
	}
	if res.Err != nil {
		span.RecordError(res.Err)
		return
	}
	if r.streamErr != nil {
		span.RecordError(r.streamErr)
		return
	}
	if !r.done {
		span.RecordError(exception.New(typeIncompleteStream, &incompleteStreamError{closed: res.ClosedEarly}))
		return
	}
	switch r.kind {
	case kindChat:
		r.setChatAttributes(span, model, nil)
	case kindCompletion:
		r.setChatAttributes(span, "", nil)
	case kindResponses:
		r.setChatAttributes(span, model, r.usage)
	}
}

func joinRaw(items []json.RawMessage) string {
	parts := make([]string, len(items))
	for i, it := range items {
		parts[i] = string(it)
	}
	return strings.Join(parts, ",")
}

// chatTools converts request tools (Chat Completions or Responses form) to
// MLflow's mlflow.chat.tools, as MLflow's autolog does.
func chatTools(raw json.RawMessage) (json.RawMessage, bool) {
	return llmspan.ToolList(raw, chatTool)
}

func chatTool(fields []llmspan.Field) (llmspan.Tool, bool) {
	typ := "function"
	if t, ok := llmspan.Lookup(fields, "type"); ok {
		typ = llmspan.String(t)
	}
	switch typ {
	case "function":
		def := fields
		if fn, ok := llmspan.Lookup(fields, "function"); ok { // Chat Completions form
			var err error
			if def, err = llmspan.ObjectFields(fn); err != nil {
				return llmspan.Tool{}, false
			}
		}
		var t llmspan.Tool
		t.Name, _ = llmspan.Lookup(def, "name")
		if v, ok := llmspan.Lookup(def, "description"); ok {
			t.Description = v
		}
		if v, ok := llmspan.Lookup(def, "parameters"); ok {
			t.Parameters = v
		}
		if v, ok := llmspan.Lookup(def, "strict"); ok {
			t.Strict = v
		}
		return t, true
	case "file_search", "computer_use_preview", "web_search_preview", "local_shell", "mcp", "code_interpreter", "image_generation":
		// Responses API built-in tools: MLflow records their type as the name.
		name, _ := json.Marshal(typ)
		return llmspan.Tool{Name: name}, true
	}
	return llmspan.Tool{}, false // MLflow rejects the list ("Unknown tool type")
}

// chatUsage is MLflow's _parse_chat_completion_usage.
func chatUsage(raw json.RawMessage) (llmspan.Usage, bool) {
	if llmspan.IsNull(raw) {
		return llmspan.Usage{}, false
	}
	u, ok := rawjson.Decode(raw, chatUsageNames, func(u *chatUsageJSON, name int, v json.RawMessage) bool {
		switch name {
		case 0:
			return rawjson.SetInt(&u.PromptTokens, v)
		case 1:
			return rawjson.SetInt(&u.CompletionTokens, v)
		case 2:
			return rawjson.SetInt(&u.TotalTokens, v)
		case 3:
			return setCachedTokens(&u.PromptTokensDetails, v)
		case 4:
			return rawjson.SetIntPointer(&u.CacheReadInputTokens, v)
		default:
			return rawjson.SetIntPointer(&u.CacheCreationInputTokens, v)
		}
	})
	if !ok {
		return llmspan.Usage{}, false
	}
	return chatUsageOf(u), true
}

// chatUsageOf is the usage MLflow records of a decoded chat usage.
func chatUsageOf(u chatUsageJSON) llmspan.Usage {
	out := llmspan.Usage{InputTokens: u.PromptTokens, OutputTokens: u.CompletionTokens, TotalTokens: u.TotalTokens}
	if u.PromptTokensDetails != nil && u.PromptTokensDetails.CachedTokens != nil {
		out.CacheReadInputTokens = u.PromptTokensDetails.CachedTokens
	} else {
		out.CacheReadInputTokens = u.CacheReadInputTokens
	}
	out.CacheCreationInputTokens = u.CacheCreationInputTokens
	return out
}

// chatUsageJSON is a chat completion's usage as encoding/json would decode
// it; chatUsageNames are its members' names, in chatUsage's order.
type chatUsageJSON struct {
	PromptTokens             int           `json:"prompt_tokens"`
	CompletionTokens         int           `json:"completion_tokens"`
	TotalTokens              int           `json:"total_tokens"`
	PromptTokensDetails      *tokenDetails `json:"prompt_tokens_details"`
	CacheReadInputTokens     *int          `json:"cache_read_input_tokens"`
	CacheCreationInputTokens *int          `json:"cache_creation_input_tokens"`
}

var chatUsageNames = []string{"prompt_tokens", "completion_tokens", "total_tokens", "prompt_tokens_details",
	"cache_read_input_tokens", "cache_creation_input_tokens"}

// tokenDetails is a usage's prompt_tokens_details / input_tokens_details.
type tokenDetails struct {
	CachedTokens *int `json:"cached_tokens"`
}

var tokenDetailsNames = []string{"cached_tokens"}

// setCachedTokens decodes a *tokenDetails member as encoding/json does
// (null is nil; an object of another shape falls back to encoding/json
// through rawjson.Decode).
func setCachedTokens(dst **tokenDetails, v json.RawMessage) bool {
	return rawjson.SetPointer(dst, v, tokenDetailsNames, func(d *tokenDetails, _ int, v json.RawMessage) bool {
		return rawjson.SetIntPointer(&d.CachedTokens, v)
	})
}

// responsesUsage is the usage MLflow records for a Responses answer.
func responsesUsage(raw json.RawMessage) (llmspan.Usage, bool) {
	if llmspan.IsNull(raw) {
		return llmspan.Usage{}, false
	}
	u, ok := rawjson.Decode(raw, responsesUsageNames, func(u *responsesUsageJSON, name int, v json.RawMessage) bool {
		switch name {
		case 0:
			return rawjson.SetInt(&u.InputTokens, v)
		case 1:
			return rawjson.SetInt(&u.OutputTokens, v)
		case 2:
			return rawjson.SetInt(&u.TotalTokens, v)
		default:
			return setCachedTokens(&u.InputTokensDetails, v)
		}
	})
	if !ok {
		return llmspan.Usage{}, false
	}
	return responsesUsageOf(u), true
}

// responsesUsageOf is the usage MLflow records of a decoded Responses usage.
func responsesUsageOf(u responsesUsageJSON) llmspan.Usage {
	out := llmspan.Usage{InputTokens: u.InputTokens, OutputTokens: u.OutputTokens, TotalTokens: u.TotalTokens}
	if u.InputTokensDetails != nil {
		out.CacheReadInputTokens = u.InputTokensDetails.CachedTokens
	}
	return out
}

// responsesUsageJSON is a Responses answer's usage as encoding/json would
// decode it; responsesUsageNames are its members' names.
type responsesUsageJSON struct {
	InputTokens        int           `json:"input_tokens"`
	OutputTokens       int           `json:"output_tokens"`
	TotalTokens        int           `json:"total_tokens"`
	InputTokensDetails *tokenDetails `json:"input_tokens_details"`
}

var responsesUsageNames = []string{"input_tokens", "output_tokens", "total_tokens", "input_tokens_details"}

// ---- stream aggregation ----

func (r *recorder) chatChunk(data []byte) {
	if r.errorEvent(data) {
		return
	}
	c, ok := decodeChatChunk(data)
	if !ok || c.Object != "chat.completion.chunk" {
		return
	}
	a := &r.chat
	a.id, a.created, a.model = c.ID, c.Created, c.Model
	if !llmspan.IsNull(c.ServiceTier) {
		a.serviceTier = c.ServiceTier
	}
	a.fingerprint = c.SystemFingerprint
	if !llmspan.IsNull(c.Usage) {
		r.usage = c.Usage
	}
	for _, ch := range c.Choices {
		m := a.choice(ch.Index)
		if ch.Delta.Role != "" {
			m.role = ch.Delta.Role
		}
		if ch.Delta.Content != nil {
			m.content.WriteString(*ch.Delta.Content)
		}
		if ch.Delta.Refusal != nil {
			m.hasRefusal = true
			m.refusal.WriteString(*ch.Delta.Refusal)
		}
		for _, tc := range ch.Delta.ToolCalls {
			t := m.toolCall(tc.Index)
			if tc.ID != "" {
				t.id = tc.ID
			}
			if tc.Type != "" {
				t.typ = tc.Type
			}
			t.name += tc.Function.Name
			t.args.WriteString(tc.Function.Arguments)
		}
		if ch.FinishReason != nil && *ch.FinishReason != "" {
			m.finish = *ch.FinishReason
		}
	}
}

// chatAgg merges the chunks of a streamed chat completion.
type chatAgg struct {
	id          string
	created     json.RawMessage
	model       string
	serviceTier json.RawMessage
	fingerprint json.RawMessage
	choices     map[int]*choiceAgg
}

type choiceAgg struct {
	role       string
	content    strings.Builder
	refusal    strings.Builder
	hasRefusal bool
	finish     string
	tools      map[int]*toolAgg
}

type toolAgg struct {
	id, typ, name string
	args          strings.Builder
}

func (a *chatAgg) choice(i int) *choiceAgg {
	if a.choices == nil {
		a.choices = map[int]*choiceAgg{}
	}
	c := a.choices[i]
	if c == nil {
		c = &choiceAgg{}
		a.choices[i] = c
	}
	return c
}

func (c *choiceAgg) toolCall(i int) *toolAgg {
	if c.tools == nil {
		c.tools = map[int]*toolAgg{}
	}
	t := c.tools[i]
	if t == nil {
		t = &toolAgg{}
		c.tools[i] = t
	}
	return t
}

func sortedInts[V any](m map[int]V) []int {
	ks := make([]int, 0, len(m))
	for k := range m {
		ks = append(ks, k)
	}
	sort.Ints(ks)
	return ks
}

// completion is the chat completion the chunks add up to, in the shape of
// MLflow's reconstruction (a ChatCompletion object: the message's text
// joined, the finish reason, the last chunk's id, created, model, system
// fingerprint and usage) with what MLflow 3.17's reconstruction leaves out
// kept: the merged tool calls, a refusal, the service tier, every choice.
func (a *chatAgg) completion(usage json.RawMessage) json.RawMessage {
	var choices []string
	for _, i := range sortedInts(a.choices) {
		c := a.choices[i]
		var msg llmspan.Object
		msg.Set("content", c.content.String())
		if c.hasRefusal {
			msg.Set("refusal", c.refusal.String())
		}
		role := c.role
		if role == "" {
			role = "assistant"
		}
		msg.Set("role", role)
		if len(c.tools) > 0 {
			var calls []string
			for _, k := range sortedInts(c.tools) {
				t := c.tools[k]
				var fn, call llmspan.Object
				fn.Set("arguments", t.args.String())
				fn.Set("name", t.name)
				call.Set("id", t.id)
				call.Set("function", fn.JSON())
				typ := t.typ
				if typ == "" {
					typ = "function"
				}
				call.Set("type", typ)
				calls = append(calls, string(call.JSON()))
			}
			msg.Set("tool_calls", json.RawMessage("["+strings.Join(calls, ",")+"]"))
		}
		finish := c.finish
		if finish == "" {
			finish = "stop"
		}
		var ch llmspan.Object
		ch.Set("finish_reason", finish)
		ch.Set("index", i)
		ch.Set("message", msg.JSON())
		choices = append(choices, string(ch.JSON()))
	}
	var o llmspan.Object
	o.Set("id", a.id)
	o.Set("choices", json.RawMessage("["+strings.Join(choices, ",")+"]"))
	if len(a.created) > 0 {
		o.Set("created", a.created)
	}
	o.Set("model", a.model)
	o.Set("object", "chat.completion")
	if !llmspan.IsNull(a.serviceTier) {
		o.Set("service_tier", a.serviceTier)
	}
	if !llmspan.IsNull(a.fingerprint) {
		o.Set("system_fingerprint", a.fingerprint)
	}
	if !llmspan.IsNull(usage) {
		o.Set("usage", usage)
	}
	return o.JSON()
}

func (r *recorder) completionChunk(data []byte) {
	if r.errorEvent(data) {
		return
	}
	var c struct {
		Object  string `json:"object"`
		Choices []struct {
			Text string `json:"text"`
		} `json:"choices"`
		Usage json.RawMessage `json:"usage"`
	}
	if json.Unmarshal(data, &c) != nil || c.Object != "text_completion" {
		return
	}
	if len(c.Choices) > 0 {
		r.text.WriteString(c.Choices[0].Text)
	}
	if !llmspan.IsNull(c.Usage) {
		r.usage = c.Usage
	}
}

func (r *recorder) responsesEvent(typ string, data []byte) {
	var e struct {
		Type     string          `json:"type"`
		Response json.RawMessage `json:"response"`
		Item     json.RawMessage `json:"item"`
		Message  string          `json:"message"`
		Code     json.RawMessage `json:"code"`
	}
	if json.Unmarshal(data, &e) != nil {
		return
	}
	if e.Type == "" {
		e.Type = typ
	}
	switch e.Type {
	case "response.output_item.done":
		if !llmspan.IsNull(e.Item) {
			r.items = append(r.items, e.Item)
		}
	case "response.completed", "response.incomplete":
		r.response, r.done = e.Response, true
	case "response.failed":
		r.response, r.done = e.Response, true
		var resp struct {
			Error struct {
				Message string `json:"message"`
			} `json:"error"`
		}
		_ = json.Unmarshal(e.Response, &resp)
		r.streamErr = newStreamError(resp.Error.Message)
	case "error":
		msg := e.Message
		if msg == "" {
			msg = fmt.Sprint(string(data))
		}
		r.streamErr = newStreamError(msg)
	}
}

var _ llmspan.Recorder = (*recorder)(nil)
