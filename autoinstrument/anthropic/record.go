package anthropic

import (
	"encoding/json"
	"strings"

	"github.com/mlflowtrace/mlflowtrace-go/internal/exception"
	"github.com/mlflowtrace/mlflowtrace-go/internal/llmspan"
	"github.com/mlflowtrace/mlflowtrace-go/internal/rawjson"
	"github.com/mlflowtrace/mlflowtrace-go/internal/sse"
	"github.com/mlflowtrace/mlflowtrace-go/tracing"
)

// The errors a call is recorded with are named after the API
// (internal/exception): an error answer "anthropic.APIError", an error event
// of a stream "anthropic.StreamError", a stream that ended before
// message_stop "anthropic.IncompleteStreamError".
const (
	typeAPIError         = "anthropic.APIError"
	typeStreamError      = "anthropic.StreamError"
	typeIncompleteStream = "anthropic.IncompleteStreamError"
)

// apiError is an error answer of the API.
type apiError struct {
	statusCode int
	typ        string // the error body's error.type, e.g. "overloaded_error"
	message    string
}

func (e *apiError) Error() string {
	msg := llmspan.StatusText(e.statusCode)
	if e.typ != "" {
		msg += " " + e.typ
	}
	if e.message != "" {
		msg += ": " + e.message
	}
	return msg
}

// streamError is an error event inside a stream (the stream then ends).
type streamError struct{ typ, message string }

func (e *streamError) Error() string {
	return "error event in the stream: " + e.typ + ": " + e.message
}

// incompleteStreamError records a stream that ended — closed by the caller,
// or cut — before message_stop.
type incompleteStreamError struct{ closed bool }

func (e *incompleteStreamError) Error() string {
	if e.closed {
		return "stream closed before message_stop"
	}
	return "stream ended before message_stop"
}

type errorBody struct {
	Error struct {
		Type    string `json:"type"`
		Message string `json:"message"`
	} `json:"error"`
}

type recorder struct {
	capture bool
	model   string

	msg       json.RawMessage // message_start's message
	blocks    []*block
	delta     []llmspan.Field // message_delta's delta members
	usage     []llmspan.Field // message_delta's usage members
	done      bool
	streamErr error
}

type block struct {
	fields []llmspan.Field // content_block_start's block
	text   strings.Builder
	json   strings.Builder // input_json_delta
	think  strings.Builder
	sig    strings.Builder
	cites  []json.RawMessage
	kinds  map[string]bool
}

func (r *recorder) StreamDone() bool { return r.done || r.streamErr != nil }

// Event merges one event of a streamed message.
func (r *recorder) Event(ev sse.Event) {
	if !rawjson.Valid(ev.Data) {
		return
	}
	e, ok := decodeStreamEvent(ev.Data)
	if !ok {
		return
	}
	switch e.Type {
	case "message_start":
		r.msg = e.Message
	case "content_block_start":
		fields, err := llmspan.ObjectFields(e.ContentBlock)
		if err != nil || e.Index < 0 || e.Index > 10000 {
			return
		}
		for len(r.blocks) <= e.Index {
			r.blocks = append(r.blocks, nil)
		}
		r.blocks[e.Index] = &block{fields: fields, kinds: map[string]bool{}}
	case "content_block_delta":
		if e.Index < 0 || e.Index >= len(r.blocks) || r.blocks[e.Index] == nil {
			return
		}
		b := r.blocks[e.Index]
		d, ok := decodeBlockDelta(e.Delta)
		if !ok {
			return
		}
		b.kinds[d.Type] = true
		switch d.Type {
		case "text_delta":
			b.text.WriteString(d.Text)
		case "input_json_delta":
			b.json.WriteString(d.PartialJSON)
		case "thinking_delta":
			b.think.WriteString(d.Thinking)
		case "signature_delta":
			b.sig.WriteString(d.Signature)
		case "citations_delta":
			b.cites = append(b.cites, d.Citation)
		}
	case "message_delta":
		if f, err := llmspan.ObjectFields(e.Delta); err == nil {
			r.delta = f
		}
		if f, err := llmspan.ObjectFields(e.Usage); err == nil {
			r.usage = f
		}
	case "message_stop":
		r.done = true
	case "error":
		var b errorBody
		_ = json.Unmarshal(ev.Data, &b)
		r.streamErr = exception.New(typeStreamError, &streamError{typ: b.Error.Type, message: b.Error.Message})
	}
}

// message is the Message the events add up to (as the SDK's
// Message.Accumulate builds it).
func (r *recorder) message() json.RawMessage {
	fields, err := llmspan.ObjectFields(r.msg)
	if err != nil {
		return nil
	}
	var o llmspan.Object
	for _, f := range fields {
		switch f.Key {
		case "content":
			o.Set("content", r.content())
		case "usage":
			o.Set("usage", merge(f.Value, r.usage))
		default:
			if v, ok := llmspan.Lookup(r.delta, f.Key); ok {
				o.Set(f.Key, v)
			} else {
				o.Set(f.Key, f.Value)
			}
		}
	}
	return o.JSON()
}

