package databrickstest

import (
	"bytes"
	"encoding/json"
	"fmt"
	"io"
	"net/http"
	"net/url"
	"slices"
	"strconv"
	"strings"
	"time"
)

// SQL warehouses, as MLflow 3.17.2's DatabricksTracingRestStore meets them
// when MLFLOW_TRACING_SQL_WAREHOUSE_ID is set:
//
//	GET  /api/2.0/sql/warehouses/{id}        the warehouse and its state (databricks-sdk warehouses.get)
//	POST /api/2.0/sql/warehouses/{id}/start  start it (warehouses.start; body {})
//	GET  /api/2.0/mlflow/unified-traces      SearchUnifiedTraces: the traces of a model id in
//	                                         experiments, through a warehouse (v2 trace infos)
//
// and the sql_warehouse_id that its v4 trace calls carry: in the query of
// the GET trace info (with trace_id and location), batchGet (with
// location_id and trace_ids), the assessment calls (PATCH: with
// update_mask) and the tag deletion; in the body of the long-running search
// (a string field, checked by the message's field list). The fake is
// strict there: a query parameter the call's request message does not have
// (a misspelling, sqlWarehouseId, a warehouse id on SetTraceTag), a repeated
// or empty sql_warehouse_id, or an id that names no warehouse the fake knows
// is refused (400, recorded as a rejection); a known warehouse that is not
// RUNNING answers 400 as well. With RequireSQLWarehouse, a call without an
// id answers what a workspace without a default warehouse answers: 400
// INVALID_PARAMETER_VALUE "Could not resolve a SQL warehouse ID …".
//
// Every such call is recorded (WarehouseCalls, State.WarehouseCalls), with
// or without an id: method, path, query, JSON body and the id it carried.

const (
	pathUnifiedTraces = "/api/2.0/mlflow/unified-traces"
	pathWarehouses    = "/api/2.0/sql/warehouses/"
	pathAdminSQL      = "/__fake/sql-warehouses"
	pathAdminRequire  = "/__fake/require-sql-warehouse"
	pathAdminOnline   = "/__fake/online-traces"
	warehouseRunning  = "RUNNING"
	warehouseStarting = "STARTING"
)

// SQLWarehouse is a SQL warehouse of the fake.
type SQLWarehouse struct {
	ID    string `json:"id"`
	State string `json:"state"` // RUNNING, STOPPED, STARTING, …
	// StartPolls is how many GETs after a start still answer STARTING
	// before RUNNING.
	StartPolls int `json:"start_polls,omitempty"`
	// FailStart makes a start fail: the warehouse answers STOPPED again.
	FailStart bool `json:"fail_start,omitempty"`
	// Starts counts the start requests.
	Starts int `json:"starts"`
}

// WarehouseCall is one v4 trace call that may carry sql_warehouse_id.
type WarehouseCall struct {
	Method string
	Path   string
	Query  url.Values      `json:",omitempty"`
	Body   json.RawMessage `json:",omitempty"`
	// SQLWarehouseID is the id the call carried ("" for none); In says
	// where: "query" or "body".
	SQLWarehouseID string `json:",omitempty"`
	In             string `json:",omitempty"`
}

// sqlState is the fake's warehouse state (guarded by Workspace.mu).
type sqlState struct {
	warehouses map[string]*SQLWarehouse
	require    bool
	calls      []WarehouseCall
}

// AddSQLWarehouse registers (or replaces) a warehouse.
func (w *Workspace) AddSQLWarehouse(wh SQLWarehouse) {
	w.mu.Lock()
	defer w.mu.Unlock()
	if w.sql.warehouses == nil {
		w.sql.warehouses = map[string]*SQLWarehouse{}
	}
	w.sql.warehouses[wh.ID] = &wh
}

// SQLWarehouse returns a copy of warehouse id and whether it exists.
func (w *Workspace) SQLWarehouse(id string) (SQLWarehouse, bool) {
	w.mu.Lock()
	defer w.mu.Unlock()
	if wh := w.sql.warehouses[id]; wh != nil {
		return *wh, true
	}
	return SQLWarehouse{}, false
}

