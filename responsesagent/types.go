package responsesagent

import (
	"bytes"
	"encoding/json"
	"fmt"
)

// Item types MLflow validates (mlflow.types.responses_helpers.OutputItem);
// any other type is rejected by MLflow except the pass-through ones.
const (
	TypeMessage             = "message"
	TypeFunctionCall        = "function_call"
	TypeFunctionCallOutput  = "function_call_output"
	TypeReasoning           = "reasoning"
	TypeMCPApprovalRequest  = "mcp_approval_request"
	TypeMCPApprovalResponse = "mcp_approval_response"
	// Passed through unvalidated by MLflow.
	TypeFileSearchCall = "file_search_call"
	TypeComputerCall   = "computer_call"
	TypeWebSearchCall  = "web_search_call"
)

// Stream event types MLflow validates (ResponsesAgentStreamEvent); every
// other type is passed through.
const (
	EventOutputTextDelta     = "response.output_text.delta"
	EventOutputItemDone      = "response.output_item.done"
	EventAnnotationAdded     = "response.output_text.annotation.added"
	EventCompleted           = "response.completed"
	EventError               = "error"
	EventOutputItemAdded     = "response.output_item.added"
	EventCreated             = "response.created"
	EventInProgress          = "response.in_progress"
	EventContentPartAdded    = "response.content_part.added"
	EventContentPartDone     = "response.content_part.done"
	EventOutputTextDone      = "response.output_text.done"
	EventFunctionArgsDelta   = "response.function_call_arguments.delta"
	EventFunctionArgsDone    = "response.function_call_arguments.done"
	EventFailed              = "response.failed"
	EventIncomplete          = "response.incomplete"
	EventReasoningSummaryAdd = "response.reasoning_summary_text.delta"
)

// Request is MLflow's ResponsesAgentRequest: the conversation so far (Input:
// messages and output items of earlier turns) plus the OpenAI Responses
// request parameters MLflow models. Members MLflow does not model (model,
// instructions, previous_response_id, databricks_options, ...) are kept in
// Extra and written back; the fields are in MLflow's order. Decoding reads
// the integer, number and boolean members as pydantic's lax mode does
// ("5" and 5.0 are 5, "0.7" is 0.7, "yes" and 1 are true; see
// DecodeRequest).
type Request struct {
	ToolChoice        *ToolChoice       `json:"tool_choice"`
	Truncation        string            `json:"truncation"`
	MaxOutputTokens   *int              `json:"max_output_tokens"`
	Metadata          map[string]string `json:"metadata"`
	ParallelToolCalls *bool             `json:"parallel_tool_calls"`
	Tools             []Tool            `json:"tools"`
	Reasoning         *Reasoning        `json:"reasoning"`
	Store             *bool             `json:"store"`
	Stream            *bool             `json:"stream"`
	Temperature       *float64          `json:"temperature"`
	Text              json.RawMessage   `json:"text"`
	TopP              *float64          `json:"top_p"`
	User              string            `json:"user"`
	Background        *bool             `json:"background"`
	// Input is required: a list of messages ({"role", "content"}) and output
	// items of earlier turns (function calls, their outputs, ...).
	Input        []Item         `json:"input"`
	CustomInputs map[string]any `json:"custom_inputs"`
	Context      *Context       `json:"context"`

	// Extra holds the members MLflow does not model, as raw JSON.
	Extra map[string]json.RawMessage `json:"-"`
	keys  []string
}

// Context is MLflow's ChatContext. ConversationID becomes the trace's
// session and UserID its user (see Trace).
type Context struct {
	ConversationID string                     `json:"conversation_id"`
	UserID         string                     `json:"user_id"`
	Extra          map[string]json.RawMessage `json:"-"`
	keys           []string
}

// Reasoning holds the reasoning parameters of a request or response.
type Reasoning struct {
	Effort          string                     `json:"effort"`
	GenerateSummary string                     `json:"generate_summary"`
	Summary         string                     `json:"summary"`
	Extra           map[string]json.RawMessage `json:"-"`
	keys            []string
}

// Tool is a tool offered to the model: {"type": "function", "name",
// "parameters", "strict", "description"} or another OpenAI tool type, whose
// members stay in Extra.
type Tool struct {
	Type        string                     `json:"type"`
	Name        string                     `json:"name"`
	Description string                     `json:"description"`
	Parameters  json.RawMessage            `json:"parameters"` // a JSON schema object
	Strict      *bool                      `json:"strict"`
	Extra       map[string]json.RawMessage `json:"-"`
	keys        []string
}

