package openaispan

import (
	"encoding/json"

	"github.com/mlflowtrace/mlflowtrace-go/internal/rawjson"
)

// chatChunk is what a streamed chat completion chunk gives the aggregation.
type chatChunk struct {
	ID                string          `json:"id"`
	Object            string          `json:"object"`
	Created           json.RawMessage `json:"created"`
	Model             string          `json:"model"`
	ServiceTier       json.RawMessage `json:"service_tier"`
	SystemFingerprint json.RawMessage `json:"system_fingerprint"`
	Choices           []chunkChoice   `json:"choices"`
	Usage             json.RawMessage `json:"usage"`
}

type chunkChoice struct {
	Index        int        `json:"index"`
	Delta        chunkDelta `json:"delta"`
	FinishReason *string    `json:"finish_reason"`
}

type chunkDelta struct {
	Role      string          `json:"role"`
	Content   *string         `json:"content"`
	Refusal   *string         `json:"refusal"`
	ToolCalls []chunkToolCall `json:"tool_calls"`
}

type chunkToolCall struct {
	Index    int    `json:"index"`
	ID       string `json:"id"`
	Type     string `json:"type"`
	Function struct {
		Name      string `json:"name"`
		Arguments string `json:"arguments"`
	} `json:"function"`
}

// decodeChatChunk decodes a chunk (valid JSON) as json.Unmarshal into a
// chatChunk does, ok false where Unmarshal fails. The chunk is read without
// reflection when it is ordinary — each member named once, in its own
// case, with a value of its field's type or null; any other chunk goes to
// json.Unmarshal, so the result is Unmarshal's in every case.
func decodeChatChunk(data []byte) (chatChunk, bool) {
	return rawjson.Decode(data, chunkNames, (*chatChunk).set)
}

var (
	chunkNames    = []string{"id", "object", "created", "model", "service_tier", "system_fingerprint", "usage", "choices"}
	choiceNames   = []string{"index", "delta", "finish_reason"}
	deltaNames    = []string{"role", "content", "refusal", "tool_calls"}
	toolCallNames = []string{"index", "id", "type", "function"}
	functionNames = []string{"name", "arguments"}
)

// set decodes the member chunkNames[name] of a chunk.
func (c *chatChunk) set(name int, v json.RawMessage) bool {
	switch name {
	case 0:
		return rawjson.SetString(&c.ID, v)
	case 1:
		return rawjson.SetString(&c.Object, v)
	case 2:
		rawjson.SetRaw(&c.Created, v)
	case 3:
		return rawjson.SetString(&c.Model, v)
	case 4:
		rawjson.SetRaw(&c.ServiceTier, v)
	case 5:
		rawjson.SetRaw(&c.SystemFingerprint, v)
	case 6:
		rawjson.SetRaw(&c.Usage, v)
	case 7:
		return array(v, &c.Choices, func(ch *chunkChoice, obj []byte) bool {
			return rawjson.Members(obj, choiceNames, func(name int, v json.RawMessage) bool {
				switch name {
				case 0:
					return rawjson.SetInt(&ch.Index, v)
				case 1:
					return string(v) == "null" || ch.Delta.set(v)
				default:
					return rawjson.SetStringPointer(&ch.FinishReason, v)
				}
			})
		})
	}
	return true
}

func (d *chunkDelta) set(obj []byte) bool {
	return rawjson.Members(obj, deltaNames, func(name int, v json.RawMessage) bool {
		switch name {
		case 0:
			return rawjson.SetString(&d.Role, v)
		case 1:
			return rawjson.SetStringPointer(&d.Content, v)
		case 2:
			return rawjson.SetStringPointer(&d.Refusal, v)
		}
		return array(v, &d.ToolCalls, func(tc *chunkToolCall, obj []byte) bool {
			return rawjson.Members(obj, toolCallNames, func(name int, v json.RawMessage) bool {
				switch name {
				case 0:
					return rawjson.SetInt(&tc.Index, v)
				case 1:
					return rawjson.SetString(&tc.ID, v)
				case 2:
					return rawjson.SetString(&tc.Type, v)
				}
				return string(v) == "null" || rawjson.Members(v, functionNames, func(name int, v json.RawMessage) bool {
					if name == 0 {
						return rawjson.SetString(&tc.Function.Name, v)
					}
					return rawjson.SetString(&tc.Function.Arguments, v)
				})
			})
		})
	})
}

// array decodes an array of objects into *dst, each with set; null makes
// *dst nil. A null item (a zero element to encoding/json) is refused.
func array[T any](v json.RawMessage, dst *[]T, set func(*T, []byte) bool) bool {
	if string(v) == "null" {
		*dst = nil
		return true
	}
	items, ok := rawjson.ValidArrayItems(v)
	if !ok {
		return false
	}
	*dst = make([]T, len(items))
	for i, it := range items {
		if string(it) == "null" || !set(&(*dst)[i], it) {
			return false
		}
	}
	return true
}
