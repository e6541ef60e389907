package traces_test

import (
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"net/url"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/mlflowtrace/mlflowtrace-go/exporter"
	"github.com/mlflowtrace/mlflowtrace-go/internal/databrickstest"
	"github.com/mlflowtrace/mlflowtrace-go/traces"
	"github.com/mlflowtrace/mlflowtrace-go/tracing"
)

// ucWorkspace starts the fake workspace with the Unity Catalog location
// main.agents holding one trace (a root span and a tool span) and returns
// it, the trace id and the environment of a reader of that location.
func ucWorkspace(t *testing.T) (*databrickstest.Workspace, string, map[string]string) {
	t.Helper()
	ws := databrickstest.New(t)
	ws.CreateUCSchema("main", "agents")
	env := ws.PATEnv()
	env["MLFLOW_TRACKING_URI"] = "databricks"
	env["MLFLOW_TRACING_DESTINATION"] = "main.agents"
	env["DATABRICKS_CONFIG_FILE"] = "/nonexistent/databrickscfg"
	return ws, recordUCTraces(t, ws, env, 1)[0], env
}

func whClient(t *testing.T, ws *databrickstest.Workspace, env map[string]string, opts ...exporter.Option) *traces.Client {
	t.Helper()
	opts = append([]exporter.Option{exporter.WithGetenv(func(k string) string { return env[k] }), exporter.WithHTTPClient(ws.HTTPClient()),
		exporter.WithRetryBackoff(time.Millisecond, 0), exporter.WithMaxRetries(0)}, opts...)
	c, err := traces.NewClient(context.Background(), opts...)
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { _ = c.Close() })
	traces.SetWarehousePolls(c, time.Millisecond)
	return c
}

// call is what the fake recorded of one v4 call: "METHOD route" and the
// SQL warehouse id it carried, with where.
func calls(ws *databrickstest.Workspace, from int) []string {
	var out []string
	for _, c := range ws.WarehouseCalls()[from:] {
		route := c.Path
		if i := strings.Index(route, "/assessments"); i >= 0 {
			route = route[:i] + "/assessments"
		}
		if i := strings.Index(route, "/tags"); i >= 0 {
			route = route[:i] + "/tags"
		}
		parts := strings.Split(route, "/")
		if len(parts) > 7 && parts[6] != "batchGet" {
			parts[6] = "{hex}" // /api/4.0/mlflow/traces/{loc}/{hex}/...
		}
		out = append(out, fmt.Sprintf("%s %s %s=%s", c.Method, strings.Join(parts, "/"), c.In, c.SQLWarehouseID))
	}
	return out
}