// ToolChoice is "none", "auto", "required", or an object such as
// {"type": "function", "name": "get_weather"}.
type ToolChoice struct {
	Mode string // the string form; "" when an object
	Type string // the object form's "type"
	Name string // the object form's "name"
	// Raw is the object form as decoded (other members included); it is
	// written back as is unless Type or Name changed.
	Raw     json.RawMessage
	rawType string
	rawName string
}

// Response is MLflow's ResponsesAgentResponse (an OpenAI Responses API
// response plus custom_outputs). Output is required. Fields are in MLflow's
// order; members MLflow does not model are kept in Extra.
type Response struct {
	ToolChoice         *ToolChoice       `json:"tool_choice"`
	Truncation         string            `json:"truncation"`
	ID                 string            `json:"id"`
	CreatedAt          *float64          `json:"created_at"`
	Error              *ResponseError    `json:"error"`
	IncompleteDetails  *Incomplete       `json:"incomplete_details"`
	Instructions       string            `json:"instructions"`
	Metadata           map[string]string `json:"metadata"`
	Model              string            `json:"model"`
	Object             string            `json:"object"` // "response" (written when empty)
	Output             []Item            `json:"output"`
	ParallelToolCalls  *bool             `json:"parallel_tool_calls"`
	Temperature        *float64          `json:"temperature"`
	Tools              []Tool            `json:"tools"`
	TopP               *float64          `json:"top_p"`
	MaxOutputTokens    *int              `json:"max_output_tokens"`
	PreviousResponseID string            `json:"previous_response_id"`
	Reasoning          *Reasoning        `json:"reasoning"`
	Status             string            `json:"status"`
	Text               json.RawMessage   `json:"text"`
	Usage              *Usage            `json:"usage"`
	User               string            `json:"user"`
	CustomOutputs      map[string]any    `json:"custom_outputs"`

	Extra map[string]json.RawMessage `json:"-"`
	keys  []string
}

// ResponseError is a response's error.
type ResponseError struct {
	Code    string                     `json:"code"`
	Message string                     `json:"message"`
	Extra   map[string]json.RawMessage `json:"-"`
	keys    []string
}

// Incomplete is a response's incomplete_details.
type Incomplete struct {
	Reason string                     `json:"reason"`
	Extra  map[string]json.RawMessage `json:"-"`
	keys   []string
}

// Usage is a response's token usage.
type Usage struct {
	InputTokens         int                        `json:"input_tokens"`
	InputTokensDetails  InputTokensDetails         `json:"input_tokens_details"`
	OutputTokens        int                        `json:"output_tokens"`
	OutputTokensDetails OutputTokensDetails        `json:"output_tokens_details"`
	TotalTokens         int                        `json:"total_tokens"`
	Extra               map[string]json.RawMessage `json:"-"`
	keys                []string
}

// InputTokensDetails is usage.input_tokens_details.
type InputTokensDetails struct {
	CachedTokens int `json:"cached_tokens"`
}

// OutputTokensDetails is usage.output_tokens_details.
type OutputTokensDetails struct {
	ReasoningTokens int `json:"reasoning_tokens"`
}

// Item is one element of a request's input or a response's output: an input
// message ({"role", "content"}; Type may be empty) or an output item of any
// type (message, function_call, function_call_output, reasoning,
// mcp_approval_request, mcp_approval_response, and pass-through types such as
// web_search_call). Only the fields of its type are set; members this
// package does not model are kept in Extra. Build items with the helpers
// (TextItem, FunctionCallItem, ...).
type Item struct {
	Type              string                     `json:"type"`
	ID                string                     `json:"id"`
	Summary           []SummaryText              `json:"summary"`
	CallID            string                     `json:"call_id"`
	ApprovalRequestID string                     `json:"approval_request_id"`
	Approve           *bool                      `json:"approve"`
	Name              string                     `json:"name"`
	Arguments         string                     `json:"arguments"`
	ServerLabel       string                     `json:"server_label"`
	Content           *Content                   `json:"content"`
	Role              string                     `json:"role"`
	Output            *Content                   `json:"output"`
	Reason            *string                    `json:"reason"`
	Status            string                     `json:"status"`
	Extra             map[string]json.RawMessage `json:"-"`
	keys              []string
}

// SummaryText is one part of a reasoning item's summary.
type SummaryText struct {
	Type  string                     `json:"type"` // "summary_text"
	Text  string                     `json:"text"`
	Extra map[string]json.RawMessage `json:"-"`
	keys  []string
}

// Content is a message's content (or a function call output): a plain
// string (Parts == nil) or a list of parts.
type Content struct {
	Text  string
	Parts []ContentPart
}

