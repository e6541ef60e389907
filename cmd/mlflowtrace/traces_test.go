package main

import (
	"bytes"
	"context"
	"encoding/json"
	"maps"
	"path/filepath"
	"strings"
	"testing"

	"github.com/mlflowtrace/mlflowtrace-go/exporter"
	"github.com/mlflowtrace/mlflowtrace-go/tracing"
)

// TestExperimentIDFromEnvironment: --experiment-id (or -x) defaults to
// MLFLOW_EXPERIMENT_ID, as click's envvar makes it for mlflow's command, and
// a flag wins over it. The variable is read through envconfig as the SDK
// reads it (trimmed, blank is unset; click takes it as is).
func TestExperimentIDFromEnvironment(t *testing.T) {
	for _, tc := range []struct {
		name    string
		env     map[string]string
		args    []string
		want    string
		wantErr string
	}{
		{"environment", map[string]string{"MLFLOW_EXPERIMENT_ID": "7"}, nil, "7", ""},
		{"environment trimmed", map[string]string{"MLFLOW_EXPERIMENT_ID": " 7 "}, nil, "7", ""},
		{"flag wins", map[string]string{"MLFLOW_EXPERIMENT_ID": "7"}, []string{"--experiment-id", "3"}, "3", ""},
		{"short flag wins", map[string]string{"MLFLOW_EXPERIMENT_ID": "7"}, []string{"-x", "4"}, "4", ""},
		{"neither", map[string]string{}, nil, "", "Missing option '--experiment-id' / '-x'."},
		{"blank is unset", map[string]string{"MLFLOW_EXPERIMENT_ID": "  "}, nil, "", "Missing option '--experiment-id' / '-x'."},
	} {
		t.Run(tc.name, func(t *testing.T) {
			f := newFlags("search", func(k string) string { return tc.env[k] })
			f.experimentID("")
			err := f.parse(tc.args)
			if tc.wantErr != "" {
				if err == nil || err.Error() != tc.wantErr {
					t.Fatalf("err = %v, want %q", err, tc.wantErr)
				}
				return
			}
			if err != nil {
				t.Fatal(err)
			}
			if got := f.get("experiment-id"); got != tc.want {
				t.Errorf("experiment id %q, want %q", got, tc.want)
			}
		})
	}
}

// TestRunMissingExperimentID: the usage error reaches the command line
// before any destination is opened.
func TestRunMissingExperimentID(t *testing.T) {
	var stdout, stderr bytes.Buffer
	code := run(context.Background(), []string{"traces", "search"}, &stdout, &stderr, func(string) string { return "" })
	if code != 2 || !strings.Contains(stderr.String(), "Missing option '--experiment-id' / '-x'.") {
		t.Errorf("exit %d, stderr %q", code, stderr.String())
	}
}

// runCLI runs one command line with env as the whole environment.
func runCLI(t *testing.T, env map[string]string, args ...string) (code int, stdout, stderr string) {
	t.Helper()
	var o, e bytes.Buffer
	code = run(context.Background(), args, &o, &e, func(k string) string { return env[k] })
	return code, o.String(), e.String()
}

