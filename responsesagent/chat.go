package responsesagent

import (
	"encoding/json"
	"iter"
	"sort"
	"strings"

	"github.com/mlflowtrace/mlflowtrace-go/internal/encode"
)

// ChatMessage is an OpenAI Chat Completions message, as ToChatCompletions
// produces it.
type ChatMessage struct {
	Role       string         `json:"role"`
	Content    string         `json:"content"`
	Name       string         `json:"name,omitempty"`
	ToolCalls  []ChatToolCall `json:"tool_calls,omitempty"`
	ToolCallID string         `json:"tool_call_id,omitempty"`
}

// ChatToolCall is a tool call of an assistant Chat Completions message.
type ChatToolCall struct {
	ID       string       `json:"id"`
	Type     string       `json:"type"` // "function"
	Function ChatFunction `json:"function"`
}

// ChatFunction is the function of a ChatToolCall.
type ChatFunction struct {
	Name      string `json:"name"`
	Arguments string `json:"arguments"`
}

// ToChatCompletions converts Responses input items (a request's Input, or
// output items of earlier turns) to Chat Completions messages, as MLflow's
// to_chat_completions_input (prep_msgs_for_cc_llm) does:
//
//   - a message with a string content stays {"role", "content"}; one with a
//     list gives one message per part, with the part's text;
//   - function_call → an assistant message with content "tool call" and one
//     tool call (arguments "{}" when empty);
//   - function_call_output → {"role": "tool", "tool_call_id", "content"};
//   - reasoning → an assistant message holding the JSON of its summary;
//   - mcp_approval_request → an assistant message with content "mcp approval
//     request" and one tool call; mcp_approval_response → a tool message
//     with content "True" or "False";
//   - any other item keeps only its role, content, name and tool_call_id
//     (and is left out when it has none).
func ToChatCompletions(items []Item) []ChatMessage {
	out := make([]ChatMessage, 0, len(items))
	for i := range items {
		out = append(out, itemToChat(&items[i])...)
	}
	return out
}

func itemToChat(it *Item) []ChatMessage {
	switch it.Type {
	case TypeFunctionCall:
		return []ChatMessage{{Role: "assistant", Content: "tool call", ToolCalls: []ChatToolCall{{
			ID: it.CallID, Type: "function", Function: ChatFunction{Name: it.Name, Arguments: orEmptyObject(it.Arguments)},
		}}}}
	case TypeReasoning:
		return []ChatMessage{{Role: "assistant", Content: encode.JSON(it.Summary)}}
	case TypeFunctionCallOutput:
		out := ""
		if it.Output != nil {
			if it.Output.Parts == nil {
				out = it.Output.Text
			} else {
				out = encode.JSON(it.Output.Parts)
			}
		}
		return []ChatMessage{{Role: "tool", Content: out, ToolCallID: it.CallID}}
	case TypeMCPApprovalRequest:
		return []ChatMessage{{Role: "assistant", Content: "mcp approval request", ToolCalls: []ChatToolCall{{
			ID: it.ID, Type: "function", Function: ChatFunction{Name: it.Name, Arguments: orEmptyObject(it.Arguments)},
		}}}}
	case TypeMCPApprovalResponse:
		approve := "False"
		if it.Approve != nil && *it.Approve {
			approve = "True"
		}
		return []ChatMessage{{Role: "tool", Content: approve, ToolCallID: it.ApprovalRequestID}}
	}
	if it.Type == TypeMessage && it.Content != nil && it.Content.Parts != nil {
		out := make([]ChatMessage, 0, len(it.Content.Parts))
		for _, p := range it.Content.Parts {
			out = append(out, ChatMessage{Role: it.Role, Content: p.Text})
		}
		return out
	}
	if it.Role == "" && it.Content == nil {
		return nil
	}
	m := ChatMessage{Role: it.Role, Name: it.Name}
	if it.Content != nil {
		m.Content = it.Content.Text
	}
	if raw, ok := it.Extra["tool_call_id"]; ok {
		_ = json.Unmarshal(raw, &m.ToolCallID)
	}
	if raw, ok := it.Extra["tool_calls"]; ok {
		_ = json.Unmarshal(raw, &m.ToolCalls)
	}
	return []ChatMessage{m}
}