// RequireSQLWarehouse makes the v4 trace calls without sql_warehouse_id
// fail as they do in a workspace without a default warehouse.
func (w *Workspace) RequireSQLWarehouse(on bool) {
	w.mu.Lock()
	defer w.mu.Unlock()
	w.sql.require = on
}

// WarehouseCalls returns the v4 trace calls received so far.
func (w *Workspace) WarehouseCalls() []WarehouseCall {
	w.mu.Lock()
	defer w.mu.Unlock()
	return slices.Clone(w.sql.calls)
}

// serveSQLAdmin serves the fake's warehouse admin routes:
//
//	POST /__fake/sql-warehouses          a SQLWarehouse (id, state, start_polls)
//	GET  /__fake/sql-warehouses          {"warehouses": [...], "calls": [...]}
//	POST /__fake/require-sql-warehouse   {"on": bool}
//	POST /__fake/online-traces           {"experiment_id", "trace_id", "trace_info", "trace_data"}: AddOnlineTrace
func (w *Workspace) serveSQLAdmin(rw http.ResponseWriter, r *http.Request) bool {
	switch r.Method + " " + r.URL.Path {
	case "POST " + pathAdminSQL:
		var wh SQLWarehouse
		if err := json.NewDecoder(io.LimitReader(r.Body, 1<<20)).Decode(&wh); err != nil || wh.ID == "" || wh.State == "" {
			http.Error(rw, `sql-warehouses: want {"id", "state"}`, http.StatusBadRequest)
			return true
		}
		w.AddSQLWarehouse(wh)
		writeJSON(rw, map[string]string{})
	case "GET " + pathAdminSQL:
		w.mu.Lock()
		whs := []SQLWarehouse{}
		for _, id := range sortedKeys(w.sql.warehouses) {
			whs = append(whs, *w.sql.warehouses[id])
		}
		calls := append([]WarehouseCall{}, w.sql.calls...)
		w.mu.Unlock()
		writeJSON(rw, map[string]any{"warehouses": whs, "calls": calls})
	case "POST " + pathAdminOnline:
		var in struct {
			ExperimentID string          `json:"experiment_id"`
			TraceID      string          `json:"trace_id"`
			TraceInfo    json.RawMessage `json:"trace_info"`
			TraceData    json.RawMessage `json:"trace_data"`
		}
		if err := json.NewDecoder(io.LimitReader(r.Body, maxBody)).Decode(&in); err != nil || in.ExperimentID == "" || in.TraceID == "" || in.TraceInfo == nil || in.TraceData == nil {
			http.Error(rw, `online-traces: want {"experiment_id", "trace_id", "trace_info", "trace_data"}`, http.StatusBadRequest)
			return true
		}
		w.AddOnlineTrace(in.ExperimentID, in.TraceID, in.TraceInfo, in.TraceData)
		writeJSON(rw, map[string]string{})
	case "POST " + pathAdminRequire:
		var in struct{ On bool }
		if err := json.NewDecoder(io.LimitReader(r.Body, 1<<20)).Decode(&in); err != nil {
			http.Error(rw, `require-sql-warehouse: want {"on": bool}`, http.StatusBadRequest)
			return true
		}
		w.RequireSQLWarehouse(in.On)
		writeJSON(rw, map[string]string{})
	default:
		return false
	}
	return true
}