// ContentPart is one part of a message's content: input_text, input_image,
// input_file (input messages), output_text, refusal (output messages).
type ContentPart struct {
	Text        string                     `json:"text"`
	Type        string                     `json:"type"`
	Annotations []Annotation               `json:"annotations"`
	Refusal     string                     `json:"refusal"`
	Extra       map[string]json.RawMessage `json:"-"`
	keys        []string
}

// Annotation is an output_text annotation: file_citation (FileID, Index),
// url_citation (URL, Title, StartIndex, EndIndex) or file_path (FileID,
// Index).
type Annotation struct {
	Type       string                     `json:"type"`
	FileID     string                     `json:"file_id"`
	Index      *int                       `json:"index"`
	StartIndex *int                       `json:"start_index"`
	EndIndex   *int                       `json:"end_index"`
	Title      string                     `json:"title"`
	URL        string                     `json:"url"`
	Extra      map[string]json.RawMessage `json:"-"`
	keys       []string
}

// StreamEvent is MLflow's ResponsesAgentStreamEvent: a Responses API stream
// event plus custom_outputs. The validated types are output_text.delta
// (ItemID, Delta), output_item.done (Item), output_text.annotation.added
// (ItemID, Annotation, AnnotationIndex), response.completed (Response) and
// error (Code, Message, Param); other types pass through with their members
// in Extra (or in the fields below when they share a name).
type StreamEvent struct {
	Type            string         `json:"type"`
	CustomOutputs   map[string]any `json:"custom_outputs"`
	ItemID          string         `json:"item_id"`
	OutputIndex     *int           `json:"output_index"`
	ContentIndex    *int           `json:"content_index"`
	Delta           *string        `json:"delta"`
	Item            *Item          `json:"item"`
	AnnotationIndex *int           `json:"annotation_index"`
	Annotation      *Annotation    `json:"annotation"`
	Response        *Response      `json:"response"`
	Code            *string        `json:"code"`
	Message         *string        `json:"message"`
	Param           *string        `json:"param"`
	SequenceNumber  *int           `json:"sequence_number"`

	Extra map[string]json.RawMessage `json:"-"`
	keys  []string
}

// --- JSON ------------------------------------------------------------------

// The aliases below have the same fields without the methods, so that the
// generic object codec does not recurse.

type (
	requestFields     Request
	contextFields     Context
	reasoningFields   Reasoning
	toolFields        Tool
	responseFields    Response
	responseErrFields ResponseError
	incompleteFields  Incomplete
	usageFields       Usage
	itemFields        Item
	summaryFields     SummaryText
	partFields        ContentPart
	annotationFields  Annotation
	eventFields       StreamEvent
)

// decodeObject decodes b into *f (the fields type of one of this package's
// objects), its unknown members into *extra and the members' order into
// *keys (extra and keys point into *f). On error *f is left as it was.
func decodeObject[F any](b []byte, f *F, extra *map[string]json.RawMessage, keys *[]string) error {
	var tmp F
	ex, ks, err := unmarshalObject(b, &tmp)
	if err != nil {
		return objectErr(err)
	}
	*f = tmp
	*extra, *keys = ex, ks
	return nil
}

func objectErr(err error) error {
	if _, ok := err.(*FieldError); ok {
		return err
	}
	return &FieldError{Reason: err.Error()}
}

// UnmarshalJSON decodes a request, keeping unknown members in Extra.
func (r *Request) UnmarshalJSON(b []byte) error {
	f := (*requestFields)(r)
	return decodeObject(b, f, &f.Extra, &f.keys)
}

// MarshalJSON encodes the request (unset fields omitted, Extra kept).
func (r Request) MarshalJSON() ([]byte, error) {
	return marshalObject(requestFields(r), r.Extra, r.keys, func(k string) bool { return k == "input" })
}

// UnmarshalJSON decodes a context.
func (c *Context) UnmarshalJSON(b []byte) error {
	f := (*contextFields)(c)
	return decodeObject(b, f, &f.Extra, &f.keys)
}

// MarshalJSON encodes the context.
func (c Context) MarshalJSON() ([]byte, error) {
	return marshalObject(contextFields(c), c.Extra, c.keys, nil)
}

// UnmarshalJSON decodes reasoning parameters.
func (r *Reasoning) UnmarshalJSON(b []byte) error {
	f := (*reasoningFields)(r)
	return decodeObject(b, f, &f.Extra, &f.keys)
}

// MarshalJSON encodes reasoning parameters.
func (r Reasoning) MarshalJSON() ([]byte, error) {
	return marshalObject(reasoningFields(r), r.Extra, r.keys, nil)
}