// merge overwrites members of the object base with fields.
func merge(base json.RawMessage, fields []llmspan.Field) json.RawMessage {
	bf, err := llmspan.ObjectFields(base)
	if err != nil {
		return base
	}
	var o llmspan.Object
	seen := map[string]bool{}
	for _, f := range bf {
		seen[f.Key] = true
		if v, ok := llmspan.Lookup(fields, f.Key); ok && !llmspan.IsNull(v) {
			o.Set(f.Key, v)
		} else {
			o.Set(f.Key, f.Value)
		}
	}
	for _, f := range fields {
		if !seen[f.Key] {
			o.Set(f.Key, f.Value)
		}
	}
	return o.JSON()
}

func (r *recorder) content() json.RawMessage {
	var parts []string
	for _, b := range r.blocks {
		if b == nil {
			continue
		}
		var o llmspan.Object
		for _, f := range b.fields {
			switch {
			case f.Key == "text" && (b.kinds["text_delta"] || b.text.Len() > 0):
				o.Set("text", b.text.String())
			case f.Key == "input" && b.kinds["input_json_delta"]:
				in := strings.TrimSpace(b.json.String())
				if in == "" {
					in = "{}"
				}
				if rawjson.Valid([]byte(in)) {
					o.Set("input", json.RawMessage(in))
				} else {
					o.Set("input", in)
				}
			case f.Key == "thinking" && b.kinds["thinking_delta"]:
				o.Set("thinking", b.think.String())
			case f.Key == "signature" && b.kinds["signature_delta"]:
				o.Set("signature", b.sig.String())
			case f.Key == "citations" && len(b.cites) > 0:
				o.Set("citations", json.RawMessage("["+joinRaw(b.cites)+"]"))
			default:
				o.Set(f.Key, f.Value)
			}
		}
		parts = append(parts, string(o.JSON()))
	}
	return json.RawMessage("[" + strings.Join(parts, ",") + "]")
}

func joinRaw(items []json.RawMessage) string {
	s := make([]string, len(items))
	for i, it := range items {
		s[i] = string(it)
	}
	return strings.Join(s, ",")
}

// Finish records the result as MLflow's Anthropic autolog does: the
// exception if any, the model (the request's), the provider, the token
// usage and the outputs.
func (r *recorder) Finish(span *tracing.Span, res llmspan.Result) {
	var out json.RawMessage
	var err error
	switch {
	case res.Stream:
		if r.msg != nil {
			out = r.message()
		}
		switch {
		case res.Err != nil:
			err = res.Err
		case r.streamErr != nil:
			err = r.streamErr
		case !r.done:
			err = exception.New(typeIncompleteStream, &incompleteStreamError{closed: res.ClosedEarly})
		}
	case res.Err != nil:
		err = res.Err
	case res.Response == nil:
	case res.Response.StatusCode >= 400:
		e := &apiError{statusCode: res.Response.StatusCode}
		var b errorBody
		if json.Unmarshal(res.Body, &b) == nil {
			e.typ, e.message = b.Error.Type, b.Error.Message
		}
		err = exception.New(typeAPIError, e)
	case res.Truncated:
	case rawjson.Valid(res.Body):
		out = res.Body
	default:
		err = llmspan.DecodeError(res.Body)
	}
	if err != nil {
		span.RecordError(err)
	}
	model := r.model
	if model == "" && out != nil { // a request too large to record: the answer's model
		if fields, err := llmspan.ValidObjectFields(out); err == nil {
			if m, ok := llmspan.Lookup(fields, "model"); ok {
				model = llmspan.String(m)
			}
		}
	}
	if model != "" {
		span.SetModel(model)
	}
	span.SetProvider("anthropic")
	if out != nil {
		if u, ok := usage(out); ok {
			u.Set(span)
		}
		if r.capture {
			span.SetOutputs(out)
		}
	}
}

// usage is MLflow's Anthropic _parse_usage: input tokens include the cache
// reads and writes (Anthropic reports them apart), as does the total.
func usage(msg json.RawMessage) (llmspan.Usage, bool) {
	if !rawjson.Valid(msg) {
		return llmspan.Usage{}, false
	}
	m, ok := rawjson.Decode(msg, messageUsageNames, func(m *messageUsageJSON, _ int, v json.RawMessage) bool {
		return setUsage(&m.Usage, v)
	})
	if !ok || m.Usage == nil {
		return llmspan.Usage{}, false
	}
	return usageOf(m.Usage), true
}

// usageOf is the usage MLflow records of a decoded message usage: the
// cache's tokens are input tokens too.
func usageOf(u *usageJSON) llmspan.Usage {
	out := llmspan.Usage{InputTokens: u.InputTokens, OutputTokens: u.OutputTokens, TotalTokens: u.InputTokens + u.OutputTokens,
		CacheReadInputTokens: u.CacheReadInputTokens, CacheCreationInputTokens: u.CacheCreationInputTokens}
	if u.CacheCreation != nil {
		out.CacheCreationInputTokens1hPlus = u.CacheCreation.Ephemeral1h
	}
	cache := 0
	if u.CacheReadInputTokens != nil {
		cache += *u.CacheReadInputTokens
	}
	if u.CacheCreationInputTokens != nil {
		cache += *u.CacheCreationInputTokens
	}
	out.InputTokens += cache
	out.TotalTokens += cache
	return out
}