// serveWarehouses serves GET /api/2.0/sql/warehouses/{id} and POST
// …/{id}/start; false when p is neither.
func (w *Workspace) serveWarehouses(rw http.ResponseWriter, r *http.Request) bool {
	if r.URL.Path == pathUnifiedTraces {
		if w.method(rw, r, http.MethodGet) {
			w.serveUnifiedTraces(rw, r)
		}
		return true
	}
	if r.URL.Path == pathOnlineTraceDetails {
		if w.method(rw, r, http.MethodGet) {
			w.serveOnlineTraceDetails(rw, r) // online.go
		}
		return true
	}
	rest, ok := strings.CutPrefix(r.URL.Path, pathWarehouses)
	if !ok || rest == "" {
		return false
	}
	id, action, _ := strings.Cut(rest, "/")
	id = unescape(id)
	switch action {
	case "":
		if !w.method(rw, r, http.MethodGet) {
			return true
		}
		w.mu.Lock()
		defer w.mu.Unlock()
		wh := w.sql.warehouses[id]
		if wh == nil {
			apiError(rw, http.StatusNotFound, "RESOURCE_DOES_NOT_EXIST", fmt.Sprintf("Warehouse %s does not exist.", id))
			return true
		}
		if wh.State == warehouseStarting {
			if wh.StartPolls > 0 {
				wh.StartPolls--
			} else {
				wh.State = warehouseRunning
			}
		}
		writeJSON(rw, map[string]any{"id": wh.ID, "name": "warehouse " + wh.ID, "state": wh.State})
	case "start":
		if !w.method(rw, r, http.MethodPost) {
			return true
		}
		b, _ := io.ReadAll(io.LimitReader(r.Body, 1<<20))
		var body map[string]any
		if len(bytes.TrimSpace(b)) > 0 && (json.Unmarshal(b, &body) != nil || len(body) > 0) {
			w.reject("start warehouse %s: body %q (want {} or none)", id, b)
			apiError(rw, http.StatusBadRequest, "INVALID_PARAMETER_VALUE", "unexpected request body")
			return true
		}
		w.mu.Lock()
		defer w.mu.Unlock()
		wh := w.sql.warehouses[id]
		if wh == nil {
			apiError(rw, http.StatusNotFound, "RESOURCE_DOES_NOT_EXIST", fmt.Sprintf("Warehouse %s does not exist.", id))
			return true
		}
		wh.Starts++
		if wh.State != warehouseRunning && !wh.FailStart {
			wh.State = warehouseStarting
		}
		writeJSON(rw, map[string]any{})
	default:
		return false
	}
	return true
}

// warehouseParams returns the query parameters the request message of a v4
// trace call has (MLflow 3.17.2's databricks_tracing.proto, GET and DELETE
// requests carry their fields as the query), and whether the call is one
// that the fake checks. parts is the path after /api/4.0/mlflow/traces/.
func warehouseParams(method string, parts []string) ([]string, bool) {
	switch {
	case len(parts) == 2 && parts[1] == "batchGet" && method == http.MethodGet:
		return []string{"location_id", "trace_ids", "sql_warehouse_id"}, true
	case len(parts) == 3 && parts[2] == "info" && method == http.MethodGet:
		return []string{"trace_id", "location", "sql_warehouse_id"}, true
	case len(parts) >= 3 && parts[2] == "assessments":
		if method == http.MethodPatch {
			return []string{"sql_warehouse_id", "update_mask"}, true
		}
		return []string{"sql_warehouse_id"}, true
	case len(parts) == 3 && parts[2] == "tags" && method == http.MethodPatch:
		return nil, true // SetTraceTag has no sql_warehouse_id
	case len(parts) >= 4 && parts[2] == "tags" && method == http.MethodDelete:
		return []string{"sql_warehouse_id"}, true
	}
	return nil, false
}

