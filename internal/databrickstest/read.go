package databrickstest

import (
	"crypto/rand"
	"encoding/hex"
	"encoding/json"
	"fmt"
	"net/http"
	"net/url"
	"strconv"
	"strings"
	"time"

	tracepb "go.opentelemetry.io/proto/otlp/trace/v1"
	"google.golang.org/protobuf/encoding/protojson"
	"google.golang.org/protobuf/proto"

	"github.com/mlflowtrace/mlflowtrace-go/internal/tracefilter"
	"github.com/mlflowtrace/mlflowtrace-go/internal/tracemodel"
)

// The routes that read and annotate traces, as MLflow 3.17.2's
// DatabricksTracingRestStore, RestStore and DatabricksArtifactRepository
// call them (package traces uses the same ones):
//
//	GET    /api/3.0/mlflow/traces/{id}                         trace info (+ assessments)
//	POST   /api/3.0/mlflow/traces/search                       SearchTracesV3 (experiments)
//	POST   /api/4.0/mlflow/traces/search-long-running          SearchTracesLongRunning (+ GET .../search/operations/{name})
//	GET    /api/2.0/mlflow/traces/{id}/credentials-for-data-download  signed GET URL of traces.json
//	POST   /api/3.0/mlflow/traces/{id}/assessments             CreateAssessment; GET|PATCH|DELETE .../assessments/{aid}
//	PATCH  /api/2.0/mlflow/traces/{id}/tags                    SetTraceTag; DELETE: DeleteTraceTag
//	POST   /api/2.0/mlflow/traces/delete-traces                DeleteTraces
//	GET    /api/4.0/mlflow/traces/{loc}/{hex}/info             v4 trace info
//	GET    /api/4.0/mlflow/traces/{loc}/batchGet               v4 BatchGetTraces (OTLP spans)
//	POST   /api/4.0/mlflow/traces/{loc}/{hex}/assessments      v4 assessments (+ GET|PATCH|DELETE .../{aid})
//	PATCH  /api/4.0/mlflow/traces/{loc}/{hex}/tags             v4 SetTraceTag; DELETE .../tags/{key}
//
// Search filters are evaluated with internal/tracefilter (the FileStore
// subset: attributes, tags, metadata, LIKE/ILIKE, IN, order_by, page
// tokens); a filter beyond it is answered 400 INVALID_PARAMETER_VALUE, a real
// workspace evaluates more.

const (
	pathV3Search       = "/api/3.0/mlflow/traces/search"
	pathV4Search       = "/api/4.0/mlflow/traces/search-long-running"
	pathV4Operations   = "/api/4.0/mlflow/traces/search/operations/"
	pathDeleteTraces   = "/api/2.0/mlflow/traces/delete-traces"
	pathV3TracesPrefix = "/api/3.0/mlflow/traces/"
)

// serveRead serves the read and annotation routes; false when p is none of
// them.
func (w *Workspace) serveRead(rw http.ResponseWriter, r *http.Request) bool {
	p := r.URL.Path
	switch {
	case p == pathV3Search:
		if w.method(rw, r, http.MethodPost) {
			w.serveSearch(rw, r, false)
		}
	case p == pathV4Search:
		if w.method(rw, r, http.MethodPost) {
			w.serveSearch(rw, r, true)
		}
	case strings.HasPrefix(p, pathV4Operations):
		if w.method(rw, r, http.MethodGet) {
			w.serveOperation(rw, strings.TrimPrefix(p, pathV4Operations))
		}
	case p == pathDeleteTraces:
		if w.method(rw, r, http.MethodPost) {
			w.serveDeleteTraces(rw, r)
		}
	case strings.HasPrefix(p, pathV3TracesPrefix):
		rest := strings.Split(strings.TrimPrefix(p, pathV3TracesPrefix), "/")
		switch {
		case len(rest) == 1:
			if w.method(rw, r, http.MethodGet) {
				w.serveTraceInfo(rw, unescape(rest[0]))
			}
		case len(rest) >= 2 && rest[1] == "assessments":
			w.serveAssessment(rw, r, unescape(rest[0]), rest[2:], false)
		default:
			return false
		}
	case strings.HasPrefix(p, pathTracesV2Prefix) && strings.HasSuffix(p, "/credentials-for-data-download"):
		if w.method(rw, r, http.MethodGet) {
			w.serveDownloadCredentials(rw, unescape(strings.TrimSuffix(strings.TrimPrefix(p, pathTracesV2Prefix), "/credentials-for-data-download")))
		}
	case strings.HasPrefix(p, pathTracesV2Prefix) && strings.HasSuffix(p, "/tags"):
		w.serveTag(rw, r, unescape(strings.TrimSuffix(strings.TrimPrefix(p, pathTracesV2Prefix), "/tags")), "")
	case strings.HasPrefix(p, pathV4Prefix):
		return w.serveV4(rw, r, strings.Split(strings.TrimPrefix(p, pathV4Prefix), "/"))
	default:
		return false
	}
	return true
}

