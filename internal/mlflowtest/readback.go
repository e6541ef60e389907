package mlflowtest

import (
	"encoding/json"
	"os"
	"path/filepath"
	"testing"
)

// TraceView is a trace as MLflow's Python client (MlflowClient.get_trace)
// returns it, plus what the server stored.
type TraceView struct {
	State      string            `json:"state"` // e.g. "TraceState.OK"
	Tags       map[string]string `json:"tags"`
	Metadata   map[string]string `json:"metadata"`
	TokenUsage map[string]int    `json:"token_usage"`
	// RequestPreview / ResponsePreview as stored.
	RequestPreview  string `json:"request_preview"`
	ResponsePreview string `json:"response_preview"`
	// SpanRows counts rows of the SQL store's spans table for the trace
	// (sqlite backends only; -1 when the table does not exist).
	SpanRows int `json:"span_rows"`
	// HasArtifact reports whether traces.json exists in the served
	// artifacts directory.
	HasArtifact bool       `json:"artifact"`
	Spans       []SpanView `json:"spans"`
	// Error is set when get_trace raised.
	Error string `json:"error"`
}

// SpanView is a span as the Python client returns it.
type SpanView struct {
	Name       string         `json:"name"`
	SpanID     string         `json:"span_id"`
	ParentID   string         `json:"parent_id"`
	Inputs     any            `json:"inputs"`
	Outputs    any            `json:"outputs"`
	SpanType   string         `json:"span_type"`
	Attributes map[string]any `json:"attributes"`
}

// ReadBack is the result of ReadTraces.
type ReadBack struct {
	Traces map[string]TraceView `json:"traces"`
	// Filters[i] holds the sorted trace ids search_traces returned for
	// filters[i] in the experiment.
	Filters [][]string `json:"filters"`
}

const readBackScript = `
import json, os, sqlite3, sys
from mlflow import MlflowClient
spec = json.load(open(sys.argv[1]))
c = MlflowClient()
out = {"traces": {}, "filters": []}
db = spec.get("db")
for tid in spec["trace_ids"]:
    r = {}
    try:
        t = c.get_trace(tid)
        r = {"state": str(t.info.state), "tags": t.info.tags, "metadata": t.info.trace_metadata,
             "token_usage": t.info.token_usage,
             "request_preview": t.info.request_preview, "response_preview": t.info.response_preview,
             "spans": [{"name": s.name, "span_id": s.span_id, "parent_id": s.parent_id,
                        "inputs": s.inputs, "outputs": s.outputs, "span_type": s.span_type,
                        "attributes": s.attributes} for s in t.data.spans]}
    except Exception as e:
        r = {"error": repr(e)}
    if db and os.path.exists(db):
        con = sqlite3.connect(db)
        try:
            r["span_rows"] = con.execute("select count(*) from spans where trace_id = ?", (tid,)).fetchone()[0]
        except sqlite3.OperationalError:
            r["span_rows"] = -1
        con.close()
    art = spec.get("artifacts")
    if art:
        r["artifact"] = os.path.exists(os.path.join(art, spec["experiment_id"], "traces", tid, "artifacts", "traces.json"))
    out["traces"][tid] = r
for f in spec["filters"]:
    res = c.search_traces(experiment_ids=[spec["experiment_id"]], filter_string=f, max_results=500)
    out["filters"].append(sorted(x.info.trace_id for x in res))
print(json.dumps(out, default=str))
`

// ReadTraces loads traces through MLflow's own Python client
// (MlflowClient.get_trace) and runs search_traces for each filter in the
// experiment. It also counts the trace's rows in the SQL store's spans table
// and checks for a traces.json artifact.
func (s *Server) ReadTraces(t testing.TB, experimentID string, ids, filters []string) ReadBack {
	t.Helper()
	if ids == nil {
		ids = []string{}
	}
	if filters == nil {
		filters = []string{}
	}
	spec, _ := json.Marshal(map[string]any{
		"trace_ids": ids, "filters": filters, "experiment_id": experimentID,
		"db": filepath.Join(s.Dir, "mlflow.db"), "artifacts": s.ArtifactsDir,
	})
	f := filepath.Join(t.TempDir(), "spec.json")
	if err := os.WriteFile(f, spec, 0o600); err != nil {
		t.Fatal(err)
	}
	out := s.RunPython(t, readBackScript, f)
	var rb ReadBack
	if err := json.Unmarshal(out, &rb); err != nil {
		t.Fatalf("mlflowtest: read back: %v\n%s", err, out)
	}
	return rb
}
