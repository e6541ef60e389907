package databrickstest

import (
	"encoding/json"
	"fmt"
	"io"
	"net/http"
	"net/url"
	"regexp"
	"strconv"
	"strings"
	"time"
	"unicode/utf8"
)

// REST paths of the fake workspace.
const (
	pathHostMetadata   = "/.well-known/databricks-config"
	pathOIDCDiscovery  = "/oidc/.well-known/oauth-authorization-server"
	pathToken          = "/oidc/v1/token"
	pathGetExperiment  = "/api/2.0/mlflow/experiments/get"
	pathGetByName      = "/api/2.0/mlflow/experiments/get-by-name"
	pathCreateExp      = "/api/2.0/mlflow/experiments/create"
	pathStartTraceV3   = "/api/3.0/mlflow/traces"
	pathTracesV2Prefix = "/api/2.0/mlflow/traces/"
	pathFilesPrefix    = "/api/2.0/fs/files/"
	pathFSEndpoints    = "/api/2.0/fs/endpoints"
	pathFSDownloadURL  = "/api/2.0/fs/create-download-url"
	pathOTLP           = "/api/2.0/otel/v1/traces"
	pathV4Prefix       = "/api/4.0/mlflow/traces/"

	headerUCTable = "X-Databricks-UC-Table-Name"

	tagTraceDestinationPath  = "mlflow.experiment.databricksTraceDestinationPath"
	tagTraceSpansTable       = "mlflow.experiment.databricksTraceSpanStorageTable"
	tagTraceLogsTable        = "mlflow.experiment.databricksTraceLogStorageTable"
	tagTraceAnnotationsTable = "mlflow.experiment.databricksTraceAnnotationsTable"
	// DefaultSpansTable is the spans table of a UC schema location
	// (MLflow's _UC_SCHEMA_DEFAULT_SPANS_TABLE_NAME).
	DefaultSpansTable = "mlflow_experiment_trace_otel_spans"

	maxBody          = 64 << 20
	maxMetadataKey   = 250
	maxMetadataValue = 250
	maxTagKey        = 250
	maxTagValue      = 4096
	maxPreview       = 10000
)

var traceIDV3 = regexp.MustCompile(`^tr-[0-9a-f]{32}$`)

func (w *Workspace) serve(rw http.ResponseWriter, r *http.Request) {
	sr := &statusRecorder{ResponseWriter: rw}
	auth := ""
	defer func() {
		w.record(Request{Host: "workspace", Method: r.Method, Path: r.URL.Path, Query: r.URL.RawQuery, Status: sr.status, Auth: auth})
	}()
	p := r.URL.Path
	if strings.HasPrefix(p, "/__fake/") {
		if !w.serveSQLAdmin(sr, r) {
			w.serveAdmin(sr, r)
		}
		return
	}
	if f := w.fault("workspace", r); f != nil && applyFault(sr, r, f) {
		return
	}
	switch p {
	case pathHostMetadata:
		if !w.method(sr, r, http.MethodGet) {
			return
		}
		writeJSON(sr, map[string]any{"oidc_endpoint": w.URL + "/oidc", "workspace_id": w.WorkspaceID})
		return
	case pathOIDCDiscovery:
		if !w.method(sr, r, http.MethodGet) {
			return
		}
		writeJSON(sr, map[string]any{
			"issuer":                                w.URL + "/oidc",
			"authorization_endpoint":                w.URL + "/oidc/v1/authorize",
			"token_endpoint":                        w.URL + pathToken,
			"grant_types_supported":                 []string{"client_credentials", "authorization_code", "refresh_token"},
			"token_endpoint_auth_methods_supported": []string{"client_secret_basic", "client_secret_post"},
			"scopes_supported":                      []string{"all-apis", "offline_access"},
		})
		return
	case pathToken:
		w.serveToken(sr, r)
		return
	}

	kind, ok := w.authenticate(sr, r)
	if !ok {
		return
	}
	auth = kind
	switch {
	case w.serveWarehouses(sr, r), w.checkWarehouse(sr, r): // SQL warehouses: warehouse.go
	case p == pathGetExperiment:
		if w.method(sr, r, http.MethodGet) {
			w.serveGetExperiment(sr, r)
		}
	case p == pathGetByName:
		if w.method(sr, r, http.MethodGet) {
			w.serveGetByName(sr, r)
		}
	case p == pathCreateExp:
		if w.method(sr, r, http.MethodPost) {
			w.serveCreateExperiment(sr, r)
		}
	case p == pathStartTraceV3:
		if w.method(sr, r, http.MethodPost) {
			w.serveStartTraceV3(sr, r)
		}
	case strings.HasPrefix(p, pathTracesV2Prefix) && strings.HasSuffix(p, "/credentials-for-data-upload"):
		if w.method(sr, r, http.MethodGet) {
			id := strings.TrimSuffix(strings.TrimPrefix(p, pathTracesV2Prefix), "/credentials-for-data-upload")
			w.serveUploadCredentials(sr, r, id)
		}
	case p == pathFSEndpoints, p == pathFSDownloadURL:
		// Observed on workspaces without presigned Files API endpoints:
		// databricks-sdk then uses the Files API on the workspace host (for
		// downloads too: create-download-url, then GET .../fs/files/...).
		apiError(sr, http.StatusNotFound, "ENDPOINT_NOT_FOUND", fmt.Sprintf("No API found for '%s %s'", r.Method, strings.TrimPrefix(p, "/api/2.0")))
	case strings.HasPrefix(p, pathFilesPrefix):
		w.serveFiles(sr, r)
	case p == pathOTLP:
		if w.method(sr, r, http.MethodPost) {
			w.serveOTLP(sr, r)
		}
	case strings.HasPrefix(p, pathV4Prefix) && strings.HasSuffix(p, "/info") && r.Method == http.MethodPost:
		if w.method(sr, r, http.MethodPost) {
			w.serveTraceInfoV4(sr, r)
		}
	case strings.HasPrefix(p, pathUCPrompts+"/") || p == pathUCPrompts:
		w.servePrompts(sr, r)
	case strings.HasPrefix(p, pathUCPromptLinks):
		w.servePromptLinks(sr, r)
	case strings.HasPrefix(p, pathLoggedModels):
		w.serveLoggedModel(sr, r)
	case w.serveRead(sr, r):
	default:
		w.reject("%s %s: no such endpoint", r.Method, p)
		apiError(sr, http.StatusNotFound, "ENDPOINT_NOT_FOUND", fmt.Sprintf("No API found for '%s %s'", r.Method, p))
	}
}

