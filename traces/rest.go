package traces

import (
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"net/http"
	"net/url"
	"os"
	"path/filepath"
	"strconv"
	"strings"
	"time"

	"github.com/mlflowtrace/mlflowtrace-go/exporter"
	"github.com/mlflowtrace/mlflowtrace-go/internal/keys"
	"github.com/mlflowtrace/mlflowtrace-go/internal/localstore"
	"github.com/mlflowtrace/mlflowtrace-go/internal/mlflowrest"
	"github.com/mlflowtrace/mlflowtrace-go/internal/otlpconv"
	"github.com/mlflowtrace/mlflowtrace-go/internal/tracemodel"
	"github.com/mlflowtrace/mlflowtrace-go/internal/transport"
)

// REST routes (MLflow 3.17.2's RestStore and DatabricksTracingRestStore).
const (
	pathV3Traces       = "/api/3.0/mlflow/traces"
	pathV2Traces       = "/api/2.0/mlflow/traces"
	pathV4Traces       = "/api/4.0/mlflow/traces"
	pathDeleteTraces   = "/api/2.0/mlflow/traces/delete-traces"
	pathGetRun         = "/api/2.0/mlflow/runs/get"
	pathArtifacts      = "/api/2.0/mlflow-artifacts/artifacts/"
	pathFiles          = "/api/2.0/fs/files"
	spansTrackingStore = "TRACKING_STORE"
	deleteBatchSize    = 100
	searchPollInterval = time.Second
)

// restBackend is an MLflow tracking server or a Databricks workspace.
type restBackend struct {
	c          *transport.Client
	databricks bool
	exp        *mlflowrest.Resolver
	ucSchema   string
	// closeAuth closes the credentials' own idle connections (Databricks
	// OAuth), nil when there are none.
	closeAuth func()
	// wh is the SQL warehouse the Databricks v4 calls name (nil or an
	// empty id: none).
	wh *warehouse
}

var _ backend = (*restBackend)(nil)

func newREST(c *transport.Client, databricks bool, exp *mlflowrest.Resolver, ucSchema string) *restBackend {
	return &restBackend{c: c, databricks: databricks, exp: exp, ucSchema: ucSchema}
}

func (r *restBackend) close() {
	r.c.CloseIdleConnections()
	if r.closeAuth != nil {
		r.closeAuth()
	}
}

// call sends a JSON request and decodes the JSON answer into out (when not
// nil): mlflowrest.Call.
func (r *restBackend) call(ctx context.Context, method, path string, body, out any) error {
	err := mlflowrest.Call(ctx, r.c, "traces", method, path, body, out)
	if r.databricks {
		err = warehouseRequired(err)
	}
	return err
}

// withWarehouse returns path with the SQL warehouse's id as its query
// parameter sql_warehouse_id (after the query path already has), as MLflow's
// _append_sql_warehouse_id_param and its GET requests carry it; path as is
// without a warehouse.
func (r *restBackend) withWarehouse(ctx context.Context, path string) (string, error) {
	id, err := r.wh.ID(ctx)
	if err != nil || id == "" {
		return path, err
	}
	return withQuery(path, "sql_warehouse_id", id), nil
}

// withQuery appends key=value to path's query (starting one when path has
// none).
func withQuery(path, key, value string) string {
	sep := "?"
	if strings.Contains(path, "?") {
		sep = "&"
	}
	return path + sep + key + "=" + url.QueryEscape(value)
}

// wrap turns a backend error about what/id into this package's errors: a
// typed not-found, or the error with "traces:" in front.
func wrap(err error, what, id string) error {
	if err == nil {
		return nil
	}
	var nf *NotFoundError
	if errors.As(err, &nf) {
		return err
	}
	code := transport.ErrorCode(err)
	if code == "RESOURCE_DOES_NOT_EXIST" || code == "NOT_FOUND" || transport.StatusCode(err) == http.StatusNotFound && code != "ENDPOINT_NOT_FOUND" {
		return &NotFoundError{What: what, ID: id, Err: err}
	}
	if strings.HasPrefix(err.Error(), "traces:") {
		return err
	}
	return fmt.Errorf("traces: %s %s: %w", what, id, err)
}

// parseV4 splits a Unity Catalog trace id "trace:/<location>/<hex>".
func parseV4(id string) (location, hex string, ok bool) {
	rest, ok := strings.CutPrefix(id, "trace:/")
	if !ok {
		return "", "", false
	}
	i := strings.LastIndexByte(rest, '/')
	if i <= 0 || i == len(rest)-1 {
		return "", "", false
	}
	return rest[:i], rest[i+1:], true
}