func unescape(s string) string {
	if u, err := url.PathUnescape(s); err == nil {
		return u
	}
	return s
}

// serveV4 serves the Unity Catalog routes under /api/4.0/mlflow/traces/.
func (w *Workspace) serveV4(rw http.ResponseWriter, r *http.Request, parts []string) bool {
	if len(parts) < 2 {
		return false
	}
	loc := unescape(parts[0])
	if parts[1] == "batchGet" && len(parts) == 2 {
		if w.method(rw, r, http.MethodGet) {
			w.serveBatchGet(rw, r, loc)
		}
		return true
	}
	id := tracemodel.UCRequestIDPrefix(loc) + unescape(parts[1])
	switch {
	case len(parts) == 3 && parts[2] == "info" && r.Method == http.MethodGet:
		w.serveTraceInfo(rw, id)
	case len(parts) >= 3 && parts[2] == "assessments":
		w.serveAssessment(rw, r, id, parts[3:], true)
	case len(parts) >= 3 && parts[2] == "tags":
		key := ""
		if len(parts) > 3 {
			key = unescape(strings.Join(parts[3:], "/"))
		}
		w.serveTag(rw, r, id, key)
	default:
		return false
	}
	return true
}

// traceInfoJSON returns the stored trace info of t with its assessments, as
// a workspace answers it (caller holds w.mu).
func traceInfoJSON(t *Trace) map[string]any {
	var m map[string]any
	_ = json.Unmarshal(t.TraceInfo, &m)
	if m == nil {
		m = map[string]any{}
	}
	if len(t.Assessments) > 0 {
		as := make([]json.RawMessage, len(t.Assessments))
		copy(as, t.Assessments)
		m["assessments"] = as
	}
	return m
}

func (w *Workspace) lookup(rw http.ResponseWriter, id string) (*Trace, bool) {
	t := w.traces[id]
	if t == nil || t.TraceInfo == nil {
		apiError(rw, http.StatusNotFound, "RESOURCE_DOES_NOT_EXIST", fmt.Sprintf("Trace with ID '%s' not found.", id))
		return nil, false
	}
	return t, true
}

func (w *Workspace) serveTraceInfo(rw http.ResponseWriter, id string) {
	w.mu.Lock()
	defer w.mu.Unlock()
	t, ok := w.lookup(rw, id)
	if !ok {
		return
	}
	writeJSON(rw, map[string]any{"trace": map[string]any{"trace_info": traceInfoJSON(t)}})
}

// maxBatchGet is the most trace ids one BatchGetTraces takes: MLflow's
// client sends at most 10 ("BatchGetTrace endpoint only support up to 10
// traces in a single call", MLFLOW_SEARCH_TRACES_MAX_BATCH_SIZE).
const maxBatchGet = 10