// TestHelp: --help and -h print the usage of their level to stdout and exit
// 0, as click's --help does (mlflow's subcommands refuse -h; mlflowtrace
// takes it too). Without a command, `traces` prints its help to stderr and
// exits 2, as click 8.2+ does.
func TestHelp(t *testing.T) {
	for _, tc := range []struct {
		args     []string
		code     int
		want     []string // in stdout (code 0) or stderr
		wantNone string
	}{
		{[]string{"traces", "--help"}, 0, []string{"Usage: mlflowtrace traces [OPTIONS] COMMAND [ARGS]...", "Commands:\n", "  search             Search for traces in the specified experiment.\n", "  log-feedback       Log feedback"}, "Error"},
		{[]string{"traces", "-h"}, 0, []string{"Usage: mlflowtrace traces [OPTIONS] COMMAND", "delete-assessment"}, "Error"},
		{[]string{"traces", "search", "--help"}, 0, []string{"Usage: mlflowtrace traces search [OPTIONS]\n", "  -x, --experiment-id TEXT", "[required]", "  --max-results INTEGER     Maximum number of traces to return", "  --include-spans / --no-include-spans\n", "  --output [table|json]", "  --help                    Show this message and exit.\n"}, "Error"},
		{[]string{"traces", "search", "-h"}, 0, []string{"Usage: mlflowtrace traces search [OPTIONS]"}, "Error"},
		// --help wins over a missing required option, as click's eager --help.
		{[]string{"traces", "get", "--help"}, 0, []string{"Usage: mlflowtrace traces get [OPTIONS]", "  --trace-id TEXT        [required]"}, "Error"},
		{[]string{"traces", "log-feedback", "-x", "--help"}, 2, []string{"No such option '-x'."}, ""},
		{[]string{"traces", "log-feedback", "--help"}, 0, []string{"--source-type [HUMAN|LLM_JUDGE|CODE]", "--span-id TEXT"}, "Error"},
		{[]string{"traces"}, 2, []string{"Usage: mlflowtrace traces [OPTIONS] COMMAND [ARGS]...", "Commands:\n"}, "Error"},
	} {
		t.Run(strings.Join(tc.args, " "), func(t *testing.T) {
			code, stdout, stderr := runCLI(t, nil, tc.args...)
			out := stdout
			if tc.code != 0 {
				out = stderr
			}
			if code != tc.code {
				t.Fatalf("exit %d, want %d; stdout %q, stderr %q", code, tc.code, stdout, stderr)
			}
			for _, w := range tc.want {
				if !strings.Contains(out, w) {
					t.Errorf("output lacks %q:\n%s", w, out)
				}
			}
			if tc.wantNone != "" && strings.Contains(stdout+stderr, tc.wantNone) {
				t.Errorf("output has %q: stdout %q, stderr %q", tc.wantNone, stdout, stderr)
			}
		})
	}
}

// TestFlagErrors: wrong invocations print click's (mlflow traces') message
// and exit 2; the expected stderr is what `python -m mlflow traces ...` of
// MLflow 3.17.2 prints, with "python -m mlflow" as "mlflowtrace".
func TestFlagErrors(t *testing.T) {
	usage := func(cmd string) string {
		return "Usage: mlflowtrace traces " + cmd + " [OPTIONS]\nTry 'mlflowtrace traces " + cmd + " --help' for help.\n\n"
	}
	group := "Usage: mlflowtrace traces [OPTIONS] COMMAND [ARGS]...\nTry 'mlflowtrace traces --help' for help.\n\n"
	for _, tc := range []struct {
		args []string
		want string
	}{
		{[]string{"search", "-x", "0", "--max-results", "abc"}, usage("search") + "Error: Invalid value for '--max-results': 'abc' is not a valid integer.\n"},
		{[]string{"search", "-x", "0", "--max-results=1.5"}, usage("search") + "Error: Invalid value for '--max-results': '1.5' is not a valid integer.\n"},
		{[]string{"delete", "-x", "0", "--max-traces", "0x10"}, usage("delete") + "Error: Invalid value for '--max-traces': '0x10' is not a valid integer.\n"},
		{[]string{"search", "-x", "0", "--bogus", "x"}, usage("search") + "Error: No such option '--bogus'. Did you mean '--verbose'?\n"},
		{[]string{"search", "-x", "0", "--max-result", "3"}, usage("search") + "Error: No such option '--max-result'. Did you mean '--max-results'?\n"},
		{[]string{"search", "-x", "0", "--include", "3"}, usage("search") + "Error: No such option '--include'. (Did you mean one of: '--include-spans', '--no-include-spans'?)\n"},
		{[]string{"search", "-x", "0", "--zzz"}, usage("search") + "Error: No such option '--zzz'.\n"},
		{[]string{"search", "-x", "0", "-q"}, usage("search") + "Error: No such option '-q'.\n"},
		{[]string{"get", "--trace-id"}, "Error: Option '--trace-id' requires an argument.\n"},
		{[]string{"search", "-x"}, "Error: Option '-x' requires an argument.\n"},
		{[]string{"get"}, usage("get") + "Error: Missing option '--trace-id'.\n"},
		{[]string{"search", "-x", "0", "extra"}, usage("search") + "Error: Got unexpected extra argument (extra)\n"},
		{[]string{"search", "-x", "0", "--output", "bogus"}, usage("search") + "Error: Invalid value for '--output': 'bogus' is not one of 'table', 'json'.\n"},
		{[]string{"bogus"}, group + "Error: No such command 'bogus'.\n"},
		{[]string{"serch"}, group + "Error: No such command 'serch'. Did you mean 'search'?\n"},
	} {
		t.Run(strings.Join(tc.args, " "), func(t *testing.T) {
			code, stdout, stderr := runCLI(t, map[string]string{"MLFLOW_TRACKING_URI": t.TempDir()}, append([]string{"traces"}, tc.args...)...)
			if code != 2 || stderr != tc.want || stdout != "" {
				t.Errorf("exit %d, stdout %q, stderr:\n%s\nwant exit 2, stderr:\n%s", code, stdout, stderr, tc.want)
			}
		})
	}
}

