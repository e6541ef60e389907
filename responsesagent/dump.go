package responsesagent

import (
	"encoding/json"
	"strconv"

	"github.com/mlflowtrace/mlflowtrace-go/internal/encode"
)

// This file writes the values MLflow's Python SDK records on a
// ResponsesAgent's trace, member for member and in the same order: MLflow
// records the pydantic objects it passes around with model_dump() — every
// modelled field, None as null, extra members after the modelled ones — and
// the stream's reduced output with model_dump(exclude_none=True). The
// results are JSON texts (json.RawMessage) that package tracing stores with
// Python's separators.

type pyw struct{ b []byte }

func (w *pyw) key(k string, first bool) {
	if !first {
		w.b = append(w.b, ',')
	}
	w.b = encode.AppendString(w.b, k, false)
	w.b = append(w.b, ':')
}

func (w *pyw) null() { w.b = append(w.b, "null"...) }

func (w *pyw) str(s string) {
	if s == "" {
		w.null()
		return
	}
	w.b = encode.AppendString(w.b, s, false)
}

func (w *pyw) float(f *float64) {
	if f == nil {
		w.null()
		return
	}
	w.b = encode.AppendFloat(w.b, *f, 64)
}

func (w *pyw) intp(i *int) {
	if i == nil {
		w.null()
		return
	}
	w.b = strconv.AppendInt(w.b, int64(*i), 10)
}

func (w *pyw) boolp(v *bool) {
	if v == nil {
		w.null()
		return
	}
	w.b = strconv.AppendBool(w.b, *v)
}

// json writes v with encoding/json (null when nil or on error).
func (w *pyw) json(v any) {
	b, err := json.Marshal(v)
	if err != nil || len(b) == 0 {
		w.null()
		return
	}
	w.b = append(w.b, b...)
}

func (w *pyw) raw(r json.RawMessage) {
	if len(r) == 0 {
		w.null()
		return
	}
	w.b = append(w.b, r...)
}

func (w *pyw) mapOrNull(isNil bool, v any) {
	if isNil {
		w.null()
		return
	}
	w.json(v)
}

// typeFirst writes the JSON object text obj (as this package marshals it)
// with "type" moved to the front: pydantic's dump of an open model whose
// only modelled field is "type" (OutputItem, Tool). With omitNull, null
// members are dropped (exclude_none applies to a model's own members).
func (w *pyw) typeFirst(obj []byte, omitNull bool) {
	members, err := decodeMembers(obj)
	if err != nil {
		w.b = append(w.b, obj...)
		return
	}
	w.b = append(w.b, '{')
	first := true
	for _, m := range members {
		if m.key == "type" {
			w.key("type", true)
			w.b = append(w.b, m.val...)
			first = false
		}
	}
	for _, m := range members {
		if m.key == "type" || (omitNull && string(m.val) == "null") {
			continue
		}
		w.key(m.key, first)
		first = false
		w.b = append(w.b, m.val...)
	}
	w.b = append(w.b, '}')
}

// requestTraceValue is ResponsesAgentRequest.model_dump(): what MLflow
// records as the request. Members MLflow does not model (Extra) are not part
// of it, as pydantic drops them.
func requestTraceValue(r *Request) json.RawMessage {
	w := &pyw{b: make([]byte, 0, 512)}
	w.b = append(w.b, '{')
	w.key("tool_choice", true)
	w.toolChoice(r.ToolChoice)
	w.key("truncation", false)
	w.str(r.Truncation)
	w.key("max_output_tokens", false)
	w.intp(r.MaxOutputTokens)
	w.key("metadata", false)
	w.mapOrNull(r.Metadata == nil, r.Metadata)
	w.key("parallel_tool_calls", false)
	w.boolp(r.ParallelToolCalls)
	w.key("tools", false)
	w.tools(r.Tools)
	w.key("reasoning", false)
	w.reasoning(r.Reasoning)
	w.key("store", false)
	w.boolp(r.Store)
	w.key("stream", false)
	w.boolp(r.Stream)
	w.key("temperature", false)
	w.float(r.Temperature)
	w.key("text", false)
	w.raw(r.Text)
	w.key("top_p", false)
	w.float(r.TopP)
	w.key("user", false)
	w.str(r.User)
	w.key("background", false)
	w.boolp(r.Background)
	w.key("input", false)
	w.list(len(r.Input), func(i int) { w.inputItem(&r.Input[i]) })
	w.key("custom_inputs", false)
	w.mapOrNull(r.CustomInputs == nil, r.CustomInputs)
	w.key("context", false)
	if r.Context == nil {
		w.null()
	} else {
		w.b = append(w.b, '{')
		w.key("conversation_id", true)
		w.str(r.Context.ConversationID)
		w.key("user_id", false)
		w.str(r.Context.UserID)
		w.b = append(w.b, '}')
	}
	w.b = append(w.b, '}')
	return w.b
}