func (w *Workspace) serveBatchGet(rw http.ResponseWriter, r *http.Request, loc string) {
	q := r.URL.Query()
	if l := q.Get("location_id"); l != "" && l != loc {
		w.reject("batchGet: location_id %q does not match the path's %q", l, loc)
		apiError(rw, http.StatusBadRequest, "INVALID_PARAMETER_VALUE", "location_id does not match the path")
		return
	}
	if n := len(q["trace_ids"]); n > maxBatchGet {
		w.reject("batchGet: %d trace_ids, at most %d", n, maxBatchGet)
		apiError(rw, http.StatusBadRequest, "INVALID_PARAMETER_VALUE", fmt.Sprintf("at most %d trace_ids per request", maxBatchGet))
		return
	}
	w.mu.Lock()
	defer w.mu.Unlock()
	traces := []map[string]any{}
	for _, hexID := range q["trace_ids"] {
		t := w.traces[tracemodel.UCRequestIDPrefix(loc)+hexID]
		if t == nil || t.TraceInfo == nil {
			continue // BatchGetTraces leaves out what it does not find
		}
		spans := make([]json.RawMessage, 0, len(t.Spans))
		for _, b := range t.Spans {
			var sp tracepb.Span
			if proto.Unmarshal(b, &sp) != nil {
				continue
			}
			js, _ := protojson.MarshalOptions{UseProtoNames: true}.Marshal(&sp)
			spans = append(spans, js)
		}
		traces = append(traces, map[string]any{"trace_info": traceInfoJSON(t), "spans": spans})
	}
	writeJSON(rw, map[string]any{"traces": traces})
}

// --- search --------------------------------------------------------------------

type searchOp struct {
	infos []map[string]any
	next  string
}

func (w *Workspace) serveSearch(rw http.ResponseWriter, r *http.Request, v4 bool) {
	msg := "mlflow.SearchTracesV3"
	if v4 {
		msg = "mlflow.databricks.SearchTracesLongRunning"
	}
	body, ok := w.readJSON(rw, r, msg)
	if !ok {
		return
	}
	var req struct {
		Locations []struct {
			Type             string            `json:"type"`
			MLflowExperiment map[string]string `json:"mlflow_experiment"`
			UCSchema         map[string]string `json:"uc_schema"`
			UCTablePrefix    map[string]string `json:"uc_table_prefix"`
		} `json:"locations"`
		Filter     string   `json:"filter"`
		MaxResults int      `json:"max_results"`
		OrderBy    []string `json:"order_by"`
		PageToken  string   `json:"page_token"`
	}
	_ = json.Unmarshal(body, &req)
	locs := map[string]bool{}
	for _, l := range req.Locations {
		switch l.Type {
		case "MLFLOW_EXPERIMENT":
			id := l.MLflowExperiment["experiment_id"]
			locs[id] = true
			// An experiment linked to Unity Catalog tables finds the traces
			// in them, as a workspace does.
			w.mu.Lock()
			if e := w.experiments[id]; e != nil && e.Tags[tagTraceDestinationPath] != "" {
				locs[e.Tags[tagTraceDestinationPath]] = true
			}
			w.mu.Unlock()
		case "UC_SCHEMA":
			if !v4 {
				w.reject("SearchTracesV3: Unity Catalog location")
				apiError(rw, http.StatusBadRequest, "INVALID_PARAMETER_VALUE", "Unity Catalog locations are searched with the v4 API")
				return
			}
			locs[l.UCSchema["catalog_name"]+"."+l.UCSchema["schema_name"]] = true
		case "UC_TABLE_PREFIX":
			if !v4 {
				w.reject("SearchTracesV3: Unity Catalog location")
				apiError(rw, http.StatusBadRequest, "INVALID_PARAMETER_VALUE", "Unity Catalog locations are searched with the v4 API")
				return
			}
			locs[l.UCTablePrefix["catalog_name"]+"."+l.UCTablePrefix["schema_name"]+"."+l.UCTablePrefix["table_prefix"]] = true
		default:
			w.reject("search: location type %q", l.Type)
			apiError(rw, http.StatusBadRequest, "INVALID_PARAMETER_VALUE", "unsupported location type "+l.Type)
			return
		}
	}
	if len(locs) == 0 {
		w.reject("search: no locations")
		apiError(rw, http.StatusBadRequest, "INVALID_PARAMETER_VALUE", "At least one location must be specified for searching traces.")
		return
	}
	max := req.MaxResults
	if max <= 0 {
		max = 100
	}
	infos, next, err := w.search(locs, req.Filter, req.OrderBy, max, req.PageToken)
	if err != nil {
		w.reject("search: %v", err)
		apiError(rw, http.StatusBadRequest, "INVALID_PARAMETER_VALUE", err.Error())
		return
	}
	if !v4 {
		writeJSON(rw, map[string]any{"traces": infos, "next_page_token": next})
		return
	}
	// A long-running search: the operation is done on the first poll.
	name := "op-" + randHex(8)
	w.mu.Lock()
	if w.ops == nil {
		w.ops = map[string]*searchOp{}
	}
	w.ops[name] = &searchOp{infos: infos, next: next}
	w.mu.Unlock()
	writeJSON(rw, map[string]any{"name": name, "done": false})
}

