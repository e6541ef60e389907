package mcpgo

import (
	"encoding/json"
	"reflect"
	"testing"

	"github.com/mark3labs/mcp-go/mcp"
)

// TestRequestParamsAsEncodingJSON: a request's params are split as
// json.Unmarshal decodes them into a map (last duplicate wins, escaped
// names decoded, no params for null, another value or invalid JSON).
func TestRequestParamsAsEncodingJSON(t *testing.T) {
	for _, in := range []string{
		`{"name":"get_weather","arguments":{"city":"Paris"},"_meta":{"traceparent":"00-x"}}`,
		`{"a":1,"a":2}`,
		`{"n\u0061me":"x","\u00e9":"y"}`,
		` { "a" : [1, {"b": null}] } `,
		`{}`,
		`null`,
		`[1,2]`,
		`"s"`,
		`{"a":`,
		``,
	} {
		var want map[string]json.RawMessage
		_ = json.Unmarshal([]byte(in), &want)
		got := newRequest("tools/call", json.RawMessage(in)).params
		if len(got) != len(want) || (got == nil) != (want == nil) {
			t.Errorf("%q: %v, json.Unmarshal %v", in, got, want)
			continue
		}
		for k, v := range want {
			if string(got[k]) != string(v) {
				t.Errorf("%q: %q = %s, json.Unmarshal %s", in, k, got[k], v)
			}
		}
	}
	// Go values (the client's typed params) are read as the JSON they are sent as.
	p := mcp.CallToolParams{Name: "get_weather", Arguments: map[string]any{"city": "Paris"}}
	if got := newRequest("tools/call", p); got.str("name") != "get_weather" || string(got.params["arguments"]) != `{"city":"Paris"}` {
		t.Errorf("typed params: %v", got.params)
	}
	// The server's typed requests: params of the request's JSON.
	req := mcp.CallToolRequest{}
	req.Method, req.Params.Name = "tools/call", "get_weather"
	if got := requestOf("tools/call", paramsOf(req)); got.str("name") != "get_weather" {
		t.Errorf("paramsOf: %v", got.params)
	}
}

// TestToolErrorAsEncodingJSON: resultOutcome tells a tool error exactly as
// decoding the whole result with encoding/json does.
func TestToolErrorAsEncodingJSON(t *testing.T) {
	for _, in := range []string{
		`{"content":[{"type":"text","text":"18°C"}]}`,
		`{"content":[{"type":"text","text":"bad unit"}],"isError":true}`,
		`{"isError":false}`,
		`{"IsError":true}`,
		`{"ISERROR":true,"content":[]}`,
		`{"i\u0073Error":true}`,
		`{"isError":true,"isError":false}`,
		`{"isError":true,"isError":null}`,
		`{"isError":true,"content":"not a list"}`,
		`{"structuredContent":{"isError":true}}`,
		`[{"isError":true}]`,
		`{"isError":tr`,
	} {
		var full struct {
			IsError bool `json:"isError"`
			Content []struct {
				Type string `json:"type"`
				Text string `json:"text"`
			} `json:"content"`
		}
		want := json.Unmarshal([]byte(in), &full) == nil && full.IsError
		if got := resultOutcome("tools/call", json.RawMessage(in)).ToolError; got != want {
			t.Errorf("%s: tool error %v, encoding/json %v", in, got, want)
		}
	}
	if !reflect.DeepEqual(resultOutcome("tools/call", json.RawMessage(`null`)), resultOutcome("tools/call", nil)) {
		t.Error("null result")
	}
}
