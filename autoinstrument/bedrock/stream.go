package bedrock

import (
	"encoding/json"
	"sort"
	"strconv"
	"strings"

	"go.opentelemetry.io/otel/attribute"

	"github.com/mlflowtrace/mlflowtrace-go/internal/llmspan"
	"github.com/mlflowtrace/mlflowtrace-go/internal/rawjson"
	"github.com/mlflowtrace/mlflowtrace-go/tracing"
)

// converseStream is the answer the events of a ConverseStream add up to.
type converseStream struct {
	role   string
	blocks map[int]*contentBlock
	stop   []llmspan.Field // messageStop's members
	meta   []llmspan.Field // metadata's members
}

// contentBlock is one content block of a streamed answer.
type contentBlock struct {
	text      strings.Builder
	isText    bool
	toolUse   []llmspan.Field // contentBlockStart's toolUse
	input     strings.Builder // toolUse input deltas
	reasoning bool
	thought   strings.Builder
	signature string
}

func jsonAttr(text string) attribute.KeyValue { return attribute.String("json", text) }

// converseEvent records one ConverseStream event as MLflow does (an event
// named after it, with its JSON) and merges it into the answer.
func (r *recorder) converseEvent(name string, payload []byte) {
	if name == "contentBlockStart" || name == "messageStop" || name == "metadata" {
		// Kept: the payload is only valid during the call.
		payload = append([]byte(nil), payload...)
	}
	fields, err := llmspan.ObjectFields(payload)
	if err != nil {
		return
	}
	if r.capture {
		if text, ok := eventJSON(fields); ok {
			r.span.AddEvent(name, jsonAttr(text))
		}
	}
	c := &r.converse
	switch name {
	case "messageStart":
		if v, ok := llmspan.Lookup(fields, "role"); ok {
			c.role = llmspan.String(v)
		}
	case "contentBlockStart":
		b := c.block(fields)
		if b == nil {
			return
		}
		if start, ok := member(fields, "start"); ok {
			if use, ok := member(start, "toolUse"); ok {
				b.toolUse = use
			}
		}
	case "contentBlockDelta":
		b := c.block(fields)
		delta, ok := member(fields, "delta")
		if b == nil || !ok {
			return
		}
		if v, ok := llmspan.Lookup(delta, "text"); ok {
			b.isText = true
			b.text.WriteString(llmspan.String(v))
		} else if use, ok := member(delta, "toolUse"); ok {
			if v, ok := llmspan.Lookup(use, "input"); ok {
				b.input.WriteString(llmspan.String(v))
			}
		} else if rc, ok := member(delta, "reasoningContent"); ok {
			b.reasoning = true
			if v, ok := llmspan.Lookup(rc, "text"); ok {
				b.thought.WriteString(llmspan.String(v))
			}
			if v, ok := llmspan.Lookup(rc, "signature"); ok {
				b.signature += llmspan.String(v)
			}
		}
	case "messageStop":
		c.stop = withoutPadding(fields)
	case "metadata":
		c.meta = withoutPadding(fields)
		r.done = true
	}
}

// member returns the members of the object under key.
func member(fields []llmspan.Field, key string) ([]llmspan.Field, bool) {
	v, ok := llmspan.Lookup(fields, key)
	if !ok {
		return nil, false
	}
	f, err := llmspan.ObjectFields(v)
	return f, err == nil
}

// block is the content block an event's contentBlockIndex names.
func (c *converseStream) block(fields []llmspan.Field) *contentBlock {
	v, ok := llmspan.Lookup(fields, "contentBlockIndex")
	i, err := strconv.Atoi(string(v))
	if !ok || err != nil || i < 0 || i > 10000 {
		return nil
	}
	if c.blocks == nil {
		c.blocks = map[int]*contentBlock{}
	}
	if c.blocks[i] == nil {
		c.blocks[i] = &contentBlock{}
	}
	return c.blocks[i]
}

func withoutPadding(fields []llmspan.Field) []llmspan.Field {
	out := make([]llmspan.Field, 0, len(fields))
	for _, f := range fields {
		if f.Key != "p" {
			out = append(out, f)
		}
	}
	return out
}

// response is the Converse answer the stream added up to, in the order
// MLflow builds it: messageStop's members, metadata's, then the output
// message.
func (c *converseStream) response() json.RawMessage {
	var o llmspan.Object
	for _, f := range c.stop {
		o.Set(f.Key, f.Value)
	}
	for _, f := range c.meta {
		o.Set(f.Key, f.Value)
	}
	role := c.role
	if role == "" {
		role = "assistant"
	}
	idx := make([]int, 0, len(c.blocks))
	for i := range c.blocks {
		idx = append(idx, i)
	}
	sort.Ints(idx)
	content := make([]json.RawMessage, 0, len(idx))
	for _, i := range idx {
		b := c.blocks[i]
		var blk llmspan.Object
		switch {
		case b.toolUse != nil:
			var use llmspan.Object
			for _, f := range b.toolUse {
				use.Set(f.Key, f.Value)
			}
			in := strings.TrimSpace(b.input.String())
			if in == "" {
				in = "{}"
			}
			if rawjson.Valid([]byte(in)) {
				use.Set("input", json.RawMessage(in))
			} else {
				use.Set("input", b.input.String())
			}
			blk.Set("toolUse", use.JSON())
		case b.reasoning:
			var text llmspan.Object
			text.Set("text", b.thought.String())
			if b.signature != "" {
				text.Set("signature", b.signature)
			}
			var rc llmspan.Object
			rc.Set("reasoningText", text.JSON())
			blk.Set("reasoningContent", rc.JSON())
		case b.isText:
			blk.Set("text", b.text.String())
		default:
			continue
		}
		content = append(content, blk.JSON())
	}
	var msg llmspan.Object
	msg.Set("role", role)
	msg.Set("content", content)
	var out llmspan.Object
	out.Set("message", msg.JSON())
	o.Set("output", out.JSON())
	return o.JSON()
}

// finishConverseStream: the outputs are the answer the events add up to,
// the usage the metadata event's.
func (r *recorder) finishConverseStream(span *tracing.Span, _ llmspan.Result) {
	if r.capture {
		span.SetOutputs(r.converse.response())
	}
	if u, ok := llmspan.Lookup(r.converse.meta, "usage"); ok {
		if usage, ok := countTokens(u).complete(); ok {
			usage.Set(span)
		}
	}
}