// messageUsageJSON, usageJSON and cacheCreationJSON are what usage reads of
// a message, as encoding/json would decode it (usage decodes ordinary
// objects with rawjson.Decode, anything else with encoding/json); the
// names are their members' names, in the set functions' order.
type (
	messageUsageJSON struct {
		Usage *usageJSON `json:"usage"`
	}
	usageJSON struct {
		InputTokens              int                `json:"input_tokens"`
		OutputTokens             int                `json:"output_tokens"`
		CacheReadInputTokens     *int               `json:"cache_read_input_tokens"`
		CacheCreationInputTokens *int               `json:"cache_creation_input_tokens"`
		CacheCreation            *cacheCreationJSON `json:"cache_creation"`
	}
	cacheCreationJSON struct {
		Ephemeral1h *int `json:"ephemeral_1h_input_tokens"`
	}
)

var (
	messageUsageNames  = []string{"usage"}
	usageNames         = []string{"input_tokens", "output_tokens", "cache_read_input_tokens", "cache_creation_input_tokens", "cache_creation"}
	cacheCreationNames = []string{"ephemeral_1h_input_tokens"}
)

func setUsage(dst **usageJSON, v json.RawMessage) bool {
	return rawjson.SetPointer(dst, v, usageNames, func(u *usageJSON, name int, v json.RawMessage) bool {
		switch name {
		case 0:
			return rawjson.SetInt(&u.InputTokens, v)
		case 1:
			return rawjson.SetInt(&u.OutputTokens, v)
		case 2:
			return rawjson.SetIntPointer(&u.CacheReadInputTokens, v)
		case 3:
			return rawjson.SetIntPointer(&u.CacheCreationInputTokens, v)
		default:
			return rawjson.SetPointer(&u.CacheCreation, v, cacheCreationNames, func(c *cacheCreationJSON, _ int, v json.RawMessage) bool {
				return rawjson.SetIntPointer(&c.Ephemeral1h, v)
			})
		}
	})
}

var _ llmspan.Recorder = (*recorder)(nil)

// streamEvent is what Event reads of a stream event.
type streamEvent struct {
	Type         string          `json:"type"`
	Index        int             `json:"index"`
	Message      json.RawMessage `json:"message"`
	ContentBlock json.RawMessage `json:"content_block"`
	Delta        json.RawMessage `json:"delta"`
	Usage        json.RawMessage `json:"usage"`
	Error        json.RawMessage `json:"error"`
}

var streamEventNames = []string{"type", "index", "message", "content_block", "delta", "usage", "error"}

// decodeStreamEvent decodes an event's data (valid JSON) as json.Unmarshal
// does, without reflection for an ordinary event.
func decodeStreamEvent(data []byte) (streamEvent, bool) {
	return rawjson.Decode(data, streamEventNames, func(e *streamEvent, name int, v json.RawMessage) bool {
		switch name {
		case 0:
			return rawjson.SetString(&e.Type, v)
		case 1:
			return rawjson.SetInt(&e.Index, v)
		case 2:
			return rawjson.SetRaw(&e.Message, v)
		case 3:
			return rawjson.SetRaw(&e.ContentBlock, v)
		case 4:
			return rawjson.SetRaw(&e.Delta, v)
		case 5:
			return rawjson.SetRaw(&e.Usage, v)
		}
		return rawjson.SetRaw(&e.Error, v)
	})
}

// blockDelta is what Event reads of a content_block_delta's delta.
type blockDelta struct {
	Type        string          `json:"type"`
	Text        string          `json:"text"`
	PartialJSON string          `json:"partial_json"`
	Thinking    string          `json:"thinking"`
	Signature   string          `json:"signature"`
	Citation    json.RawMessage `json:"citation"`
}

var blockDeltaNames = []string{"type", "text", "partial_json", "thinking", "signature", "citation"}

// decodeBlockDelta decodes a delta (a member of an event, or nil) as
// json.Unmarshal does, without reflection for an ordinary one.
func decodeBlockDelta(delta json.RawMessage) (blockDelta, bool) {
	return rawjson.Decode(delta, blockDeltaNames, func(d *blockDelta, name int, v json.RawMessage) bool {
		switch name {
		case 0:
			return rawjson.SetString(&d.Type, v)
		case 1:
			return rawjson.SetString(&d.Text, v)
		case 2:
			return rawjson.SetString(&d.PartialJSON, v)
		case 3:
			return rawjson.SetString(&d.Thinking, v)
		case 4:
			return rawjson.SetString(&d.Signature, v)
		}
		return rawjson.SetRaw(&d.Citation, v)
	})
}
