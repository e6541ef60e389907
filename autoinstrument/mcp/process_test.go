package mcp_test

import (
	"bytes"
	"context"
	"fmt"
	"os"
	"os/exec"
	"strings"
	"testing"
	"time"

	sdkmcp "github.com/modelcontextprotocol/go-sdk/mcp"

	"github.com/mlflowtrace/mlflowtrace-go/autoinstrument/mcp"
	"github.com/mlflowtrace/mlflowtrace-go/internal/mlflowtest"
	"github.com/mlflowtrace/mlflowtrace-go/tracing"
)

// serverProcessEnv makes the test binary run newServer over stdio instead of
// the tests (TestMain).
const serverProcessEnv = "MLFLOWTRACE_MCP_TEST_SERVER"

// serveStdio is the MCP server process: tracing configured from its
// environment, the server on stdin/stdout until the client disconnects.
func serveStdio() int {
	ctx := context.Background()
	p, err := tracing.Init(ctx)
	if err != nil {
		fmt.Fprintln(os.Stderr, "server process:", err)
		return 1
	}
	runErr := newServer().Run(ctx, &sdkmcp.StdioTransport{})
	sctx, cancel := context.WithTimeout(ctx, time.Minute)
	defer cancel()
	if err := p.Shutdown(sctx); err != nil {
		fmt.Fprintln(os.Stderr, "server process: shutdown:", err)
		return 1
	}
	if runErr != nil {
		fmt.Fprintln(os.Stderr, "server process: run:", runErr)
	}
	return 0
}

// TestTwoProcesses: a Go agent and a Go MCP server in two processes, talking
// over stdio, both exporting to one real MLflow server: MLflow's client reads
// one trace with the client's and the server's spans.
func TestTwoProcesses(t *testing.T) {
	srv := mlflowtest.Shared(t)
	exp := fmt.Sprintf("mcp-%d", time.Now().UnixNano())
	env := map[string]string{"MLFLOW_TRACKING_URI": srv.URL, "MLFLOW_EXPERIMENT_NAME": exp}
	p, err := tracing.Init(context.Background(), tracing.WithoutGlobalTracerProvider(),
		tracing.WithGetenv(func(k string) string { return env[k] }))
	if err != nil {
		t.Fatal(err)
	}
	defer func() { _ = p.Shutdown(context.Background()) }()

	c := sdkmcp.NewClient(&sdkmcp.Implementation{Name: "agent", Version: "v1"}, nil)
	mcp.InstrumentClient(c)
	cmd := exec.Command(os.Args[0], "-test.run=^$")
	cmd.Env = append(os.Environ(), serverProcessEnv+"=1", "MLFLOW_TRACKING_URI="+srv.URL, "MLFLOW_EXPERIMENT_NAME="+exp)
	var stderr bytes.Buffer
	cmd.Stderr = &stderr
	cs, err := c.Connect(context.Background(), &sdkmcp.CommandTransport{Command: cmd, TerminateDuration: 30 * time.Second}, nil)
	if err != nil {
		t.Fatalf("connect: %v\n%s", err, stderr.String())
	}
	id := agentRun(t, cs)
	if err := cs.Close(); err != nil { // waits for the server process to exit (it exports first)
		t.Fatalf("close: %v\nserver stderr:\n%s", err, stderr.String())
	}
	if cmd.ProcessState == nil || !cmd.ProcessState.Success() {
		t.Fatalf("server process: %v\n%s", cmd.ProcessState, stderr.String())
	}
	ctx, cancel := context.WithTimeout(context.Background(), time.Minute)
	defer cancel()
	if err := p.Shutdown(ctx); err != nil {
		t.Fatal(err)
	}

	expID := strings.TrimSpace(string(srv.RunPython(t,
		`import sys, mlflow; print(mlflow.MlflowClient().get_experiment_by_name(sys.argv[1]).experiment_id)`, exp)))
	tv := srv.ReadTraces(t, expID, []string{id}, nil).Traces[id]
	if tv.Error != "" {
		t.Fatalf("get_trace: %s", tv.Error)
	}
	byID := map[string]mlflowtest.SpanView{}
	count := map[string]int{}
	for _, s := range tv.Spans {
		byID[s.SpanID] = s
		count[s.Name]++
	}
	// Client and server span of each call, the tool's own span, the agent.
	want := map[string]int{"agent": 1, "tools/call get_weather": 2, "tools/call convert_units": 2, "tools/call no_such_tool": 2,
		"resources/read": 2, "prompts/get summarize": 2, "tools/list": 2, "lookup": 1}
	if fmt.Sprint(count) != fmt.Sprint(want) {
		t.Errorf("spans %v\nwant %v\nserver stderr:\n%s", count, want, stderr.String())
	}
	for _, s := range tv.Spans {
		parent := byID[s.ParentID]
		switch {
		case s.Name == "agent":
			if s.ParentID != "" {
				t.Errorf("agent has a parent")
			}
		case s.Name == "lookup":
			if parent.Name != "tools/call get_weather" || byID[parent.ParentID].Name != "tools/call get_weather" {
				t.Errorf("lookup is not under the server's tool span")
			}
		case parent.Name == "agent":
			// a client span
		case parent.Name == s.Name:
			// the server span, under its client span
			if s.Name == "tools/call get_weather" && (s.SpanType != "TOOL" || s.Inputs.(map[string]any)["city"] != "Paris") {
				t.Errorf("server tool span %+v", s)
			}
		default:
			t.Errorf("span %q: parent %q", s.Name, parent.Name)
		}
	}
	if !strings.HasSuffix(tv.State, "OK") {
		t.Errorf("trace state %s: the server process's parts must not replace the trace info", tv.State)
	}
	if tv.Tags["mlflow.traceName"] != "agent" {
		t.Errorf("trace name tag %q: the server process's partial trace must not win", tv.Tags["mlflow.traceName"])
	}
}
