package responsesagent_test

import (
	"encoding/json"
	"errors"
	"math"
	"net/http"
	"net/http/httptest"
	"os"
	"strings"
	"testing"

	"github.com/mlflowtrace/mlflowtrace-go/responsesagent"
)

// laxCase is one case of testdata/lax_cases.json: a request body and what
// MLflow 3.17.2 does with it. The table is produced from the real models, not
// written by hand: conformance/responses_lax.py runs each body through
// mlflow.types.responses.ResponsesAgentRequest (pydantic 2 lax mode) and
// reads "stream" as mlflow/genai/agent_server/server.py does
// (data.pop("stream") then Python truth); regenerate it with
// `.venv/bin/python conformance/responses_lax.py`. The conformance test
// test_lax_members_match_mlflow re-runs the same cases through MLflow and
// the Go handler, so the table cannot drift from either.
type laxCase struct {
	Field  string `json:"field"`
	JSON   string `json:"json"`
	Body   string `json:"body"`
	MLflow struct {
		OK    bool `json:"ok"`
		Value any  `json:"value"`
	} `json:"mlflow"`
}

func loadLaxCases(t *testing.T) []laxCase {
	t.Helper()
	b, err := os.ReadFile("testdata/lax_cases.json")
	if err != nil {
		t.Fatal(err)
	}
	var f struct {
		Cases []laxCase `json:"cases"`
	}
	if err := json.Unmarshal(b, &f); err != nil {
		t.Fatal(err)
	}
	return f.Cases
}

// laxValue is the member a case sets, as the agent sees it, in the table's
// form (numbers as float64, non-finite floats as "NaN", "Infinity",
// "-Infinity", unset as nil).
func laxValue(r *responsesagent.Request, field string) any {
	switch field {
	case "max_output_tokens":
		return intValue(r.MaxOutputTokens)
	case "temperature":
		return floatValue(r.Temperature)
	case "top_p":
		return floatValue(r.TopP)
	case "parallel_tool_calls":
		return boolValue(r.ParallelToolCalls)
	case "store":
		return boolValue(r.Store)
	case "background":
		return boolValue(r.Background)
	case "stream":
		return r.Stream != nil && *r.Stream
	case "input[0].approve":
		return boolValue(r.Input[0].Approve)
	case "tools[0].strict":
		return boolValue(r.Tools[0].Strict)
	}
	panic("unknown field " + field)
}

func intValue(p *int) any {
	if p == nil {
		return nil
	}
	return float64(*p)
}

func boolValue(p *bool) any {
	if p == nil {
		return nil
	}
	return *p
}

func floatValue(p *float64) any {
	switch {
	case p == nil:
		return nil
	case math.IsNaN(*p):
		return "NaN"
	case math.IsInf(*p, 1):
		return "Infinity"
	case math.IsInf(*p, -1):
		return "-Infinity"
	}
	return *p
}

// TestLaxMembers: the int, float and bool members of a request are accepted
// and converted exactly as MLflow's pydantic models convert them, and
// rejected (naming the member) when MLflow rejects them; "stream" is read
// with Python's truth rules, as MLflow's agent server reads it.
func TestLaxMembers(t *testing.T) {
	for _, c := range loadLaxCases(t) {
		t.Run(c.Field+"="+c.JSON, func(t *testing.T) {
			req, err := responsesagent.DecodeRequest([]byte(c.Body))
			if !c.MLflow.OK {
				var fe *responsesagent.FieldError
				if !errors.As(err, &fe) || fe.Field != c.Field {
					t.Fatalf("MLflow rejects it; DecodeRequest: %v (want a FieldError for %s)", err, c.Field)
				}
				return
			}
			if err != nil {
				t.Fatalf("MLflow accepts it (%v); DecodeRequest: %v", c.MLflow.Value, err)
			}
			if got := laxValue(req, c.Field); got != c.MLflow.Value {
				t.Errorf("value %#v, MLflow's %#v", got, c.MLflow.Value)
			}
		})
	}
}

// TestLaxStream: the handler streams exactly when MLflow's server does.
func TestLaxStream(t *testing.T) {
	h := responsesagent.NewHandler(&testAgent{})
	for _, c := range loadLaxCases(t) {
		if c.Field != "stream" {
			continue
		}
		t.Run(c.JSON, func(t *testing.T) {
			rec := httptest.NewRecorder()
			h.ServeHTTP(rec, httptest.NewRequest(http.MethodPost, "/invocations", strings.NewReader(c.Body)))
			streamed := strings.HasPrefix(rec.Header().Get("Content-Type"), "text/event-stream")
			if rec.Code != http.StatusOK || streamed != c.MLflow.Value {
				t.Errorf("status %d, streamed %v; MLflow streams: %v (%s)", rec.Code, streamed, c.MLflow.Value, rec.Body)
			}
		})
	}
}

// TestLaxErrors: a rejected value is named with what was expected.
func TestLaxErrors(t *testing.T) {
	for _, tc := range []struct{ member, value, want string }{
		{"max_output_tokens", `1.5`, `max_output_tokens: must be an integer (no fractional part), got 1.5`},
		{"max_output_tokens", `"5.5"`, `max_output_tokens: must be an integer, got "5.5"`},
		{"max_output_tokens", `100000000000000000000`, `max_output_tokens: must be an integer within Go's int range, got 100000000000000000000`},
		{"temperature", `"warm"`, `temperature: must be a number, got "warm"`},
		{"parallel_tool_calls", `"maybe"`, `parallel_tool_calls: must be a boolean, got "maybe"`},
		{"top_p", `"` + strings.Repeat("9", 60) + `x"`, `top_p: must be a number, got "` + strings.Repeat("9", 36) + `...`},
	} {
		_, err := responsesagent.DecodeRequest([]byte(`{"input":[],"` + tc.member + `":` + tc.value + `}`))
		if err == nil || err.Error() != tc.want {
			t.Errorf("%s=%s: %v, want %s", tc.member, tc.value, err, tc.want)
		}
	}
}