func v4Path(location, hex string) string {
	return pathV4Traces + "/" + url.PathEscape(location) + "/" + url.PathEscape(hex)
}

// v4Location is the trace_location of a Unity Catalog location
// "<catalog>.<schema>[.<table prefix>]".
func v4Location(location string) map[string]any {
	parts := strings.Split(location, ".")
	if len(parts) == 3 {
		return map[string]any{"type": "UC_TABLE_PREFIX", "uc_table_prefix": map[string]string{
			"catalog_name": parts[0], "schema_name": parts[1], "table_prefix": parts[2]}}
	}
	if len(parts) == 2 {
		return map[string]any{"type": "UC_SCHEMA", "uc_schema": map[string]string{"catalog_name": parts[0], "schema_name": parts[1]}}
	}
	return map[string]any{"type": "MLFLOW_EXPERIMENT", "mlflow_experiment": map[string]string{"experiment_id": location}}
}

// fullID gives a Unity Catalog trace info its "trace:/<location>/<hex>" id,
// as MLflow's TraceInfo.from_proto does.
func fullID(info *exporter.TraceInfo) {
	if strings.HasPrefix(info.TraceID, "trace:/") {
		return
	}
	switch {
	case info.UCSchema != nil:
		info.TraceID = tracemodel.UCRequestIDPrefix(info.UCSchema.CatalogName+"."+info.UCSchema.SchemaName) + info.TraceID
	case info.UCTablePrefix != nil:
		info.TraceID = tracemodel.UCRequestIDPrefix(info.UCTablePrefix.Location()) + info.TraceID
	}
	for i := range info.Assessments {
		if _, _, ok := parseV4(info.Assessments[i].TraceID); !ok {
			info.Assessments[i].TraceID = info.TraceID
		}
	}
}

// asRead gives an assessment read from a server the shape MLflow's
// Assessment.from_proto gives it: a feedback's valid is true when the
// backend left it out (a proto2 field with [default = true]), an
// expectation has none.
func asRead(a *exporter.Assessment, feedbackDefault bool) {
	switch {
	case a.Feedback != nil && a.Valid == nil:
		a.Valid = &feedbackDefault
	case a.Feedback == nil:
		a.Valid = nil
	}
}

func asReadInfo(info *exporter.TraceInfo, feedbackDefault bool) {
	for i := range info.Assessments {
		asRead(&info.Assessments[i], feedbackDefault)
	}
}

type traceEnvelope struct {
	Trace struct {
		TraceInfo *exporter.TraceInfo `json:"trace_info"`
		Spans     []json.RawMessage   `json:"spans"`
	} `json:"trace"`
}

func (r *restBackend) traceInfo(ctx context.Context, id string) (*exporter.TraceInfo, error) {
	var env traceEnvelope
	path := pathV3Traces + "/" + url.PathEscape(id)
	if loc, hex, ok := parseV4(id); ok {
		// MLflow's v4 GetTraceInfo is a GET: its request message's fields
		// are the query.
		var err error
		path, err = r.withWarehouse(ctx, v4Path(loc, hex)+"/info?"+url.Values{"trace_id": {hex}, "location": {loc}}.Encode())
		if err != nil {
			return nil, err
		}
	}
	if err := r.call(ctx, http.MethodGet, path, nil, &env); err != nil {
		return nil, wrap(err, "trace", id)
	}
	info := env.Trace.TraceInfo
	if info == nil {
		return nil, &NotFoundError{What: "trace", ID: id}
	}
	fullID(info)
	asReadInfo(info, true)
	return info, nil
}

func (r *restBackend) trace(ctx context.Context, id string) (*exporter.Trace, error) {
	if loc, hex, ok := parseV4(id); ok {
		traces, err := r.batchGetV4(ctx, loc, []string{hex})
		if err != nil {
			return nil, wrap(err, "trace", id)
		}
		if len(traces) == 0 {
			return nil, &NotFoundError{What: "trace", ID: id}
		}
		return traces[0], nil
	}
	info, err := r.traceInfo(ctx, id)
	if err != nil {
		return nil, err
	}
	spans, err := r.spans(ctx, info)
	if err != nil {
		return nil, err
	}
	return &exporter.Trace{Info: *info, Spans: spans}, nil
}