// UnmarshalJSON decodes a tool.
func (t *Tool) UnmarshalJSON(b []byte) error {
	f := (*toolFields)(t)
	return decodeObject(b, f, &f.Extra, &f.keys)
}

// MarshalJSON encodes a tool.
func (t Tool) MarshalJSON() ([]byte, error) {
	return marshalObject(toolFields(t), t.Extra, t.keys, func(k string) bool {
		return k == "type" || (t.Type == "function" && (k == "name" || k == "parameters"))
	})
}

// UnmarshalJSON decodes a tool choice (a string or an object).
func (c *ToolChoice) UnmarshalJSON(b []byte) error {
	b = bytes.TrimSpace(b)
	if len(b) > 0 && b[0] == '"' {
		var s string
		if err := json.Unmarshal(b, &s); err != nil {
			return &FieldError{Reason: err.Error()}
		}
		*c = ToolChoice{Mode: s}
		return nil
	}
	members, err := decodeMembers(b)
	if err != nil {
		return &FieldError{Reason: "must be a string or an object"}
	}
	out := ToolChoice{Raw: append(json.RawMessage(nil), b...)}
	for _, m := range members {
		var dst *string
		switch m.key {
		case "type":
			dst = &out.Type
		case "name":
			dst = &out.Name
		default:
			continue
		}
		if string(m.val) == "null" {
			continue
		}
		if err := json.Unmarshal(m.val, dst); err != nil {
			return &FieldError{Field: m.key, Reason: "must be a string"}
		}
	}
	out.rawType, out.rawName = out.Type, out.Name
	*c = out
	return nil
}

// MarshalJSON encodes a tool choice.
func (c ToolChoice) MarshalJSON() ([]byte, error) {
	if c.Mode != "" || (c.Raw == nil && c.Type == "" && c.Name == "") {
		return json.Marshal(c.Mode)
	}
	if c.Raw != nil && c.Type == c.rawType && c.Name == c.rawName {
		return c.Raw, nil
	}
	t := c.Type
	if t == "" {
		t = "function"
	}
	return json.Marshal(struct {
		Type string `json:"type"`
		Name string `json:"name"`
	}{t, c.Name})
}

// UnmarshalJSON decodes a response, keeping unknown members in Extra.
func (r *Response) UnmarshalJSON(b []byte) error {
	f := (*responseFields)(r)
	return decodeObject(b, f, &f.Extra, &f.keys)
}

// MarshalJSON encodes a response; "object" is "response" when empty and
// "output" is always written.
func (r Response) MarshalJSON() ([]byte, error) {
	f := responseFields(r)
	if f.Object == "" {
		f.Object = "response"
	}
	if f.Output == nil {
		f.Output = []Item{}
	}
	return marshalObject(f, r.Extra, r.keys, nil)
}

// UnmarshalJSON decodes a response error.
func (e *ResponseError) UnmarshalJSON(b []byte) error {
	f := (*responseErrFields)(e)
	return decodeObject(b, f, &f.Extra, &f.keys)
}

// MarshalJSON encodes a response error.
func (e ResponseError) MarshalJSON() ([]byte, error) {
	return marshalObject(responseErrFields(e), e.Extra, e.keys, func(k string) bool { return k == "message" })
}

// UnmarshalJSON decodes incomplete_details.
func (d *Incomplete) UnmarshalJSON(b []byte) error {
	f := (*incompleteFields)(d)
	return decodeObject(b, f, &f.Extra, &f.keys)
}

// MarshalJSON encodes incomplete_details.
func (d Incomplete) MarshalJSON() ([]byte, error) {
	return marshalObject(incompleteFields(d), d.Extra, d.keys, nil)
}

// UnmarshalJSON decodes usage.
func (u *Usage) UnmarshalJSON(b []byte) error {
	f := (*usageFields)(u)
	return decodeObject(b, f, &f.Extra, &f.keys)
}

// MarshalJSON encodes usage; every count is written (MLflow requires them).
func (u Usage) MarshalJSON() ([]byte, error) {
	return marshalObject(usageFields(u), u.Extra, u.keys, func(string) bool { return true })
}

// UnmarshalJSON decodes an item, keeping unknown members in Extra.
func (it *Item) UnmarshalJSON(b []byte) error {
	f := (*itemFields)(it)
	return decodeObject(b, f, &f.Extra, &f.keys)
}

// MarshalJSON encodes an item: its members in the order they were decoded,
// or, for an item built in Go, "type" first and the rest in MLflow's helper
// order; the members its type requires are always written.
func (it Item) MarshalJSON() ([]byte, error) {
	req := requiredMembers(it.Type, it.Role != "")
	return marshalObject(itemFields(it), it.Extra, it.keys, func(k string) bool {
		for _, r := range req {
			if r == k {
				return true
			}
		}
		return false
	})
}

