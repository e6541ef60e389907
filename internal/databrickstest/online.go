package databrickstest

import (
	"encoding/json"
	"fmt"
	"net/http"
	"slices"
)

// Online traces: what a model serving endpoint logs to its inference table
// and an experiment shows, with a UUID as trace id. MLflow 3.17.2 loads a
// search's spans of such a trace with
//
//	GET /api/2.0/mlflow/get-online-trace-details   GetOnlineTraceDetails (the message as the query)
//
// passing the SQL warehouse. The fake answers it for the traces added with
// AddOnlineTrace (or POST /__fake/online-traces): trace_id required, a
// sql_warehouse_id must name a known warehouse, source_inference_table and
// source_databricks_request_id must match the trace's mlflow.sourceTable and
// mlflow.databricksRequestId metadata; the answer's trace_data is the
// trace's traces.json. Recorded as a WarehouseCall.

const pathOnlineTraceDetails = "/api/2.0/mlflow/get-online-trace-details"

// AddOnlineTrace stores an online trace of experiment experimentID: info is
// its TraceInfoV3 JSON (trace_id traceID), data its traces.json.
func (w *Workspace) AddOnlineTrace(experimentID, traceID string, info json.RawMessage, data []byte) {
	w.mu.Lock()
	defer w.mu.Unlock()
	if w.traces[traceID] == nil {
		w.order = append(w.order, traceID)
	}
	w.traces[traceID] = &Trace{TraceID: traceID, Location: experimentID, TraceInfo: info, Data: data}
}

func (w *Workspace) serveOnlineTraceDetails(rw http.ResponseWriter, r *http.Request) {
	q := r.URL.Query()
	call := WarehouseCall{Method: r.Method, Path: r.URL.Path, Query: q, SQLWarehouseID: q.Get("sql_warehouse_id")}
	if call.SQLWarehouseID != "" {
		call.In = "query"
	}
	allowed := []string{"trace_id", "sql_warehouse_id", "source_inference_table", "source_databricks_request_id"}
	for k, v := range q {
		if !slices.Contains(allowed, k) || len(v) != 1 {
			w.refuseWarehouse(rw, call, "GetOnlineTraceDetails: query parameter %q (%d times): want one of each of %v", k, len(v), allowed)
			return
		}
	}
	if q.Has("sql_warehouse_id") && call.SQLWarehouseID == "" {
		w.refuseWarehouse(rw, call, "GetOnlineTraceDetails: empty sql_warehouse_id")
		return
	}
	w.mu.Lock()
	w.sql.calls = append(w.sql.calls, call)
	known := call.SQLWarehouseID == "" || w.sql.warehouses[call.SQLWarehouseID] != nil
	t := w.traces[q.Get("trace_id")]
	var data []byte
	var info struct {
		Metadata map[string]string `json:"trace_metadata"`
	}
	if t != nil {
		data = t.Data
		_ = json.Unmarshal(t.TraceInfo, &info)
	}
	w.mu.Unlock()
	switch {
	case !known:
		w.reject("GetOnlineTraceDetails: sql_warehouse_id %q names no warehouse", call.SQLWarehouseID)
		apiError(rw, http.StatusBadRequest, "INVALID_PARAMETER_VALUE", fmt.Sprintf("SQL warehouse %s does not exist.", call.SQLWarehouseID))
	case t == nil || data == nil:
		apiError(rw, http.StatusNotFound, "RESOURCE_DOES_NOT_EXIST", fmt.Sprintf("Trace with ID '%s' not found.", q.Get("trace_id")))
	case q.Has("source_inference_table") && q.Get("source_inference_table") != info.Metadata["mlflow.sourceTable"],
		q.Has("source_databricks_request_id") && q.Get("source_databricks_request_id") != info.Metadata["mlflow.databricksRequestId"]:
		w.reject("GetOnlineTraceDetails: source table / request id %q / %q do not match the trace's", q.Get("source_inference_table"), q.Get("source_databricks_request_id"))
		apiError(rw, http.StatusBadRequest, "INVALID_PARAMETER_VALUE", "source_inference_table or source_databricks_request_id does not match the trace")
	default:
		writeJSON(rw, map[string]any{"trace_data": string(data)})
	}
}
