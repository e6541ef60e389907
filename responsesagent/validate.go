package responsesagent

import (
	"fmt"
	"slices"
)

// The checks below are those of MLflow 3.17's pydantic models
// (mlflow.types.responses / responses_helpers): what they reject is
// rejected, what they only warn about (unknown tool choice, truncation,
// reasoning effort, response status, tool type) is accepted.

var validStatus = []string{"in_progress", "completed", "incomplete"}

// present reports whether member k is set: an object built in Go (keys nil)
// writes its required members, a decoded one had them.
func present(keys []string, k string) bool { return keys == nil || slices.Contains(keys, k) }

// required returns a FieldError for the first of members that is not set.
func required(keys []string, members ...string) error {
	for _, m := range members {
		if !present(keys, m) {
			return fieldErr(m, "required")
		}
	}
	return nil
}

// Validate checks r as MLflow's ResponsesAgentRequest does. The error is a
// *FieldError naming the first offending field ("input[1].role").
func (r *Request) Validate() error {
	if r.Input == nil {
		return fieldErr("input", "required: a list of messages or output items")
	}
	for i := range r.Input {
		if err := validateInputItem(&r.Input[i]); err != nil {
			return at(fmt.Sprintf("input[%d]", i), err)
		}
	}
	if err := validateToolChoice(r.ToolChoice); err != nil {
		return at("tool_choice", err)
	}
	for i := range r.Tools {
		if err := r.Tools[i].validate(); err != nil {
			return at(fmt.Sprintf("tools[%d]", i), err)
		}
	}
	return nil
}

func validateToolChoice(c *ToolChoice) error {
	if c == nil || c.Mode != "" || c.Raw == nil {
		return nil
	}
	if c.Name == "" {
		return fieldErr("name", "required (a tool choice object names a function)")
	}
	return nil
}

func (t *Tool) validate() error {
	if err := required(t.keys, "type"); err != nil {
		return err
	}
	if t.Type != "function" {
		return nil
	}
	if err := required(t.keys, "name"); err != nil {
		return err
	}
	if len(t.Parameters) == 0 || t.Parameters[0] != '{' {
		return fieldErr("parameters", "required: a JSON schema object")
	}
	return nil
}

func validateStatus(s string) error {
	if s != "" && !slices.Contains(validStatus, s) {
		return fieldErr("status", "must be one of in_progress, completed, incomplete, got %q", s)
	}
	return nil
}

// validateInputItem accepts an input message or an output item, as the
// request's list[Message | OutputItem] does.
func validateInputItem(it *Item) error {
	merr := validateInputMessage(it)
	if merr == nil {
		return nil
	}
	if it.Type == "" {
		return merr // no type: only a message fits
	}
	ierr := validateOutputItem(it)
	if ierr == nil {
		return nil
	}
	if it.Type == TypeMessage && it.Role != "" && it.Role != "assistant" {
		return merr // an input message of the user, system or developer
	}
	if it.Type == TypeMessage && it.Content != nil && it.Content.Parts == nil {
		return merr // string content: only an input message fits
	}
	if it.Type == TypeMessage {
		return &FieldError{Reason: fmt.Sprintf("neither an input message (%v) nor an output message (%v)", merr, ierr)}
	}
	return ierr
}

// validateInputMessage checks MLflow's Message: role, content (a string or
// a list of parts), status. As in MLflow, a part with a "text" is accepted
// whatever its type (pydantic reads it as ResponseInputTextParam, so an
// assistant message with output_text parts is an input message); other parts
// must be input_image or input_file.
func validateInputMessage(it *Item) error {
	if it.Role == "" {
		return fieldErr("role", "required: user, assistant, system or developer")
	}
	if !slices.Contains([]string{"user", "assistant", "system", "developer"}, it.Role) {
		return fieldErr("role", "must be user, assistant, system or developer, got %q", it.Role)
	}
	if it.Content == nil {
		return fieldErr("content", "required: a string or a list of content parts")
	}
	for i := range it.Content.Parts {
		p := &it.Content.Parts[i]
		if p.isTextParam() {
			continue // pydantic reads any part with a text as ResponseInputTextParam
		}
		switch p.Type {
		case "":
			return fieldErr(fmt.Sprintf("content[%d].type", i), "required")
		case "input_text":
			return fieldErr(fmt.Sprintf("content[%d].text", i), "required")
		case "input_image", "input_file":
		default:
			return fieldErr(fmt.Sprintf("content[%d].type", i), "must be input_text, input_image or input_file in an input message, got %q", p.Type)
		}
	}
	return validateStatus(it.Status)
}