func (w *Workspace) method(rw http.ResponseWriter, r *http.Request, want string) bool {
	if r.Method == want {
		return true
	}
	w.reject("%s %s: method not allowed (want %s)", r.Method, r.URL.Path, want)
	apiError(rw, http.StatusMethodNotAllowed, "BAD_REQUEST", fmt.Sprintf("method %s not allowed on %s", r.Method, r.URL.Path))
	return false
}

// authenticate checks the bearer token of a workspace API request.
func (w *Workspace) authenticate(rw http.ResponseWriter, r *http.Request) (string, bool) {
	h := r.Header.Get("Authorization")
	tok, ok := strings.CutPrefix(h, "Bearer ")
	if !ok || tok == "" {
		w.reject("%s %s: no bearer token", r.Method, r.URL.Path)
		apiError(rw, http.StatusUnauthorized, "UNAUTHENTICATED", "Credential was not sent or was of an unsupported type for this API.")
		return "", false
	}
	w.mu.Lock()
	ti, known := w.tokens[tok]
	w.mu.Unlock()
	switch {
	case !known:
		w.reject("%s %s: unknown token", r.Method, r.URL.Path)
		apiError(rw, http.StatusUnauthorized, "UNAUTHENTICATED", "Invalid access token.")
		return "", false
	case !ti.expires.IsZero() && time.Now().After(ti.expires):
		w.reject("%s %s: expired %s token", r.Method, r.URL.Path, ti.kind)
		apiError(rw, http.StatusUnauthorized, "UNAUTHENTICATED", "Token is expired.")
		return "", false
	}
	return ti.kind, true
}