func (w *Workspace) serveOperation(rw http.ResponseWriter, name string) {
	w.mu.Lock()
	op := w.ops[name]
	w.mu.Unlock()
	if op == nil {
		w.reject("search operation %q: unknown", name)
		apiError(rw, http.StatusNotFound, "RESOURCE_DOES_NOT_EXIST", "Operation "+name+" not found.")
		return
	}
	writeJSON(rw, map[string]any{"name": name, "done": true, "response": map[string]any{"trace_infos": op.infos, "next_page_token": op.next}})
}

// search evaluates a search over the traces of locs.
func (w *Workspace) search(locs map[string]bool, filter string, orderBy []string, max int, token string) ([]map[string]any, string, error) {
	clauses, err := tracefilter.Parse(filter)
	if err != nil {
		return nil, "", err
	}
	orders, err := tracefilter.ParseOrderBy(orderBy)
	if err != nil {
		return nil, "", err
	}
	offset, err := tracefilter.PageOffset(token)
	if err != nil {
		return nil, "", err
	}
	w.mu.Lock()
	var infos []*tracemodel.TraceInfo
	raw := map[*tracemodel.TraceInfo]map[string]any{}
	for _, id := range w.order {
		t := w.traces[id]
		if t == nil || t.TraceInfo == nil || !locs[t.Location] {
			continue
		}
		m := traceInfoJSON(t)
		b, _ := json.Marshal(m)
		var info tracemodel.TraceInfo
		if json.Unmarshal(b, &info) != nil {
			continue
		}
		info.TraceID = id
		ok, err := tracefilter.Match(clauses, &info)
		if err != nil {
			w.mu.Unlock()
			return nil, "", err
		}
		if ok {
			infos = append(infos, &info)
			raw[&info] = m
		}
	}
	w.mu.Unlock()
	tracefilter.Sort(infos, orders)
	out := []map[string]any{}
	for i := offset; i < len(infos) && i < offset+max; i++ {
		out = append(out, raw[infos[i]])
	}
	next := ""
	if offset+max < len(infos) {
		next = tracefilter.PageToken(offset + max)
	}
	return out, next, nil
}

// --- artifacts -----------------------------------------------------------------

func (w *Workspace) serveDownloadCredentials(rw http.ResponseWriter, traceID string) {
	w.mu.Lock()
	t := w.traces[traceID]
	var e *experiment
	if t != nil {
		e = w.experiments[t.Location]
	}
	w.mu.Unlock()
	switch {
	case t == nil || e == nil:
		w.reject("credentials-for-data-download: trace %s does not exist", traceID)
		apiError(rw, http.StatusNotFound, "RESOURCE_DOES_NOT_EXIST", fmt.Sprintf("Trace with id=%s not found.", traceID))
		return
	case e.Cloud == "":
		w.reject("credentials-for-data-download: experiment %s stores artifacts in a volume", e.ID)
		apiError(rw, http.StatusBadRequest, "INVALID_PARAMETER_VALUE", "The experiment's artifact location is a Unity Catalog volume; use the Files API.")
		return
	}
	key := e.ID + "/" + traceID + "/artifacts/traces.json"
	su := w.stores[e.Cloud].issueRead(key, traceID)
	headers := make([]map[string]string, 0, len(su.headers))
	for _, k := range sortedKeys(su.headers) {
		headers = append(headers, map[string]string{"name": k, "value": su.headers[k]})
	}
	writeJSON(rw, map[string]any{"credential_info": map[string]any{"signed_uri": su.url, "type": string(e.Cloud), "headers": headers}})
}

// --- assessments -----------------------------------------------------------------

func newAssessmentID() string {
	var b [16]byte
	_, _ = rand.Read(b[:])
	return "a-" + hex.EncodeToString(b[:])
}

