package databrickstest

import (
	"bytes"
	"crypto/rand"
	"crypto/tls"
	"encoding/hex"
	"encoding/json"
	"fmt"
	"io"
	"net"
	"net/http"
	"net/http/httptest"
	"sort"
	"strings"
	"sync"
	"sync/atomic"
	"testing"
	"time"
)

// Cloud is the storage behind a workspace experiment: the type of the signed
// upload URLs credentials-for-data-upload hands out.
type Cloud string

// The credential types of MLflow's ArtifactCredentialType.
const (
	AWS   Cloud = "AWS_PRESIGNED_URL"
	GCP   Cloud = "GCP_SIGNED_URL"
	Azure Cloud = "AZURE_SAS_URI"
	ADLS  Cloud = "AZURE_ADLS_GEN2_SAS_URI"
)

// Clouds lists every credential type.
var Clouds = []Cloud{AWS, GCP, Azure, ADLS}

// UCVolume is what DataVia says for traces written to a Unity Catalog volume
// through the Files API.
const UCVolume = "UC_VOLUME"

// Config configures Start.
type Config struct {
	// TLS serves the workspace and the object stores over HTTPS with
	// httptest's certificate (use HTTPClient). Otherwise plain HTTP.
	TLS bool
	// Addr is the workspace's listen address (plain HTTP only; default
	// 127.0.0.1:0).
	Addr string
	// Token is the personal access token the workspace accepts (default: a
	// random "dapi…" token).
	Token string
	// ClientID and ClientSecret are the service principal whose OAuth
	// client credentials the token endpoint accepts (default: random).
	ClientID, ClientSecret string
	// TokenTTL is the lifetime of OAuth tokens (default 1 h).
	TokenTTL time.Duration
	// SignedURLTTL is the lifetime of signed upload URLs (default 15 min).
	SignedURLTTL time.Duration
	// Logf, when set, receives one line per request and per rejection.
	Logf func(format string, args ...any)
}

// Workspace is a fake Databricks workspace. Its methods are safe for
// concurrent use.
type Workspace struct {
	// URL is the workspace host (https://127.0.0.1:port or http://…).
	URL string
	// Token is the accepted personal access token.
	Token string
	// ClientID and ClientSecret are the accepted OAuth client credentials.
	ClientID, ClientSecret string
	// WorkspaceID is what the host metadata reports.
	WorkspaceID string

	cfg    Config
	srv    *httptest.Server
	stores map[Cloud]*objectStore
	client *http.Client

	conns atomic.Int64 // client connections open now

	mu          sync.Mutex
	tokens      map[string]tokenInfo // accepted bearer tokens
	tokenReqs   int
	experiments map[string]*experiment
	nextExp     int
	ucSchemas   map[string]bool // "catalog.schema"
	// ucPrefixes are the table-prefix locations experiments are linked to:
	// "catalog.schema.prefix" → its fully qualified spans table.
	ucPrefixes map[string]string
	volumes    map[string]bool // "/Volumes/c/s/v"
	files      map[string][]byte
	traces     map[string]*Trace
	sql        sqlState // SQL warehouses: warehouse.go
	order      []string
	creds      map[string]*signedURL // signature -> issued URL
	faults     []*Fault
	log        []Request
	rejections []string
	denied     map[string]bool      // experiment ids the principal may not edit
	ops        map[string]*searchOp // long-running searches
	// Unity Catalog's prompt registry (prompts.go).
	prompts      map[string]*ucPrompt
	promptLinks  []PromptLink
	loggedModels map[string]*loggedModel
}

type tokenInfo struct {
	kind    string // "pat", "oauth", "serving"
	expires time.Time
}

type experiment struct {
	ID               string
	Name             string
	ArtifactLocation string
	Cloud            Cloud
	Tags             map[string]string
	Created          time.Time
}