// TestSimilarity: difflib.SequenceMatcher(None, a, b).ratio() of Python
// 3.11 for the same pairs.
func TestSimilarity(t *testing.T) {
	for _, tc := range []struct {
		a, b string
		want float64
	}{
		{"--max-results", "--max-result", 0.96},
		{"--verbose", "--bogus", 0.625},
		{"search", "serch", 0.9090909090909091},
		{"abcabc", "cbacba", 0.5},
		{"--run-id", "--trace-id", 0.6666666666666666},
		{"--order-by", "--order", 0.8235294117647058},
	} {
		if got := similarity(tc.a, tc.b); got != tc.want {
			t.Errorf("similarity(%q, %q) = %v, want %v", tc.a, tc.b, got, tc.want)
		}
	}
}

// TestSearchMaxResultsNotPositive: --max-results 0 or negative is an empty
// result, as mlflow's search_traces (its page loop runs while it has fewer
// than max_results traces): exit 0, no traces, no token, not even a look at
// the experiment.
func TestSearchMaxResultsNotPositive(t *testing.T) {
	env := map[string]string{"MLFLOW_TRACKING_URI": t.TempDir()}
	for _, tc := range []struct {
		args []string
		want string
	}{
		{[]string{"--max-results", "0", "--output", "json"}, "{\n  \"traces\": [],\n  \"next_page_token\": null\n}\n"},
		{[]string{"--max-results", "-3", "--output", "json"}, "{\n  \"traces\": [],\n  \"next_page_token\": null\n}\n"},
		{[]string{"--max-results", "0"}, "\n\n"},
		{[]string{"--max-results=-3"}, "\n\n"},
	} {
		t.Run(strings.Join(tc.args, " "), func(t *testing.T) {
			code, stdout, stderr := runCLI(t, env, append([]string{"traces", "search", "-x", "999"}, tc.args...)...)
			if code != 0 || stdout != tc.want || stderr != "" {
				t.Errorf("exit %d, stdout %q, stderr %q; want exit 0, stdout %q", code, stdout, stderr, tc.want)
			}
		})
	}
}