// checkWarehouse checks and records the sql_warehouse_id of the v4 trace
// calls and the long-running search. It answers (and returns true) when it
// refuses the request; otherwise the request goes on to its route, with its
// body intact.
func (w *Workspace) checkWarehouse(rw http.ResponseWriter, r *http.Request) bool {
	p := r.URL.Path
	call := WarehouseCall{Method: r.Method, Path: p}
	if len(r.URL.RawQuery) > 0 {
		call.Query = r.URL.Query()
	}
	var id string
	switch {
	case p == pathV4Search && r.Method == http.MethodPost:
		b, err := io.ReadAll(io.LimitReader(r.Body, maxBody+1))
		if err != nil {
			return false // the route reports it
		}
		r.Body = io.NopCloser(bytes.NewReader(b))
		var in struct {
			ID      any `json:"sql_warehouse_id"`
			IDCamel any `json:"sqlWarehouseId"` // protobuf JSON takes both names
		}
		if json.Unmarshal(b, &in) != nil {
			return false // the route's message check reports it
		}
		if in.ID == nil {
			in.ID = in.IDCamel
		}
		call.Body = json.RawMessage(b)
		s, isString := in.ID.(string)
		if in.ID != nil && (!isString || s == "") {
			return w.refuseWarehouse(rw, call, "SearchTracesLongRunning: sql_warehouse_id %s is not a non-empty string", b)
		}
		id, call.In = s, "body"
		if id == "" {
			call.In = ""
		}
	case strings.HasPrefix(p, pathV4Prefix) && p != pathV4Search && !strings.HasPrefix(p, pathV4Operations):
		parts := strings.Split(strings.TrimPrefix(p, pathV4Prefix), "/")
		allowed, checked := warehouseParams(r.Method, parts)
		if !checked {
			return false
		}
		q := r.URL.Query()
		for k := range q {
			if !slices.Contains(allowed, k) {
				return w.refuseWarehouse(rw, call, "%s %s: query parameter %q is not a field of the request message (want %v)", r.Method, p, k, allowed)
			}
		}
		if ids, ok := q["sql_warehouse_id"]; ok {
			if len(ids) != 1 || ids[0] == "" {
				return w.refuseWarehouse(rw, call, "%s %s: sql_warehouse_id %q: want one non-empty id", r.Method, p, ids)
			}
			id, call.In = ids[0], "query"
		}
		if len(parts) == 3 && parts[2] == "info" {
			if loc, hex := unescape(parts[0]), unescape(parts[1]); (q.Has("location") && q.Get("location") != loc) || (q.Has("trace_id") && q.Get("trace_id") != hex) {
				return w.refuseWarehouse(rw, call, "GetTraceInfo: query location %q / trace_id %q do not match the path's %q / %q", q.Get("location"), q.Get("trace_id"), loc, hex)
			}
		}
	default:
		return false
	}
	call.SQLWarehouseID = id
	w.mu.Lock()
	w.sql.calls = append(w.sql.calls, call)
	require := w.sql.require
	wh := w.sql.warehouses[id]
	var state string
	if wh != nil {
		state = wh.State
	}
	w.mu.Unlock()
	switch {
	case id == "" && require:
		apiError(rw, http.StatusBadRequest, "INVALID_PARAMETER_VALUE", "Could not resolve a SQL warehouse ID for this request. Please specify sql_warehouse_id.")
		return true
	case id == "":
		return false
	case wh == nil:
		w.reject("%s %s: sql_warehouse_id %q names no warehouse", r.Method, p, id)
		apiError(rw, http.StatusBadRequest, "INVALID_PARAMETER_VALUE", fmt.Sprintf("SQL warehouse %s does not exist.", id))
		return true
	case state != warehouseRunning:
		w.reject("%s %s: SQL warehouse %q is %s", r.Method, p, id, state)
		apiError(rw, http.StatusBadRequest, "INVALID_PARAMETER_VALUE", fmt.Sprintf("SQL warehouse %s is not running (state %s).", id, state))
		return true
	}
	return false
}

func (w *Workspace) refuseWarehouse(rw http.ResponseWriter, call WarehouseCall, format string, args ...any) bool {
	w.mu.Lock()
	w.sql.calls = append(w.sql.calls, call)
	w.mu.Unlock()
	msg := w.reject(format, args...)
	apiError(rw, http.StatusBadRequest, "INVALID_PARAMETER_VALUE", msg)
	return true
}

