package databricks

import (
	"context"
	"errors"
	"fmt"
	"net/http"
	"net/url"
	"path"
	"strings"
	"sync"
	"sync/atomic"

	commonpb "go.opentelemetry.io/proto/otlp/common/v1"

	"github.com/mlflowtrace/mlflowtrace-go/internal/dbauth"
	"github.com/mlflowtrace/mlflowtrace-go/internal/encode"
	"github.com/mlflowtrace/mlflowtrace-go/internal/keys"
	"github.com/mlflowtrace/mlflowtrace-go/internal/mlflowrest"
	"github.com/mlflowtrace/mlflowtrace-go/internal/otlpconv"
	"github.com/mlflowtrace/mlflowtrace-go/internal/tracemodel"
	"github.com/mlflowtrace/mlflowtrace-go/internal/transport"
)

// REST paths and headers.
const (
	pathTracesV2       = "/api/2.0/mlflow/traces/"
	suffixUploadCreds  = "/credentials-for-data-upload"
	pathFiles          = "/api/2.0/fs/files"
	pathOTLP           = "/api/2.0/otel/v1/traces"
	pathTracesV4       = "/api/4.0/mlflow/traces/"
	headerUCTable      = "X-Databricks-UC-Table-Name"
	traceDataFile      = "traces.json"
	userAgent          = "mlflowtrace-go"
	dbfsTrackingPrefix = "/databricks/mlflow-tracking/"
	volumesPrefix      = "/Volumes/"

	// DefaultSpansTable and DefaultLogsTable are the tables of a UC schema
	// location (MLflow's _UC_SCHEMA_DEFAULT_*_TABLE_NAME).
	DefaultSpansTable = "mlflow_experiment_trace_otel_spans"
	DefaultLogsTable  = "mlflow_experiment_trace_otel_logs"

	// maxSpansPerRequest bounds one OTLP request to the UC span table.
	maxSpansPerRequest = 500
)

// Config configures a Destination.
type Config struct {
	// Workspace is the resolved workspace and credentials (dbauth.Resolve).
	Workspace *dbauth.Config
	// Transport holds the HTTP settings (retries, timeouts, HTTPClient,
	// extra headers). Its URL and Credentials are set from Workspace; its
	// Token, Username and Password (MLflow server auth) are ignored.
	Transport transport.Config
	// ExperimentName wins over ExperimentID; one is required unless
	// UCSchema is set.
	ExperimentID   string
	ExperimentName string
	// UCSchema, "<catalog>.<schema>", sends traces to that schema's Unity
	// Catalog tables instead of an experiment.
	UCSchema string
	// Resource is the OTLP resource of the spans sent to UC tables.
	Resource map[string]any
}

// Destination exports finished traces to a Databricks workspace. It is safe
// for concurrent use; New does no I/O.
type Destination struct {
	client   *transport.Client
	ws       *dbauth.Config
	exp      *mlflowrest.Resolver // nil for UC tables
	uc       *tracemodel.UCSchemaLocation
	ucLoc    string // "<catalog>.<schema>"
	ucTable  string // "<catalog>.<schema>.<spans table>"
	resource []*commonpb.KeyValue

	reportedMu sync.Mutex
	reported   map[string]bool
	closed     atomic.Bool
}

// ParseUCSchema splits "<catalog>.<schema>"; ok is false for anything else.
func ParseUCSchema(s string) (catalog, schema string, ok bool) {
	parts := strings.Split(strings.TrimSpace(s), ".")
	if len(parts) != 2 || parts[0] == "" || parts[1] == "" {
		return "", "", false
	}
	return parts[0], parts[1], true
}