// batchGetV4 reads Unity Catalog traces with their spans (v4 BatchGetTraces).
func (r *restBackend) batchGetV4(ctx context.Context, location string, hexIDs []string) ([]*exporter.Trace, error) {
	q := url.Values{"location_id": {location}}
	for _, h := range hexIDs {
		q.Add("trace_ids", h)
	}
	wh, err := r.wh.ID(ctx)
	if err != nil {
		return nil, err
	}
	if wh != "" {
		q.Set("sql_warehouse_id", wh)
	}
	got, err := r.batchGetAt(ctx, pathV4Traces+"/"+url.PathEscape(location)+"/batchGet?"+q.Encode(), func(info *exporter.TraceInfo) {
		fullID(info) // before the spans are parsed: they carry the full id
		asReadInfo(info, true)
	})
	if err != nil {
		return nil, err
	}
	traces := make([]*exporter.Trace, 0, len(got))
	for _, t := range got {
		if t.err != nil {
			return nil, t.err
		}
		traces = append(traces, &exporter.Trace{Info: *t.info, Spans: t.spans})
	}
	return traces, nil
}

// batchGot is one trace of a batchGet answer: its info, and its spans or
// why they do not parse.
type batchGot struct {
	info  *exporter.TraceInfo
	spans []*exporter.Span
	err   error
}

// batchGetAt calls a v3 or v4 batchGet path and parses the traces of its
// answer (those without a trace_info are left out); prepare, if not nil,
// completes each trace's info before its spans are parsed.
func (r *restBackend) batchGetAt(ctx context.Context, path string, prepare func(*exporter.TraceInfo)) ([]batchGot, error) {
	var out struct {
		Traces []struct {
			TraceInfo *exporter.TraceInfo `json:"trace_info"`
			Spans     []json.RawMessage   `json:"spans"`
		} `json:"traces"`
	}
	if err := r.call(ctx, http.MethodGet, path, nil, &out); err != nil {
		return nil, err
	}
	got := make([]batchGot, 0, len(out.Traces))
	for _, t := range out.Traces {
		if t.TraceInfo == nil {
			continue
		}
		if prepare != nil {
			prepare(t.TraceInfo)
		}
		spans, err := otlpconv.SpansFromJSON(t.Spans, t.TraceInfo.TraceID)
		got = append(got, batchGot{info: t.TraceInfo, spans: spans, err: err})
	}
	return got, nil
}

// spans loads the spans of info from wherever the backend keeps them: Unity
// Catalog tables, the tracking store, or the traces.json artifact.
func (r *restBackend) spans(ctx context.Context, info *exporter.TraceInfo) ([]*exporter.Span, error) {
	if loc, hex, ok := parseV4(info.TraceID); ok {
		traces, err := r.batchGetV4(ctx, loc, []string{hex})
		if err != nil {
			return nil, wrap(err, "trace", info.TraceID)
		}
		if len(traces) == 0 {
			return nil, &NotFoundError{What: "trace", ID: info.TraceID}
		}
		return traces[0].Spans, nil
	}
	if info.Tags[keys.TagSpansLocation] == spansTrackingStore {
		var env traceEnvelope
		err := r.call(ctx, http.MethodGet, pathV3Traces+"/get?trace_id="+url.QueryEscape(info.TraceID), nil, &env)
		if err == nil {
			return otlpconv.SpansFromJSON(env.Trace.Spans, info.TraceID)
		}
		if !strings.Contains(err.Error(), "Trace with ID 'get' not found") {
			return nil, wrap(err, "trace", info.TraceID)
		}
		// An older server: the route does not exist; the artifact may.
	}
	data, err := r.traceData(ctx, info)
	if err != nil {
		return nil, wrap(err, "trace", info.TraceID)
	}
	return localstore.ParseTraceData(data)
}

// batchGetSize is how many traces one batchGet asks for (MLflow's
// MLFLOW_SEARCH_TRACES_MAX_BATCH_SIZE default: the endpoint's limit).
const batchGetSize = 10

