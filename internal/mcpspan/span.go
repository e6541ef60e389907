package mcpspan

import (
	"context"
	"encoding/json"
	"fmt"

	"go.opentelemetry.io/otel/attribute"
	"go.opentelemetry.io/otel/codes"

	"github.com/mlflowtrace/mlflowtrace-go/tracing"
)

// Method describes a request for its span.
type Method struct {
	Name   string // span name: "{method} {target}" or the method
	Type   tracing.SpanType
	Always bool // recorded even outside a trace
	// Resource: the outputs are documents (resources/read).
	Resource bool
	attrs    []kv
}

type kv struct {
	k string
	v any
}

// Describe describes a request of method whose target is target: the tool
// name of tools/call, the prompt name of prompts/get, the URI of
// resources/read ("" otherwise). Names and attributes follow
// OpenTelemetry's MCP semantic conventions.
func Describe(method, target string) Method {
	d := Method{Name: method, Type: tracing.SpanTypeUnknown, attrs: make([]kv, 1, 3)}
	d.attrs[0] = kv{"mcp.method.name", method}
	switch method {
	case "tools/call":
		d.Name, d.Type, d.Always = method+" "+target, tracing.SpanTypeTool, true
		d.attrs = append(d.attrs, kv{"gen_ai.tool.name", target}, kv{"gen_ai.operation.name", "execute_tool"})
	case "resources/read":
		d.Resource, d.Type, d.Always = true, tracing.SpanTypeRetriever, true
		d.attrs = append(d.attrs, kv{"mcp.resource.uri", target})
	case "prompts/get":
		d.Name, d.Always = method+" "+target, true
		d.attrs = append(d.attrs, kv{"gen_ai.prompt.name", target})
	case "sampling/createMessage":
		d.Type, d.Always = tracing.SpanTypeChatModel, true
	case "elicitation/create", "completion/complete":
		d.Always = true
	}
	return d
}

// IsNotification reports a notification (never recorded; its params still
// carry the trace context).
func IsNotification(method string) bool {
	return len(method) >= len("notifications/") && method[:len("notifications/")] == "notifications/"
}

// Start starts the span of a request as a child of the span in ctx, with
// its attributes, the session's id (when not empty) and, when content
// capture is on, inputs() as its inputs (none when inputs is nil). The span is nil when tracing is
// off or the trace unsampled.
func Start(ctx context.Context, m Method, sessionID string, inputs func() any) (context.Context, *tracing.Span) {
	ctx, span := tracing.StartSpan(ctx, m.Name, tracing.WithSpanType(m.Type))
	if span == nil {
		return ctx, nil
	}
	for _, a := range m.attrs {
		span.SetAttribute(a.k, a.v)
	}
	if sessionID != "" {
		span.SetAttribute("mcp.session.id", sessionID)
	}
	if inputs != nil && span.CapturesContent() {
		span.SetInputs(inputs())
	}
	return ctx, span
}

// Retarget gives a span started for a request whose target was not known
// yet (Describe(method, "")) the name and attributes of m, which has it.
func Retarget(span *tracing.Span, m Method) {
	if span == nil {
		return
	}
	span.SetName(m.Name)
	for _, a := range m.attrs {
		span.SetAttribute(a.k, a.v)
	}
}

// Outcome is how a request ended.
type Outcome struct {
	// Err is the request's error (a JSON-RPC error response, a transport
	// error); nil when a result came.
	Err error
	// ErrCode is the JSON-RPC error code of Err ("" when Err is not a
	// JSON-RPC error response: error.type is then Err's Go type).
	ErrCode string
	// Result is the result (nil: none).
	Result any
	// Outputs is what the span records as outputs when Result is not nil:
	// the result, or for resources/read its documents (Documents).
	Outputs any
	// ToolError reports a tool result with isError true; ToolErrorText
	// gives its text contents, joined.
	ToolError     bool
	ToolErrorText func() string
	// Model is the model of a sampling result.
	Model string
}

// Finish records o on span and ends it: a JSON-RPC error with its code
// (error.type, rpc.response.status_code) or another error with its Go type
// as error.type, an exception event and status ERROR; a tool result with
// isError true as an error of the span (an "exception" event of type
// tool_error, status ERROR, error.type tool_error) that keeps its outputs;
// the model of a sampling result; the outputs when content capture is on.
func Finish(span *tracing.Span, o Outcome) {
	if span == nil {
		return
	}
	if o.Err != nil {
		if o.ErrCode != "" {
			span.SetAttribute("error.type", o.ErrCode)
			span.SetAttribute("rpc.response.status_code", o.ErrCode)
		} else {
			span.SetAttribute("error.type", fmt.Sprintf("%T", o.Err))
		}
		span.RecordError(o.Err)
		span.End()
		return
	}
	if o.Result == nil {
		span.End()
		return
	}
	content := span.CapturesContent()
	if o.Model != "" {
		span.SetModel(o.Model)
	}
	if o.ToolError {
		span.SetAttribute("error.type", "tool_error")
		attrs := []attribute.KeyValue{attribute.String("exception.type", "tool_error")}
		status := "tool_error"
		if content && o.ToolErrorText != nil {
			msg := o.ToolErrorText()
			attrs = append(attrs, attribute.String("exception.message", msg))
			status += ": " + msg
		}
		span.AddEvent("exception", attrs...)
		span.SetStatus(codes.Error, status)
	}
	if !content {
		span.End()
		return
	}
	span.End(tracing.WithOutputs(o.Outputs))
}

// Panicked records a handler's panic value r on span and ends it; the
// caller re-raises it.
func Panicked(span *tracing.Span, r any) {
	span.RecordError(fmt.Errorf("panic: %v", r))
	span.End()
}

// ParamsInputs is what a request's span records as inputs when its method
// has no form of its own: the params without _meta.
func ParamsInputs(params any) any {
	b, err := json.Marshal(params)
	if err != nil {
		return nil
	}
	var m map[string]any
	if json.Unmarshal(b, &m) != nil {
		return json.RawMessage(b)
	}
	delete(m, "_meta")
	return m
}

// ToolInputs is the inputs of a tools/call span: the arguments (raw JSON),
// an empty object when there are none.
func ToolInputs(raw json.RawMessage) any {
	if len(raw) == 0 {
		return map[string]any{}
	}
	return raw
}

// PromptInputs is the inputs of a prompts/get span.
func PromptInputs(name string, arguments map[string]string) any {
	return map[string]any{"name": name, "arguments": arguments}
}

// ResourceInputs is the inputs of a resources/read span.
func ResourceInputs(uri string) any { return map[string]any{"uri": uri} }

// Document is mlflow.entities.Document, the output MLflow's UI shows for
// RETRIEVER spans.
type Document struct {
	PageContent string         `json:"page_content"`
	Metadata    map[string]any `json:"metadata"`
	ID          *string        `json:"id"`
}

// NewDocument is the Document of one resource content: its text as the page
// content, its URI, MIME type and the size of a binary blob as metadata.
func NewDocument(uri, mimeType, text string, blobBytes int) Document {
	md := map[string]any{"uri": uri}
	if mimeType != "" {
		md["mimeType"] = mimeType
	}
	if blobBytes > 0 {
		md["blob_bytes"] = blobBytes
	}
	return Document{PageContent: text, Metadata: md}
}