// New returns a Destination. It validates the configuration but does no I/O.
func New(cfg Config) (*Destination, error) {
	if cfg.Workspace == nil || cfg.Workspace.Host == "" || cfg.Workspace.Credentials == nil {
		return nil, errors.New("databricks: no workspace configured")
	}
	tc := cfg.Transport
	tc.URL = cfg.Workspace.Host
	tc.Credentials = cfg.Workspace.Credentials
	tc.Token, tc.Username, tc.Password = nil, nil, nil
	tc.Headers = tc.Headers.Clone()
	if tc.Headers == nil {
		tc.Headers = http.Header{}
	}
	if tc.Headers.Get("User-Agent") == "" {
		tc.Headers.Set("User-Agent", userAgent)
	}
	c, err := transport.New(tc)
	if err != nil {
		return nil, fmt.Errorf("databricks: %w", err)
	}
	d := &Destination{
		client:   c,
		ws:       cfg.Workspace,
		resource: otlpconv.KeyValues(cfg.Resource),
		reported: map[string]bool{},
	}
	if cfg.UCSchema != "" {
		cat, sch, ok := ParseUCSchema(cfg.UCSchema)
		if !ok {
			return nil, errors.New("databricks: a Unity Catalog trace location is <catalog>.<schema>")
		}
		d.ucLoc = cat + "." + sch
		d.uc = &tracemodel.UCSchemaLocation{CatalogName: cat, SchemaName: sch,
			OTelSpansTableName: DefaultSpansTable, OTelLogsTableName: DefaultLogsTable}
		d.ucTable = d.ucLoc + "." + DefaultSpansTable
		return d, nil
	}
	if strings.TrimSpace(cfg.ExperimentID) == "" && strings.TrimSpace(cfg.ExperimentName) == "" {
		return nil, errors.New("databricks: no experiment: set MLFLOW_EXPERIMENT_ID (or MLFLOW_EXPERIMENT_NAME, e.g. /Users/<you>/<name>), or MLFLOW_TRACING_DESTINATION=<catalog>.<schema> for Unity Catalog tables")
	}
	d.exp = mlflowrest.NewResolver(c, cfg.ExperimentID, cfg.ExperimentName, "")
	return d, nil
}

// Host returns the workspace URL.
func (d *Destination) Host() string { return d.ws.Host }

// ExperimentID returns the resolved experiment id ("" before the first
// successful export, and for UC tables).
func (d *Destination) ExperimentID() string {
	if d.exp == nil {
		return ""
	}
	return d.exp.Resolved()
}

// UCSchema returns the Unity Catalog location "<catalog>.<schema>", or "".
func (d *Destination) UCSchema() string { return d.ucLoc }

// Shutdown releases idle connections. Exports after Shutdown fail.
func (d *Destination) Shutdown(ctx context.Context) error {
	d.closed.Store(true)
	d.client.CloseIdleConnections()
	return nil
}

var errClosed = errors.New("databricks: destination is shut down")

// ExportTraces logs finished traces to the workspace.
func (d *Destination) ExportTraces(ctx context.Context, traces []*tracemodel.Trace) error {
	if d.closed.Load() {
		return errClosed
	}
	if len(traces) == 0 {
		return nil
	}
	if d.uc != nil {
		return d.exportUC(ctx, traces)
	}
	exp, err := d.exp.ID(ctx)
	if err != nil {
		return d.explain(fmt.Errorf("databricks: experiment: %w", err), "the experiment")
	}
	var errs []error
	for _, t := range traces {
		if err := d.exportTrace(ctx, exp, t); err != nil {
			errs = append(errs, fmt.Errorf("%s: %w", t.Info.TraceID, err))
		}
		if ctx.Err() != nil {
			break
		}
	}
	return errors.Join(errs...)
}

// explain adds what to check to a 401/403 from the workspace.
func (d *Destination) explain(err error, resource string) error {
	switch transport.StatusCode(err) {
	case http.StatusUnauthorized:
		return fmt.Errorf("%w (the workspace %s rejected the credentials (%s, from %s): the token may be expired or revoked; %s)",
			err, d.ws.Host, d.ws.AuthType, d.ws.Source, credentialHint(d.ws.AuthType))
	case http.StatusForbidden:
		return fmt.Errorf("%w (the identity authenticated by %s lacks permission on %s: it needs CAN_EDIT on the experiment, or write access to the volume or Unity Catalog schema)",
			err, d.ws.AuthType, resource)
	}
	return err
}