// localStore writes one trace (a root span and a child) into a new ./mlruns
// folder through package tracing and returns the folder and the trace id.
func localStore(t *testing.T) (root, traceID string) {
	t.Helper()
	ctx := context.Background()
	root = filepath.Join(t.TempDir(), "mlruns")
	p, err := tracing.Init(ctx, tracing.WithEnabled(), tracing.WithoutGlobalTracerProvider(),
		tracing.WithGetenv(func(string) string { return "" }),
		tracing.WithExporterOptions(exporter.WithTrackingURI(root)))
	if err != nil {
		t.Fatal(err)
	}
	c, span := tracing.StartSpan(ctx, "agent", tracing.WithInputs(map[string]any{"q": strings.Repeat("x", 30)}))
	_, child := tracing.StartSpan(c, "tool")
	child.End()
	span.End(tracing.WithOutputs("short"))
	if err := p.Shutdown(ctx); err != nil {
		t.Fatal(err)
	}
	return root, span.TraceID()
}

// TestErrorMessages: errors say what went wrong once, in mlflow's words
// where mlflow's are clear (its FileStore's and AbstractStore's messages
// for the same calls), without the Go package's name, and exit 1.
func TestErrorMessages(t *testing.T) {
	root, tid := localStore(t)
	env := map[string]string{"MLFLOW_TRACKING_URI": root}
	for _, tc := range []struct {
		args []string
		want string
	}{
		// mlflow: "Experiment 999 does not exist."
		{[]string{"search", "-x", "999"}, "Error: experiment 999 does not exist\n"},
		// mlflow: "No tag with name: nonexist in trace with ID tr-...."
		{[]string{"delete-tag", "--trace-id", tid, "--key", "nonexist"}, "Error: no tag with name: nonexist in trace with ID " + tid + "\n"},
		// mlflow: "Trace with ID 'tr-...1' not found"
		{[]string{"get", "--trace-id", "tr-00000000000000000000000000000001"}, "Error: trace with ID 'tr-00000000000000000000000000000001' not found\n"},
		{[]string{"get-assessment", "--trace-id", tid, "--assessment-id", "a-1"}, "Error: assessment with ID 'a-1' not found for trace '" + tid + "'\n"},
		// AbstractStore.delete_traces' messages, exactly.
		{[]string{"delete", "-x", "0"}, "Error: Either `max_timestamp_millis` or `trace_ids` must be specified.\n"},
		{[]string{"delete", "-x", "0", "--trace-ids", tid, "--max-timestamp-millis", "1"}, "Error: Only one of `max_timestamp_millis` and `trace_ids` can be specified.\n"},
		{[]string{"delete", "-x", "0", "--trace-ids", tid, "--max-traces", "1"}, "Error: `max_traces` can't be specified if `trace_ids` is specified.\n"},
		{[]string{"delete", "-x", "0", "--max-timestamp-millis", "1", "--max-traces", "0"}, "Error: `max_traces` must be a positive integer, received 0.\n"},
		{[]string{"log-feedback", "--trace-id", tid, "--name", "n", "--span-id", "xyz"}, "Error: invalid request: span id \"xyz\" is neither 16 lowercase hex digits nor the base64 of 8 bytes (the span_id of a trace's JSON)\n"},
	} {
		t.Run(strings.Join(tc.args, " "), func(t *testing.T) {
			code, stdout, stderr := runCLI(t, env, append([]string{"traces"}, tc.args...)...)
			if code != 1 || stderr != tc.want || stdout != "" {
				t.Errorf("exit %d, stdout %q, stderr %q; want exit 1, stderr %q", code, stdout, stderr, tc.want)
			}
		})
	}
}

