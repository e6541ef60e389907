package traces

import (
	"context"
	"net/http"
	"net/url"
	"strings"

	"github.com/mlflowtrace/mlflowtrace-go/exporter"
	"github.com/mlflowtrace/mlflowtrace-go/internal/keys"
	"github.com/mlflowtrace/mlflowtrace-go/internal/localstore"
)

// Online traces: the traces a Databricks model serving endpoint logs to its
// inference table, searched in an experiment, have a UUID as id. MLflow
// 3.17.2's TracingClient loads a search's spans of such a trace (kept in the
// artifact repository, or with no spans location) not from the artifact but
// with GetOnlineTraceDetails, passing the SQL warehouse
// (MLFLOW_TRACING_SQL_WAREHOUSE_ID, not checked first) and the trace's
// mlflow.sourceTable and mlflow.databricksRequestId metadata.

const (
	pathOnlineTraceDetails = "/api/2.0/mlflow/get-online-trace-details"
	metaSourceTable        = "mlflow.sourceTable"
	metaDatabricksRequest  = "mlflow.databricksRequestId"
	spansArtifactRepo      = "ARTIFACT_REPO"
)

// online reports whether a search loads info's spans with
// GetOnlineTraceDetails (MLflow's _download_spans_from_artifact_repo).
func (r *restBackend) online(info *exporter.TraceInfo) bool {
	if _, _, v4 := parseV4(info.TraceID); v4 || !r.databricks {
		return false
	}
	if loc := info.Tags[keys.TagSpansLocation]; loc != "" && loc != spansArtifactRepo {
		return false
	}
	return isUUID(info.TraceID)
}

// isUUID is Python's uuid.UUID(s) test: without "urn:", "uuid:", braces and
// hyphens, 32 hex digits.
func isUUID(s string) bool {
	s = strings.ReplaceAll(strings.ReplaceAll(s, "urn:", ""), "uuid:", "")
	s = strings.ReplaceAll(strings.Trim(s, "{}"), "-", "")
	return len(s) == 32 && strings.Trim(strings.ToLower(s), "0123456789abcdef") == ""
}

// onlineSpans is MLflow's get_online_trace_details: GET, the message
// (trace_id, sql_warehouse_id, source_inference_table,
// source_databricks_request_id; unset fields left out) as the query; the
// answer's trace_data is the trace's traces.json.
func (r *restBackend) onlineSpans(ctx context.Context, info *exporter.TraceInfo) ([]*exporter.Span, error) {
	v := url.Values{"trace_id": {info.TraceID}}
	if r.wh != nil && r.wh.id != "" {
		v.Set("sql_warehouse_id", r.wh.id)
	}
	if t, ok := info.Metadata[metaSourceTable]; ok {
		v.Set("source_inference_table", t)
	}
	if id, ok := info.Metadata[metaDatabricksRequest]; ok {
		v.Set("source_databricks_request_id", id)
	}
	var out struct {
		TraceData string `json:"trace_data"`
	}
	if err := r.call(ctx, http.MethodGet, pathOnlineTraceDetails+"?"+v.Encode(), nil, &out); err != nil {
		return nil, wrap(err, "trace", info.TraceID)
	}
	return localstore.ParseTraceData([]byte(out.TraceData))
}