// Trace is everything the workspace stored for one trace.
type Trace struct {
	// TraceID is MLflow's id: "tr-…" (experiment) or "trace:/<c>.<s>/<hex>" (UC).
	TraceID string
	// Location is the experiment id or "<catalog>.<schema>".
	Location string
	// StartTraceV3 is the request body of StartTraceV3, as received.
	StartTraceV3 json.RawMessage `json:",omitempty"`
	// TraceInfoV4 is the request body of the v4 CreateTraceInfo, as received.
	TraceInfoV4 json.RawMessage `json:",omitempty"`
	// TraceInfo is the trace info the workspace stored and answered with
	// (server tags added).
	TraceInfo json.RawMessage `json:",omitempty"`
	// Data is traces.json as stored (object store or volume).
	Data []byte `json:",omitempty"`
	// DataVia is the credential type used to upload Data, or UCVolume.
	DataVia string `json:",omitempty"`
	// DataPath is the object key or volume path of Data.
	DataPath string `json:",omitempty"`
	// Spans are the OTLP spans received for the trace (UC tables), each a
	// marshalled opentelemetry.proto.trace.v1.Span.
	Spans [][]byte `json:",omitempty"`
	// SpanTable is the X-Databricks-UC-Table-Name the spans were sent to.
	SpanTable string `json:",omitempty"`
	// Resource is the OTLP resource of the spans, marshalled.
	Resource []byte `json:",omitempty"`
	// Assessments are the trace's assessments as the workspace answers them
	// (protobuf JSON of mlflow.assessments.Assessment), in creation order.
	Assessments []json.RawMessage `json:",omitempty"`
}

// Request is one request the workspace or an object store received.
type Request struct {
	Host   string // "workspace" or the cloud of an object store
	Method string
	Path   string
	Query  string `json:",omitempty"`
	Status int
	Auth   string            `json:",omitempty"` // pat, oauth, serving, or "" when none
	Header map[string]string `json:",omitempty"` // headers of object-store requests
}

// Start starts a workspace and its four object stores.
func Start(cfg Config) (*Workspace, error) {
	if cfg.Token == "" {
		cfg.Token = "dapi" + randHex(16)
	}
	if cfg.ClientID == "" {
		cfg.ClientID = "sp-" + randHex(4)
	}
	if cfg.ClientSecret == "" {
		cfg.ClientSecret = "dose" + randHex(16)
	}
	if cfg.TokenTTL <= 0 {
		cfg.TokenTTL = time.Hour
	}
	if cfg.SignedURLTTL <= 0 {
		cfg.SignedURLTTL = 15 * time.Minute
	}
	w := &Workspace{
		Token:        cfg.Token,
		ClientID:     cfg.ClientID,
		ClientSecret: cfg.ClientSecret,
		WorkspaceID:  "1234567890123456",
		cfg:          cfg,
		tokens:       map[string]tokenInfo{cfg.Token: {kind: "pat"}},
		experiments:  map[string]*experiment{},
		nextExp:      1000,
		ucSchemas:    map[string]bool{},
		ucPrefixes:   map[string]string{},
		volumes:      map[string]bool{},
		files:        map[string][]byte{},
		traces:       map[string]*Trace{},
		creds:        map[string]*signedURL{},
		denied:       map[string]bool{},
		stores:       map[Cloud]*objectStore{},
		prompts:      map[string]*ucPrompt{},
		loggedModels: map[string]*loggedModel{},
	}
	w.srv = httptest.NewUnstartedServer(http.HandlerFunc(w.serve))
	w.srv.Config.ConnState = w.connState
	if !cfg.TLS && cfg.Addr != "" {
		l, err := net.Listen("tcp", cfg.Addr)
		if err != nil {
			return nil, err
		}
		_ = w.srv.Listener.Close()
		w.srv.Listener = l
	}
	if cfg.TLS {
		w.srv.StartTLS()
		w.client = w.srv.Client()
	} else {
		w.srv.Start()
		w.client = &http.Client{}
	}
	w.URL = w.srv.URL
	for _, c := range Clouds {
		w.stores[c] = newObjectStore(w, c, cfg.TLS)
	}
	if cfg.TLS {
		// One client for every server: httptest servers share one certificate.
		tr := w.client.Transport.(*http.Transport).Clone()
		tr.TLSClientConfig = &tls.Config{RootCAs: w.client.Transport.(*http.Transport).TLSClientConfig.RootCAs}
		w.client = &http.Client{Transport: tr}
	}
	return w, nil
}

// New starts an HTTPS workspace for a test and closes it when the test ends.
// Requests are logged through t.Logf when the test fails.
func New(t testing.TB) *Workspace {
	t.Helper()
	w, err := Start(Config{TLS: true})
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() {
		if t.Failed() {
			for _, r := range w.Requests() {
				t.Logf("fake workspace: %s %s %s%s -> %d (auth %s)", r.Host, r.Method, r.Path, q(r.Query), r.Status, r.Auth)
			}
			for _, r := range w.Rejections() {
				t.Logf("fake workspace rejected: %s", r)
			}
		}
		w.Close()
	})
	return w
}