// TestPipelineVariablesIgnored: the CLI only reads, so a variable only the
// trace writer uses, set to garbage, does not stop it (mlflow's CLI ignores
// them too); a malformed variable it does use is an error naming it,
// without its value.
func TestPipelineVariablesIgnored(t *testing.T) {
	root, tid := localStore(t)
	for _, tc := range []struct{ name, val string }{
		{"MLFLOW_ENABLE_ASYNC_TRACE_LOGGING", "maybe"},
		{"MLFLOW_ASYNC_TRACE_LOGGING_MAX_WORKERS", "many"},
		{"MLFLOW_ASYNC_TRACE_LOGGING_MAX_QUEUE_SIZE", "-1"},
		{"MLFLOW_ASYNC_TRACE_LOGGING_MAX_SPAN_BATCH_SIZE", "1.5"},
		{"MLFLOW_ASYNC_TRACE_LOGGING_MAX_INTERVAL_MILLIS", "soon"},
		{"MLFLOW_ASYNC_TRACE_LOGGING_RETRY_TIMEOUT", "0"},
		{"MLFLOW_TRACE_TIMEOUT_SECONDS", "never"},
		{"MLFLOW_TRACE_TIMEOUT_CHECK_INTERVAL_SECONDS", "x"},
		{"MLFLOW_TRACE_BUFFER_TTL_SECONDS", "x"},
		{"MLFLOW_TRACE_BUFFER_MAX_SIZE", "x"},
		{"MLFLOWTRACE_SPOOL_DIR", "/nonexistent/spool"},
		{"MLFLOWTRACE_SPOOL_MAX_BYTES", "abc"},
		{"MLFLOWTRACE_SPOOL_SYNC", "always"},
		{"MLFLOWTRACE_SPOOL_SYNC_INTERVAL_MILLIS", "x"},
	} {
		t.Run(tc.name, func(t *testing.T) {
			env := map[string]string{"MLFLOW_TRACKING_URI": root, tc.name: tc.val}
			code, stdout, stderr := runCLI(t, env, "traces", "search", "-x", "0", "--output", "json", "--extract-fields", "info.trace_id")
			if code != 0 || !strings.Contains(stdout, tid) {
				t.Errorf("exit %d, stdout %q, stderr %q", code, stdout, stderr)
			}
		})
	}
	for _, tc := range []struct{ name, val string }{
		{"MLFLOW_HTTP_REQUEST_MAX_RETRIES", "x-secret"},
		{"MLFLOW_HTTP_REQUEST_TIMEOUT", "-1"},
		{"MLFLOW_TRACKING_INSECURE_TLS", "yes-secret"},
		{"MLFLOW_SEARCH_TRACES_MAX_THREADS", "x-secret"},
		{"MLFLOW_TRACING_DESTINATION", "a.b.c"},
	} {
		t.Run(tc.name+" malformed", func(t *testing.T) {
			env := map[string]string{"MLFLOW_TRACKING_URI": root, tc.name: tc.val}
			code, stdout, stderr := runCLI(t, env, "traces", "search", "-x", "0")
			if code != 1 || stdout != "" || !strings.HasPrefix(stderr, "Error: ") || !strings.Contains(stderr, tc.name) || strings.Contains(stderr, "secret") {
				t.Errorf("exit %d, stdout %q, stderr %q; want exit 1 and an error naming %s without its value", code, stdout, stderr, tc.name)
			}
		})
	}
}

// TestTablePreviews: the table truncates the request and response previews
// as mlflow's format_table_cell_value (mlflow/utils/string_utils.py of
// 3.17.2): more than 20 characters become the first 17 and "...", counted
// in code points as Python's len; other columns are kept whole.
func TestTablePreviews(t *testing.T) {
	for _, tc := range []struct {
		field string
		value any
		want  string
	}{
		{"info.request_preview", strings.Repeat("a", 20), strings.Repeat("a", 20)},
		{"info.request_preview", strings.Repeat("a", 21), strings.Repeat("a", 17) + "..."},
		{"info.response_preview", `{"a": "yyyyyyyyyyyyyyyyyyyy"}`, `{"a": "yyyyyyyyyy...`},
		{"info.response_preview", strings.Repeat("é", 20), strings.Repeat("é", 20)},
		{"info.response_preview", strings.Repeat("é", 21), strings.Repeat("é", 17) + "..."},
		{"info.response_preview", nil, "None"},
		{"info.trace_id", strings.Repeat("a", 40), strings.Repeat("a", 40)},
	} {
		if got := tableCell(tc.field, []any{tc.value}); got != tc.want {
			t.Errorf("tableCell(%s, %v) = %q, want %q", tc.field, tc.value, got, tc.want)
		}
	}
	if got := tableCell("info.request_preview", nil); got != "N/A" {
		t.Errorf("missing preview: %q", got)
	}

	root, tid := localStore(t)
	_, stdout, stderr := runCLI(t, map[string]string{"MLFLOW_TRACKING_URI": root}, "traces", "search", "-x", "0")
	lines := strings.Split(stdout, "\n")
	if len(lines) != 4 || !strings.HasPrefix(lines[2], tid) || !strings.Contains(lines[2], `  {"q": "xxxxxxxxxx...  `) {
		t.Errorf("table:\n%s\nstderr %q", stdout, stderr)
	}
}