func credentialHint(authType string) string {
	switch authType {
	case dbauth.AuthPAT:
		return "create a new personal access token and set DATABRICKS_TOKEN"
	case dbauth.AuthOAuthM2M:
		return "check DATABRICKS_CLIENT_ID / DATABRICKS_CLIENT_SECRET and the service principal's access to the workspace"
	case dbauth.AuthModelServing:
		return "the Model Serving token file was not renewed"
	}
	return "check the credentials"
}

// exportTrace sends one experiment trace: StartTraceV3, then traces.json.
//
// The part of a distributed trace continued from a remote parent
// (Trace.ContinuesRemote) is written as a trace of its own, like any other:
// a Databricks experiment takes no separate spans, and a Go handler
// continues every incoming traceparent (tracing.Wrap), also one from a
// gateway that traces nowhere, so writing the part is the way not to lose
// it. MLflow's Python SDK, which continues a trace only on request, drops
// such a part instead.
func (d *Destination) exportTrace(ctx context.Context, exp string, t *tracemodel.Trace) error {
	info := t.Info // a copy: the Trace is shared and read-only
	if info.ExperimentID == "" {
		info.ExperimentID = exp
	}
	tags, err := mlflowrest.StartTraceV3(ctx, d.client, &info)
	if err != nil {
		return d.explain(fmt.Errorf("start trace: %w", err), "experiment "+info.ExperimentID)
	}
	loc := tags[keys.TagArtifactLocation]
	if loc == "" {
		return errors.New("upload trace data: the workspace returned no mlflow.artifactLocation")
	}
	data, err := tracemodel.MarshalTraceData(t.Spans)
	if err != nil {
		return fmt.Errorf("encode trace data: %w", err)
	}
	return d.upload(ctx, info.TraceID, loc, data)
}

// upload writes traces.json under the artifact location loc.
func (d *Destination) upload(ctx context.Context, traceID, loc string, data []byte) error {
	u, err := url.Parse(loc)
	if err != nil || !strings.EqualFold(u.Scheme, "dbfs") {
		scheme := "?"
		if err == nil {
			scheme = u.Scheme
		}
		return d.once("scheme:"+scheme, fmt.Errorf("databricks: artifact location scheme %q is not supported (want dbfs:)", scheme))
	}
	// dbfs://<profile>@databricks/<path> names a profile: the path is what counts.
	p := path.Clean("/" + strings.TrimPrefix(u.Path, "/"))
	switch {
	case strings.HasPrefix(p, volumesPrefix):
		return d.uploadVolume(ctx, p+"/"+traceDataFile, data)
	case strings.HasPrefix(p, dbfsTrackingPrefix):
		return d.uploadSigned(ctx, traceID, data)
	}
	return d.once("dbfs-path", errors.New("databricks: the trace's artifact location is a DBFS path outside dbfs:/databricks/mlflow-tracking and dbfs:/Volumes; traces.json cannot be uploaded"))
}

// uploadVolume writes a file to a Unity Catalog volume through the Files API.
func (d *Destination) uploadVolume(ctx context.Context, file string, data []byte) error {
	_, err := d.client.Do(ctx, &transport.Request{
		Method: http.MethodPut,
		Path:   pathFiles + mlflowrest.EscapePath(file) + "?overwrite=true",
		Header: http.Header{"Content-Type": {"application/octet-stream"}},
		Body:   data,
	})
	if err != nil {
		return d.explain(fmt.Errorf("upload trace data to the volume: %w", err), "volume "+volumeOf(file))
	}
	return nil
}

func volumeOf(file string) string {
	parts := strings.SplitN(strings.TrimPrefix(file, "/"), "/", 5)
	if len(parts) < 4 {
		return file
	}
	return strings.Join(parts[1:4], ".")
}