// TestSQLWarehouseCalls: with a SQL warehouse, every Databricks v4 call
// MLflow 3.17.2 passes it with carries sql_warehouse_id, where MLflow puts
// it — the long-running search's body, the query of trace info, batchGet,
// the assessment calls and the tag deletion — and SetTraceTag does not;
// without one, no call carries it. The id comes from
// MLFLOW_TRACING_SQL_WAREHOUSE_ID, which WithSQLWarehouseID overrides (an
// empty id: none).
func TestSQLWarehouseCalls(t *testing.T) {
	ws, id, env := ucWorkspace(t)
	ws.AddSQLWarehouse(databrickstest.SQLWarehouse{ID: "wh-env", State: "RUNNING"})
	ws.AddSQLWarehouse(databrickstest.SQLWarehouse{ID: "wh-opt", State: "RUNNING"})
	for _, tc := range []struct {
		name string
		env  string
		opts []exporter.Option
		want string // the id every carrying call has
	}{
		{"none", "", nil, ""},
		{"environment", "wh-env", nil, "wh-env"},
		{"environment trimmed", "  wh-env ", nil, "wh-env"},
		{"option wins", "wh-env", []exporter.Option{traces.WithSQLWarehouseID("wh-opt")}, "wh-opt"},
		{"option without environment", "", []exporter.Option{traces.WithSQLWarehouseID("wh-opt")}, "wh-opt"},
		{"empty option clears", "wh-env", []exporter.Option{traces.WithSQLWarehouseID("")}, ""},
	} {
		t.Run(tc.name, func(t *testing.T) {
			e := map[string]string{}
			for k, v := range env {
				e[k] = v
			}
			e["MLFLOW_TRACING_SQL_WAREHOUSE_ID"] = tc.env
			c := whClient(t, ws, e, tc.opts...)
			ctx := context.Background()
			from := len(ws.WarehouseCalls())
			if _, err := c.GetTrace(ctx, id); err != nil {
				t.Fatal(err)
			}
			if _, err := c.GetTraceInfo(ctx, id); err != nil {
				t.Fatal(err)
			}
			page, err := c.SearchTraces(ctx, traces.SearchQuery{Locations: []string{"main.agents"}})
			if err != nil || len(page.Traces) != 1 || len(page.Traces[0].Spans) != 2 {
				t.Fatalf("search: %+v, %v", page, err)
			}
			fb, err := c.LogFeedback(ctx, id, traces.Feedback{Name: "n", Value: 1.0})
			if err != nil {
				t.Fatal(err)
			}
			if _, err := c.GetAssessment(ctx, id, fb.AssessmentID); err != nil {
				t.Fatal(err)
			}
			rat := "r"
			if _, err := c.UpdateAssessment(ctx, id, fb.AssessmentID, traces.AssessmentUpdate{Rationale: &rat}); err != nil {
				t.Fatal(err)
			}
			if err := c.DeleteAssessment(ctx, id, fb.AssessmentID); err != nil {
				t.Fatal(err)
			}
			if err := c.SetTraceTag(ctx, id, "k", "v"); err != nil {
				t.Fatal(err)
			}
			if err := c.DeleteTraceTag(ctx, id, "k"); err != nil {
				t.Fatal(err)
			}
			q, b := "query="+tc.want, "body="+tc.want
			if tc.want == "" {
				q, b = "=", "="
			}
			want := []string{
				"GET /api/4.0/mlflow/traces/main.agents/batchGet " + q,
				"GET /api/4.0/mlflow/traces/main.agents/{hex}/info " + q,
				"POST /api/4.0/mlflow/traces/search-long-running " + b,
				"GET /api/4.0/mlflow/traces/main.agents/batchGet " + q,
				"POST /api/4.0/mlflow/traces/main.agents/{hex}/assessments " + q,
				"GET /api/4.0/mlflow/traces/main.agents/{hex}/assessments " + q,
				"PATCH /api/4.0/mlflow/traces/main.agents/{hex}/assessments " + q,
				"DELETE /api/4.0/mlflow/traces/main.agents/{hex}/assessments " + q,
				"PATCH /api/4.0/mlflow/traces/main.agents/{hex}/tags =",
				"DELETE /api/4.0/mlflow/traces/main.agents/{hex}/tags " + q,
			}
			if got := calls(ws, from); strings.Join(got, "\n") != strings.Join(want, "\n") {
				t.Errorf("calls:\n%s\nwant:\n%s", strings.Join(got, "\n"), strings.Join(want, "\n"))
			}
			// The update keeps its mask next to the id; trace info names
			// the trace in its query, as MLflow's GET requests do.
			for _, c := range ws.WarehouseCalls()[from:] {
				if c.Method == "PATCH" && strings.Contains(c.Path, "/assessments/") && c.Query.Get("update_mask") != "rationale" {
					t.Errorf("update query %v, want update_mask=rationale", c.Query)
				}
				if strings.HasSuffix(c.Path, "/info") && (c.Query.Get("location") != "main.agents" || c.Query.Get("trace_id") != strings.TrimPrefix(id, "trace:/main.agents/")) {
					t.Errorf("trace info query %v", c.Query)
				}
			}
			if rej := ws.Rejections(); len(rej) > 0 {
				t.Fatalf("the fake rejected: %v", rej)
			}
		})
	}
}

func warehouseRequests(ws *databrickstest.Workspace) (gets, starts int) {
	for _, r := range ws.Requests() {
		switch {
		case r.Method == "GET" && strings.HasPrefix(r.Path, "/api/2.0/sql/warehouses/"):
			gets++
		case r.Method == "POST" && strings.HasSuffix(r.Path, "/start"):
			starts++
		}
	}
	return gets, starts
}