// pageSpans loads a search page's spans as MLflow's client does: traces an
// MLflow server keeps in its tracking store come in batches of
// batchGetSize from GET /api/3.0/mlflow/traces/batchGet, Unity Catalog
// traces in batches of batchGetSize per location from the v4 batchGet,
// every other trace on its own (traces.json artifacts, online traces); up
// to loads requests run at once. A batch that fails is loaded again one
// trace at a time (an older server has no v3 batchGet; one bad trace does
// not cost the others their spans).
func (r *restBackend) pageSpans(ctx context.Context, infos []*exporter.TraceInfo, loads int) ([][]*exporter.Span, []bool) {
	spans, ok := make([][]*exporter.Span, len(infos)), make([]bool, len(infos))
	var single []int // indexes loaded one by one
	type batch struct {
		location string // Unity Catalog location (v4), or "" (v3)
		idx      []int
	}
	var batches []batch
	open := map[string]int{} // location → its batch being filled
	for i, info := range infos {
		loc, _, v4 := parseV4(info.TraceID)
		if !v4 && (r.databricks || info.Tags[keys.TagSpansLocation] != spansTrackingStore) {
			single = append(single, i)
			continue
		}
		b, found := open[loc]
		if !found || len(batches[b].idx) == batchGetSize {
			b = len(batches)
			open[loc] = b
			batches = append(batches, batch{location: loc})
		}
		batches[b].idx = append(batches[b].idx, i)
	}
	failed := make([]bool, len(batches))
	loadEach(len(batches), loads, func(k int) {
		b := batches[k]
		var got map[string][]*exporter.Span
		var err error
		if b.location != "" {
			got, err = r.batchGetV4Spans(ctx, b.location, infos, b.idx)
		} else {
			got, err = r.batchGet(ctx, infos, b.idx)
		}
		if failed[k] = err != nil; failed[k] {
			return
		}
		for _, i := range b.idx {
			spans[i], ok[i] = got[infos[i].TraceID]
		}
	})
	for k, f := range failed {
		if f {
			single = append(single, batches[k].idx...)
		}
	}
	loadEach(len(single), loads, func(k int) {
		i := single[k]
		var err error
		if r.online(infos[i]) {
			spans[i], err = r.onlineSpans(ctx, infos[i])
		} else {
			spans[i], err = r.spans(ctx, infos[i])
		}
		ok[i] = err == nil
	})
	return spans, ok
}

// batchGetV4Spans returns the spans of the Unity Catalog traces infos[idx],
// all in location, by trace id, from one v4 batchGet.
func (r *restBackend) batchGetV4Spans(ctx context.Context, location string, infos []*exporter.TraceInfo, idx []int) (map[string][]*exporter.Span, error) {
	hexIDs := make([]string, len(idx))
	for k, i := range idx {
		_, hexIDs[k], _ = parseV4(infos[i].TraceID)
	}
	traces, err := r.batchGetV4(ctx, location, hexIDs)
	if err != nil {
		return nil, err
	}
	got := make(map[string][]*exporter.Span, len(traces))
	for _, t := range traces {
		got[t.Info.TraceID] = t.Spans
	}
	return got, nil
}

// batchGet returns the spans of the traces infos[idx] by trace id; a trace
// the server did not return, or whose spans do not parse, is missing.
func (r *restBackend) batchGet(ctx context.Context, infos []*exporter.TraceInfo, idx []int) (map[string][]*exporter.Span, error) {
	q := url.Values{}
	for _, i := range idx {
		q.Add("trace_ids", infos[i].TraceID)
	}
	traces, err := r.batchGetAt(ctx, pathV3Traces+"/batchGet?"+q.Encode(), nil)
	if err != nil {
		return nil, err
	}
	got := make(map[string][]*exporter.Span, len(traces))
	for _, t := range traces {
		if t.err == nil {
			got[t.info.TraceID] = t.spans
		}
	}
	return got, nil
}