// serveToken is the OIDC token endpoint: client credentials only.
func (w *Workspace) serveToken(rw http.ResponseWriter, r *http.Request) {
	oauthErr := func(status int, code, desc string) {
		w.reject("token endpoint: %s: %s", code, desc)
		rw.Header().Set("Content-Type", "application/json")
		rw.WriteHeader(status)
		b, _ := json.Marshal(map[string]string{"error": code, "error_description": desc})
		_, _ = rw.Write(b)
	}
	if r.Method != http.MethodPost {
		oauthErr(http.StatusMethodNotAllowed, "invalid_request", "POST required")
		return
	}
	if ct := r.Header.Get("Content-Type"); !strings.HasPrefix(ct, "application/x-www-form-urlencoded") {
		oauthErr(http.StatusBadRequest, "invalid_request", "Content-Type must be application/x-www-form-urlencoded")
		return
	}
	if err := r.ParseForm(); err != nil {
		oauthErr(http.StatusBadRequest, "invalid_request", "malformed form")
		return
	}
	id, secret, basic := r.BasicAuth()
	if !basic {
		id, secret = r.PostForm.Get("client_id"), r.PostForm.Get("client_secret")
	}
	switch {
	case r.PostForm.Get("grant_type") != "client_credentials":
		oauthErr(http.StatusBadRequest, "unsupported_grant_type", "grant_type must be client_credentials")
		return
	case id != w.ClientID || secret != w.ClientSecret:
		oauthErr(http.StatusUnauthorized, "invalid_client", "Client authentication failed")
		return
	}
	scopes := strings.Fields(r.PostForm.Get("scope"))
	hasAll := false
	for _, s := range scopes {
		hasAll = hasAll || s == "all-apis"
	}
	if !hasAll {
		oauthErr(http.StatusBadRequest, "invalid_scope", "scope must include all-apis")
		return
	}
	tok := "eyJ" + randHex(24)
	w.mu.Lock()
	w.tokens[tok] = tokenInfo{kind: "oauth", expires: time.Now().Add(w.cfg.TokenTTL)}
	w.tokenReqs++
	w.mu.Unlock()
	rw.Header().Set("Content-Type", "application/json")
	rw.Header().Set("Cache-Control", "no-store")
	writeJSON(rw, map[string]any{
		"access_token": tok,
		"token_type":   "Bearer",
		"expires_in":   int(w.cfg.TokenTTL / time.Second),
		"scope":        "all-apis",
	})
}

func (w *Workspace) experimentJSON(e *experiment) map[string]any {
	tags := []map[string]string{
		{"key": "mlflow.experimentType", "value": "MLFLOW_EXPERIMENT"},
		{"key": "mlflow.ownerEmail", "value": "agent@example.com"},
	}
	for _, k := range sortedKeys(e.Tags) {
		tags = append(tags, map[string]string{"key": k, "value": e.Tags[k]})
	}
	ms := e.Created.UnixMilli()
	return map[string]any{
		"experiment_id":     e.ID,
		"name":              e.Name,
		"artifact_location": e.ArtifactLocation,
		"lifecycle_stage":   "active",
		"last_update_time":  ms,
		"creation_time":     ms,
		"tags":              tags,
	}
}

func (w *Workspace) serveGetExperiment(rw http.ResponseWriter, r *http.Request) {
	id := r.URL.Query().Get("experiment_id")
	w.mu.Lock()
	e := w.experiments[id]
	w.mu.Unlock()
	if e == nil {
		w.reject("get experiment %q: not found", id)
		apiError(rw, http.StatusNotFound, "RESOURCE_DOES_NOT_EXIST", fmt.Sprintf("Node ID %s does not exist.", id))
		return
	}
	writeJSON(rw, map[string]any{"experiment": w.experimentJSON(e)})
}

func (w *Workspace) serveGetByName(rw http.ResponseWriter, r *http.Request) {
	name := r.URL.Query().Get("experiment_name")
	w.mu.Lock()
	var found *experiment
	for _, e := range w.experiments {
		if e.Name == name {
			found = e
		}
	}
	w.mu.Unlock()
	if found == nil {
		apiError(rw, http.StatusNotFound, "RESOURCE_DOES_NOT_EXIST", fmt.Sprintf("Node named '%s' does not exist.", name))
		return
	}
	writeJSON(rw, map[string]any{"experiment": w.experimentJSON(found)})
}

func (w *Workspace) serveCreateExperiment(rw http.ResponseWriter, r *http.Request) {
	body, ok := w.readJSON(rw, r, "mlflow.CreateExperiment")
	if !ok {
		return
	}
	var in struct {
		Name             string `json:"name"`
		ArtifactLocation string `json:"artifact_location"`
	}
	_ = json.Unmarshal(body, &in)
	if in.Name == "" {
		w.reject("create experiment: no name")
		apiError(rw, http.StatusBadRequest, "INVALID_PARAMETER_VALUE", "Experiment name must be set.")
		return
	}
	w.mu.Lock()
	for _, e := range w.experiments {
		if e.Name == in.Name {
			w.mu.Unlock()
			apiError(rw, http.StatusBadRequest, "RESOURCE_ALREADY_EXISTS", fmt.Sprintf("Node named '%s' already exists", in.Name))
			return
		}
	}
	id := w.createExperimentLocked(in.Name, in.ArtifactLocation, "")
	w.mu.Unlock()
	writeJSON(rw, map[string]any{"experiment_id": id})
}