// TestSQLWarehouseAutoStart: before the first call naming the warehouse
// the client checks it (GET /api/2.0/sql/warehouses/{id}) and, unless it is
// RUNNING, starts it and polls until it runs, saying once what it waits
// for; the answer is trusted for a minute, as MLflow's cache; auto-start
// off sends the id unchecked; failures name the warehouse and the way out.
func TestSQLWarehouseAutoStart(t *testing.T) {
	ctx := context.Background()
	t.Run("starts a stopped warehouse once", func(t *testing.T) {
		ws, id, env := ucWorkspace(t)
		ws.AddSQLWarehouse(databrickstest.SQLWarehouse{ID: "wh", State: "STOPPED", StartPolls: 2})
		env["MLFLOW_TRACING_SQL_WAREHOUSE_ID"] = "wh"
		c := whClient(t, ws, env)
		var notices []string
		traces.SetWarehouseNotice(c, func(m string) { notices = append(notices, m) })
		for range 3 {
			if _, err := c.GetTrace(ctx, id); err != nil {
				t.Fatal(err)
			}
		}
		gets, starts := warehouseRequests(ws)
		if wh, _ := ws.SQLWarehouse("wh"); wh.State != "RUNNING" || wh.Starts != 1 || starts != 1 || gets != 4 {
			t.Errorf("warehouse %+v; %d GETs, %d starts; want RUNNING, 4 GETs (check, 2 × STARTING, RUNNING), 1 start", wh, gets, starts)
		}
		want := "SQL warehouse 'wh' is STOPPED; starting it and waiting up to 1200s for RUNNING."
		if len(notices) != 1 || notices[0] != want {
			t.Errorf("notices %q, want [%q]", notices, want)
		}
	})
	t.Run("running warehouse is only checked", func(t *testing.T) {
		ws, id, env := ucWorkspace(t)
		ws.AddSQLWarehouse(databrickstest.SQLWarehouse{ID: "wh", State: "RUNNING"})
		env["MLFLOW_TRACING_SQL_WAREHOUSE_ID"] = "wh"
		c := whClient(t, ws, env)
		for range 2 {
			if _, err := c.GetTraceInfo(ctx, id); err != nil {
				t.Fatal(err)
			}
		}
		if gets, starts := warehouseRequests(ws); gets != 1 || starts != 0 {
			t.Errorf("%d GETs, %d starts; want 1, 0", gets, starts)
		}
	})
	for _, tc := range []struct {
		name    string
		env     map[string]string
		opts    []exporter.Option
		wh      *databrickstest.SQLWarehouse
		wantErr []string
		gets    int
	}{
		{"auto start off", map[string]string{"MLFLOW_SQL_WAREHOUSE_AUTO_START": "false"}, nil,
			&databrickstest.SQLWarehouse{ID: "wh", State: "STOPPED"}, []string{"SQL warehouse wh is not running"}, 0},
		{"auto start off by option", nil, []exporter.Option{traces.WithoutSQLWarehouseAutoStart()},
			&databrickstest.SQLWarehouse{ID: "wh", State: "STOPPED"}, []string{"SQL warehouse wh is not running"}, 0},
		{"option turns it back on", map[string]string{"MLFLOW_SQL_WAREHOUSE_AUTO_START": "0"}, []exporter.Option{traces.WithSQLWarehouseAutoStart(0)},
			&databrickstest.SQLWarehouse{ID: "wh", State: "STOPPED"}, nil, 2},
		{"timeout", map[string]string{"MLFLOW_SQL_WAREHOUSE_AUTO_START_TIMEOUT_SECONDS": "0"}, nil,
			&databrickstest.SQLWarehouse{ID: "wh", State: "STOPPED", StartPolls: 1000},
			[]string{"timed out after 0s waiting for SQL warehouse 'wh' to reach RUNNING state", "MLFLOW_SQL_WAREHOUSE_AUTO_START_TIMEOUT_SECONDS"}, 1},
		{"unknown warehouse", nil, nil, nil, []string{"SQL warehouse 'wh'", "Warehouse wh does not exist."}, 1},
		{"start fails", nil, nil, &databrickstest.SQLWarehouse{ID: "wh", State: "STOPPED", FailStart: true},
			[]string{"failed to start SQL warehouse 'wh': failed to reach RUNNING, got State.STOPPED: current status: State.STOPPED", "MLFLOW_SQL_WAREHOUSE_AUTO_START=false"}, 2},
	} {
		t.Run(tc.name, func(t *testing.T) {
			ws, id, env := ucWorkspace(t)
			if tc.wh != nil {
				ws.AddSQLWarehouse(*tc.wh)
			}
			env["MLFLOW_TRACING_SQL_WAREHOUSE_ID"] = "wh"
			for k, v := range tc.env {
				env[k] = v
			}
			c := whClient(t, ws, env, tc.opts...)
			_, err := c.GetTrace(ctx, id)
			if len(tc.wantErr) == 0 && err != nil {
				t.Fatal(err)
			}
			for _, w := range tc.wantErr {
				if err == nil || !strings.Contains(err.Error(), w) {
					t.Errorf("err = %v, want it to say %q", err, w)
				}
			}
			if gets, _ := warehouseRequests(ws); gets != tc.gets {
				t.Errorf("%d warehouse GETs, want %d", gets, tc.gets)
			}
		})
	}
}

