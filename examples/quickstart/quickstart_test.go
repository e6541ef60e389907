package main

import (
	"bytes"
	"context"
	"encoding/json"
	"fmt"
	"io"
	"net/http"
	"net/http/httptest"
	"os"
	"path/filepath"
	"regexp"
	"strings"
	"sync/atomic"
	"testing"

	"go.uber.org/goleak"

	"github.com/mlflowtrace/mlflowtrace-go/internal/databrickstest"
	"github.com/mlflowtrace/mlflowtrace-go/internal/mlflowtest"
	"github.com/mlflowtrace/mlflowtrace-go/internal/pyenv"
	"github.com/mlflowtrace/mlflowtrace-go/internal/spantest"
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
	m := regexp.MustCompile(`(?m)^Trace ((?:tr-|trace:/[a-z0-9_]+\.[a-z0-9_]+/)[0-9a-f]{32})$`).FindStringSubmatch(out)
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
	if spans := spantest.ReadTraceData(t, filepath.Join(dir, "mlruns/0/traces", id)); len(spans) != 6 {
		t.Errorf("traces.json has %d spans, want 6", len(spans))
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

// TestQuickstartSampledOut: with MLFLOW_TRACE_SAMPLING_RATIO=0 tracing is on
// but the sampler drops the trace; the quickstart says that, not that
// ENABLE_MLFLOW_TRACING=false.
func TestQuickstartSampledOut(t *testing.T) {
	defer goleak.VerifyNone(t, goleak.IgnoreCurrent())
	t.Chdir(t.TempDir())
	var buf bytes.Buffer
	env := func(k string) string {
		if k == "MLFLOW_TRACE_SAMPLING_RATIO" {
			return "0"
		}
		return ""
	}
	if err := run(context.Background(), &buf, env); err != nil {
		t.Fatal(err)
	}
	out := buf.String()
	if !strings.Contains(out, "No trace was recorded (the sampler dropped it: MLFLOW_TRACE_SAMPLING_RATIO=0).") || strings.Contains(out, "ENABLE_MLFLOW_TRACING") {
		t.Errorf("output:\n%s", out)
	}
}

// TestQuickstartDisabledInModelServing: inside Databricks Model Serving
// tracing is off unless ENABLE_MLFLOW_TRACING=true; the quickstart names
// that cause, not ENABLE_MLFLOW_TRACING=false, which nobody set.
func TestQuickstartDisabledInModelServing(t *testing.T) {
	t.Chdir(t.TempDir())
	var buf bytes.Buffer
	env := func(k string) string {
		if k == "IS_IN_DB_MODEL_SERVING_ENV" {
			return "true"
		}
		return ""
	}
	if err := run(context.Background(), &buf, env); err != nil {
		t.Fatal(err)
	}
	if out := buf.String(); !strings.Contains(out, "No trace was recorded (tracing is disabled: IS_IN_DB_MODEL_SERVING_ENV=true without ENABLE_MLFLOW_TRACING=true).") {
		t.Errorf("output:\n%s", out)
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

// TestPrintWhereHidesCredentials: the server address the quickstart prints
// never carries the user:password@ of MLFLOW_TRACKING_URI.
func TestPrintWhereHidesCredentials(t *testing.T) {
	var out strings.Builder
	env := func(k string) string {
		if k == "MLFLOW_TRACKING_URI" {
			return "https://alice:S3CRET@mlflow.example.com:8443/"
		}
		return ""
	}
	if err := printWhere(&out, "tr-1", env); err != nil {
		t.Fatal(err)
	}
	want := "Sent to the MLflow server at https://mlflow.example.com:8443. Open:\n  https://mlflow.example.com:8443/#/experiments/0/traces?selectedEvaluationId=tr-1\n"
	if out.String() != want {
		t.Errorf("printed %q, want %q", out.String(), want)
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

// TestQuickstartToDatabricks runs the unchanged quickstart with only the
// environment a Databricks deployment sets, against the fake workspace
// (plain HTTP, like a local test of the binary), for every storage path:
// the four signed-URL types, a volume-backed experiment and Unity Catalog
// tables, with a token, OAuth client credentials or a profile. The trace
// must land complete, and MLflow's own classes must load it.
func TestQuickstartToDatabricks(t *testing.T) {
	ws, err := databrickstest.Start(databrickstest.Config{})
	if err != nil {
		t.Fatal(err)
	}
	defer ws.Close()
	ws.CreateUCSchema("main", "agents")
	profileDir := t.TempDir()
	cfgFile := filepath.Join(profileDir, "databrickscfg")
	if err := os.WriteFile(cfgFile, []byte("[agents]\nhost = "+ws.URL+"\nclient_id = "+ws.ClientID+"\nclient_secret = "+ws.ClientSecret+"\n"), 0o600); err != nil {
		t.Fatal(err)
	}
	type scenario struct {
		name  string
		env   map[string]string
		want  string // what the trace is stored through
		uc    bool
		print string // a line of the output
	}
	var cases []scenario
	for _, c := range databrickstest.Clouds {
		exp := ws.CreateExperiment("/Users/me@example.com/quickstart-"+string(c), c)
		env := map[string]string{"MLFLOW_TRACKING_URI": "databricks", "MLFLOW_EXPERIMENT_ID": exp}
		switch c {
		case databrickstest.AWS: // token, the serving-endpoint recipe
			for k, v := range ws.PATEnv() {
				env[k] = v
			}
		case databrickstest.GCP: // a profile only
			env["DATABRICKS_CONFIG_FILE"] = cfgFile
			env["DATABRICKS_CONFIG_PROFILE"] = "agents"
			delete(env, "MLFLOW_TRACKING_URI")
		case databrickstest.Azure: // DATABRICKS_HOST with no tracking URI
			for k, v := range ws.PATEnv() {
				env[k] = v
			}
			delete(env, "MLFLOW_TRACKING_URI")
		case databrickstest.ADLS: // service principal
			for k, v := range ws.OAuthEnv() {
				env[k] = v
			}
		}
		line := ws.URL + "/ml/experiments/" + exp + "/traces?selectedEvaluationId="
		if c == databrickstest.GCP {
			line = "experiment " + exp + ": open the experiment's Traces tab" // the host is in the profile
		}
		cases = append(cases, scenario{string(c), env, string(c), false, line})
	}
	vol := ws.CreateVolumeExperiment("/Users/me@example.com/quickstart-volume", "/Volumes/main/agents/traces/quickstart")
	volEnv := map[string]string{"MLFLOW_TRACKING_URI": "databricks", "MLFLOW_EXPERIMENT_ID": vol}
	ucEnv := map[string]string{"MLFLOW_TRACING_DESTINATION": "main.agents"}
	for k, v := range ws.PATEnv() {
		volEnv[k] = v
	}
	for k, v := range ws.OAuthEnv() {
		ucEnv[k] = v
	}
	cases = append(cases,
		scenario{"volume", volEnv, databrickstest.UCVolume, false, "experiment " + vol},
		scenario{"uc-tables", ucEnv, "", true, "Unity Catalog schema main.agents"})

	var ids []string
	for _, sc := range cases {
		t.Run(sc.name, func(t *testing.T) {
			sc.env["DATABRICKS_CONFIG_FILE"] = first(sc.env["DATABRICKS_CONFIG_FILE"], filepath.Join(profileDir, "none"))
			out, id, dir := runQuickstart(t, func(k string) string { return sc.env[k] })
			if !strings.Contains(out, sc.print) || !strings.Contains(out, "Sent to the Databricks workspace") {
				t.Errorf("output lacks %q:\n%s", sc.print, out)
			}
			if _, err := os.Stat(filepath.Join(dir, "mlruns")); !os.IsNotExist(err) {
				t.Errorf("sent to Databricks but ./mlruns exists")
			}
			got, ok := ws.Trace(id)
			if !ok {
				t.Fatalf("trace %s not in the workspace; rejections: %v", id, ws.Rejections())
			}
			if sc.uc {
				if !strings.HasPrefix(id, "trace:/main.agents/") || len(got.Spans) != 6 || got.TraceInfoV4 == nil {
					t.Errorf("UC trace %s: %d spans, info %v", id, len(got.Spans), got.TraceInfoV4 != nil)
				}
			} else {
				var data struct {
					Spans []json.RawMessage `json:"spans"`
				}
				if err := json.Unmarshal(got.Data, &data); err != nil || len(data.Spans) != 6 || got.DataVia != sc.want {
					t.Errorf("traces.json via %q: %d spans (%v)", got.DataVia, len(data.Spans), err)
				}
			}
			ids = append(ids, id)
		})
	}
	if rej := ws.Rejections(); len(rej) > 0 {
		t.Errorf("the workspace rejected: %v", rej)
	}

	// MLflow's own classes load every stored trace.
	python := pyenv.Python(t)
	root, err := pyenv.ModuleRoot()
	if err != nil {
		t.Fatal(err)
	}
	state, _ := json.Marshal(ws.State())
	statePath := filepath.Join(t.TempDir(), "state.json")
	if err := os.WriteFile(statePath, state, 0o600); err != nil {
		t.Fatal(err)
	}
	out := pyenv.Run(t, python, loadStoredScript, filepath.Join(root, "conformance"), statePath, strings.Join(ids, ","))
	if got := strings.TrimSpace(string(out)); got != fmt.Sprint(len(ids)) {
		t.Errorf("MLflow loaded %s of %d traces", got, len(ids))
	}
}

func first(a, b string) string {
	if a != "" {
		return a
	}
	return b
}

// loadStoredScript loads traces the fake workspace stored with MLflow's
// classes (conformance/databricks_fake.load_trace) and checks them.
const loadStoredScript = `
import json, sys
sys.path.insert(0, sys.argv[1])
from databricks_fake import load_trace
state = json.load(open(sys.argv[2]))
n = 0
for tid in sys.argv[3].split(","):
    stored = next(t for t in state["traces"] if t["TraceID"] == tid)
    trace = load_trace(stored)
    assert trace.info.trace_id == tid, (trace.info.trace_id, tid)
    assert len(trace.data.spans) == 6
    assert trace.info.request_preview == "I'm flying to Paris tomorrow. What should I pack?", trace.info.request_preview
    n += 1
print(n)
`

// TestQuickstartOTLPOnly: with an OTLP endpoint and no dual export the trace
// goes to that endpoint instead of MLflow (MLflow's rule). The quickstart
// must say so, not point at an MLflow server or ./mlruns that never got it.
func TestQuickstartOTLPOnly(t *testing.T) {
	// After recv.Close, which ends the exporter's idle connections; the
	// shared MLflow servers of earlier tests keep running.
	defer goleak.VerifyNone(t, goleak.IgnoreCurrent())
	var posts atomic.Int64
	recv := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		if r.Method == http.MethodPost && r.URL.Path == "/v1/traces" {
			posts.Add(1)
		}
		_, _ = io.Copy(io.Discard, r.Body)
		w.Header().Set("Content-Type", "application/x-protobuf")
	}))
	defer recv.Close()
	for _, uri := range []string{"", "http://127.0.0.1:1"} {
		t.Run("tracking_uri="+uri, func(t *testing.T) {
			posts.Store(0)
			env := func(k string) string {
				switch k {
				case "OTEL_EXPORTER_OTLP_TRACES_ENDPOINT":
					return recv.URL + "/v1/traces"
				case "OTEL_EXPORTER_OTLP_TRACES_PROTOCOL":
					return "http/protobuf"
				case "MLFLOW_TRACKING_URI":
					return uri
				}
				return ""
			}
			out, _, dir := runQuickstart(t, env)
			if posts.Load() == 0 {
				t.Errorf("no POST reached the OTLP endpoint")
			}
			want := "Sent to the OTLP endpoint " + recv.URL + "/v1/traces only"
			if !strings.Contains(out, want) || strings.Contains(out, "Sent to the MLflow server") {
				t.Errorf("output lacks %q or points at MLflow:\n%s", want, out)
			}
			if _, err := os.Stat(filepath.Join(dir, "mlruns")); !os.IsNotExist(err) {
				t.Errorf("OTLP only but ./mlruns exists (stat err %v)", err)
			}
		})
	}
}