func orEmptyObject(s string) string {
	if s == "" {
		return "{}"
	}
	return s
}

// ChatChunk is one chunk of a streamed Chat Completion (the JSON an
// OpenAI-compatible server sends, so json.Unmarshal of a chunk's raw JSON
// fills it).
type ChatChunk struct {
	ID      string            `json:"id"`
	Choices []ChatChunkChoice `json:"choices"`
}

// ChatChunkChoice is one choice of a ChatChunk.
type ChatChunkChoice struct {
	Delta ChatChunkDelta `json:"delta"`
}

// ChatChunkDelta is the delta of a choice. Content is a string, or (as on
// Databricks) a list of content items such as {"type": "text", "text"} and
// {"type": "reasoning", "summary": [{"text"}]}; nil when absent.
type ChatChunkDelta struct {
	Content   any                 `json:"content"`
	ToolCalls []ChatToolCallDelta `json:"tool_calls"`
}

// ChatToolCallDelta is a fragment of a streamed tool call: the first one of
// an index carries its id and name, the next ones more argument text.
type ChatToolCallDelta struct {
	Index    int          `json:"index"`
	ID       string       `json:"id"`
	Function ChatFunction `json:"function"`
}

// FromChatChunks converts a stream of Chat Completions chunks to Responses
// stream events, as MLflow's output_to_responses_items_stream does: a text
// delta per content chunk, a reasoning item when reasoning content ends, then
// one response.output_item.done for the whole text and one per tool call
// (every parallel call, in index order). Items take the id of the last
// chunk. An error from chunks is passed on and ends the stream.
func FromChatChunks(chunks iter.Seq2[ChatChunk, error]) iter.Seq2[StreamEvent, error] {
	return func(yield func(StreamEvent, error) bool) {
		var text, reasoning strings.Builder
		type call struct{ id, name, args string }
		calls := map[int]*call{}
		msgID := ""
		for chunk, err := range chunks {
			if err != nil {
				yield(StreamEvent{}, err)
				return
			}
			if len(chunk.Choices) == 0 {
				continue
			}
			delta := chunk.Choices[0].Delta
			msgID = chunk.ID
			if len(delta.ToolCalls) > 0 {
				for _, tc := range delta.ToolCalls {
					if c, ok := calls[tc.Index]; ok {
						c.args += tc.Function.Arguments
					} else {
						calls[tc.Index] = &call{id: tc.ID, name: tc.Function.Name, args: tc.Function.Arguments}
					}
				}
				continue
			}
			if delta.Content == nil {
				continue
			}
			if parts, ok := delta.Content.([]any); ok {
				for _, p := range parts {
					m, ok := p.(map[string]any)
					if !ok {
						continue
					}
					switch m["type"] {
					case "reasoning":
						if sum, ok := m["summary"].([]any); ok && len(sum) > 0 {
							if s0, ok := sum[0].(map[string]any); ok {
								t, _ := s0["text"].(string)
								reasoning.WriteString(t)
							}
						}
					case "text":
						if t, _ := m["text"].(string); t != "" {
							text.WriteString(t)
							if !yield(TextDelta(t, msgID), nil) {
								return
							}
						}
					}
				}
			} else if reasoning.Len() > 0 {
				if !yield(ItemDone(ReasoningItem(msgID, reasoning.String())), nil) {
					return
				}
				reasoning.Reset()
			}
			if s, ok := delta.Content.(string); ok {
				text.WriteString(s)
				if !yield(TextDelta(s, msgID), nil) {
					return
				}
			}
		}
		if text.Len() > 0 {
			if !yield(ItemDone(TextItem(text.String(), msgID)), nil) {
				return
			}
		}
		idx := make([]int, 0, len(calls))
		for i := range calls {
			idx = append(idx, i)
		}
		sort.Ints(idx)
		for _, i := range idx {
			c := calls[i]
			if !yield(ItemDone(FunctionCallItem(msgID, c.id, c.name, c.args)), nil) {
				return
			}
		}
	}
}