// serveUnifiedTraces is SearchUnifiedTraces (GET, the message as the query):
// model_id and sql_warehouse_id (a known warehouse; MLflow does not start
// it first) are required, experiment_ids are searched with the filter
// request_metadata.`mlflow.modelId` = '<model id>' (and filter), answered as
// mlflow.TraceInfo (v2) messages. Recorded as a WarehouseCall.
func (w *Workspace) serveUnifiedTraces(rw http.ResponseWriter, r *http.Request) {
	q := r.URL.Query()
	call := WarehouseCall{Method: r.Method, Path: r.URL.Path, Query: q, SQLWarehouseID: q.Get("sql_warehouse_id"), In: "query"}
	allowed := []string{"model_id", "sql_warehouse_id", "experiment_ids", "filter", "max_results", "order_by", "page_token"}
	for k, v := range q {
		switch {
		case !slices.Contains(allowed, k):
			w.refuseWarehouse(rw, call, "SearchUnifiedTraces: query parameter %q is not a field of the request message (want %v)", k, allowed)
			return
		case k != "experiment_ids" && k != "order_by" && len(v) != 1:
			w.refuseWarehouse(rw, call, "SearchUnifiedTraces: %s given %d times", k, len(v))
			return
		}
	}
	max := 100
	if s := q.Get("max_results"); s != "" {
		n, err := strconv.Atoi(s)
		if err != nil || n <= 0 {
			w.refuseWarehouse(rw, call, "SearchUnifiedTraces: max_results %q is not a positive int32", s)
			return
		}
		max = n
	}
	switch {
	case q.Get("model_id") == "":
		w.refuseWarehouse(rw, call, "SearchUnifiedTraces: no model_id")
		return
	case call.SQLWarehouseID == "":
		w.refuseWarehouse(rw, call, "SearchUnifiedTraces: no sql_warehouse_id")
		return
	case len(q["experiment_ids"]) == 0:
		w.refuseWarehouse(rw, call, "SearchUnifiedTraces: no experiment_ids")
		return
	}
	w.mu.Lock()
	w.sql.calls = append(w.sql.calls, call)
	known := w.sql.warehouses[call.SQLWarehouseID] != nil
	w.mu.Unlock()
	if !known {
		w.reject("SearchUnifiedTraces: sql_warehouse_id %q names no warehouse", call.SQLWarehouseID)
		apiError(rw, http.StatusBadRequest, "INVALID_PARAMETER_VALUE", fmt.Sprintf("SQL warehouse %s does not exist.", call.SQLWarehouseID))
		return
	}
	filter := "request_metadata.`mlflow.modelId` = '" + q.Get("model_id") + "'"
	if f := q.Get("filter"); f != "" {
		filter += " AND " + f
	}
	locs := map[string]bool{}
	for _, id := range q["experiment_ids"] {
		locs[id] = true
	}
	infos, next, err := w.search(locs, filter, q["order_by"], max, q.Get("page_token"))
	if err != nil {
		w.reject("SearchUnifiedTraces: %v", err)
		apiError(rw, http.StatusBadRequest, "INVALID_PARAMETER_VALUE", err.Error())
		return
	}
	out := []map[string]any{}
	for _, m := range infos {
		out = append(out, traceInfoV2(m))
	}
	writeJSON(rw, map[string]any{"traces": out, "next_page_token": next})
}

// traceInfoV2 turns a stored trace info (TraceInfoV3 JSON) into the
// mlflow.TraceInfo (v2) message a workspace answers SearchUnifiedTraces
// with (int64s as strings, metadata and tags as key/value lists).
func traceInfoV2(m map[string]any) map[string]any {
	var in struct {
		TraceID  string `json:"trace_id"`
		Location struct {
			MLflowExperiment struct {
				ExperimentID string `json:"experiment_id"`
			} `json:"mlflow_experiment"`
		} `json:"trace_location"`
		RequestTime string            `json:"request_time"`
		Duration    string            `json:"execution_duration"`
		State       string            `json:"state"`
		Metadata    map[string]string `json:"trace_metadata"`
		Tags        map[string]string `json:"tags"`
	}
	b, _ := json.Marshal(m)
	_ = json.Unmarshal(b, &in)
	ts, _ := time.Parse(time.RFC3339Nano, in.RequestTime)
	d, _ := time.ParseDuration(in.Duration)
	status := in.State
	if status == "" || status == "STATE_UNSPECIFIED" {
		status = "TRACE_STATUS_UNSPECIFIED"
	}
	kvs := func(m map[string]string) []map[string]string {
		out := []map[string]string{}
		for _, k := range sortedKeys(m) {
			out = append(out, map[string]string{"key": k, "value": m[k]})
		}
		return out
	}
	return map[string]any{
		"request_id": in.TraceID, "experiment_id": in.Location.MLflowExperiment.ExperimentID,
		"timestamp_ms": strconv.FormatInt(ts.UnixMilli(), 10), "execution_time_ms": strconv.FormatInt(d.Milliseconds(), 10),
		"status": status, "request_metadata": kvs(in.Metadata), "tags": kvs(in.Tags),
	}
}