// TestSQLWarehouseRequired: a workspace that cannot resolve a warehouse
// for a call without one answers INVALID_PARAMETER_VALUE "Could not
// resolve a SQL warehouse ID"; the error matches ErrSQLWarehouseRequired
// and says how to set one, as MLflow rewrites it.
func TestSQLWarehouseRequired(t *testing.T) {
	ws, id, env := ucWorkspace(t)
	ws.RequireSQLWarehouse(true)
	c := whClient(t, ws, env)
	ctx := context.Background()
	for name, f := range map[string]func() error{
		"get":  func() error { _, err := c.GetTrace(ctx, id); return err },
		"info": func() error { _, err := c.GetTraceInfo(ctx, id); return err },
		"search": func() error {
			_, err := c.SearchTraces(ctx, traces.SearchQuery{Locations: []string{"main.agents"}})
			return err
		},
		"feedback": func() error {
			_, err := c.LogFeedback(ctx, id, traces.Feedback{Value: true})
			return err
		},
		"delete tag": func() error { return c.DeleteTraceTag(ctx, id, "k") },
	} {
		err := f()
		if !errors.Is(err, traces.ErrSQLWarehouseRequired) || !strings.Contains(err.Error(), "MLFLOW_TRACING_SQL_WAREHOUSE_ID") {
			t.Errorf("%s: %v, want ErrSQLWarehouseRequired naming MLFLOW_TRACING_SQL_WAREHOUSE_ID", name, err)
		}
	}
	ws.AddSQLWarehouse(databrickstest.SQLWarehouse{ID: "wh", State: "RUNNING"})
	c = whClient(t, ws, env, traces.WithSQLWarehouseID("wh"))
	if _, err := c.GetTrace(ctx, id); err != nil {
		t.Errorf("with a warehouse: %v", err)
	}
}

// TestSQLWarehouseBadEnvironment: a malformed auto-start variable is an
// error of NewClient naming it, not its value, unless an option overrides
// it.
func TestSQLWarehouseBadEnvironment(t *testing.T) {
	for name, val := range map[string]string{
		"MLFLOW_SQL_WAREHOUSE_AUTO_START":                 "maybe",
		"MLFLOW_SQL_WAREHOUSE_AUTO_START_TIMEOUT_SECONDS": "1.5",
	} {
		env := map[string]string{"MLFLOW_TRACKING_URI": t.TempDir(), name: val}
		_, err := traces.NewClient(context.Background(), exporter.WithGetenv(func(k string) string { return env[k] }))
		if err == nil || !strings.Contains(err.Error(), name) || strings.Contains(err.Error(), val) {
			t.Errorf("%s=%s: %v", name, val, err)
		}
	}
	// An option overrides the variables, a malformed one included.
	for _, opt := range []exporter.Option{traces.WithoutSQLWarehouseAutoStart(), traces.WithSQLWarehouseAutoStart(time.Minute)} {
		env := map[string]string{"MLFLOW_TRACKING_URI": t.TempDir(), "MLFLOW_SQL_WAREHOUSE_AUTO_START": "maybe"}
		c, err := traces.NewClient(context.Background(), exporter.WithGetenv(func(k string) string { return env[k] }), opt)
		if err != nil {
			t.Errorf("with an option: %v", err)
			continue
		}
		_ = c.Close()
	}
}

