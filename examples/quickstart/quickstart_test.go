package main

import (
	"bytes"
	"context"
	"encoding/json"
	"os"
	"path/filepath"
	"regexp"
	"strings"
	"testing"

	"go.uber.org/goleak"

	"github.com/mlflowtrace/mlflowtrace-go/internal/mlflowtest"
	"github.com/mlflowtrace/mlflowtrace-go/internal/pyenv"
)

func TestMain(m *testing.M) { os.Exit(mlflowtest.Main(m)) }

// emptyEnv is the environment of a fresh machine: nothing set.
func emptyEnv(string) string { return "" }

// runQuickstart runs the program in a fresh temporary directory and returns
// its output, the trace id it printed and that directory.
func runQuickstart(t *testing.T, getenv func(string) string) (out, traceID, dir string) {
	t.Helper()
	dir = t.TempDir()
	t.Chdir(dir)
	var buf bytes.Buffer
	if err := run(context.Background(), &buf, getenv); err != nil {
		t.Fatalf("run: %v\noutput:\n%s", err, buf.String())
	}
	out = buf.String()
	m := regexp.MustCompile(`(?m)^Trace (tr-[0-9a-f]{32})$`).FindStringSubmatch(out)
	if m == nil {
		t.Fatalf("no trace id in output:\n%s", out)
	}
	return out, m[1], dir
}

func TestQuickstartWritesMlrunsAndPrintsTree(t *testing.T) {
	defer goleak.VerifyNone(t)
	out, id, dir := runQuickstart(t, emptyEnv)

	// The tree: every span, in order, with its type and a duration.
	want := []string{
		`^travel_agent \[AGENT\] \S+$`,
		`^├─ plan \[CHAIN\] \S+$`,
		`^│  └─ chat_model \[CHAT_MODEL\] \S+  tokens in=\d+ out=\d+$`,
		`^├─ get_weather \[TOOL\] \S+$`,
		`^├─ packing_list \[TOOL\] \S+$`,
		`^└─ chat_model \[CHAT_MODEL\] \S+  tokens in=\d+ out=\d+$`,
	}
	lines := strings.Split(out, "\n")
	start := -1
	for i, l := range lines {
		if l == "Trace "+id {
			start = i + 1
		}
	}
	if start < 0 || start+len(want) > len(lines) {
		t.Fatalf("tree not found in output:\n%s", out)
	}
	for i, re := range want {
		if !regexp.MustCompile(re).MatchString(lines[start+i]) {
			t.Errorf("tree line %d = %q, want match %s", i, lines[start+i], re)
		}
	}
	for _, s := range []string{
		"Written to " + filepath.Join("mlruns", "0", "traces", id, "artifacts", "traces.json") + " (6 spans).",
		"MLFLOW_ALLOW_FILE_STORE=true mlflow ui --backend-store-uri ./mlruns",
	} {
		if !strings.Contains(out, s) {
			t.Errorf("output lacks %q:\n%s", s, out)
		}
	}

	// What is on disk: MLflow's FileStore layout under ./mlruns.
	for _, p := range []string{
		"mlruns/0/meta.yaml",
		"mlruns/0/traces/" + id + "/trace_info.yaml",
		"mlruns/0/traces/" + id + "/tags/mlflow.traceName",
		"mlruns/0/traces/" + id + "/request_metadata/mlflow.trace.user",
	} {
		if _, err := os.Stat(filepath.Join(dir, p)); err != nil {
			t.Errorf("missing %s: %v", p, err)
		}
	}
	b, err := os.ReadFile(filepath.Join(dir, "mlruns/0/traces", id, "artifacts/traces.json"))
	if err != nil {
		t.Fatal(err)
	}
	var data struct {
		Spans []struct {
			Name string `json:"name"`
		} `json:"spans"`
	}
	if err := json.Unmarshal(b, &data); err != nil {
		t.Fatal(err)
	}
	if len(data.Spans) != 6 {
		t.Errorf("traces.json has %d spans, want 6", len(data.Spans))
	}
}

func TestQuickstartDisabled(t *testing.T) {
	defer goleak.VerifyNone(t)
	t.Chdir(t.TempDir())
	var buf bytes.Buffer
	env := func(k string) string {
		if k == "ENABLE_MLFLOW_TRACING" {
			return "false"
		}
		return ""
	}
	if err := run(context.Background(), &buf, env); err != nil {
		t.Fatal(err)
	}
	if !strings.Contains(buf.String(), "No trace was recorded") {
		t.Errorf("output:\n%s", buf.String())
	}
	if _, err := os.Stat("mlruns"); !os.IsNotExist(err) {
		t.Errorf("tracing disabled but ./mlruns exists (stat err %v)", err)
	}
}

