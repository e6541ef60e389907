package responsesagent

// The helpers build the same JSON as MLflow's (mlflow.types.responses
// create_* functions), members in the same order, so the items and events of
// a Go agent look in MLflow's traces exactly like a Python agent's.

// TextItem returns an assistant message output item holding text (MLflow's
// create_text_output_item). Deltas of the same text share its id.
func TextItem(text, id string, annotations ...Annotation) Item {
	if annotations == nil {
		annotations = []Annotation{}
	}
	return Item{
		Type: TypeMessage, ID: id, Role: "assistant",
		Content: &Content{Parts: []ContentPart{{
			Text: text, Type: "output_text", Annotations: annotations,
			keys: []string{"text", "type", "annotations"},
		}}},
		keys: []string{"id", "content", "role", "type"},
	}
}

// TextDelta returns a response.output_text.delta event (create_text_delta).
func TextDelta(delta, itemID string) StreamEvent {
	return StreamEvent{Type: EventOutputTextDelta, ItemID: itemID, Delta: &delta,
		keys: []string{"type", "item_id", "delta"}}
}

// AnnotationAdded returns a response.output_text.annotation.added event
// (create_annotation_added).
func AnnotationAdded(itemID string, annotation Annotation, index int) StreamEvent {
	return StreamEvent{Type: EventAnnotationAdded, ItemID: itemID, AnnotationIndex: &index, Annotation: &annotation,
		keys: []string{"type", "item_id", "annotation_index", "annotation"}}
}

// ReasoningItem returns a reasoning output item with one summary text
// (create_reasoning_item).
func ReasoningItem(id, text string) Item {
	return Item{
		Type:    TypeReasoning,
		Summary: []SummaryText{{Type: "summary_text", Text: text, keys: []string{"type", "text"}}},
		ID:      id,
		keys:    []string{"type", "summary", "id"},
	}
}

// FunctionCallItem returns a function_call output item: the model asks for
// tool name with JSON arguments (create_function_call_item). An empty id is
// left out.
func FunctionCallItem(id, callID, name, arguments string) Item {
	keys := []string{"type", "id", "call_id", "name", "arguments"}
	if id == "" {
		keys = []string{"type", "call_id", "name", "arguments"}
	}
	return Item{Type: TypeFunctionCall, ID: id, CallID: callID, Name: name, Arguments: arguments, keys: keys}
}

// FunctionCallOutputItem returns a function_call_output item: the result of
// the call callID (create_function_call_output_item).
func FunctionCallOutputItem(callID, output string) Item {
	return Item{Type: TypeFunctionCallOutput, CallID: callID, Output: &Content{Text: output},
		keys: []string{"type", "call_id", "output"}}
}

// MCPApprovalRequestItem returns an mcp_approval_request item
// (create_mcp_approval_request_item).
func MCPApprovalRequestItem(id, arguments, name, serverLabel string) Item {
	return Item{Type: TypeMCPApprovalRequest, ID: id, Arguments: arguments, Name: name, ServerLabel: serverLabel,
		keys: []string{"type", "id", "arguments", "name", "server_label"}}
}

// MCPApprovalResponseItem returns an mcp_approval_response item
// (create_mcp_approval_response_item); an empty reason is left out.
func MCPApprovalResponseItem(id, approvalRequestID string, approve bool, reason string) Item {
	it := Item{Type: TypeMCPApprovalResponse, ID: id, ApprovalRequestID: approvalRequestID, Approve: &approve,
		keys: []string{"type", "id", "approval_request_id", "approve"}}
	if reason != "" {
		it.Reason = &reason
		it.keys = append(it.keys, "reason")
	}
	return it
}

// UserMessage returns an input message {"role": "user", "content": text}.
func UserMessage(text string) Item {
	return Item{Role: "user", Content: &Content{Text: text}, keys: []string{"role", "content"}}
}

// Message returns an input message with the given role ("user",
// "assistant", "system" or "developer") and text.
func Message(role, text string) Item {
	return Item{Role: role, Content: &Content{Text: text}, keys: []string{"role", "content"}}
}

// ItemDone returns the response.output_item.done event of item: the event
// MLflow reduces a stream's trace output from.
func ItemDone(item Item) StreamEvent {
	return StreamEvent{Type: EventOutputItemDone, Item: &item, keys: []string{"type", "item"}}
}

// ErrorEvent returns an error stream event.
func ErrorEvent(code, message string) StreamEvent {
	e := StreamEvent{Type: EventError, Message: &message, keys: []string{"type", "message"}}
	if code != "" {
		e.Code = &code
		e.keys = []string{"type", "code", "message"}
	}
	return e
}

// Completed returns a response.completed event carrying resp.
func Completed(resp *Response) StreamEvent {
	return StreamEvent{Type: EventCompleted, Response: resp, keys: []string{"type", "response"}}
}

// OutputText returns the concatenated text of the output_text parts of every
// message in items (the Responses API's output_text).
func OutputText(items []Item) string {
	var s string
	for _, it := range items {
		if it.Type != TypeMessage || it.Content == nil {
			continue
		}
		for _, p := range it.Content.Parts {
			if p.Type == "output_text" {
				s += p.Text
			}
		}
	}
	return s
}

// Text returns the text of a message item: its string content, or its text
// parts joined.
func (it *Item) Text() string {
	if it.Content == nil {
		return ""
	}
	if it.Content.Parts == nil {
		return it.Content.Text
	}
	var s string
	for _, p := range it.Content.Parts {
		s += p.Text
	}
	return s
}