// writeEnvTraces writes n traces (a root and a tool span) with env (plus
// getenv's base) and returns their ids.
func writeEnvTraces(t *testing.T, env map[string]string, opts []exporter.Option, n int) []string {
	t.Helper()
	ctx := context.Background()
	p, err := tracing.Init(ctx, tracing.WithEnabled(), tracing.WithGetenv(func(k string) string { return env[k] }),
		tracing.WithoutGlobalTracerProvider(), tracing.WithExporterOptions(opts...))
	if err != nil {
		t.Fatal(err)
	}
	var ids []string
	for range n {
		c, root := tracing.StartSpan(ctx, "agent")
		_, tool := tracing.StartSpan(c, "tool")
		tool.End()
		root.End()
		ids = append(ids, root.TraceID())
		time.Sleep(2 * time.Millisecond)
	}
	if err := p.Shutdown(ctx); err != nil {
		t.Fatal(err)
	}
	return ids
}

// TestSQLWarehouseModelSearch: a model-id search with a SQL warehouse is,
// on Databricks, MLflow's SearchUnifiedTraces (GET
// /api/2.0/mlflow/unified-traces with model_id, sql_warehouse_id, the
// locations as experiment_ids and max_results; the warehouse is not
// checked first, as in MLflow) and finds the model's traces with their
// spans; without a warehouse it is the metadata filter in the v4 search.
// A tracking server with a warehouse set refuses the model id (MLflow's
// RestStore), ./mlruns keeps the filter.
func TestSQLWarehouseModelSearch(t *testing.T) {
	ws := databrickstest.New(t)
	ws.AddSQLWarehouse(databrickstest.SQLWarehouse{ID: "wh", State: "STOPPED"})
	exp := ws.CreateExperiment("/Users/a@b.c/models", databrickstest.AWS)
	env := ws.PATEnv()
	env["MLFLOW_TRACKING_URI"] = "databricks"
	env["MLFLOW_EXPERIMENT_ID"] = exp
	env["DATABRICKS_CONFIG_FILE"] = "/nonexistent/databrickscfg"
	hc := []exporter.Option{exporter.WithHTTPClient(ws.HTTPClient())}
	withModel := map[string]string{"MLFLOW_ACTIVE_MODEL_ID": "m-1"}
	for k, v := range env {
		withModel[k] = v
	}
	want := writeEnvTraces(t, withModel, hc, 2)
	writeEnvTraces(t, env, hc, 1)
	ctx := context.Background()
	for _, tc := range []struct {
		name      string
		warehouse string
		q         traces.SearchQuery
		call      string // the recorded call: "METHOD path"
		wantErr   error
	}{
		{"warehouse", "wh", traces.SearchQuery{ModelID: "m-1"}, "GET /api/2.0/mlflow/unified-traces", nil},
		{"no warehouse", "", traces.SearchQuery{ModelID: "m-1"}, "POST /api/4.0/mlflow/traces/search-long-running", nil},
		{"warehouse and filter", "wh", traces.SearchQuery{ModelID: "m-1", Filter: "status = 'OK'"}, "", traces.ErrInvalid},
	} {
		t.Run(tc.name, func(t *testing.T) {
			e := map[string]string{"MLFLOW_TRACING_SQL_WAREHOUSE_ID": tc.warehouse}
			for k, v := range env {
				e[k] = v
			}
			c := whClient(t, ws, e)
			from, reqs := len(ws.WarehouseCalls()), len(ws.Requests())
			page, err := c.SearchTraces(ctx, tc.q)
			if tc.wantErr != nil {
				if !errors.Is(err, tc.wantErr) {
					t.Fatalf("err = %v, want %v", err, tc.wantErr)
				}
				return
			}
			if err != nil {
				t.Fatal(err)
			}
			got := traceIDs(page.Traces)
			if len(got) != 2 || !(got[0] == want[1] && got[1] == want[0]) || len(page.Traces[0].Spans) != 2 {
				t.Errorf("traces %v, want %v (newest first) with 2 spans", got, want)
			}
			calls := ws.WarehouseCalls()[from:]
			if len(calls) != 1 || calls[0].Method+" "+calls[0].Path != tc.call {
				t.Fatalf("calls %+v, want one %s", calls, tc.call)
			}
			if tc.warehouse != "" {
				q := calls[0].Query
				if q.Get("model_id") != "m-1" || q.Get("sql_warehouse_id") != "wh" || strings.Join(q["experiment_ids"], ",") != exp || q.Get("max_results") != "100" || len(q) != 4 {
					t.Errorf("unified-traces query %v", q)
				}
				if gets, _ := warehouseRequests(ws); gets != 0 {
					t.Errorf("%d warehouse checks, want none (MLflow checks none for this call)", gets)
				}
			} else if !strings.Contains(string(calls[0].Body), "mlflow.modelId") {
				t.Errorf("search body %s, want the metadata filter", calls[0].Body)
			}
			for _, r := range ws.Requests()[reqs:] {
				if strings.HasPrefix(r.Path, "/api/3.0/mlflow/traces/search") {
					t.Errorf("v3 search %s", r.Path)
				}
			}
		})
	}
	if rej := ws.Rejections(); len(rej) > 0 {
		t.Errorf("the fake rejected: %v", rej)
	}

	t.Run("tracking server", func(t *testing.T) {
		e := map[string]string{"MLFLOW_TRACKING_URI": "http://127.0.0.1:1", "MLFLOW_TRACING_SQL_WAREHOUSE_ID": "wh"}
		c, err := traces.NewClient(ctx, exporter.WithGetenv(func(k string) string { return e[k] }))
		if err != nil {
			t.Fatal(err)
		}
		defer c.Close()
		_, err = c.SearchTraces(ctx, traces.SearchQuery{Locations: []string{"0"}, ModelID: "m-1"})
		if !errors.Is(err, traces.ErrInvalid) || !strings.Contains(err.Error(), "searching traces by model_id is not supported on the current tracking server") {
			t.Errorf("err = %v", err)
		}
	})
	t.Run("local store", func(t *testing.T) {
		root := t.TempDir() + "/mlruns"
		e := map[string]string{"MLFLOW_TRACKING_URI": root, "MLFLOW_ACTIVE_MODEL_ID": "m-1"}
		ids := writeEnvTraces(t, e, nil, 1)
		delete(e, "MLFLOW_ACTIVE_MODEL_ID")
		writeEnvTraces(t, e, nil, 1)
		e["MLFLOW_TRACING_SQL_WAREHOUSE_ID"] = "wh"
		c, err := traces.NewClient(ctx, exporter.WithGetenv(func(k string) string { return e[k] }))
		if err != nil {
			t.Fatal(err)
		}
		defer c.Close()
		page, err := c.SearchTraces(ctx, traces.SearchQuery{ModelID: "m-1"})
		if err != nil || len(page.Traces) != 1 || page.Traces[0].Info.TraceID != ids[0] {
			t.Errorf("search = %+v, %v; want %v", page, err, ids)
		}
	})
}