// traceData downloads traces.json from the trace's artifact location.
func (r *restBackend) traceData(ctx context.Context, info *exporter.TraceInfo) ([]byte, error) {
	loc := info.Tags[keys.TagArtifactLocation]
	if loc == "" {
		return nil, fmt.Errorf("traces: trace %s cannot be loaded because it has no %s tag", info.TraceID, keys.TagArtifactLocation)
	}
	scheme, rest, _ := strings.Cut(loc, ":")
	switch {
	case scheme == "mlflow-artifacts":
		p := strings.TrimLeft(rest, "/")
		if strings.HasPrefix(rest, "//") { // mlflow-artifacts://host/path
			if i := strings.IndexByte(p, '/'); i >= 0 {
				p = p[i+1:]
			}
		}
		resp, err := r.c.Do(ctx, &transport.Request{Method: http.MethodGet, Path: pathArtifacts + mlflowrest.EscapePath(p+"/traces.json")})
		if err != nil {
			return nil, err
		}
		return resp.Body, nil
	case scheme == "dbfs" && strings.HasPrefix(rest, "/Volumes/"):
		resp, err := r.c.Do(ctx, &transport.Request{Method: http.MethodGet, Path: pathFiles + mlflowrest.EscapePath(rest+"/traces.json")})
		if err != nil {
			return nil, err
		}
		return resp.Body, nil
	case scheme == "dbfs" && r.databricks:
		return r.signedDownload(ctx, info.TraceID)
	case scheme == "file" || !strings.Contains(loc, ":") || len(scheme) == 1:
		dir := loc
		if scheme == "file" {
			u, err := url.Parse(loc)
			if err != nil {
				return nil, fmt.Errorf("traces: bad artifact location of trace %s", info.TraceID)
			}
			dir = u.Path
		}
		b, err := os.ReadFile(filepath.Join(dir, "traces.json"))
		if err != nil {
			return nil, fmt.Errorf("traces: trace %s cannot be loaded because it is missing span data (%s is not readable from this machine): %w", info.TraceID, loc, err)
		}
		return b, nil
	}
	return nil, fmt.Errorf("traces: trace %s keeps its spans in a %s: artifact store, which this client cannot read (serve artifacts through the tracking server: mlflow server --serve-artifacts)", info.TraceID, scheme)
}

// signedDownload fetches traces.json through the signed URL a Databricks
// workspace hands out (credentials-for-data-download: AWS, GCP, Azure Blob or
// ADLS Gen2; one GET with the listed headers, no workspace credentials).
func (r *restBackend) signedDownload(ctx context.Context, traceID string) ([]byte, error) {
	var out struct {
		CredentialInfo struct {
			SignedURI string `json:"signed_uri"`
			Type      string `json:"type"`
			Headers   []struct {
				Name  string `json:"name"`
				Value string `json:"value"`
			} `json:"headers"`
		} `json:"credential_info"`
	}
	if err := r.call(ctx, http.MethodGet, pathV2Traces+"/"+url.PathEscape(traceID)+"/credentials-for-data-download", nil, &out); err != nil {
		return nil, err
	}
	ci := out.CredentialInfo
	if ci.SignedURI == "" {
		return nil, fmt.Errorf("traces: the workspace gave no download URL for trace %s", traceID)
	}
	h := http.Header{}
	for _, kv := range ci.Headers {
		h.Set(kv.Name, kv.Value)
	}
	resp, err := r.c.Do(ctx, &transport.Request{Method: http.MethodGet, URL: ci.SignedURI, Header: h})
	if err != nil {
		return nil, err
	}
	return resp.Body, nil
}

func (r *restBackend) defaultLocation(ctx context.Context) (string, error) {
	if r.ucSchema != "" {
		return r.ucSchema, nil
	}
	id, err := r.exp.ID(ctx)
	if err != nil {
		return "", fmt.Errorf("traces: %w", err)
	}
	if id == "" {
		return "", invalidf("no experiment to search: set MLFLOW_EXPERIMENT_ID or MLFLOW_EXPERIMENT_NAME, or give SearchQuery.Locations")
	}
	return id, nil
}

// runExperiment returns the experiment id of run runID (GetRun).
func (r *restBackend) runExperiment(ctx context.Context, runID string) (string, error) {
	var out struct {
		Run struct {
			Info struct {
				ExperimentID string `json:"experiment_id"`
			} `json:"info"`
		} `json:"run"`
	}
	if err := r.call(ctx, http.MethodGet, pathGetRun+"?run_id="+url.QueryEscape(runID), nil, &out); err != nil {
		return "", wrap(err, "run", runID)
	}
	return out.Run.Info.ExperimentID, nil
}

type searchRequest struct {
	Locations  []map[string]any `json:"locations"`
	Filter     string           `json:"filter,omitempty"`
	MaxResults int              `json:"max_results,omitempty"`
	OrderBy    []string         `json:"order_by,omitempty"`
	PageToken  string           `json:"page_token,omitempty"`
	// SQLWarehouseID: the v4 search only (SearchTracesV3 has no such
	// field).
	SQLWarehouseID string `json:"sql_warehouse_id,omitempty"`
}