func (w *pyw) toolChoice(c *ToolChoice) {
	switch {
	case c == nil:
		w.null()
	case c.Mode != "" || (c.Raw == nil && c.Name == "" && c.Type == ""):
		w.str(c.Mode)
	default: // ToolChoiceFunction: name, type
		w.b = append(w.b, '{')
		w.key("name", true)
		w.str(c.Name)
		w.key("type", false)
		t := c.Type
		if t == "" {
			t = "function"
		}
		w.str(t)
		w.b = append(w.b, '}')
	}
}

func (w *pyw) tools(ts []Tool) {
	if ts == nil {
		w.null()
		return
	}
	w.list(len(ts), func(i int) {
		b, _ := ts[i].MarshalJSON()
		w.typeFirst(b, false)
	})
}

// list writes a JSON list of n elements, each written by elem(i).
func (w *pyw) list(n int, elem func(i int)) {
	w.b = append(w.b, '[')
	for i := range n {
		if i > 0 {
			w.b = append(w.b, ',')
		}
		elem(i)
	}
	w.b = append(w.b, ']')
}

func (w *pyw) reasoning(r *Reasoning) {
	if r == nil {
		w.null()
		return
	}
	w.b = append(w.b, '{')
	w.key("effort", true)
	w.str(r.Effort)
	w.key("generate_summary", false)
	w.str(r.GenerateSummary)
	w.b = append(w.b, '}')
}

// inputItem writes an input element as pydantic validates it: a Message
// when it is one (status, content, role, type), else an OutputItem.
func (w *pyw) inputItem(it *Item) {
	if validateInputMessage(it) != nil {
		b, _ := it.MarshalJSON()
		w.typeFirst(b, false)
		return
	}
	w.b = append(w.b, '{')
	w.key("status", true)
	w.str(it.Status)
	w.key("content", false)
	switch {
	case it.Content == nil:
		w.null()
	case it.Content.Parts == nil:
		w.b = encode.AppendString(w.b, it.Content.Text, false)
	default:
		w.list(len(it.Content.Parts), func(i int) {
			p := it.Content.Parts[i]
			if !p.isTextParam() {
				w.json(p)
				return
			}
			// ResponseInputTextParam: text, type (extras dropped).
			w.b = append(w.b, '{')
			w.key("text", true)
			w.b = encode.AppendString(w.b, p.Text, false)
			w.key("type", false)
			t := p.Type
			if t == "" {
				t = "input_text"
			}
			w.b = encode.AppendString(w.b, t, false)
			w.b = append(w.b, '}')
		})
	}
	w.key("role", false)
	w.str(it.Role)
	w.key("type", false)
	t := it.Type
	if t == "" {
		t = TypeMessage
	}
	w.str(t)
	w.b = append(w.b, '}')
}

// responseTraceValue is ResponsesAgentResponse.model_dump(): what MLflow
// records when predict returns a ResponsesAgentResponse.
func responseTraceValue(r *Response) json.RawMessage {
	w := &pyw{b: make([]byte, 0, 512)}
	w.b = append(w.b, '{')
	w.key("tool_choice", true)
	w.toolChoice(r.ToolChoice)
	w.key("truncation", false)
	w.str(r.Truncation)
	w.key("id", false)
	w.str(r.ID)
	w.key("created_at", false)
	w.float(r.CreatedAt)
	w.key("error", false)
	if r.Error == nil {
		w.null()
	} else {
		w.b = append(w.b, '{')
		w.key("code", true)
		w.str(r.Error.Code)
		w.key("message", false)
		w.b = encode.AppendString(w.b, r.Error.Message, false)
		w.b = append(w.b, '}')
	}
	w.key("incomplete_details", false)
	if r.IncompleteDetails == nil {
		w.null()
	} else {
		w.b = append(w.b, '{')
		w.key("reason", true)
		w.str(r.IncompleteDetails.Reason)
		w.b = append(w.b, '}')
	}
	w.key("instructions", false)
	w.str(r.Instructions)
	w.key("metadata", false)
	w.mapOrNull(r.Metadata == nil, r.Metadata)
	w.key("model", false)
	w.str(r.Model)
	w.key("object", false)
	obj := r.Object
	if obj == "" {
		obj = "response"
	}
	w.str(obj)
	w.key("output", false)
	w.outputItems(r.Output, false)
	w.key("parallel_tool_calls", false)
	w.boolp(r.ParallelToolCalls)
	w.key("temperature", false)
	w.float(r.Temperature)
	w.key("tools", false)
	w.tools(r.Tools)
	w.key("top_p", false)
	w.float(r.TopP)
	w.key("max_output_tokens", false)
	w.intp(r.MaxOutputTokens)
	w.key("previous_response_id", false)
	w.str(r.PreviousResponseID)
	w.key("reasoning", false)
	w.reasoning(r.Reasoning)
	w.key("status", false)
	w.str(r.Status)
	w.key("text", false)
	w.raw(r.Text)
	w.key("usage", false)
	if r.Usage == nil {
		w.null()
	} else {
		u := r.Usage
		w.b = append(w.b, '{')
		w.key("input_tokens", true)
		w.b = strconv.AppendInt(w.b, int64(u.InputTokens), 10)
		w.key("input_tokens_details", false)
		w.b = append(w.b, `{"cached_tokens":`...)
		w.b = strconv.AppendInt(w.b, int64(u.InputTokensDetails.CachedTokens), 10)
		w.b = append(w.b, '}')
		w.key("output_tokens", false)
		w.b = strconv.AppendInt(w.b, int64(u.OutputTokens), 10)
		w.key("output_tokens_details", false)
		w.b = append(w.b, `{"reasoning_tokens":`...)
		w.b = strconv.AppendInt(w.b, int64(u.OutputTokensDetails.ReasoningTokens), 10)
		w.b = append(w.b, '}')
		w.key("total_tokens", false)
		w.b = strconv.AppendInt(w.b, int64(u.TotalTokens), 10)
		w.b = append(w.b, '}')
	}
	w.key("user", false)
	w.str(r.User)
	w.key("custom_outputs", false)
	w.mapOrNull(r.CustomOutputs == nil, r.CustomOutputs)
	w.b = append(w.b, '}')
	return w.b
}