// TestSQLWarehouseConcurrentCheck: callers that need the warehouse at once
// on a cold cache wait for one check: one GET, one start, one notice.
func TestSQLWarehouseConcurrentCheck(t *testing.T) {
	ws, id, env := ucWorkspace(t)
	ws.AddSQLWarehouse(databrickstest.SQLWarehouse{ID: "wh", State: "STOPPED", StartPolls: 3})
	env["MLFLOW_TRACING_SQL_WAREHOUSE_ID"] = "wh"
	c := whClient(t, ws, env)
	var mu sync.Mutex
	notices := 0
	traces.SetWarehouseNotice(c, func(string) { mu.Lock(); notices++; mu.Unlock() })
	var wg sync.WaitGroup
	errs := make(chan error, 20)
	for range 20 {
		wg.Go(func() {
			_, err := c.GetTraceInfo(context.Background(), id)
			errs <- err
		})
	}
	wg.Wait()
	close(errs)
	for err := range errs {
		if err != nil {
			t.Fatal(err)
		}
	}
	gets, starts := warehouseRequests(ws)
	if gets != 5 || starts != 1 || notices != 1 {
		t.Errorf("%d GETs, %d starts, %d notices; want 5 (check, 3 × STARTING, RUNNING), 1, 1", gets, starts, notices)
	}
}