// validateOutputItem checks MLflow's OutputItem for its type.
func validateOutputItem(it *Item) error {
	k := it.keys
	switch it.Type {
	case "":
		return fieldErr("type", "required")
	case TypeMessage:
		if err := required(k, "id"); err != nil {
			return err
		}
		if it.Role != "" && it.Role != "assistant" {
			return fieldErr("role", "must be assistant in an output message, got %q", it.Role)
		}
		if it.Content == nil {
			return fieldErr("content", "required")
		}
		if it.Content.Parts == nil {
			return fieldErr("content", "must be a list of output_text or refusal parts")
		}
		if len(it.Content.Parts) == 0 {
			return fieldErr("content", "must not be an empty list")
		}
		for i := range it.Content.Parts {
			if err := it.Content.Parts[i].validateOutput(); err != nil {
				return at(fmt.Sprintf("content[%d]", i), err)
			}
		}
	case TypeFunctionCall:
		if err := required(k, "arguments", "call_id", "name"); err != nil {
			return err
		}
	case TypeReasoning:
		if err := required(k, "id"); err != nil {
			return err
		}
		if it.Summary == nil {
			return fieldErr("summary", "required: a list of summary_text parts")
		}
		for i, s := range it.Summary {
			if !present(s.keys, "text") {
				return fieldErr(fmt.Sprintf("summary[%d].text", i), "required")
			}
		}
	case TypeFunctionCallOutput:
		if err := required(k, "call_id"); err != nil {
			return err
		}
		if it.Output == nil {
			return fieldErr("output", "required: a string or a list")
		}
	case TypeMCPApprovalRequest:
		if err := required(k, "id", "arguments", "name", "server_label"); err != nil {
			return err
		}
	case TypeMCPApprovalResponse:
		if err := required(k, "approval_request_id"); err != nil {
			return err
		}
		if it.Approve == nil {
			return fieldErr("approve", "required: a boolean")
		}
	case TypeFileSearchCall, TypeComputerCall, TypeWebSearchCall:
		return nil // passed through unvalidated, as MLflow does
	default:
		return fieldErr("type", "%q is not an output item type MLflow accepts (message, function_call, function_call_output, reasoning, mcp_approval_request, mcp_approval_response, file_search_call, computer_call, web_search_call)", it.Type)
	}
	return validateStatus(it.Status)
}

func (p *ContentPart) validateOutput() error {
	switch p.Type {
	case "output_text":
		if !present(p.keys, "text") {
			return fieldErr("text", "required")
		}
		for i := range p.Annotations {
			if err := p.Annotations[i].validate(); err != nil {
				return at(fmt.Sprintf("annotations[%d]", i), err)
			}
		}
	case "refusal":
		if !present(p.keys, "refusal") {
			return fieldErr("refusal", "required")
		}
	case "":
		return fieldErr("type", "required")
	default:
		return fieldErr("type", "must be output_text or refusal in an output message, got %q", p.Type)
	}
	return nil
}

func (a *Annotation) validate() error {
	switch a.Type {
	case "file_citation", "file_path":
		if err := required(a.keys, "file_id"); err != nil {
			return err
		}
		if a.Index == nil {
			return fieldErr("index", "required")
		}
	case "url_citation":
		for _, m := range []string{"title", "url"} {
			if err := required(a.keys, m); err != nil {
				return err
			}
		}
	case "":
		return fieldErr("type", "required")
	default:
		return fieldErr("type", "must be file_citation, url_citation or file_path, got %q", a.Type)
	}
	return nil
}

// Validate checks r as MLflow's ResponsesAgentResponse does.
func (r *Response) Validate() error {
	if r.Output == nil && !present(r.keys, "output") {
		return fieldErr("output", "required: a list of output items")
	}
	for i := range r.Output {
		if err := validateOutputItem(&r.Output[i]); err != nil {
			return at(fmt.Sprintf("output[%d]", i), err)
		}
	}
	if r.Error != nil {
		if err := required(r.Error.keys, "message"); err != nil {
			return at("error", err)
		}
	}
	if r.Usage != nil {
		for _, m := range []string{"input_tokens", "input_tokens_details", "output_tokens", "output_tokens_details", "total_tokens"} {
			if err := required(r.Usage.keys, m); err != nil {
				return at("usage", err)
			}
		}
	}
	if err := validateToolChoice(r.ToolChoice); err != nil {
		return at("tool_choice", err)
	}
	for i := range r.Tools {
		if err := r.Tools[i].validate(); err != nil {
			return at(fmt.Sprintf("tools[%d]", i), err)
		}
	}
	return nil
}

// Validate checks e as MLflow's ResponsesAgentStreamEvent does: the members
// of the five validated types; other types pass.
func (e *StreamEvent) Validate() error {
	k := e.keys
	switch e.Type {
	case "":
		return fieldErr("type", "required")
	case EventOutputItemDone:
		if e.Item == nil {
			return fieldErr("item", "required: an output item")
		}
		if err := validateOutputItem(e.Item); err != nil {
			return at("item", err)
		}
	case EventOutputTextDelta:
		if e.Delta == nil {
			return fieldErr("delta", "required: a string")
		}
		if err := required(k, "item_id"); err != nil {
			return err
		}
	case EventAnnotationAdded:
		if e.Annotation == nil {
			return fieldErr("annotation", "required")
		}
		if err := e.Annotation.validate(); err != nil {
			return at("annotation", err)
		}
		if e.AnnotationIndex == nil {
			return fieldErr("annotation_index", "required: an integer")
		}
		if err := required(k, "item_id"); err != nil {
			return err
		}
	case EventError:
		if e.Message == nil {
			return fieldErr("message", "required: a string")
		}
	case EventCompleted:
		if e.Response == nil {
			return fieldErr("response", "required: a response")
		}
		if err := e.Response.Validate(); err != nil {
			return at("response", err)
		}
	}
	return nil
}

// isTextParam reports whether pydantic reads the part as a
// ResponseInputTextParam: it has a "text" member.
func (p *ContentPart) isTextParam() bool {
	if p.keys == nil {
		return p.Text != "" || p.Type == "input_text" || p.Type == "output_text" || p.Type == "text"
	}
	return slices.Contains(p.keys, "text")
}