func (r *restBackend) search(ctx context.Context, q SearchQuery) ([]*exporter.TraceInfo, string, error) {
	req := searchRequest{Filter: q.Filter, MaxResults: q.MaxResults, OrderBy: q.OrderBy, PageToken: q.PageToken}
	hasUC := false
	for _, l := range q.Locations {
		if strings.Contains(l, ".") {
			if !r.databricks {
				return nil, "", invalidf("location %q: Unity Catalog locations are only searchable on Databricks", l)
			}
			hasUC = true
		}
		req.Locations = append(req.Locations, v4Location(l))
	}
	if r.databricks && q.ModelID != "" {
		return r.searchUnified(ctx, q) // only with a SQL warehouse: normalize
	}
	if r.databricks {
		v4 := req
		var err error
		if v4.SQLWarehouseID, err = r.wh.ID(ctx); err != nil {
			return nil, "", err
		}
		infos, next, err := r.searchV4(ctx, v4)
		if err == nil {
			return infos, next, nil
		}
		code := transport.ErrorCode(err)
		fallback := code == "ENDPOINT_NOT_FOUND" ||
			(code == "INVALID_PARAMETER_VALUE" && strings.Contains(err.Error(), "locations not yet supported"))
		if !fallback || hasUC {
			return nil, "", wrap(err, "search in", strings.Join(q.Locations, ","))
		}
	}
	var out struct {
		Traces        []*exporter.TraceInfo `json:"traces"`
		NextPageToken string                `json:"next_page_token"`
	}
	if err := r.call(ctx, http.MethodPost, pathV3Traces+"/search", req, &out); err != nil {
		return nil, "", wrap(err, "search in", strings.Join(q.Locations, ","))
	}
	for _, info := range out.Traces {
		fullID(info)
		asReadInfo(info, true)
	}
	return out.Traces, out.NextPageToken, nil
}

type searchOperation struct {
	Name  string `json:"name"`
	Done  bool   `json:"done"`
	Error *struct {
		ErrorCode string `json:"error_code"`
		Message   string `json:"message"`
	} `json:"error"`
	Response struct {
		TraceInfos    []*exporter.TraceInfo `json:"trace_infos"`
		NextPageToken string                `json:"next_page_token"`
	} `json:"response"`
}

// searchV4 is Databricks' long-running search: start it, poll its
// operation until done.
func (r *restBackend) searchV4(ctx context.Context, req searchRequest) ([]*exporter.TraceInfo, string, error) {
	var op searchOperation
	if err := r.call(ctx, http.MethodPost, pathV4Traces+"/search-long-running", req, &op); err != nil {
		return nil, "", err
	}
	for !op.Done {
		t := time.NewTimer(searchPollInterval)
		select {
		case <-ctx.Done():
			t.Stop()
			return nil, "", ctx.Err()
		case <-t.C:
		}
		name := op.Name
		op = searchOperation{}
		if err := r.call(ctx, http.MethodGet, pathV4Traces+"/search/operations/"+url.PathEscape(name), nil, &op); err != nil {
			return nil, "", err
		}
	}
	if op.Error != nil {
		return nil, "", fmt.Errorf("traces: search failed: %s %s", op.Error.ErrorCode, op.Error.Message)
	}
	for _, info := range op.Response.TraceInfos {
		fullID(info)
		asReadInfo(info, true)
	}
	return op.Response.TraceInfos, op.Response.NextPageToken, nil
}

// --- assessments -------------------------------------------------------------

// assessmentBody encodes a for a request: for a Unity Catalog trace, with
// its trace_location and the hex trace id (MLflow's assessment_to_proto).
func assessmentBody(a *exporter.Assessment) ([]byte, error) {
	loc, hex, ok := parseV4(a.TraceID)
	if !ok {
		return a.MarshalJSON()
	}
	c := *a
	c.TraceID = hex
	b, err := c.MarshalJSON()
	if err != nil {
		return nil, err
	}
	l, _ := json.Marshal(v4Location(loc))
	return append(append(append([]byte(`{"trace_location": `), l...), ", "...), b[1:]...), nil
}

func (r *restBackend) readAssessment(body []byte, wrapped bool, traceID string) (*exporter.Assessment, error) {
	var a exporter.Assessment
	if wrapped {
		var env struct {
			Assessment *exporter.Assessment `json:"assessment"`
		}
		if err := json.Unmarshal(body, &env); err != nil || env.Assessment == nil {
			return nil, fmt.Errorf("traces: malformed assessment response")
		}
		a = *env.Assessment
	} else if err := json.Unmarshal(body, &a); err != nil {
		return nil, fmt.Errorf("traces: malformed assessment response: %w", err)
	}
	if _, _, ok := parseV4(traceID); ok {
		a.TraceID = traceID
	}
	asRead(&a, true)
	return &a, nil
}