// TestSQLWarehouseCheckCanceled: a caller whose ctx ends its check gets
// the ctx's error; a caller waiting for that check checks itself and
// succeeds.
func TestSQLWarehouseCheckCanceled(t *testing.T) {
	ws, id, env := ucWorkspace(t)
	ws.AddSQLWarehouse(databrickstest.SQLWarehouse{ID: "wh", State: "STOPPED"})
	env["MLFLOW_TRACING_SQL_WAREHOUSE_ID"] = "wh"
	c := whClient(t, ws, env)
	ctx, cancel := context.WithCancel(context.Background())
	waiter := make(chan error, 1)
	first := true
	traces.SetWarehouseNotice(c, func(string) {
		if first { // the first caller's check: start another caller, then end the first's ctx
			first = false
			go func() {
				_, err := c.GetTraceInfo(context.Background(), id)
				waiter <- err
			}()
			time.Sleep(20 * time.Millisecond)
			cancel()
		}
	})
	if _, err := c.GetTraceInfo(ctx, id); !errors.Is(err, context.Canceled) {
		t.Errorf("canceled caller: %v, want context.Canceled", err)
	}
	if err := <-waiter; err != nil {
		t.Errorf("waiting caller: %v", err)
	}
	if wh, _ := ws.SQLWarehouse("wh"); wh.State != "RUNNING" {
		t.Errorf("warehouse %+v, want RUNNING", wh)
	}
}

// TestSQLWarehouseOnlineTraces: a search's spans of an online trace (UUID
// id, an inference table's) come from GetOnlineTraceDetails, as in MLflow:
// trace_id, the SQL warehouse when one is set (not checked first), and the
// trace's source table and request id.
func TestSQLWarehouseOnlineTraces(t *testing.T) {
	ws := databrickstest.New(t)
	ws.AddSQLWarehouse(databrickstest.SQLWarehouse{ID: "wh", State: "RUNNING"})
	exp := ws.CreateExperiment("/Users/a@b.c/online", databrickstest.AWS)
	env := ws.PATEnv()
	env["MLFLOW_TRACKING_URI"] = "databricks"
	env["MLFLOW_EXPERIMENT_ID"] = exp
	env["DATABRICKS_CONFIG_FILE"] = "/nonexistent/databrickscfg"
	src := writeEnvTraces(t, env, []exporter.Option{exporter.WithHTTPClient(ws.HTTPClient())}, 1)[0]
	var stored databrickstest.Trace
	for _, tr := range ws.Traces() {
		if tr.TraceID == src {
			stored = tr
		}
	}
	const uuid = "0b4e0d5c-8d4c-4a4e-9c1f-3f0f6f8a2b11"
	var info map[string]any
	if err := json.Unmarshal(stored.TraceInfo, &info); err != nil {
		t.Fatal(err)
	}
	info["trace_id"] = uuid
	info["trace_metadata"].(map[string]any)["mlflow.sourceTable"] = "main.serving.payload"
	info["trace_metadata"].(map[string]any)["mlflow.databricksRequestId"] = "req-1"
	info["tags"] = map[string]any{"mlflow.traceName": "online"}
	b, _ := json.Marshal(info)
	ws.AddOnlineTrace(exp, uuid, b, stored.Data)
	for _, wh := range []string{"wh", ""} {
		t.Run("warehouse="+wh, func(t *testing.T) {
			e := map[string]string{"MLFLOW_TRACING_SQL_WAREHOUSE_ID": wh}
			for k, v := range env {
				e[k] = v
			}
			c := whClient(t, ws, e)
			from := len(ws.WarehouseCalls())
			page, err := c.SearchTraces(context.Background(), traces.SearchQuery{Filter: "tags.`mlflow.traceName` = 'online'"})
			if err != nil || len(page.Traces) != 1 || page.Traces[0].Info.TraceID != uuid || len(page.Traces[0].Spans) != 2 {
				t.Fatalf("search: %+v, %v", page, err)
			}
			var online []databrickstest.WarehouseCall
			for _, c := range ws.WarehouseCalls()[from:] {
				if c.Path == "/api/2.0/mlflow/get-online-trace-details" {
					online = append(online, c)
				}
			}
			want := url.Values{"trace_id": {uuid}, "source_inference_table": {"main.serving.payload"}, "source_databricks_request_id": {"req-1"}}
			if wh != "" {
				want.Set("sql_warehouse_id", wh)
			}
			if len(online) != 1 || online[0].Query.Encode() != want.Encode() {
				t.Errorf("online calls %+v, want one with %v", online, want)
			}
		})
	}
	if rej := ws.Rejections(); len(rej) > 0 {
		t.Errorf("the fake rejected: %v", rej)
	}
}