// readJSON reads a request body and checks it against MLflow's message msg.
func (w *Workspace) readJSON(rw http.ResponseWriter, r *http.Request, msg string) ([]byte, bool) {
	if ct := r.Header.Get("Content-Type"); ct != "" && !strings.HasPrefix(ct, "application/json") {
		w.reject("%s %s: Content-Type %q", r.Method, r.URL.Path, ct)
		apiError(rw, http.StatusBadRequest, "MALFORMED_REQUEST", "Content-Type must be application/json")
		return nil, false
	}
	body, err := io.ReadAll(io.LimitReader(r.Body, maxBody+1))
	if err != nil || len(body) > maxBody {
		w.reject("%s %s: body unreadable or too large", r.Method, r.URL.Path)
		apiError(rw, http.StatusBadRequest, "MALFORMED_REQUEST", "request body too large")
		return nil, false
	}
	if err := checkMessage(body, msg); err != nil {
		w.reject("%s %s: %v", r.Method, r.URL.Path, err)
		apiError(rw, http.StatusBadRequest, "MALFORMED_REQUEST", "Invalid JSON for "+msg+": "+err.Error())
		return nil, false
	}
	return body, true
}

// infoV3 is the part of TraceInfoV3 the fake checks (both JSON spellings).
type infoV3 struct {
	TraceID           string            `json:"trace_id"`
	TraceIDCamel      string            `json:"traceId"`
	RequestTime       string            `json:"request_time"`
	RequestTimeCamel  string            `json:"requestTime"`
	ExecutionDuration string            `json:"execution_duration"`
	State             string            `json:"state"`
	RequestPreview    string            `json:"request_preview"`
	ResponsePreview   string            `json:"response_preview"`
	Metadata          map[string]string `json:"trace_metadata"`
	Tags              map[string]string `json:"tags"`
	Location          struct {
		Type             string `json:"type"`
		MLflowExperiment struct {
			ExperimentID string `json:"experiment_id"`
		} `json:"mlflow_experiment"`
		UCSchema struct {
			CatalogName        string `json:"catalog_name"`
			SchemaName         string `json:"schema_name"`
			OtelSpansTableName string `json:"otel_spans_table_name"`
		} `json:"uc_schema"`
		UCTablePrefix struct {
			CatalogName    string `json:"catalog_name"`
			SchemaName     string `json:"schema_name"`
			TablePrefix    string `json:"table_prefix"`
			SpansTableName string `json:"spans_table_name"`
		} `json:"uc_table_prefix"`
	} `json:"trace_location"`
}

// checkInfoFields enforces what a workspace requires of a trace info beyond
// its JSON shape: an id, a request time and a state, and MLflow's size
// limits. It returns the rejection message, "" when fine.
func checkInfoFields(in *infoV3) string {
	if in.TraceID == "" {
		in.TraceID = in.TraceIDCamel
	}
	if in.RequestTime == "" {
		in.RequestTime = in.RequestTimeCamel
	}
	switch {
	case in.TraceID == "":
		return "trace_id is required"
	case in.RequestTime == "":
		return "request_time is required"
	case in.State == "" || in.State == "STATE_UNSPECIFIED":
		return "state is required"
	case utf8.RuneCountInString(in.RequestPreview) > maxPreview || utf8.RuneCountInString(in.ResponsePreview) > maxPreview:
		return fmt.Sprintf("request_preview and response_preview are limited to %d characters", maxPreview)
	}
	if in.ExecutionDuration != "" {
		if _, err := parseDuration(in.ExecutionDuration); err != nil {
			return "execution_duration: " + err.Error()
		}
	}
	for k, v := range in.Metadata {
		if utf8.RuneCountInString(k) > maxMetadataKey || utf8.RuneCountInString(v) > maxMetadataValue {
			return fmt.Sprintf("trace_metadata %q: keys and values are limited to %d characters", k, maxMetadataValue)
		}
	}
	for k, v := range in.Tags {
		if utf8.RuneCountInString(k) > maxTagKey || utf8.RuneCountInString(v) > maxTagValue {
			return fmt.Sprintf("tag %q: keys are limited to %d characters and values to %d", k, maxTagKey, maxTagValue)
		}
	}
	return ""
}