func (r *restBackend) assessmentPath(traceID, assessmentID string) string {
	if loc, hex, ok := parseV4(traceID); ok {
		p := v4Path(loc, hex) + "/assessments"
		if assessmentID != "" {
			p += "/" + url.PathEscape(assessmentID)
		}
		return p
	}
	p := pathV3Traces + "/" + url.PathEscape(traceID) + "/assessments"
	if assessmentID != "" {
		p += "/" + url.PathEscape(assessmentID)
	}
	return p
}

func (r *restBackend) send(ctx context.Context, method, path string, body []byte) ([]byte, error) {
	req := &transport.Request{Method: method, Path: path}
	if body != nil {
		req.Body, req.Header = body, http.Header{"Content-Type": {"application/json"}}
	}
	resp, err := r.c.Do(ctx, req)
	if err != nil {
		if r.databricks {
			err = warehouseRequired(err)
		}
		return nil, err
	}
	return resp.Body, nil
}

// v4AssessmentPath is assessmentPath with the SQL warehouse's id for a Unity
// Catalog trace.
func (r *restBackend) v4AssessmentPath(ctx context.Context, traceID, assessmentID string) (string, error) {
	p := r.assessmentPath(traceID, assessmentID)
	if _, _, v4 := parseV4(traceID); v4 {
		return r.withWarehouse(ctx, p)
	}
	return p, nil
}

func (r *restBackend) createAssessment(ctx context.Context, a *exporter.Assessment) (*exporter.Assessment, error) {
	body, err := assessmentBody(a)
	if err != nil {
		return nil, invalidf("%v", err)
	}
	_, _, v4 := parseV4(a.TraceID)
	if !v4 {
		body = append(append([]byte(`{"assessment": `), body...), '}')
	}
	path, err := r.v4AssessmentPath(ctx, a.TraceID, "")
	if err != nil {
		return nil, err
	}
	resp, err := r.send(ctx, http.MethodPost, path, body)
	if err != nil {
		if a.Overrides != "" && transport.ErrorCode(err) == "RESOURCE_DOES_NOT_EXIST" && !strings.Contains(err.Error(), "Trace") {
			return nil, wrap(err, "assessment", a.Overrides)
		}
		return nil, wrap(err, "trace", a.TraceID)
	}
	return r.readAssessment(resp, !v4, a.TraceID)
}

func (r *restBackend) getAssessment(ctx context.Context, traceID, assessmentID string) (*exporter.Assessment, error) {
	path, err := r.v4AssessmentPath(ctx, traceID, assessmentID)
	if err != nil {
		return nil, err
	}
	resp, err := r.send(ctx, http.MethodGet, path, nil)
	if err != nil {
		return nil, wrap(err, "assessment", assessmentID)
	}
	_, _, v4 := parseV4(traceID)
	return r.readAssessment(resp, !v4, traceID)
}

func (r *restBackend) updateAssessment(ctx context.Context, traceID, assessmentID string, u AssessmentUpdate) (*exporter.Assessment, error) {
	a := &exporter.Assessment{AssessmentID: assessmentID, TraceID: traceID}
	var mask []string
	if u.Name != nil {
		a.Name = *u.Name
		mask = append(mask, "assessment_name")
	}
	// MarshalJSON needs a value; the mask says which fields count.
	switch {
	case u.Expectation != nil:
		a.Expectation = u.Expectation
		mask = append(mask, "expectation")
	case u.Feedback != nil:
		a.Feedback = u.Feedback
		mask = append(mask, "feedback")
	default:
		a.Issue = &exporter.IssueValue{}
	}
	if u.Rationale != nil {
		a.Rationale = *u.Rationale
		mask = append(mask, "rationale")
	}
	if u.Metadata != nil {
		a.Metadata, _ = metadata(u.Metadata)
		mask = append(mask, "metadata")
	}
	body, err := updateBody(a, u.Feedback == nil && u.Expectation == nil)
	if err != nil {
		return nil, invalidf("%v", err)
	}
	path, err := r.v4AssessmentPath(ctx, traceID, assessmentID)
	if err != nil {
		return nil, err
	}
	_, _, v4 := parseV4(traceID)
	if v4 {
		path = withQuery(path, "update_mask", strings.Join(mask, ","))
	} else {
		// A FieldMask in protobuf JSON: camelCase paths.
		camel := make([]string, len(mask))
		for i, p := range mask {
			camel[i] = strings.ReplaceAll(p, "_name", "Name")
		}
		body = []byte(fmt.Sprintf(`{"assessment": %s, "update_mask": %s}`, body, strconv.Quote(strings.Join(camel, ","))))
	}
	resp, err := r.send(ctx, http.MethodPatch, path, body)
	if err != nil {
		return nil, wrap(err, "assessment", assessmentID)
	}
	return r.readAssessment(resp, !v4, traceID)
}