// requiredMembers lists the members MLflow requires for an item type
// (message reports the input-message form when isInput).
func requiredMembers(typ string, hasRole bool) []string {
	switch typ {
	case TypeMessage:
		if hasRole {
			return []string{"type", "content", "role"}
		}
		return []string{"type", "content"}
	case TypeFunctionCall:
		return []string{"type", "call_id", "name", "arguments"}
	case TypeFunctionCallOutput:
		return []string{"type", "call_id", "output"}
	case TypeReasoning:
		return []string{"type", "id", "summary"}
	case TypeMCPApprovalRequest:
		return []string{"type", "id", "arguments", "name", "server_label"}
	case TypeMCPApprovalResponse:
		return []string{"type", "approval_request_id", "approve"}
	case "":
		return []string{"content", "role"}
	}
	return []string{"type"}
}

// UnmarshalJSON decodes a summary part.
func (s *SummaryText) UnmarshalJSON(b []byte) error {
	f := (*summaryFields)(s)
	return decodeObject(b, f, &f.Extra, &f.keys)
}

// MarshalJSON encodes a summary part.
func (s SummaryText) MarshalJSON() ([]byte, error) {
	return marshalObject(summaryFields(s), s.Extra, s.keys, func(k string) bool { return k == "text" || k == "type" })
}

// UnmarshalJSON decodes content: a string or a list of parts.
func (c *Content) UnmarshalJSON(b []byte) error {
	b = bytes.TrimSpace(b)
	if len(b) > 0 && b[0] == '"' {
		var s string
		if err := json.Unmarshal(b, &s); err != nil {
			return &FieldError{Reason: err.Error()}
		}
		*c = Content{Text: s}
		return nil
	}
	if len(b) == 0 || b[0] != '[' {
		return &FieldError{Reason: "must be a string or a list"}
	}
	var elems []json.RawMessage
	if err := json.Unmarshal(b, &elems); err != nil {
		return &FieldError{Reason: err.Error()}
	}
	parts := make([]ContentPart, len(elems))
	for i, e := range elems {
		if err := parts[i].UnmarshalJSON(e); err != nil {
			return at(fmt.Sprintf("[%d]", i), err)
		}
	}
	*c = Content{Parts: parts}
	return nil
}

// MarshalJSON encodes content as a string, or a list when Parts is not nil.
func (c Content) MarshalJSON() ([]byte, error) {
	if c.Parts != nil {
		return json.Marshal(c.Parts)
	}
	return json.Marshal(c.Text)
}

// UnmarshalJSON decodes a content part.
func (p *ContentPart) UnmarshalJSON(b []byte) error {
	f := (*partFields)(p)
	return decodeObject(b, f, &f.Extra, &f.keys)
}

// MarshalJSON encodes a content part.
func (p ContentPart) MarshalJSON() ([]byte, error) {
	return marshalObject(partFields(p), p.Extra, p.keys, func(k string) bool {
		switch p.Type {
		case "output_text":
			return k == "text" || k == "type" || k == "annotations"
		case "input_text", "text":
			return k == "text" || k == "type"
		case "refusal":
			return k == "refusal" || k == "type"
		}
		return k == "type" && p.Type != ""
	})
}

// UnmarshalJSON decodes an annotation.
func (a *Annotation) UnmarshalJSON(b []byte) error {
	f := (*annotationFields)(a)
	return decodeObject(b, f, &f.Extra, &f.keys)
}

// MarshalJSON encodes an annotation.
func (a Annotation) MarshalJSON() ([]byte, error) {
	return marshalObject(annotationFields(a), a.Extra, a.keys, func(k string) bool { return k == "type" })
}

// UnmarshalJSON decodes a stream event, keeping unknown members in Extra.
func (e *StreamEvent) UnmarshalJSON(b []byte) error {
	f := (*eventFields)(e)
	return decodeObject(b, f, &f.Extra, &f.keys)
}

// MarshalJSON encodes a stream event.
func (e StreamEvent) MarshalJSON() ([]byte, error) {
	return marshalObject(eventFields(e), e.Extra, e.keys, func(k string) bool {
		switch e.Type {
		case EventOutputTextDelta:
			return k == "type" || k == "item_id" || k == "delta"
		case EventAnnotationAdded:
			return k == "type" || k == "item_id" || k == "annotation" || k == "annotation_index"
		case EventError:
			return k == "type" || k == "message"
		}
		return k == "type"
	})
}
