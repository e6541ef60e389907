package assemble

import (
	"bytes"
	"encoding/json"
	"math"
	"os"
	"os/exec"
	"path/filepath"
	"strings"
	"testing"
	"time"

	"github.com/mlflowtrace/mlflowtrace-go/internal/keys"
	"github.com/mlflowtrace/mlflowtrace-go/internal/tracemodel"
)

// mlflowPython returns the interpreter of a venv with MLflow, or skips the
// test (fails it when MLFLOWTRACE_REQUIRE_MLFLOW=1).
func mlflowPython(t *testing.T) string {
	t.Helper()
	if p := os.Getenv("MLFLOWTRACE_PYTHON"); p != "" {
		return p
	}
	dir, _ := os.Getwd()
	for {
		if _, err := os.Stat(filepath.Join(dir, "go.mod")); err == nil {
			break
		}
		parent := filepath.Dir(dir)
		if parent == dir {
			dir = ""
			break
		}
		dir = parent
	}
	if dir != "" {
		p := filepath.Join(dir, ".venv", "bin", "python")
		if _, err := os.Stat(p); err == nil {
			return p
		}
	}
	msg := "no MLflow venv: set MLFLOWTRACE_PYTHON or run scripts/setup-python.sh (creates .venv)"
	if os.Getenv("MLFLOWTRACE_REQUIRE_MLFLOW") == "1" {
		t.Fatal(msg)
	}
	t.Skip(msg)
	return ""
}

type pyResult struct {
	Redumped        string            `json:"redumped"`
	InfoDict        map[string]any    `json:"info_dict"`
	SizeStats       string            `json:"size_stats"`
	SizeBytes       string            `json:"size_bytes"`
	TokenUsage      *string           `json:"token_usage"`
	RequestPreview  *string           `json:"request_preview"`
	ResponsePreview *string           `json:"response_preview"`
	TraceInputs     string            `json:"trace_inputs"`
	TraceOutputs    string            `json:"trace_outputs"`
	SpanIDs         []string          `json:"span_ids"`
	TraceID         string            `json:"trace_id"`
	RequestTimeMs   int64             `json:"request_time_ms"`
	DurationMs      int64             `json:"execution_duration_ms"`
	State           string            `json:"state"`
	GivenMeta       map[string]string `json:"given_meta"`
}