// TestMetadataStoredAsPythonStr: --metadata values are stored as mlflow's
// CLI stores them, str() of the value json.loads gives (Assessment.to_proto
// of mlflow 3.17.2; seen with `mlflow traces log-feedback --metadata`):
// lists and objects in Python's syntax, floats as Python prints them.
// Before, they were Go's fmt.Sprint: "[1 2]", "map[x:1]", "1" for 1.0.
func TestMetadataStoredAsPythonStr(t *testing.T) {
	root, tid := localStore(t)
	env := map[string]string{"MLFLOW_TRACKING_URI": root}
	md := `{"s": "x", "i": 3, "f": 1.0, "e": 1e3, "b": true, "n": null, "l": [1, "a", null], "d": {"x": [true, 2.5], "y": "it's"}}`
	want := map[string]string{"s": "x", "i": "3", "f": "1.0", "e": "1000.0", "b": "True", "n": "None",
		"l": "[1, 'a', None]", "d": `{'x': [True, 2.5], 'y': "it's"}`}
	for _, cmd := range [][]string{
		{"log-feedback", "--name", "q", "--value", "1"},
		{"log-expectation", "--name", "e", "--value", "1"},
	} {
		if code, _, stderr := runCLI(t, env, append(append([]string{"traces"}, cmd...), "--trace-id", tid, "--metadata", "null")...); code != 0 {
			t.Errorf("%s --metadata null: exit %d, stderr %q; want no metadata, as json.loads gives None", cmd[0], code, stderr)
		}
		t.Run(cmd[0], func(t *testing.T) {
			code, stdout, stderr := runCLI(t, env, append(append([]string{"traces"}, cmd...), "--trace-id", tid, "--metadata", md)...)
			if code != 0 {
				t.Fatalf("exit %d, stderr %q", code, stderr)
			}
			aid := stdout[strings.LastIndex(stdout, " ")+1 : len(stdout)-1]
			got := func() map[string]string {
				code, stdout, stderr := runCLI(t, env, "traces", "get-assessment", "--trace-id", tid, "--assessment-id", aid)
				var a struct {
					Metadata map[string]string `json:"metadata"`
				}
				if err := json.Unmarshal([]byte(stdout), &a); code != 0 || err != nil {
					t.Fatalf("get-assessment: exit %d, %v, stderr %q", code, err, stderr)
				}
				return a.Metadata
			}
			if m := got(); !maps.Equal(m, want) {
				t.Errorf("metadata %q, want %q", m, want)
			}
			if code, _, stderr := runCLI(t, env, "traces", "update-assessment", "--trace-id", tid, "--assessment-id", aid,
				"--metadata", `{"l": [2.0], "z": {}}`); code != 0 {
				t.Fatalf("update-assessment: exit %d, stderr %q", code, stderr)
			}
			// mlflow 3.17.2's update-assessment fails on a value that is not
			// a string (TypeError from the protobuf map); mlflowtrace stores
			// it as log-feedback does.
			want2 := maps.Clone(want)
			want2["l"], want2["z"] = "[2.0]", "{}"
			if m := got(); !maps.Equal(m, want2) {
				t.Errorf("metadata after update %q, want %q", m, want2)
			}
		})
	}
}
