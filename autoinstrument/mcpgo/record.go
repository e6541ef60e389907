package mcpgo

import (
	"bytes"
	"encoding/base64"
	"encoding/json"
	"strings"

	"go.opentelemetry.io/otel/propagation"

	"github.com/mlflowtrace/mlflowtrace-go/internal/mcpspan"
	"github.com/mlflowtrace/mlflowtrace-go/internal/rawjson"
)

// Option configures Transport and ServerOption.
type Option = mcpspan.Option

// WithPropagator sets how the trace context is written to and read from
// params._meta (default: W3C trace context and baggage, whatever the global
// OpenTelemetry propagator is).
func WithPropagator(p propagation.TextMapPropagator) Option { return mcpspan.WithPropagator(p) }

// request is an MCP request as JSON: its method and the members of its
// params. mcp-go hands the client's params over as Go values of its own
// and the server's as typed requests; both are read as the JSON they are
// sent as, so one recording serves both sides.
type request struct {
	method string
	params map[string]json.RawMessage // nil: no params (or not an object)
}

func newRequest(method string, params any) request {
	switch p := params.(type) {
	case nil:
		return request{method: method}
	case json.RawMessage:
		if !rawjson.Valid(p) {
			return request{method: method}
		}
		return requestOf(method, bytes.Clone(p)) // the caller's bytes: not kept
	}
	b, err := json.Marshal(params)
	if err != nil {
		return request{method: method}
	}
	return requestOf(method, b)
}

// requestOf is the request whose params are b, valid JSON the request may
// keep: its members as encoding/json decodes an object into a map (the last
// of members of the same name; no params when b is not an object).
func requestOf(method string, b []byte) request {
	r := request{method: method}
	fields, err := rawjson.ValidObjectFields(b)
	if err != nil {
		return r
	}
	r.params = make(map[string]json.RawMessage, len(fields))
	for _, f := range fields {
		r.params[f.Key] = f.Value
	}
	return r
}

func (r request) str(key string) string {
	s, _ := rawjson.StringValue(r.params[key]) // as json.Unmarshal: "" unless a string
	return s
}

// describe describes the request for its span.
func (r request) describe() mcpspan.Method {
	switch r.method {
	case "tools/call", "prompts/get":
		return mcpspan.Describe(r.method, r.str("name"))
	case "resources/read":
		return mcpspan.Describe(r.method, r.str("uri"))
	}
	return mcpspan.Describe(r.method, "")
}

// meta is the params' _meta.
func (r request) meta() map[string]any {
	var m map[string]any
	_ = json.Unmarshal(r.params["_meta"], &m)
	return m
}

// inputs is what the request's span records as inputs (as autoinstrument/mcp
// records them): a tool call's arguments, a resource's URI, a prompt's name
// and arguments, else the params without _meta.
func (r request) inputs() any {
	switch r.method {
	case "tools/call":
		return mcpspan.ToolInputs(r.params["arguments"])
	case "resources/read":
		return mcpspan.ResourceInputs(r.str("uri"))
	case "prompts/get":
		var args map[string]string
		_ = json.Unmarshal(r.params["arguments"], &args)
		return mcpspan.PromptInputs(r.str("name"), args)
	}
	if r.params == nil {
		return nil
	}
	m := make(map[string]json.RawMessage, len(r.params))
	for k, v := range r.params {
		if k != "_meta" {
			m[k] = v
		}
	}
	return mcpspan.ParamsInputs(m)
}

// withMeta returns the params as JSON with _meta replaced by meta.
func (r request) withMeta(meta map[string]any) (json.RawMessage, bool) {
	b, err := json.Marshal(meta)
	if err != nil {
		return nil, false
	}
	p := make(map[string]json.RawMessage, len(r.params)+1)
	for k, v := range r.params {
		p[k] = v
	}
	p["_meta"] = b
	out, err := json.Marshal(p)
	return out, err == nil
}

// mayBeToolError reports whether result may be a tool error: it is not
// valid JSON, or it has a member that encoding/json could decode into a
// field tagged "isError" (its name case-folded; a name with escapes is not
// decoded here and counts). A successful call's result has none: mcp-go
// and the go-sdk omit a false isError, so the result is not decoded for it.
func mayBeToolError(result json.RawMessage) bool {
	if !rawjson.Valid(result) {
		return true
	}
	found := false
	rawjson.EachMember(result, func(key []byte, _ json.RawMessage) bool {
		found = bytes.IndexByte(key, '\\') >= 0 || bytes.EqualFold(key[1:len(key)-1], []byte("isError"))
		return !found
	})
	return found
}

// resultOutcome is how a request that got result (its JSON) ended.
func resultOutcome(method string, result json.RawMessage) mcpspan.Outcome {
	if len(result) == 0 || string(result) == "null" {
		return mcpspan.Outcome{}
	}
	o := mcpspan.Outcome{Result: result, Outputs: result}
	switch method {
	case "tools/call":
		if !mayBeToolError(result) {
			break
		}
		var r struct {
			IsError bool `json:"isError"`
			Content []struct {
				Type string `json:"type"`
				Text string `json:"text"`
			} `json:"content"`
		}
		if json.Unmarshal(result, &r) == nil && r.IsError {
			o.ToolError = true
			o.ToolErrorText = func() string {
				var parts []string
				for _, c := range r.Content {
					if c.Type == "text" {
						parts = append(parts, c.Text)
					}
				}
				return strings.Join(parts, "\n")
			}
		}
	case "resources/read":
		var r struct {
			Contents []struct {
				URI      string `json:"uri"`
				MIMEType string `json:"mimeType"`
				Text     string `json:"text"`
				Blob     string `json:"blob"`
			} `json:"contents"`
		}
		if json.Unmarshal(result, &r) == nil {
			docs := make([]mcpspan.Document, 0, len(r.Contents))
			for _, c := range r.Contents {
				docs = append(docs, mcpspan.NewDocument(c.URI, c.MIMEType, c.Text, base64.StdEncoding.DecodedLen(len(c.Blob))))
			}
			o.Outputs = docs
		}
	case "sampling/createMessage":
		var r struct {
			Model string `json:"model"`
		}
		if json.Unmarshal(result, &r) == nil {
			o.Model = r.Model
		}
	}
	return o
}