func (w *Workspace) serveStartTraceV3(rw http.ResponseWriter, r *http.Request) {
	body, ok := w.readJSON(rw, r, "mlflow.StartTraceV3")
	if !ok {
		return
	}
	var req struct {
		Trace *struct {
			TraceInfo      json.RawMessage `json:"trace_info"`
			TraceInfoCamel json.RawMessage `json:"traceInfo"`
		} `json:"trace"`
	}
	_ = json.Unmarshal(body, &req)
	if req.Trace == nil {
		w.reject("StartTraceV3: no trace")
		apiError(rw, http.StatusBadRequest, "INVALID_PARAMETER_VALUE", "Missing required parameter 'trace'")
		return
	}
	raw := req.Trace.TraceInfo
	if raw == nil {
		raw = req.Trace.TraceInfoCamel
	}
	if raw == nil {
		w.reject("StartTraceV3: no trace_info")
		apiError(rw, http.StatusBadRequest, "INVALID_PARAMETER_VALUE", "Missing required parameter 'trace.trace_info'")
		return
	}
	var in infoV3
	_ = json.Unmarshal(raw, &in)
	if msg := checkInfoFields(&in); msg != "" {
		w.reject("StartTraceV3: %s", msg)
		apiError(rw, http.StatusBadRequest, "INVALID_PARAMETER_VALUE", msg)
		return
	}
	if !traceIDV3.MatchString(in.TraceID) {
		w.reject("StartTraceV3: trace_id %q is not tr-<32 hex>", in.TraceID)
		apiError(rw, http.StatusBadRequest, "INVALID_PARAMETER_VALUE", "Invalid trace_id: "+in.TraceID)
		return
	}
	if in.Location.Type != "MLFLOW_EXPERIMENT" || in.Location.MLflowExperiment.ExperimentID == "" {
		w.reject("StartTraceV3: trace_location %q is not an MLflow experiment", in.Location.Type)
		apiError(rw, http.StatusBadRequest, "INVALID_PARAMETER_VALUE", "trace_location must be an MLflow experiment")
		return
	}
	expID := in.Location.MLflowExperiment.ExperimentID
	w.mu.Lock()
	e := w.experiments[expID]
	denied := w.denied[expID]
	w.mu.Unlock()
	if e == nil {
		w.reject("StartTraceV3: experiment %s does not exist", expID)
		apiError(rw, http.StatusNotFound, "RESOURCE_DOES_NOT_EXIST", fmt.Sprintf("Node ID %s does not exist.", expID))
		return
	}
	if denied {
		w.reject("StartTraceV3: no CAN_EDIT on experiment %s", expID)
		apiError(rw, http.StatusForbidden, "PERMISSION_DENIED", fmt.Sprintf("User does not have permission 'EDIT' on experiment %s.", expID))
		return
	}

	// The stored info: what the client sent, plus the server's tags.
	var stored map[string]any
	_ = json.Unmarshal(raw, &stored)
	tags, _ := stored["tags"].(map[string]any)
	if tags == nil {
		tags = map[string]any{}
	}
	loc := e.ArtifactLocation + "/" + in.TraceID + "/artifacts"
	if strings.HasPrefix(e.ArtifactLocation, "dbfs:/Volumes/") {
		loc = e.ArtifactLocation + "/traces/" + in.TraceID + "/artifacts"
	}
	tags["mlflow.artifactLocation"] = loc
	stored["tags"] = tags
	info, _ := json.Marshal(stored)

	w.mu.Lock()
	t := w.traces[in.TraceID]
	if t == nil {
		t = &Trace{TraceID: in.TraceID}
		w.traces[in.TraceID] = t
		w.order = append(w.order, in.TraceID)
	}
	t.Location = expID
	t.StartTraceV3 = append(json.RawMessage(nil), body...)
	t.TraceInfo = info
	w.mu.Unlock()
	rw.Header().Set("Content-Type", "application/json")
	_, _ = fmt.Fprintf(rw, `{"trace":{"trace_info":%s}}`, info)
}