func q(s string) string {
	if s == "" {
		return ""
	}
	return "?" + s
}

// Close stops the workspace and its stores.
func (w *Workspace) Close() {
	w.srv.Close()
	for _, s := range w.stores {
		s.srv.Close()
	}
	w.client.CloseIdleConnections()
}

// HTTPClient returns a client that trusts the workspace's and the stores'
// certificate (TLS) or a plain client.
func (w *Workspace) HTTPClient() *http.Client { return w.client }

// StoreURL returns the base URL of the object store of cloud c.
func (w *Workspace) StoreURL(c Cloud) string { return w.stores[c].srv.URL }

// CreateExperiment creates an experiment whose traces are stored on cloud c
// (artifact location dbfs:/databricks/mlflow-tracking/<id>) and returns its
// id.
func (w *Workspace) CreateExperiment(name string, c Cloud) string {
	w.mu.Lock()
	defer w.mu.Unlock()
	return w.createExperimentLocked(name, "", c)
}

// CreateVolumeExperiment creates an experiment whose artifact location is
// the Unity Catalog volume path volumePath
// ("/Volumes/<catalog>/<schema>/<volume>/<dir>"), registering the volume.
func (w *Workspace) CreateVolumeExperiment(name, volumePath string) string {
	volumePath = "/" + strings.Trim(volumePath, "/")
	parts := strings.Split(volumePath, "/")
	w.mu.Lock()
	defer w.mu.Unlock()
	if len(parts) >= 5 {
		w.volumes[strings.Join(parts[:5], "/")] = true
	}
	return w.createExperimentLocked(name, "dbfs:"+volumePath, "")
}

func (w *Workspace) createExperimentLocked(name, artifactLocation string, c Cloud) string {
	w.nextExp++
	id := fmt.Sprint(w.nextExp)
	if artifactLocation == "" {
		artifactLocation = "dbfs:/databricks/mlflow-tracking/" + id
	}
	if c == "" && !strings.HasPrefix(artifactLocation, "dbfs:/Volumes/") {
		c = AWS
	}
	w.experiments[id] = &experiment{ID: id, Name: name, ArtifactLocation: artifactLocation, Cloud: c, Tags: map[string]string{}, Created: time.Now()}
	return id
}

// SetDefaultCloud sets the cloud of experiments created through the REST
// API (MLFLOW_EXPERIMENT_NAME of a missing experiment); default AWS.
func (w *Workspace) SetExperimentCloud(id string, c Cloud) {
	w.mu.Lock()
	defer w.mu.Unlock()
	if e := w.experiments[id]; e != nil {
		e.Cloud = c
	}
}

// CreateUCSchema registers the Unity Catalog schema catalog.schema as a
// trace location (MLflow's set-up calls are not needed against the fake).
func (w *Workspace) CreateUCSchema(catalog, schema string) {
	w.mu.Lock()
	defer w.mu.Unlock()
	w.ucSchemas[catalog+"."+schema] = true
}

// LinkExperimentToUC links experiment id to the Unity Catalog table-prefix
// location catalog.schema.prefix, as linking an experiment to Unity Catalog
// in a workspace does: the experiment gets MLflow's
// mlflow.experiment.databricksTrace* tags naming the location and its
// tables (<catalog>.<schema>.<prefix>_otel_spans, _otel_logs,
// _annotations), and the location accepts OTLP spans for that spans table
// and v4 trace infos of type UC_TABLE_PREFIX. It returns the spans table.
func (w *Workspace) LinkExperimentToUC(id, catalog, schema, prefix string) string {
	loc := catalog + "." + schema + "." + prefix
	spans := loc + "_otel_spans"
	w.mu.Lock()
	defer w.mu.Unlock()
	w.ucPrefixes[loc] = spans
	if e := w.experiments[id]; e != nil {
		if e.Tags == nil {
			e.Tags = map[string]string{}
		}
		e.Tags[tagTraceDestinationPath] = loc
		e.Tags[tagTraceSpansTable] = spans
		e.Tags[tagTraceLogsTable] = loc + "_otel_logs"
		e.Tags[tagTraceAnnotationsTable] = loc + "_annotations"
	}
	return spans
}

// DeleteExperimentTag removes tag key of experiment id (e.g. a link to Unity
// Catalog that names no spans table).
func (w *Workspace) DeleteExperimentTag(id, key string) {
	w.mu.Lock()
	defer w.mu.Unlock()
	if e := w.experiments[id]; e != nil {
		delete(e.Tags, key)
	}
}