// serveAssessment serves the assessment routes of trace id; rest is what
// follows ".../assessments".
func (w *Workspace) serveAssessment(rw http.ResponseWriter, r *http.Request, id string, rest []string, v4 bool) {
	if len(rest) == 0 {
		if w.method(rw, r, http.MethodPost) {
			w.createAssessment(rw, r, id, v4)
		}
		return
	}
	aid := unescape(rest[0])
	mask := r.URL.Query().Get("update_mask")
	// MLflow 3.17.2 appends "&update_mask=..." to a v4 path that has no
	// query (no SQL warehouse): it arrives as part of the last segment.
	if i := strings.Index(aid, "&update_mask="); i >= 0 && v4 {
		aid, mask = aid[:i], aid[i+len("&update_mask="):]
	}
	switch r.Method {
	case http.MethodGet:
		w.mu.Lock()
		defer w.mu.Unlock()
		t, i, ok := w.lookupAssessment(rw, id, aid)
		if !ok {
			return
		}
		writeAssessment(rw, t.Assessments[i], v4)
	case http.MethodPatch:
		w.updateAssessment(rw, r, id, aid, mask, v4)
	case http.MethodDelete:
		if !v4 && r.ContentLength != 0 {
			if _, ok := w.readJSON(rw, r, "mlflow.DeleteAssessment"); !ok {
				return
			}
		}
		w.mu.Lock()
		defer w.mu.Unlock()
		t, ok := w.lookup(rw, id)
		if !ok {
			return
		}
		if i := findAssessment(t, aid); i >= 0 {
			var a map[string]any
			_ = json.Unmarshal(t.Assessments[i], &a)
			t.Assessments = append(t.Assessments[:i], t.Assessments[i+1:]...)
			if o, _ := a["overrides"].(string); o != "" {
				setValid(t, o, true)
			}
		}
		writeJSON(rw, map[string]any{})
	default:
		w.method(rw, r, http.MethodGet)
	}
}

// lookupAssessment returns trace id and the index of its assessment aid, or
// answers 404 as MLflow does and returns ok false. w.mu is held.
func (w *Workspace) lookupAssessment(rw http.ResponseWriter, id, aid string) (t *Trace, i int, ok bool) {
	if t, ok = w.lookup(rw, id); !ok {
		return nil, -1, false
	}
	if i = findAssessment(t, aid); i < 0 {
		apiError(rw, http.StatusNotFound, "RESOURCE_DOES_NOT_EXIST", fmt.Sprintf("Assessment with ID '%s' not found for trace '%s'", aid, id))
		return nil, -1, false
	}
	return t, i, true
}

func findAssessment(t *Trace, aid string) int {
	for i, raw := range t.Assessments {
		var a struct {
			ID string `json:"assessment_id"`
		}
		if json.Unmarshal(raw, &a) == nil && a.ID == aid {
			return i
		}
	}
	return -1
}

func setValid(t *Trace, aid string, valid bool) {
	if i := findAssessment(t, aid); i >= 0 {
		var a map[string]any
		_ = json.Unmarshal(t.Assessments[i], &a)
		a["valid"] = valid
		t.Assessments[i], _ = json.Marshal(a)
	}
}

func writeAssessment(rw http.ResponseWriter, a json.RawMessage, v4 bool) {
	if v4 {
		writeJSON(rw, a)
		return
	}
	writeJSON(rw, map[string]any{"assessment": a})
}

// assessmentIn reads an assessment from a create or update body: wrapped in
// {"assessment": …} (v3) or bare (v4).
func (w *Workspace) assessmentIn(rw http.ResponseWriter, r *http.Request, v4 bool, msg string) (map[string]any, map[string]any, bool) {
	body, ok := w.readJSON(rw, r, msg)
	if !ok {
		return nil, nil, false
	}
	var env map[string]any
	_ = json.Unmarshal(body, &env)
	a := env
	if !v4 {
		a, _ = env["assessment"].(map[string]any)
	}
	if a == nil {
		w.reject("%s: no assessment", msg)
		apiError(rw, http.StatusBadRequest, "INVALID_PARAMETER_VALUE", "Missing required parameter 'assessment'")
		return nil, nil, false
	}
	return env, a, true
}

