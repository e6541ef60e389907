package main

import (
	"context"
	"strings"
	"testing"

	"github.com/mlflowtrace/mlflowtrace-go/internal/databrickstest"
	"github.com/mlflowtrace/mlflowtrace-go/tracing"
)

// TestSQLWarehouseFlag: `traces search --sql-warehouse-id` is mlflow
// 3.17.2's deprecated flag: it prints mlflow's FutureWarning to stderr and
// sets the warehouse, overriding MLFLOW_TRACING_SQL_WAREHOUSE_ID, which the
// other commands read as it is; the v4 calls carry the id (the fake
// workspace records it). Only search has the flag, as in mlflow.
func TestSQLWarehouseFlag(t *testing.T) {
	ws, err := databrickstest.Start(databrickstest.Config{})
	if err != nil {
		t.Fatal(err)
	}
	defer ws.Close()
	ws.CreateUCSchema("main", "agents")
	for _, id := range []string{"wh-flag", "wh-env"} {
		ws.AddSQLWarehouse(databrickstest.SQLWarehouse{ID: id, State: "RUNNING"})
	}
	base := ws.PATEnv()
	base["MLFLOW_TRACKING_URI"] = "databricks"
	base["DATABRICKS_CONFIG_FILE"] = "/nonexistent/databrickscfg"
	ctx := context.Background()
	wenv := map[string]string{"MLFLOW_TRACING_DESTINATION": "main.agents"}
	for k, v := range base {
		wenv[k] = v
	}
	p, err := tracing.Init(ctx, tracing.WithEnabled(), tracing.WithoutGlobalTracerProvider(), tracing.WithGetenv(func(k string) string { return wenv[k] }))
	if err != nil {
		t.Fatal(err)
	}
	_, span := tracing.StartSpan(ctx, "agent")
	span.End()
	if err := p.Shutdown(ctx); err != nil {
		t.Fatal(err)
	}
	tid := span.TraceID()
	const warning = "FutureWarning: The `sql_warehouse_id` parameter is deprecated. Please use the `MLFLOW_TRACING_SQL_WAREHOUSE_ID` environment variable instead.\n"
	for _, tc := range []struct {
		name    string
		env     string
		args    []string
		code    int
		want    string // the id every recorded v4 call carries
		warning bool
		stderr  string
	}{
		{"flag", "", []string{"search", "-x", "main.agents", "--sql-warehouse-id", "wh-flag", "--output", "json"}, 0, "wh-flag", true, ""},
		{"environment", "wh-env", []string{"search", "-x", "main.agents", "--output", "json"}, 0, "wh-env", false, ""},
		{"flag wins", "wh-env", []string{"search", "-x", "main.agents", "--sql-warehouse-id=wh-flag", "--output", "json"}, 0, "wh-flag", true, ""},
		{"neither", "", []string{"search", "-x", "main.agents", "--output", "json"}, 0, "", false, ""},
		{"empty flag is none", "wh-env", []string{"search", "-x", "main.agents", "--sql-warehouse-id", "", "--output", "json"}, 0, "", true, ""},
		{"get reads the environment", "wh-env", []string{"get", "--trace-id", tid}, 0, "wh-env", false, ""},
		{"only search has the flag", "", []string{"get", "--trace-id", tid, "--sql-warehouse-id", "x"}, 2, "", false, "Error: No such option '--sql-warehouse-id'."},
	} {
		t.Run(tc.name, func(t *testing.T) {
			env := map[string]string{"MLFLOW_TRACING_SQL_WAREHOUSE_ID": tc.env}
			for k, v := range base {
				env[k] = v
			}
			from := len(ws.WarehouseCalls())
			code, stdout, stderr := runCLI(t, env, append([]string{"traces"}, tc.args...)...)
			if code != tc.code {
				t.Fatalf("exit %d, want %d; stdout %q, stderr %q", code, tc.code, stdout, stderr)
			}
			if got := strings.Contains(stderr, warning); got != tc.warning {
				t.Errorf("warning printed %v, want %v; stderr %q", got, tc.warning, stderr)
			}
			if tc.stderr != "" && !strings.Contains(stderr, tc.stderr) {
				t.Errorf("stderr %q, want %q", stderr, tc.stderr)
			}
			calls := ws.WarehouseCalls()[from:]
			if tc.code == 0 && (len(calls) == 0 || !strings.Contains(stdout, tid[len("trace:/main.agents/"):])) {
				t.Fatalf("%d v4 calls; stdout %q", len(calls), stdout)
			}
			for _, c := range calls {
				if c.SQLWarehouseID != tc.want {
					t.Errorf("%s %s carried %q, want %q", c.Method, c.Path, c.SQLWarehouseID, tc.want)
				}
			}
		})
	}
	if rej := ws.Rejections(); len(rej) > 0 {
		t.Errorf("the fake rejected: %v", rej)
	}
	code, stdout, _ := runCLI(t, nil, "traces", "search", "--help")
	if code != 0 || !strings.Contains(stdout, "--sql-warehouse-id TEXT") || !strings.Contains(stdout, "DEPRECATED. Use the\n") {
		t.Errorf("help: exit %d\n%s", code, stdout)
	}
}