// updateBody encodes the fields of an update; without a new value it drops
// the placeholder issue MarshalJSON needs and the source it always writes.
func updateBody(a *exporter.Assessment, noValue bool) ([]byte, error) {
	b, err := assessmentBody(a)
	if err != nil || !noValue {
		return b, err
	}
	var m map[string]json.RawMessage
	if err := json.Unmarshal(b, &m); err != nil {
		return nil, err
	}
	delete(m, "issue")
	delete(m, "source")
	return json.Marshal(m)
}

func (r *restBackend) deleteAssessment(ctx context.Context, traceID, assessmentID string) error {
	var body []byte
	if _, _, v4 := parseV4(traceID); !v4 {
		body, _ = json.Marshal(map[string]string{"trace_id": traceID, "assessment_id": assessmentID})
	}
	path, err := r.v4AssessmentPath(ctx, traceID, assessmentID)
	if err != nil {
		return err
	}
	_, err = r.send(ctx, http.MethodDelete, path, body)
	return wrap(err, "assessment", assessmentID)
}

// --- tags and deletion ---------------------------------------------------------

func (r *restBackend) setTag(ctx context.Context, traceID, key, value string) error {
	path := pathV2Traces + "/" + url.PathEscape(traceID) + "/tags"
	if loc, hex, ok := parseV4(traceID); ok {
		path = v4Path(loc, hex) + "/tags"
	}
	err := r.call(ctx, http.MethodPatch, path, map[string]string{"key": key, "value": value}, nil)
	return wrap(err, "trace", traceID)
}

func (r *restBackend) deleteTag(ctx context.Context, traceID, key string) error {
	if loc, hex, ok := parseV4(traceID); ok {
		path, err := r.withWarehouse(ctx, v4Path(loc, hex)+"/tags/"+url.PathEscape(key))
		if err != nil {
			return err
		}
		err = r.call(ctx, http.MethodDelete, path, nil, nil)
		return wrap(err, "tag", key)
	}
	err := r.call(ctx, http.MethodDelete, pathV2Traces+"/"+url.PathEscape(traceID)+"/tags", map[string]string{"key": key}, nil)
	if err != nil && strings.Contains(err.Error(), "No trace tag") {
		return &NotFoundError{What: "tag", ID: key, Err: err}
	}
	return wrap(err, "trace", traceID)
}

func (r *restBackend) deleteTraces(ctx context.Context, experimentID string, q DeleteQuery) (int, error) {
	type deleteReq struct {
		ExperimentID       string   `json:"experiment_id"`
		MaxTimestampMillis *int64   `json:"max_timestamp_millis,omitempty"`
		MaxTraces          *int     `json:"max_traces,omitempty"`
		RequestIDs         []string `json:"request_ids,omitempty"`
	}
	var out struct {
		TracesDeleted int `json:"traces_deleted"`
	}
	if len(q.TraceIDs) > 0 {
		total := 0
		for i := 0; i < len(q.TraceIDs); i += deleteBatchSize {
			batch := q.TraceIDs[i:min(i+deleteBatchSize, len(q.TraceIDs))]
			out.TracesDeleted = 0
			if err := r.call(ctx, http.MethodPost, pathDeleteTraces, deleteReq{ExperimentID: experimentID, RequestIDs: batch}, &out); err != nil {
				return total, wrap(err, "experiment", experimentID)
			}
			total += out.TracesDeleted
		}
		return total, nil
	}
	ms := q.OlderThan.UnixMilli()
	req := deleteReq{ExperimentID: experimentID, MaxTimestampMillis: &ms}
	if q.MaxTraces > 0 {
		req.MaxTraces = &q.MaxTraces
	}
	if err := r.call(ctx, http.MethodPost, pathDeleteTraces, req, &out); err != nil {
		return 0, wrap(err, "experiment", experimentID)
	}
	return out.TracesDeleted, nil
}
