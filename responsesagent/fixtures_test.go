package responsesagent_test

import (
	"bytes"
	"encoding/json"
	"errors"
	"os"
	"reflect"
	"sort"
	"testing"

	"github.com/mlflowtrace/mlflowtrace-go/responsesagent"
)

type invalidCase struct {
	Payload json.RawMessage `json:"payload"`
	Field   string          `json:"field"`
}

type fixtureFile struct {
	Requests         map[string]json.RawMessage `json:"requests"`
	InvalidRequests  map[string]invalidCase     `json:"invalid_requests"`
	Responses        map[string]json.RawMessage `json:"responses"`
	InvalidResponses map[string]invalidCase     `json:"invalid_responses"`
	Events           map[string]json.RawMessage `json:"events"`
	InvalidEvents    map[string]invalidCase     `json:"invalid_events"`
}

func loadFixtures(t testing.TB) *fixtureFile {
	t.Helper()
	b, err := os.ReadFile("testdata/fixtures.json")
	if err != nil {
		t.Fatal(err)
	}
	var f fixtureFile
	if err := json.Unmarshal(b, &f); err != nil {
		t.Fatal(err)
	}
	return &f
}

func sortedNames[V any](m map[string]V) []string {
	out := make([]string, 0, len(m))
	for k := range m {
		out = append(out, k)
	}
	sort.Strings(out)
	return out
}

// ordered decodes JSON keeping the order of object members: an object
// becomes a list of [key, value] pairs. Null members are dropped (a null
// optional field and an absent one are the same to MLflow, and this package
// writes neither back) and numbers are compared as float64.
func ordered(t *testing.T, raw []byte) any {
	t.Helper()
	dec := json.NewDecoder(bytes.NewReader(raw))
	v, err := orderedValue(dec)
	if err != nil {
		t.Fatalf("decoding %s: %v", raw, err)
	}
	return v
}

func orderedValue(dec *json.Decoder) (any, error) {
	tok, err := dec.Token()
	if err != nil {
		return nil, err
	}
	switch d := tok.(type) {
	case json.Delim:
		switch d {
		case '{':
			var out [][2]any
			for dec.More() {
				k, err := dec.Token()
				if err != nil {
					return nil, err
				}
				v, err := orderedValue(dec)
				if err != nil {
					return nil, err
				}
				if v != nil {
					out = append(out, [2]any{k, v})
				}
			}
			_, err := dec.Token()
			return out, err
		case '[':
			out := []any{}
			for dec.More() {
				v, err := orderedValue(dec)
				if err != nil {
					return nil, err
				}
				out = append(out, v)
			}
			_, err := dec.Token()
			return out, err
		}
	}
	return tok, nil
}

func hasMember(obj any, key string) bool {
	for _, m := range obj.([][2]any) {
		if m[0] == key {
			return true
		}
	}
	return false
}

type roundTripper interface {
	json.Unmarshaler
	Validate() error
}

func checkRoundTrip(t *testing.T, raw json.RawMessage, v roundTripper) {
	t.Helper()
	if err := v.UnmarshalJSON(raw); err != nil {
		t.Fatalf("decode: %v", err)
	}
	if err := v.Validate(); err != nil {
		t.Fatalf("Validate: %v", err)
	}
	out, err := json.Marshal(v)
	if err != nil {
		t.Fatalf("encode: %v", err)
	}
	want := ordered(t, raw)
	if _, ok := v.(*responsesagent.Response); ok && !hasMember(want, "object") {
		// MLflow's response model (and this package) always writes "object".
		want = append(want.([][2]any), [2]any{"object", "response"})
	}
	if got := ordered(t, out); !reflect.DeepEqual(got, want) {
		t.Errorf("round trip changed the JSON (members or their order)\n got: %s\nwant: %s", out, raw)
	}
	// A second round trip is stable byte for byte.
	if err := v.UnmarshalJSON(out); err != nil {
		t.Fatalf("decode again: %v", err)
	}
	again, _ := json.Marshal(v)
	if !bytes.Equal(again, out) {
		t.Errorf("second round trip differs:\n%s\n%s", out, again)
	}
}

func TestFixturesRoundTrip(t *testing.T) {
	f := loadFixtures(t)
	for _, name := range sortedNames(f.Requests) {
		t.Run("request/"+name, func(t *testing.T) { checkRoundTrip(t, f.Requests[name], &responsesagent.Request{}) })
	}
	for _, name := range sortedNames(f.Responses) {
		t.Run("response/"+name, func(t *testing.T) { checkRoundTrip(t, f.Responses[name], &responsesagent.Response{}) })
	}
	for _, name := range sortedNames(f.Events) {
		t.Run("event/"+name, func(t *testing.T) { checkRoundTrip(t, f.Events[name], &responsesagent.StreamEvent{}) })
	}
}

func checkInvalid(t *testing.T, c invalidCase, decode func([]byte) error) {
	t.Helper()
	err := decode(c.Payload)
	if err == nil {
		t.Fatalf("accepted %s", c.Payload)
	}
	var fe *responsesagent.FieldError
	if !errors.As(err, &fe) {
		t.Fatalf("error %v (%T) is not a *FieldError", err, err)
	}
	if fe.Field != c.Field {
		t.Errorf("error names field %q, want %q (%v)", fe.Field, c.Field, err)
	}
}