func (w *pyw) outputItems(items []Item, omitNull bool) {
	w.list(len(items), func(i int) {
		b, _ := items[i].MarshalJSON()
		w.typeFirst(b, omitNull)
	})
}

// eventTraceValue is ResponsesAgentStreamEvent.model_dump(): type,
// custom_outputs, then the event's other members as given. MLflow records it
// as the "mlflow.chunk.value" of each chunk event of a streaming span.
func eventTraceValue(e *StreamEvent) json.RawMessage {
	b, _ := e.MarshalJSON()
	members, err := decodeMembers(b)
	if err != nil {
		return b
	}
	w := &pyw{b: make([]byte, 0, len(b)+32)}
	w.b = append(w.b, '{')
	w.key("type", true)
	w.b = encode.AppendString(w.b, e.Type, false)
	w.key("custom_outputs", false)
	w.mapOrNull(e.CustomOutputs == nil, e.CustomOutputs)
	for _, m := range members {
		if m.key == "type" || m.key == "custom_outputs" {
			continue
		}
		w.key(m.key, false)
		w.b = append(w.b, m.val...)
	}
	w.b = append(w.b, '}')
	return w.b
}

// reducedTraceValue is MLflow's responses_agent_output_reducer: the item of
// every response.output_item.done event, as
// ResponsesAgentResponse(output=items).model_dump(exclude_none=True).
func reducedTraceValue(items []Item) json.RawMessage {
	w := &pyw{b: make([]byte, 0, 256)}
	w.b = append(w.b, `{"object":"response","output":`...)
	w.outputItems(items, true)
	w.b = append(w.b, '}')
	return w.b
}

// TraceValue returns r as MLflow records a ResponsesAgentRequest on a trace
// (pydantic model_dump(): every field MLflow models in MLflow's order, unset
// ones as null, members MLflow does not model left out), as JSON text. A
// traced agent records {"request": TraceValue} as its span's inputs.
func (r *Request) TraceValue() json.RawMessage { return requestTraceValue(r) }

// TraceValue returns r as MLflow records a ResponsesAgentResponse returned
// by predict (model_dump(), nulls included), as JSON text.
func (r *Response) TraceValue() json.RawMessage { return responseTraceValue(r) }

// TraceValue returns e as MLflow records a streamed ResponsesAgentStreamEvent
// in a chunk event (model_dump(): type, custom_outputs, then the other
// members as given), as JSON text.
func (e *StreamEvent) TraceValue() json.RawMessage { return eventTraceValue(e) }

// ReducedTraceValue returns what MLflow's responses_agent_output_reducer
// records as a stream's output: the item of every response.output_item.done
// event in events, as ResponsesAgentResponse(output=items).model_dump(
// exclude_none=True), as JSON text.
func ReducedTraceValue(events []StreamEvent) json.RawMessage {
	var items []Item
	for _, ev := range events {
		if ev.Type == EventOutputItemDone && ev.Item != nil {
			items = append(items, *ev.Item)
		}
	}
	return reducedTraceValue(items)
}