// mlflowCases are traces covering chat shapes, unicode, nesting, events,
// links and trace updates.
func mlflowCases() []struct {
	name     string
	spans    []*tracemodel.Span
	upd      *tracemodel.TraceUpdate
	maxChars int
} {
	long := strings.Repeat("héllo wörld 你好 😀 ", 200)
	openAI := func() []*tracemodel.Span {
		root := mkSpan(1, 0, "agent", 0, 1250, map[string]any{
			keys.SpanInputs: map[string]any{"messages": []any{
				map[string]any{"role": "system", "content": "be nice"},
				map[string]any{"role": "user", "content": "first"},
				map[string]any{"role": "assistant", "content": "ok"},
				map[string]any{"role": "user", "content": "héllo wörld 你好 😀 <tag> & \"q\"\n\x7f"},
			}, "temperature": 0.5},
			keys.SpanOutputs: map[string]any{"choices": []any{map[string]any{"index": 0, "message": map[string]any{"role": "assistant", "content": "hi there"}}}},
		})
		root.Attributes[keys.SpanType] = `"AGENT"`
		llm := mkSpan(2, 1, "llm", 10, 900, map[string]any{
			keys.ChatTokenUsage: map[string]any{"input_tokens": 3, "output_tokens": 4, "total_tokens": 7, "cache_creation_input_tokens": 2},
		})
		inner := mkSpan(3, 2, "inner", 20, 30, map[string]any{
			keys.ChatTokenUsage: map[string]any{"input_tokens": 30, "output_tokens": 40, "total_tokens": 70},
		})
		tool := mkSpan(4, 1, "tool", 950, 1000, map[string]any{
			keys.ChatTokenUsage: map[string]any{"input_tokens": 1, "output_tokens": 1, "total_tokens": 2, "cache_read_input_tokens": 5},
			"x":                 1.5, "ids": []any{1, 2, 3},
		})
		tool.Status = tracemodel.Status{Code: tracemodel.StatusCodeError, Message: "ValueError: bad <thing>"}
		tool.Events = []tracemodel.Event{
			{Name: "exception", Time: testStart.Add(999 * time.Millisecond), Attributes: map[string]any{
				"exception.message": "bad <thing> é", "exception.type": "ValueError", "exception.stacktrace": "Traceback\n  line 1",
			}},
			{Name: "ev", Time: testStart.Add(999*time.Millisecond + 5), Attributes: map[string]any{
				"a": int64(1), "b": []float64{1, 2.5}, "c": "s", "d": true, "e": []string{"x", "ü"}, "f": 1e-7,
			}},
		}
		tool.Links = []tracemodel.Link{{TraceID: testTraceID, SpanID: sid(2), Attributes: map[string]any{"k": "v"}}, {TraceID: testTraceID, SpanID: sid(3)}}
		// out of start order on purpose
		return []*tracemodel.Span{tool, inner, root, llm}
	}
	anthropic := []*tracemodel.Span{mkSpan(1, 0, "claude", 0, 3, map[string]any{
		keys.SpanInputs: map[string]any{"model": "claude", "max_tokens": 100, "messages": []any{
			map[string]any{"role": "user", "content": []any{map[string]any{"type": "image", "source": "x"}, map[string]any{"type": "text", "text": "what is this?"}}},
		}},
		keys.SpanOutputs: map[string]any{"id": "msg_1", "role": "assistant", "content": []any{map[string]any{"type": "text", "text": "a cat"}}},
	})}
	responses := []*tracemodel.Span{mkSpan(1, 0, "responses", 0, 3, map[string]any{
		keys.SpanInputs: map[string]any{"request": map[string]any{"input": []any{
			map[string]any{"role": "user", "content": []any{map[string]any{"type": "input_text", "text": "not text type"}}},
			map[string]any{"role": "user", "content": "tell me " + long},
		}}},
		keys.SpanOutputs: map[string]any{"output": []any{
			map[string]any{"type": "reasoning", "summary": []any{}},
			map[string]any{"type": "message", "role": "assistant", "content": []any{map[string]any{"type": "output_text", "text": "answer"}}},
		}},
	})}
	plain := []*tracemodel.Span{mkSpan(1, 0, "plain", 0, 1, map[string]any{
		keys.SpanInputs:  map[string]any{"question": long},
		keys.SpanOutputs: "just a string " + long,
	})}
	noIO := []*tracemodel.Span{mkSpan(1, 0, "noio", 0, 0, nil)}
	single := []*tracemodel.Span{mkSpan(1, 0, "float-usage", 0, 5, map[string]any{
		keys.SpanInputs:     []any{1, 2},
		keys.SpanOutputs:    math.Pi,
		keys.ChatTokenUsage: map[string]any{"input_tokens": 1.5, "output_tokens": 2, "total_tokens": 3.5},
	})}
	return []struct {
		name     string
		spans    []*tracemodel.Span
		upd      *tracemodel.TraceUpdate
		maxChars int
	}{
		{"openai chat", openAI(), &tracemodel.TraceUpdate{
			Tags:            map[string]string{"team": "ü-team", strings.Repeat("k", 300): strings.Repeat("v", 5000)},
			Metadata:        map[string]string{keys.MetaUser: "bob", keys.MetaSession: "s-1", "long": strings.Repeat("é", 400)},
			ClientRequestID: "req-42",
		}, 0},
		{"anthropic", anthropic, nil, 0},
		{"responses api", responses, nil, 0},
		{"responses api databricks length", responses, nil, keys.PreviewLenDatabricks},
		{"plain", plain, &tracemodel.TraceUpdate{State: tracemodel.StateError, ResponsePreview: strp("custom")}, 0},
		{"no inputs", noIO, nil, 0},
		{"single span float usage", single, nil, 50},
	}
}