func (w *Workspace) createAssessment(rw http.ResponseWriter, r *http.Request, id string, v4 bool) {
	msg := "mlflow.CreateAssessment"
	if v4 {
		msg = "mlflow.databricks.Assessment"
	}
	_, a, ok := w.assessmentIn(rw, r, v4, msg)
	if !ok {
		return
	}
	name, _ := a["assessment_name"].(string)
	src, _ := a["source"].(map[string]any)
	_, isFb := a["feedback"]
	_, isEx := a["expectation"]
	switch {
	case name == "":
		w.reject("CreateAssessment: no assessment_name")
		apiError(rw, http.StatusBadRequest, "INVALID_PARAMETER_VALUE", "Missing required parameter 'assessment.assessment_name'")
		return
	case src == nil || src["source_type"] == nil:
		w.reject("CreateAssessment: no source")
		apiError(rw, http.StatusBadRequest, "INVALID_PARAMETER_VALUE", "Missing required parameter 'assessment.source'")
		return
	case isFb == isEx:
		w.reject("CreateAssessment: want exactly one of feedback and expectation")
		apiError(rw, http.StatusBadRequest, "INVALID_PARAMETER_VALUE", "Exactly one of feedback or expectation must be set")
		return
	}
	_, hexID, _ := strings.Cut(strings.TrimPrefix(id, "trace:/"), "/")
	if tid, _ := a["trace_id"].(string); tid != "" && tid != id && !(v4 && tid == hexID[strings.LastIndexByte(hexID, '/')+1:]) {
		w.reject("CreateAssessment: trace_id %q does not match the path's %q", tid, id)
		apiError(rw, http.StatusBadRequest, "INVALID_PARAMETER_VALUE", "trace_id does not match the path")
		return
	}
	w.mu.Lock()
	defer w.mu.Unlock()
	t, ok := w.lookup(rw, id)
	if !ok {
		return
	}
	if o, _ := a["overrides"].(string); o != "" {
		if findAssessment(t, o) < 0 {
			apiError(rw, http.StatusNotFound, "RESOURCE_DOES_NOT_EXIST", fmt.Sprintf("Assessment with ID '%s' not found for trace '%s'", o, id))
			return
		}
		setValid(t, o, false)
	}
	now := time.Now().UTC().Truncate(time.Millisecond).Format("2006-01-02T15:04:05.000Z")
	a["assessment_id"] = newAssessmentID()
	a["create_time"], a["last_update_time"] = now, now
	a["valid"] = true
	b, _ := json.Marshal(a)
	t.Assessments = append(t.Assessments, b)
	writeAssessment(rw, b, v4)
}

func (w *Workspace) updateAssessment(rw http.ResponseWriter, r *http.Request, id, aid, mask string, v4 bool) {
	msg := "mlflow.UpdateAssessment"
	if v4 {
		msg = "mlflow.databricks.Assessment"
	}
	env, in, ok := w.assessmentIn(rw, r, v4, msg)
	if !ok {
		return
	}
	if !v4 {
		mask, _ = env["update_mask"].(string)
	}
	w.mu.Lock()
	defer w.mu.Unlock()
	t, i, ok := w.lookupAssessment(rw, id, aid)
	if !ok {
		return
	}
	var a map[string]any
	_ = json.Unmarshal(t.Assessments[i], &a)
	for _, p := range strings.Split(mask, ",") {
		field := map[string]string{"assessmentName": "assessment_name"}[p]
		if field == "" {
			field = p
		}
		switch field {
		case "":
		case "assessment_name", "feedback", "expectation", "rationale", "metadata":
			if (field == "feedback" && a["expectation"] != nil) || (field == "expectation" && a["feedback"] != nil) {
				apiError(rw, http.StatusBadRequest, "INVALID_PARAMETER_VALUE", "Cannot change the type of an assessment")
				return
			}
			if v, ok := in[field]; ok {
				if field == "metadata" {
					md, _ := a["metadata"].(map[string]any)
					if md == nil {
						md = map[string]any{}
					}
					for k, v := range v.(map[string]any) {
						md[k] = v
					}
					v = md
				}
				a[field] = v
			}
		default:
			w.reject("UpdateAssessment: update_mask path %q", p)
			apiError(rw, http.StatusBadRequest, "INVALID_PARAMETER_VALUE", "Invalid update_mask path "+strconv.Quote(p))
			return
		}
	}
	a["last_update_time"] = time.Now().UTC().Truncate(time.Millisecond).Format("2006-01-02T15:04:05.000Z")
	t.Assessments[i], _ = json.Marshal(a)
	writeAssessment(rw, t.Assessments[i], v4)
}

