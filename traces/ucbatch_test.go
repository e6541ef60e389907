package traces_test

import (
	"context"
	"net/http"
	"net/url"
	"slices"
	"strings"
	"testing"

	"github.com/mlflowtrace/mlflowtrace-go/exporter"
	"github.com/mlflowtrace/mlflowtrace-go/internal/databrickstest"
	"github.com/mlflowtrace/mlflowtrace-go/traces"
	"github.com/mlflowtrace/mlflowtrace-go/tracing"
)

// recordUCTraces records n traces of two spans each into the Unity Catalog
// location of env (MLFLOW_TRACING_DESTINATION) and returns their ids.
func recordUCTraces(t *testing.T, ws *databrickstest.Workspace, env map[string]string, n int) []string {
	t.Helper()
	ctx := context.Background()
	p, err := tracing.Init(ctx, tracing.WithEnabled(), tracing.WithGetenv(func(k string) string { return env[k] }),
		tracing.WithoutGlobalTracerProvider(), tracing.WithExporterOptions(exporter.WithHTTPClient(ws.HTTPClient())))
	if err != nil {
		t.Fatal(err)
	}
	var ids []string
	for range n {
		c, root := tracing.StartSpan(ctx, "agent", tracing.WithSpanType(tracing.SpanTypeAgent))
		_, tool := tracing.StartSpan(c, "tool")
		tool.End()
		root.End()
		ids = append(ids, root.TraceID())
	}
	if err := p.Shutdown(ctx); err != nil {
		t.Fatal(err)
	}
	return ids
}

// batchGetSizes returns the number of trace ids of each v4 batchGet the
// workspace received after the first from requests, by location.
func batchGetSizes(ws *databrickstest.Workspace, from int) map[string][]int {
	out := map[string][]int{}
	for _, r := range ws.Requests()[from:] {
		loc, ok := strings.CutSuffix(strings.TrimPrefix(r.Path, "/api/4.0/mlflow/traces/"), "/batchGet")
		if !ok || r.Method != http.MethodGet {
			continue
		}
		q, _ := url.ParseQuery(r.Query)
		out[loc] = append(out[loc], len(q["trace_ids"]))
	}
	for _, s := range out {
		slices.Sort(s)
	}
	return out
}

// TestSearchLoadsUCSpansInBatches: a search page of Unity Catalog traces
// loads their spans as MLflow's client does, from the v4 batchGet of each
// location, ten traces per request (the fake refuses more, as the
// endpoint does), where Go sent one request per trace before. A batch
// that fails is loaded again one trace at a time, so every trace still
// has its spans.
func TestSearchLoadsUCSpansInBatches(t *testing.T) {
	ws := databrickstest.New(t)
	ws.CreateUCSchema("main", "agents")
	ws.CreateUCSchema("main", "other")
	env := ws.PATEnv()
	env["MLFLOW_TRACKING_URI"] = "databricks"
	env["DATABRICKS_CONFIG_FILE"] = "/nonexistent/databrickscfg"
	env["MLFLOW_TRACING_DESTINATION"] = "main.agents"
	agents := recordUCTraces(t, ws, env, 23)
	env["MLFLOW_TRACING_DESTINATION"] = "main.other"
	other := recordUCTraces(t, ws, env, 4)
	want := append(slices.Clone(agents), other...)
	slices.Sort(want)

	for _, tc := range []struct {
		name  string
		fault bool
		sizes map[string][]int
	}{
		{"batches of ten per location", false, map[string][]int{"main.agents": {3, 10, 10}, "main.other": {4}}},
		// The first batchGet of main.other fails: its 4 traces come one by one.
		{"a failed batch, one by one", true, map[string][]int{"main.agents": {3, 10, 10}, "main.other": {1, 1, 1, 1, 4}}},
	} {
		t.Run(tc.name, func(t *testing.T) {
			c := whClient(t, ws, env)
			if tc.fault {
				ws.Fail(databrickstest.Fault{Method: http.MethodGet, PathPrefix: "/api/4.0/mlflow/traces/main.other/batchGet", Status: http.StatusInternalServerError, Times: 1})
				t.Cleanup(ws.ClearFaults)
			}
			from := len(ws.Requests())
			page, err := c.SearchTraces(context.Background(), traces.SearchQuery{Locations: []string{"main.agents", "main.other"}, MaxResults: 50})
			if err != nil {
				t.Fatal(err)
			}
			got := traceIDs(page.Traces)
			slices.Sort(got)
			if !slices.Equal(got, want) {
				t.Fatalf("%d traces %v, want %d", len(got), got, len(want))
			}
			for _, tr := range page.Traces {
				if len(tr.Spans) != 2 {
					t.Errorf("%s: %d spans, want 2", tr.Info.TraceID, len(tr.Spans))
				}
				checkSpansCarryTraceID(t, tr)
			}
			if sizes := batchGetSizes(ws, from); !mapsEqual(sizes, tc.sizes) {
				t.Errorf("batchGet trace ids per request %v, want %v", sizes, tc.sizes)
			}
			if r := ws.Rejections(); len(r) > 0 {
				t.Errorf("the workspace rejected: %v", r)
			}
		})
	}
}

func mapsEqual(a, b map[string][]int) bool {
	if len(a) != len(b) {
		return false
	}
	for k, v := range a {
		if !slices.Equal(v, b[k]) {
			return false
		}
	}
	return true
}

// checkSpansCarryTraceID: each span read carries its trace's full id
// (trace:/<location>/<hex> in Unity Catalog) as mlflow.traceRequestId,
// as MLflow's Span.from_dict gives it.
func checkSpansCarryTraceID(t *testing.T, tr *exporter.Trace) {
	t.Helper()
	for _, s := range tr.Spans {
		if got, want := s.Attributes["mlflow.traceRequestId"], `"`+tr.Info.TraceID+`"`; got != want {
			t.Errorf("%s: span %s has mlflow.traceRequestId %s, want %s", tr.Info.TraceID, s.Name, got, want)
		}
	}
}

// TestGetUCTraceSpansCarryTheFullID: GetTrace of a Unity Catalog trace
// (one v4 batchGet) gives spans that carry the trace's full id.
func TestGetUCTraceSpansCarryTheFullID(t *testing.T) {
	ws, id, env := ucWorkspace(t)
	tr, err := whClient(t, ws, env).GetTrace(context.Background(), id)
	if err != nil {
		t.Fatal(err)
	}
	if !strings.HasPrefix(tr.Info.TraceID, "trace:/main.agents/") || len(tr.Spans) != 2 {
		t.Fatalf("trace %s with %d spans", tr.Info.TraceID, len(tr.Spans))
	}
	checkSpansCarryTraceID(t, tr)
}