// DenyEdit makes the principal lack CAN_EDIT on experiment id: StartTraceV3
// answers 403 PERMISSION_DENIED.
func (w *Workspace) DenyEdit(id string) {
	w.mu.Lock()
	defer w.mu.Unlock()
	w.denied[id] = true
}

// AddToken makes the workspace accept bearer token tok (e.g. the token of a
// fake Model Serving credentials file).
func (w *Workspace) AddToken(tok string) {
	w.mu.Lock()
	defer w.mu.Unlock()
	w.tokens[tok] = tokenInfo{kind: "serving"}
}

// RevokeToken makes the workspace reject bearer token tok.
func (w *Workspace) RevokeToken(tok string) {
	w.mu.Lock()
	defer w.mu.Unlock()
	delete(w.tokens, tok)
}

// PATEnv returns the environment of a program that uses the workspace with
// its personal access token.
func (w *Workspace) PATEnv() map[string]string {
	return map[string]string{"DATABRICKS_HOST": w.URL, "DATABRICKS_TOKEN": w.Token}
}

// OAuthEnv returns the environment of a program that uses the workspace with
// its service principal's OAuth client credentials.
func (w *Workspace) OAuthEnv() map[string]string {
	return map[string]string{"DATABRICKS_HOST": w.URL, "DATABRICKS_CLIENT_ID": w.ClientID, "DATABRICKS_CLIENT_SECRET": w.ClientSecret}
}

// ExpireTokens expires every OAuth token issued so far: requests carrying
// one are answered 401 until the client fetches a new token.
func (w *Workspace) ExpireTokens() {
	w.mu.Lock()
	defer w.mu.Unlock()
	for k, ti := range w.tokens {
		if ti.kind == "oauth" {
			ti.expires = time.Now().Add(-time.Second)
			w.tokens[k] = ti
		}
	}
}

// TokenRequests returns how many OAuth tokens the token endpoint issued.
func (w *Workspace) TokenRequests() int {
	w.mu.Lock()
	defer w.mu.Unlock()
	return w.tokenReqs
}

func (w *Workspace) connState(_ net.Conn, s http.ConnState) {
	switch s {
	case http.StateNew:
		w.conns.Add(1)
	case http.StateClosed, http.StateHijacked:
		w.conns.Add(-1)
	}
}

// OpenConnections waits up to wait for the clients' connections to the
// workspace to be closed and returns how many are still open.
func (w *Workspace) OpenConnections(wait time.Duration) int {
	for deadline := time.Now().Add(wait); ; time.Sleep(10 * time.Millisecond) {
		if n := int(w.conns.Load()); n == 0 || time.Now().After(deadline) {
			return n
		}
	}
}

// Traces returns a copy of every stored trace, in the order they were
// created.
func (w *Workspace) Traces() []Trace {
	w.mu.Lock()
	defer w.mu.Unlock()
	out := make([]Trace, 0, len(w.order))
	for _, id := range w.order {
		out = append(out, cloneTrace(w.traces[id]))
	}
	return out
}

// Trace returns the stored trace with MLflow id id.
func (w *Workspace) Trace(id string) (Trace, bool) {
	w.mu.Lock()
	defer w.mu.Unlock()
	t, ok := w.traces[id]
	if !ok {
		return Trace{}, false
	}
	return cloneTrace(t), true
}

func cloneTrace(t *Trace) Trace {
	c := *t
	c.Spans = append([][]byte(nil), t.Spans...)
	c.Assessments = append([]json.RawMessage(nil), t.Assessments...)
	return c
}

// Requests returns every request received so far.
func (w *Workspace) Requests() []Request {
	w.mu.Lock()
	defer w.mu.Unlock()
	return append([]Request(nil), w.log...)
}

// Rejections returns why requests were rejected (4xx answers), one line
// each.
func (w *Workspace) Rejections() []string {
	w.mu.Lock()
	defer w.mu.Unlock()
	return append([]string(nil), w.rejections...)
}

// Fault makes the workspace or an object store answer matching requests
// with Status, Times times (0: until cleared), after letting the first
// After of them through.
type Fault struct {
	// Host is "workspace" (default) or a Cloud.
	Host string
	// Method and PathPrefix select requests ("" matches any).
	Method     string
	PathPrefix string
	Status     int
	Times      int
	After      int
	RetryAfter string
	Body       string
	// Delay holds the request this long (or until the client gives up)
	// before answering; with Status 0 the request is then served normally.
	Delay   time.Duration
	matched int // matching requests so far
	hits    int // requests the fault answered
}