// --- tags and deletion -------------------------------------------------------------

func (w *Workspace) serveTag(rw http.ResponseWriter, r *http.Request, id, pathKey string) {
	v4 := strings.HasPrefix(id, "trace:/")
	var key, value string
	switch {
	case r.Method == http.MethodPatch:
		msg := "mlflow.SetTraceTag"
		if v4 {
			msg = "mlflow.databricks.SetTraceTag"
		}
		body, ok := w.readJSON(rw, r, msg)
		if !ok {
			return
		}
		var in struct{ Key, Value string }
		_ = json.Unmarshal(body, &in)
		key, value = in.Key, in.Value
	case r.Method == http.MethodDelete && v4:
		key = pathKey
	case r.Method == http.MethodDelete:
		body, ok := w.readJSON(rw, r, "mlflow.DeleteTraceTag")
		if !ok {
			return
		}
		var in struct{ Key string }
		_ = json.Unmarshal(body, &in)
		key = in.Key
	default:
		w.method(rw, r, http.MethodPatch)
		return
	}
	if key == "" || len([]rune(key)) > maxTagKey || len([]rune(value)) > maxTagValue {
		w.reject("trace tag %q: empty or too long", key)
		apiError(rw, http.StatusBadRequest, "INVALID_PARAMETER_VALUE", "tag keys are 1 to 250 characters, values at most 4096")
		return
	}
	w.mu.Lock()
	defer w.mu.Unlock()
	t, ok := w.lookup(rw, id)
	if !ok {
		return
	}
	var info map[string]any
	_ = json.Unmarshal(t.TraceInfo, &info)
	tags, _ := info["tags"].(map[string]any)
	if tags == nil {
		tags = map[string]any{}
	}
	if r.Method == http.MethodPatch {
		tags[key] = value
	} else {
		if _, ok := tags[key]; !ok {
			apiError(rw, http.StatusNotFound, "RESOURCE_DOES_NOT_EXIST", fmt.Sprintf("No trace tag with key '%s' for trace with ID '%s'", key, id))
			return
		}
		delete(tags, key)
	}
	info["tags"] = tags
	t.TraceInfo, _ = json.Marshal(info)
	writeJSON(rw, map[string]any{})
}

func (w *Workspace) serveDeleteTraces(rw http.ResponseWriter, r *http.Request) {
	body, ok := w.readJSON(rw, r, "mlflow.DeleteTraces")
	if !ok {
		return
	}
	var in struct {
		ExperimentID string      `json:"experiment_id"`
		MaxTimestamp json.Number `json:"max_timestamp_millis"`
		MaxTraces    int         `json:"max_traces"`
		RequestIDs   []string    `json:"request_ids"`
	}
	_ = json.Unmarshal(body, &in)
	if (in.MaxTimestamp == "") == (len(in.RequestIDs) == 0) {
		w.reject("DeleteTraces: want either max_timestamp_millis or request_ids")
		apiError(rw, http.StatusBadRequest, "INVALID_PARAMETER_VALUE", "Either `max_timestamp_millis` or `request_ids` must be specified.")
		return
	}
	w.mu.Lock()
	defer w.mu.Unlock()
	var del []string
	if len(in.RequestIDs) > 0 {
		for _, id := range in.RequestIDs {
			if t := w.traces[id]; t != nil && t.Location == in.ExperimentID {
				del = append(del, id)
			}
		}
	} else {
		maxMs, _ := in.MaxTimestamp.Int64()
		for _, id := range w.order {
			t := w.traces[id]
			var info tracemodel.TraceInfo
			if t == nil || t.Location != in.ExperimentID || json.Unmarshal(t.TraceInfo, &info) != nil {
				continue
			}
			if info.RequestTime.UnixMilli() <= maxMs {
				del = append(del, id) // w.order is oldest first
			}
		}
		if in.MaxTraces > 0 && len(del) > in.MaxTraces {
			del = del[:in.MaxTraces]
		}
	}
	for _, id := range del {
		delete(w.traces, id)
		for i, o := range w.order {
			if o == id {
				w.order = append(w.order[:i], w.order[i+1:]...)
				break
			}
		}
	}
	writeJSON(rw, map[string]any{"traces_deleted": len(del)})
}