func TestFixturesInvalid(t *testing.T) {
	f := loadFixtures(t)
	for _, name := range sortedNames(f.InvalidRequests) {
		t.Run("request/"+name, func(t *testing.T) {
			checkInvalid(t, f.InvalidRequests[name], func(b []byte) error {
				_, err := responsesagent.DecodeRequest(b)
				return err
			})
		})
	}
	decodeValidate := func(v roundTripper) func([]byte) error {
		return func(b []byte) error {
			if err := v.UnmarshalJSON(b); err != nil {
				return err
			}
			return v.Validate()
		}
	}
	for _, name := range sortedNames(f.InvalidResponses) {
		t.Run("response/"+name, func(t *testing.T) {
			checkInvalid(t, f.InvalidResponses[name], decodeValidate(&responsesagent.Response{}))
		})
	}
	for _, name := range sortedNames(f.InvalidEvents) {
		t.Run("event/"+name, func(t *testing.T) {
			checkInvalid(t, f.InvalidEvents[name], decodeValidate(&responsesagent.StreamEvent{}))
		})
	}
}

func TestDecodeRequestMalformed(t *testing.T) {
	for _, body := range []string{"", "   ", "{", "[]", `"x"`, "null", `{"input": [}`, `{"input": [1]}`, `{"input": [{"role": 1}]}`} {
		if _, err := responsesagent.DecodeRequest([]byte(body)); err == nil {
			t.Errorf("DecodeRequest(%q) accepted", body)
		}
	}
}

func TestHelpersMatchMLflow(t *testing.T) {
	// The JSON MLflow's create_* helpers produce (mlflow/types/responses.py).
	cases := []struct {
		name string
		got  any
		want string
	}{
		{"text item", responsesagent.TextItem("Hi", "msg_1"),
			`{"id":"msg_1","content":[{"text":"Hi","type":"output_text","annotations":[]}],"role":"assistant","type":"message"}`},
		{"text delta", responsesagent.TextDelta("H", "msg_1"), `{"type":"response.output_text.delta","item_id":"msg_1","delta":"H"}`},
		{"annotation", responsesagent.AnnotationAdded("msg_1", responsesagent.Annotation{Type: "file_path", FileID: "f"}, 0),
			`{"type":"response.output_text.annotation.added","item_id":"msg_1","annotation_index":0,"annotation":{"type":"file_path","file_id":"f"}}`},
		{"reasoning", responsesagent.ReasoningItem("rs", "why"), `{"type":"reasoning","summary":[{"type":"summary_text","text":"why"}],"id":"rs"}`},
		{"function call", responsesagent.FunctionCallItem("fc", "c1", "f", "{}"), `{"type":"function_call","id":"fc","call_id":"c1","name":"f","arguments":"{}"}`},
		{"function call output", responsesagent.FunctionCallOutputItem("c1", "ok"), `{"type":"function_call_output","call_id":"c1","output":"ok"}`},
		{"mcp request", responsesagent.MCPApprovalRequestItem("r", "{}", "deploy", "ops"),
			`{"type":"mcp_approval_request","id":"r","arguments":"{}","name":"deploy","server_label":"ops"}`},
		{"mcp response", responsesagent.MCPApprovalResponseItem("a", "r", true, "fine"),
			`{"type":"mcp_approval_response","id":"a","approval_request_id":"r","approve":true,"reason":"fine"}`},
	}
	for _, c := range cases {
		b, err := json.Marshal(c.got)
		if err != nil {
			t.Fatalf("%s: %v", c.name, err)
		}
		if string(b) != c.want {
			t.Errorf("%s:\n got %s\nwant %s", c.name, b, c.want)
		}
	}
}

func TestToChatCompletions(t *testing.T) {
	f := loadFixtures(t)
	var req responsesagent.Request
	if err := json.Unmarshal(f.Requests["history_with_every_item_type"], &req); err != nil {
		t.Fatal(err)
	}
	msgs := responsesagent.ToChatCompletions(req.Input)
	got, _ := json.Marshal(msgs[:6])
	want := `[{"role":"user","content":"Weather in Paris and Rome?"},` +
		`{"role":"assistant","content":"[{\"type\": \"summary_text\", \"text\": \"Need two lookups.\"}]"},` +
		`{"role":"assistant","content":"tool call","tool_calls":[{"id":"call_1","type":"function","function":{"name":"get_weather","arguments":"{\"city\": \"Paris\"}"}}]},` +
		`{"role":"assistant","content":"tool call","tool_calls":[{"id":"call_2","type":"function","function":{"name":"get_weather","arguments":"{}"}}]},` +
		`{"role":"tool","content":"18C, sunny","tool_call_id":"call_1"},` +
		`{"role":"tool","content":"[{\"type\": \"input_text\", \"text\": \"21C\"}]","tool_call_id":"call_2"}]`
	if string(got) != want {
		t.Errorf("ToChatCompletions:\n got %s\nwant %s", got, want)
	}
	if m := msgs[6]; m.Role != "assistant" || m.Content != "Paris 18C, Rome 21C." {
		t.Errorf("message part: %+v", m)
	}
	if m := msgs[9]; m.Role != "tool" || m.Content != "False" || m.ToolCallID != "mcpr_1" {
		t.Errorf("mcp response: %+v", m)
	}
}