// Fail installs a fault.
func (w *Workspace) Fail(f Fault) {
	w.mu.Lock()
	defer w.mu.Unlock()
	if f.Host == "" {
		f.Host = "workspace"
	}
	w.faults = append(w.faults, &f)
}

// ClearFaults removes every fault.
func (w *Workspace) ClearFaults() {
	w.mu.Lock()
	defer w.mu.Unlock()
	w.faults = nil
}

// fault returns the fault matching r on host, counting the hit.
func (w *Workspace) fault(host string, r *http.Request) *Fault {
	w.mu.Lock()
	defer w.mu.Unlock()
	for _, f := range w.faults {
		if f.Host != host || (f.Method != "" && f.Method != r.Method) || !strings.HasPrefix(r.URL.Path, f.PathPrefix) {
			continue
		}
		if f.matched++; f.matched <= f.After {
			continue
		}
		if f.Times > 0 && f.hits >= f.Times {
			continue
		}
		f.hits++
		c := *f
		return &c
	}
	return nil
}

// applyFault serves the fault f and reports whether the request is done
// (false: a pure delay, serve it normally).
func applyFault(w http.ResponseWriter, r *http.Request, f *Fault) bool {
	if f.Delay > 0 {
		// Read the body first: only then does the server notice a client
		// that gives up (r.Context ends).
		body, _ := io.ReadAll(io.LimitReader(r.Body, maxBody))
		r.Body = io.NopCloser(bytes.NewReader(body))
		t := time.NewTimer(f.Delay)
		select {
		case <-t.C:
		case <-r.Context().Done():
			t.Stop()
			return true
		}
	}
	if f.Status == 0 {
		return false
	}
	writeFault(w, f)
	return true
}

func writeFault(w http.ResponseWriter, f *Fault) {
	if f.RetryAfter != "" {
		w.Header().Set("Retry-After", f.RetryAfter)
	}
	body := f.Body
	if body == "" {
		body = fmt.Sprintf(`{"error_code":"TEMPORARILY_UNAVAILABLE","message":"injected fault: status %d"}`, f.Status)
	}
	w.Header().Set("Content-Type", "application/json")
	w.WriteHeader(f.Status)
	_, _ = w.Write([]byte(body))
}

func (w *Workspace) record(r Request) {
	w.mu.Lock()
	w.log = append(w.log, r)
	w.mu.Unlock()
	if w.cfg.Logf != nil {
		w.cfg.Logf("%s %s %s%s -> %d (auth %s)", r.Host, r.Method, r.Path, q(r.Query), r.Status, r.Auth)
	}
}

func (w *Workspace) reject(format string, args ...any) string {
	msg := fmt.Sprintf(format, args...)
	w.mu.Lock()
	w.rejections = append(w.rejections, msg)
	w.mu.Unlock()
	if w.cfg.Logf != nil {
		w.cfg.Logf("rejected: %s", msg)
	}
	return msg
}

// statusRecorder captures the status of a response.
type statusRecorder struct {
	http.ResponseWriter
	status int
}

func (s *statusRecorder) WriteHeader(code int) {
	if s.status == 0 {
		s.status = code
	}
	s.ResponseWriter.WriteHeader(code)
}

func (s *statusRecorder) Write(b []byte) (int, error) {
	if s.status == 0 {
		s.status = http.StatusOK
	}
	return s.ResponseWriter.Write(b)
}

func randHex(n int) string {
	b := make([]byte, n)
	_, _ = rand.Read(b)
	return hex.EncodeToString(b)
}

func sortedKeys[V any](m map[string]V) []string {
	ks := make([]string, 0, len(m))
	for k := range m {
		ks = append(ks, k)
	}
	sort.Strings(ks)
	return ks
}

// apiError writes Databricks' JSON error body.
func apiError(w http.ResponseWriter, status int, code, msg string) {
	w.Header().Set("Content-Type", "application/json")
	w.WriteHeader(status)
	b, _ := json.Marshal(map[string]string{"error_code": code, "message": msg})
	_, _ = w.Write(b)
}

func writeJSON(w http.ResponseWriter, v any) {
	w.Header().Set("Content-Type", "application/json")
	b, _ := json.Marshal(v)
	_, _ = w.Write(b)
}