func (w *Workspace) serveUploadCredentials(rw http.ResponseWriter, r *http.Request, traceID string) {
	if id, err := url.PathUnescape(traceID); err == nil {
		traceID = id
	}
	w.mu.Lock()
	t := w.traces[traceID]
	var e *experiment
	if t != nil {
		e = w.experiments[t.Location]
	}
	denied := t != nil && w.denied[t.Location]
	w.mu.Unlock()
	switch {
	case t == nil || e == nil:
		w.reject("credentials-for-data-upload: trace %s does not exist", traceID)
		apiError(rw, http.StatusNotFound, "RESOURCE_DOES_NOT_EXIST", fmt.Sprintf("Trace with id=%s not found.", traceID))
		return
	case denied:
		w.reject("credentials-for-data-upload: no CAN_EDIT on experiment %s", t.Location)
		apiError(rw, http.StatusForbidden, "PERMISSION_DENIED", fmt.Sprintf("User does not have permission 'EDIT' on experiment %s.", t.Location))
		return
	case e.Cloud == "":
		w.reject("credentials-for-data-upload: experiment %s stores artifacts in a volume", e.ID)
		apiError(rw, http.StatusBadRequest, "INVALID_PARAMETER_VALUE", "The experiment's artifact location is a Unity Catalog volume; use the Files API.")
		return
	}
	key := e.ID + "/" + traceID + "/artifacts/traces.json"
	su := w.stores[e.Cloud].issue(key, traceID)
	headers := make([]map[string]string, 0, len(su.headers))
	for _, k := range sortedKeys(su.headers) {
		headers = append(headers, map[string]string{"name": k, "value": su.headers[k]})
	}
	writeJSON(rw, map[string]any{"credential_info": map[string]any{
		"signed_uri": su.url,
		"type":       string(e.Cloud),
		"headers":    headers,
	}})
}

// storeData records traces.json of traceID uploaded through via.
func (w *Workspace) storeData(traceID, via, path string, data []byte) {
	w.mu.Lock()
	defer w.mu.Unlock()
	t := w.traces[traceID]
	if t == nil {
		return
	}
	t.Data = append([]byte(nil), data...)
	t.DataVia = via
	t.DataPath = path
}

func (w *Workspace) serveFiles(rw http.ResponseWriter, r *http.Request) {
	p := "/" + strings.TrimPrefix(r.URL.Path, pathFilesPrefix)
	parts := strings.Split(p, "/")
	if len(parts) < 6 || parts[1] != "Volumes" {
		w.reject("files API: %s is not a file in a volume", p)
		apiError(rw, http.StatusBadRequest, "INVALID_PARAMETER_VALUE", "Path must be /Volumes/<catalog>/<schema>/<volume>/<path>")
		return
	}
	vol := strings.Join(parts[:5], "/")
	w.mu.Lock()
	known := w.volumes[vol]
	w.mu.Unlock()
	if !known {
		w.reject("files API: volume %s does not exist", vol)
		apiError(rw, http.StatusNotFound, "NOT_FOUND", "Volume '"+strings.TrimPrefix(strings.ReplaceAll(vol, "/", "."), ".Volumes.")+"' does not exist.")
		return
	}
	switch r.Method {
	case http.MethodPut:
		overwrite, _ := strconv.ParseBool(r.URL.Query().Get("overwrite"))
		data, err := io.ReadAll(io.LimitReader(r.Body, maxBody+1))
		if err != nil || len(data) > maxBody {
			apiError(rw, http.StatusBadRequest, "INVALID_PARAMETER_VALUE", "file too large")
			return
		}
		w.mu.Lock()
		_, exists := w.files[p]
		if exists && !overwrite {
			w.mu.Unlock()
			w.reject("files API: %s exists and overwrite is not true", p)
			apiError(rw, http.StatusConflict, "ALREADY_EXISTS", "The file being created already exists.")
			return
		}
		w.files[p] = data
		var traceID string
		for id, t := range w.traces {
			if e := w.experiments[t.Location]; e != nil && strings.HasPrefix(e.ArtifactLocation, "dbfs:/Volumes/") &&
				p == strings.TrimPrefix(e.ArtifactLocation, "dbfs:")+"/traces/"+id+"/artifacts/traces.json" {
				traceID = id
			}
		}
		w.mu.Unlock()
		if traceID != "" {
			w.storeData(traceID, UCVolume, p, data)
		}
		rw.WriteHeader(http.StatusNoContent)
	case http.MethodGet, http.MethodHead:
		w.mu.Lock()
		data, ok := w.files[p]
		w.mu.Unlock()
		if !ok {
			apiError(rw, http.StatusNotFound, "NOT_FOUND", "The file does not exist.")
			return
		}
		rw.Header().Set("Content-Type", "application/octet-stream")
		rw.Header().Set("Content-Length", strconv.Itoa(len(data)))
		if r.Method == http.MethodGet {
			_, _ = rw.Write(data)
		}
	default:
		w.method(rw, r, http.MethodPut)
	}
}