// loadScript prints, as JSON, what MLflow's own client reads for a trace.
const loadScript = `
import json, sys, mlflow
client = mlflow.MlflowClient(tracking_uri=sys.argv[1])
t = client.get_trace(sys.argv[2])
by_id = {s.span_id: s for s in t.data.spans}
print(json.dumps({
    "state": t.info.state.value if hasattr(t.info.state, "value") else str(t.info.state),
    "request_preview": t.info.request_preview,
    "response_preview": t.info.response_preview,
    "token_usage": t.info.token_usage,
    "user": t.info.trace_metadata.get("mlflow.trace.user"),
    "session": t.info.trace_metadata.get("mlflow.trace.session"),
    "trace_name": t.info.tags.get("mlflow.traceName"),
    "spans": [[s.name, s.span_type, by_id[s.parent_id].name if s.parent_id else None] for s in t.data.spans],
    "tool_outputs": [s.outputs for s in t.data.spans if s.name == "packing_list"],
}))
`

// checkLoaded checks what loadScript printed for the quickstart's trace.
func checkLoaded(t *testing.T, got []byte) {
	t.Helper()
	var res struct {
		State           string         `json:"state"`
		RequestPreview  string         `json:"request_preview"`
		ResponsePreview string         `json:"response_preview"`
		TokenUsage      map[string]int `json:"token_usage"`
		User, Session   string
		TraceName       string     `json:"trace_name"`
		Spans           [][]any    `json:"spans"`
		ToolOutputs     [][]string `json:"tool_outputs"`
	}
	if err := json.Unmarshal(got, &res); err != nil {
		t.Fatalf("%v: %s", err, got)
	}
	if res.State != "OK" || res.TraceName != "travel_agent" || res.User != "alice" || res.Session != "chat-0001" {
		t.Errorf("trace info = %+v", res)
	}
	if res.RequestPreview != "I'm flying to Paris tomorrow. What should I pack?" {
		t.Errorf("request preview = %q", res.RequestPreview)
	}
	if !strings.HasPrefix(res.ResponsePreview, "Expect light rain in Paris") {
		t.Errorf("response preview = %q", res.ResponsePreview)
	}
	if res.TokenUsage["total_tokens"] == 0 ||
		res.TokenUsage["total_tokens"] != res.TokenUsage["input_tokens"]+res.TokenUsage["output_tokens"] {
		t.Errorf("token usage = %v", res.TokenUsage)
	}
	wantSpans := [][]any{
		{"travel_agent", "AGENT", nil},
		{"plan", "CHAIN", "travel_agent"},
		{"chat_model", "CHAT_MODEL", "plan"},
		{"get_weather", "TOOL", "travel_agent"},
		{"packing_list", "TOOL", "travel_agent"},
		{"chat_model", "CHAT_MODEL", "travel_agent"},
	}
	gb, _ := json.Marshal(res.Spans)
	wb, _ := json.Marshal(wantSpans)
	if string(gb) != string(wb) {
		t.Errorf("spans (name, type, parent) =\n %s\nwant\n %s", gb, wb)
	}
	if len(res.ToolOutputs) != 1 || !strings.Contains(strings.Join(res.ToolOutputs[0], ","), "umbrella") {
		t.Errorf("packing_list outputs = %v", res.ToolOutputs)
	}
}

// TestQuickstartLoadsInMLflow loads what the quickstart wrote to ./mlruns
// with MLflow's own Python client (the pinned mlflow in .venv).
func TestQuickstartLoadsInMLflow(t *testing.T) {
	python := pyenv.Python(t)
	_, id, dir := runQuickstart(t, emptyEnv)
	checkLoaded(t, pyenv.Run(t, python, loadScript, filepath.Join(dir, "mlruns"), id))
}

// TestQuickstartToServer runs the quickstart with MLFLOW_TRACKING_URI set to
// a real mlflow server: 3.17.2 (spans through OTLP) and 3.3.2 (no OTLP route:
// the trace goes as StartTraceV3 + traces.json).
func TestQuickstartToServer(t *testing.T) {
	for _, tc := range []struct {
		name string
		opts []mlflowtest.Option
	}{
		{"mlflow-3.17", nil},
		{"mlflow-3.3", []mlflowtest.Option{mlflowtest.Old()}},
	} {
		t.Run(tc.name, func(t *testing.T) {
			srv := mlflowtest.Shared(t, tc.opts...)
			env := func(k string) string {
				if k == "MLFLOW_TRACKING_URI" {
					return srv.URL
				}
				return ""
			}
			out, id, dir := runQuickstart(t, env)
			want := "Sent to the MLflow server at " + srv.URL + ". Open:\n  " + srv.URL +
				"/#/experiments/0/traces?selectedEvaluationId=" + id
			if !strings.Contains(out, want) {
				t.Errorf("output lacks %q:\n%s", want, out)
			}
			if _, err := os.Stat(filepath.Join(dir, "mlruns")); !os.IsNotExist(err) {
				t.Errorf("sent to a server but ./mlruns exists (stat err %v)", err)
			}
			checkLoaded(t, srv.RunPython(t, loadScript, srv.URL, id))
		})
	}
}