func TestAgainstMLflow(t *testing.T) {
	py := mlflowPython(t)
	env := map[string]string{
		keys.MetaMLflowUser: "tester", keys.MetaSourceName: "./agent", keys.MetaSourceType: "LOCAL",
		keys.MetaGitCommit: "", keys.MetaGitBranch: "", keys.MetaGitRepoURL: "",
	}
	type input struct {
		TracesJSON string `json:"traces_json"`
		TraceInfo  string `json:"trace_info"`
		MaxChars   int    `json:"max_chars"`
	}
	cases := mlflowCases()
	var inputs []input
	var traces []*tracemodel.Trace
	for _, c := range cases {
		var root *tracemodel.Span
		for _, s := range c.spans {
			if !s.ParentSpanID.IsValid() {
				root = s
			}
		}
		tr := Build(root, c.spans, c.upd, Options{PreviewMaxChars: c.maxChars, Metadata: env, ExperimentID: "123"})
		data, err := tracemodel.MarshalTraceData(tr.Spans)
		if err != nil {
			t.Fatal(err)
		}
		info, err := tr.Info.MarshalJSON()
		if err != nil {
			t.Fatal(err)
		}
		max := c.maxChars
		if max == 0 {
			max = keys.PreviewLenOSS
		}
		inputs = append(inputs, input{string(data), string(info), max})
		traces = append(traces, tr)
	}
	in, _ := json.Marshal(inputs)
	cmd := exec.Command(py, filepath.Join("testdata", "mlflow_check.py"))
	cmd.Stdin = bytes.NewReader(in)
	cmd.Env = append(os.Environ(), "MLFLOW_TRACKING_URI=http://127.0.0.1:1", "PYTHONWARNINGS=ignore")
	var stderr bytes.Buffer
	cmd.Stderr = &stderr
	out, err := cmd.Output()
	if err != nil {
		t.Fatalf("mlflow check failed: %v\n%s", err, stderr.String())
	}
	var results []pyResult
	if err := json.Unmarshal(out, &results); err != nil {
		t.Fatalf("bad output: %v\n%s", err, out)
	}
	for i, c := range cases {
		r, tr := results[i], traces[i]
		t.Run(c.name, func(t *testing.T) {
			data, _ := tracemodel.MarshalTraceData(tr.Spans)
			t.Logf("size %s usage %v req %.60q resp %.60q inputs %.60q", r.SizeStats, deref(r.TokenUsage), deref(r.RequestPreview), deref(r.ResponsePreview), r.TraceInputs)
			if r.Redumped != string(data) {
				t.Errorf("traces.json differs from MLflow's re-serialisation\n go: %s\n py: %s", data, r.Redumped)
			}
			m := tr.Info.Metadata
			if m[keys.MetaSizeStats] != r.SizeStats || m[keys.MetaSizeBytes] != r.SizeBytes {
				t.Errorf("size stats: go %s / %s, mlflow %s / %s", m[keys.MetaSizeStats], m[keys.MetaSizeBytes], r.SizeStats, r.SizeBytes)
			}
			if (r.TokenUsage == nil) != (m[keys.MetaTokenUsage] == "") || (r.TokenUsage != nil && *r.TokenUsage != m[keys.MetaTokenUsage]) {
				t.Errorf("token usage: go %q, mlflow %v", m[keys.MetaTokenUsage], deref(r.TokenUsage))
			}
			wantReq, wantResp := deref(r.RequestPreview), deref(r.ResponsePreview)
			if c.upd != nil && c.upd.RequestPreview != nil {
				wantReq = *c.upd.RequestPreview
			}
			if c.upd != nil && c.upd.ResponsePreview != nil {
				wantResp = *c.upd.ResponsePreview
			}
			if tr.Info.RequestPreview != wantReq {
				t.Errorf("request preview:\n go %q\n py %q", tr.Info.RequestPreview, wantReq)
			}
			if tr.Info.ResponsePreview != wantResp {
				t.Errorf("response preview:\n go %q\n py %q", tr.Info.ResponsePreview, wantResp)
			}
			if m[keys.MetaTraceInputs] != r.TraceInputs || m[keys.MetaTraceOutputs] != r.TraceOutputs {
				t.Errorf("trace inputs/outputs:\n go %q %q\n py %q %q", m[keys.MetaTraceInputs], m[keys.MetaTraceOutputs], r.TraceInputs, r.TraceOutputs)
			}
			if r.TraceID != tr.Info.TraceID || r.RequestTimeMs != tr.Info.RequestTime.UnixMilli() ||
				r.DurationMs != tr.Info.ExecutionDuration.Milliseconds() || r.State != tr.Info.State {
				t.Errorf("info: mlflow %s %d %d %s, go %s %d %d %s", r.TraceID, r.RequestTimeMs, r.DurationMs, r.State,
					tr.Info.TraceID, tr.Info.RequestTime.UnixMilli(), tr.Info.ExecutionDuration.Milliseconds(), tr.Info.State)
			}
			if len(r.GivenMeta) != len(m) {
				t.Errorf("metadata round trip: %d keys, want %d", len(r.GivenMeta), len(m))
			}
			for k, v := range m {
				if r.GivenMeta[k] != v {
					t.Errorf("metadata %q round trip: %q, want %q", k, r.GivenMeta[k], v)
				}
			}
			for j, s := range tr.Spans {
				if r.SpanIDs[j] != s.SpanID.String() {
					t.Errorf("span %d: mlflow read %s, want %s", j, r.SpanIDs[j], s.SpanID)
				}
			}
			if loc, _ := r.InfoDict["trace_location"].(map[string]any); loc == nil {
				t.Errorf("trace_location missing in %v", r.InfoDict)
			}
			// Our reader reads MLflow's own serialisation back.
			var back struct{ Spans []*tracemodel.Span }
			if err := json.Unmarshal([]byte(r.Redumped), &back); err != nil {
				t.Fatal(err)
			}
			again, _ := tracemodel.MarshalTraceData(back.Spans)
			if string(again) != string(data) {
				t.Errorf("read back differs\n got: %s\nwant: %s", again, data)
			}
		})
	}
}

func deref(s *string) string {
	if s == nil {
		return ""
	}
	return *s
}