// once returns err the first time key is seen and nil afterwards, so a
// configuration problem is reported once, not per trace.
func (d *Destination) once(key string, err error) error {
	d.reportedMu.Lock()
	defer d.reportedMu.Unlock()
	if d.reported[key] {
		return nil
	}
	d.reported[key] = true
	return err
}

// --- Unity Catalog tables ----------------------------------------------------

func (d *Destination) exportUC(ctx context.Context, traces []*tracemodel.Trace) error {
	var errs []error
	spans := make([]*tracemodel.Span, 0, 16*len(traces))
	for _, t := range traces {
		spans = append(spans, ucSpans(t)...)
	}
	for len(spans) > 0 {
		n := min(len(spans), maxSpansPerRequest)
		if err := d.postSpans(ctx, spans[:n]); err != nil {
			errs = append(errs, err)
			break
		}
		spans = spans[n:]
	}
	for _, t := range traces {
		if err := d.postInfoV4(ctx, t); err != nil {
			errs = append(errs, fmt.Errorf("%s: %w", t.Info.TraceID, err))
		}
		if ctx.Err() != nil {
			break
		}
	}
	return errors.Join(errs...)
}

// ucSpans returns t's spans with the root carrying user.id and session.id
// from the trace's user and session, as MLflow's UC span processor sets
// them. The shared spans are not modified: the root is copied.
func ucSpans(t *tracemodel.Trace) []*tracemodel.Span {
	user, session := t.Info.Metadata[keys.MetaUser], t.Info.Metadata[keys.MetaSession]
	if user == "" && session == "" {
		return t.Spans
	}
	out := make([]*tracemodel.Span, len(t.Spans))
	copy(out, t.Spans)
	for i, s := range out {
		if s == nil || s.ParentSpanID.IsValid() {
			continue
		}
		c := *s
		c.Attributes = make(map[string]string, len(s.Attributes)+2)
		for k, v := range s.Attributes {
			c.Attributes[k] = v
		}
		if user != "" {
			c.Attributes[keys.UserID] = string(encode.AppendString(nil, user, false))
		}
		if session != "" {
			c.Attributes[keys.SessionID] = string(encode.AppendString(nil, session, false))
		}
		out[i] = &c
		break
	}
	return out
}

func (d *Destination) postSpans(ctx context.Context, spans []*tracemodel.Span) error {
	body, err := otlpconv.AppendRequest(nil, otlpconv.Request(spans, d.resource))
	if err != nil {
		return fmt.Errorf("databricks: encode spans: %w", err)
	}
	_, err = d.client.Do(ctx, &transport.Request{
		Method: http.MethodPost,
		Path:   pathOTLP,
		Header: http.Header{
			"Content-Type": {"application/x-protobuf"},
			headerUCTable:  {d.ucTable},
		},
		Body: body,
	})
	if err != nil {
		return d.explain(fmt.Errorf("log spans to %s: %w", d.ucTable, err), "table "+d.ucTable)
	}
	return nil
}

func (d *Destination) postInfoV4(ctx context.Context, t *tracemodel.Trace) error {
	info := t.Info
	hexID := strings.TrimPrefix(info.TraceID, tracemodel.UCRequestIDPrefix(d.ucLoc))
	if len(hexID) != 32 {
		for _, s := range t.Spans {
			if s != nil {
				hexID = s.TraceID.String()
				break
			}
		}
	}
	info.TraceID = hexID // the v4 body carries the bare OpenTelemetry trace id
	info.UCSchema = d.uc
	info.ExperimentID = ""
	body, err := info.MarshalJSON()
	if err != nil {
		return fmt.Errorf("encode trace info: %w", err)
	}
	_, err = d.client.Do(ctx, &transport.Request{
		Method: http.MethodPost,
		Path:   pathTracesV4 + url.PathEscape(d.ucLoc) + "/" + hexID + "/info",
		Header: http.Header{"Content-Type": {"application/json"}},
		Body:   body,
	})
	if err != nil {
		return d.explain(fmt.Errorf("create trace info: %w", err), "Unity Catalog schema "+d.ucLoc)
	}
	return nil
}
