package openaispan

import (
	"bytes"
	"encoding/json"
	"slices"
	"strconv"

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
	var c chatChunk
	if c.set(data) {
		return c, true
	}
	c = chatChunk{}
	return c, json.Unmarshal(data, &c) == nil
}

var (
	chunkNames    = []string{"id", "object", "created", "model", "service_tier", "system_fingerprint", "usage", "choices"}
	choiceNames   = []string{"index", "delta", "finish_reason"}
	deltaNames    = []string{"role", "content", "refusal", "tool_calls"}
	toolCallNames = []string{"index", "id", "type", "function"}
	functionNames = []string{"name", "arguments"}
)

func (c *chatChunk) set(obj []byte) bool {
	return members(obj, chunkNames, func(name int, v json.RawMessage) bool {
		switch name {
		case 0:
			return setString(&c.ID, v)
		case 1:
			return setString(&c.Object, v)
		case 2:
			c.Created = bytes.Clone(v) // a copy, as RawMessage's UnmarshalJSON makes
		case 3:
			return setString(&c.Model, v)
		case 4:
			c.ServiceTier = bytes.Clone(v)
		case 5:
			c.SystemFingerprint = bytes.Clone(v)
		case 6:
			c.Usage = bytes.Clone(v)
		case 7:
			return array(v, &c.Choices, func(ch *chunkChoice, obj []byte) bool {
				return members(obj, choiceNames, func(name int, v json.RawMessage) bool {
					switch name {
					case 0:
						return setInt(&ch.Index, v)
					case 1:
						return string(v) == "null" || ch.Delta.set(v)
					default:
						return setStringPointer(&ch.FinishReason, v)
					}
				})
			})
		}
		return true
	})
}

func (d *chunkDelta) set(obj []byte) bool {
	return members(obj, deltaNames, func(name int, v json.RawMessage) bool {
		switch name {
		case 0:
			return setString(&d.Role, v)
		case 1:
			return setStringPointer(&d.Content, v)
		case 2:
			return setStringPointer(&d.Refusal, v)
		}
		return array(v, &d.ToolCalls, func(tc *chunkToolCall, obj []byte) bool {
			return members(obj, toolCallNames, func(name int, v json.RawMessage) bool {
				switch name {
				case 0:
					return setInt(&tc.Index, v)
				case 1:
					return setString(&tc.ID, v)
				case 2:
					return setString(&tc.Type, v)
				}
				return string(v) == "null" || members(v, functionNames, func(name int, v json.RawMessage) bool {
					if name == 0 {
						return setString(&tc.Function.Name, v)
					}
					return setString(&tc.Function.Arguments, v)
				})
			})
		})
	})
}

// members hands each member of the object obj named in names to set (with
// the name's index); it returns false — the caller then decodes with
// encoding/json — when obj is not an object, set refuses a member, a name
// comes twice, or a member's name matches one of names only when case is
// ignored (encoding/json's struct fields match those).
func members(obj []byte, names []string, set func(name int, v json.RawMessage) bool) bool {
	var seen uint
	return rawjson.EachMember(obj, func(key []byte, v json.RawMessage) bool {
		k := rawjson.KeyText(key)
		i := slices.IndexFunc(names, func(n string) bool { return string(k) == n })
		if i < 0 {
			for _, n := range names {
				if bytes.EqualFold(k, []byte(n)) {
					return false
				}
			}
			return true
		}
		if seen&(1<<i) != 0 || !set(i, v) {
			return false
		}
		seen |= 1 << i
		return true
	})
}

func setString(dst *string, v json.RawMessage) bool {
	if string(v) == "null" {
		return true
	}
	s, ok := rawjson.StringValue(v)
	*dst = s
	return ok
}

func setStringPointer(dst **string, v json.RawMessage) bool {
	if string(v) == "null" {
		*dst = nil
		return true
	}
	s, ok := rawjson.StringValue(v)
	*dst = &s
	return ok
}

func setInt(dst *int, v json.RawMessage) bool {
	if string(v) == "null" {
		return true
	}
	n, err := strconv.Atoi(string(v))
	*dst = n
	return err == nil
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
