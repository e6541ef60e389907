package databricks

import (
	"context"
	"errors"
	"fmt"
	"net/http"
	"net/url"
	"path"
	"slices"
	"strings"
	"sync"
	"sync/atomic"
	"time"

	commonpb "go.opentelemetry.io/proto/otlp/common/v1"

	"github.com/mlflowtrace/mlflowtrace-go/internal/dbauth"
	"github.com/mlflowtrace/mlflowtrace-go/internal/encode"
	"github.com/mlflowtrace/mlflowtrace-go/internal/keys"
	"github.com/mlflowtrace/mlflowtrace-go/internal/llmcost"
	"github.com/mlflowtrace/mlflowtrace-go/internal/mlflowrest"
	"github.com/mlflowtrace/mlflowtrace-go/internal/otlpconv"
	"github.com/mlflowtrace/mlflowtrace-go/internal/promptlink"
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

	// Experiment tags naming the Unity Catalog location an experiment is
	// linked to and its spans table (MLflow's
	// MLFLOW_EXPERIMENT_DATABRICKS_TRACE_DESTINATION_PATH and
	// _SPAN_STORAGE_TABLE).
	TagTraceDestinationPath = "mlflow.experiment.databricksTraceDestinationPath"
	TagTraceSpansTable      = "mlflow.experiment.databricksTraceSpanStorageTable"

	// linkRetry is how long after a failed lookup of the experiment's tags
	// the next export looks again.
	linkRetry = 30 * time.Second
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
	// Prices prices the LLM spans of every trace before it is sent
	// (mlflow.llm.cost, mlflow.trace.cost), as MLflow's client does for a
	// Databricks workspace, which computes no cost itself; nil means
	// llmcost.Bundled().
	Prices *llmcost.Catalog
	// ErrorHandler, when set, is told (once each) of problems that do not
	// keep traces from being delivered, such as a Unity Catalog link that
	// names no spans table; such problems never fail an export.
	ErrorHandler func(error)
}

// Destination exports finished traces to a Databricks workspace. It is safe
// for concurrent use; New does no I/O (LookupLink and exports do) and it
// starts no goroutine.
type Destination struct {
	client   *transport.Client
	ws       *dbauth.Config
	exp      *mlflowrest.Resolver // nil for UC tables
	uc       *ucTarget            // MLFLOW_TRACING_DESTINATION=<catalog>.<schema>
	resource []*commonpb.KeyValue
	prices   *llmcost.Catalog
	onWarn   func(error) // nil: warnings are dropped

	// Whether the experiment is linked to Unity Catalog tables, learnt from
	// its tags by LookupLink or the first export. linkMu guards linkRetryAt
	// and linkBusy (closed when the lookup in flight ends); it is never held
	// across the lookup.
	linkMu      sync.Mutex
	linkKnown   atomic.Bool
	linked      atomic.Pointer[ucTarget]
	linkRetryAt time.Time
	linkBusy    chan struct{}

	reported mlflowrest.Reported // one-time errors already returned
	closed   atomic.Bool
}

// ucTarget is where Unity Catalog traces go: a schema's tables, or the
// table-prefix location an experiment is linked to.
type ucTarget struct {
	loc    string // "<catalog>.<schema>" or "<catalog>.<schema>.<table prefix>"
	idPref string // "trace:/<loc>/"
	table  string // fully qualified spans table ("" when the workspace named none)
	schema *tracemodel.UCSchemaLocation
	prefix *tracemodel.UCTablePrefixLocation
	// experiment is the linked experiment's id, for messages.
	experiment string
}

// linkedTarget returns the Unity Catalog location an experiment's tags link
// it to, or nil, reading the tags as MLflow's Experiment.trace_location does:
// a destination path of exactly <catalog>.<schema>.<table prefix>.
func linkedTarget(experiment string, tags map[string]string) *ucTarget {
	parts := strings.Split(tags[TagTraceDestinationPath], ".")
	if len(parts) != 3 || parts[0] == "" || parts[1] == "" || parts[2] == "" {
		return nil
	}
	// The trace info names only the spans table, as MLflow's UC span
	// processor copies only that one into the trace location.
	l := &tracemodel.UCTablePrefixLocation{CatalogName: parts[0], SchemaName: parts[1], TablePrefix: parts[2],
		SpansTableName: tags[TagTraceSpansTable]}
	return &ucTarget{loc: l.Location(), idPref: tracemodel.UCRequestIDPrefix(l.Location()),
		table: l.SpansTableName, prefix: l, experiment: experiment}
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
		prices:   cfg.Prices,
		onWarn:   cfg.ErrorHandler,
	}
	if d.prices == nil {
		d.prices = llmcost.Bundled()
	}
	if cfg.UCSchema != "" {
		cat, sch, ok := ParseUCSchema(cfg.UCSchema)
		if !ok {
			return nil, errors.New("databricks: a Unity Catalog trace location is <catalog>.<schema>")
		}
		loc := cat + "." + sch
		d.uc = &ucTarget{loc: loc, idPref: tracemodel.UCRequestIDPrefix(loc), table: loc + "." + DefaultSpansTable,
			schema: &tracemodel.UCSchemaLocation{CatalogName: cat, SchemaName: sch,
				OTelSpansTableName: DefaultSpansTable, OTelLogsTableName: DefaultLogsTable}}
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
func (d *Destination) UCSchema() string {
	if d.uc == nil {
		return ""
	}
	return d.uc.loc
}

// UCLocation returns the Unity Catalog location traces go to now: the
// schema of UCSchema, or the "<catalog>.<schema>.<table prefix>" the
// experiment is linked to once that is known; "" for experiment traces.
func (d *Destination) UCLocation() string {
	if d.uc != nil {
		return d.uc.loc
	}
	if t := d.linked.Load(); t != nil {
		return t.loc
	}
	return ""
}

// TraceIDPrefix returns the prefix of the MLflow ids of traces started now
// and their schema version: "trace:/<location>/" and "4" for Unity Catalog
// traces, "" and "" (the defaults) for experiment traces and while it is not
// yet known whether the experiment is linked to Unity Catalog tables.
func (d *Destination) TraceIDPrefix() (prefix, schemaVersion string) {
	t := d.uc
	if t == nil {
		t = d.linked.Load()
	}
	if t == nil {
		return "", ""
	}
	return t.idPref, "4"
}

// LookupLink looks up whether the experiment is linked to Unity Catalog
// tables (as MLflow does when its tracer starts), so that trace ids carry
// the right location from the first trace on. The exporter runs it once, on
// a goroutine it owns, when it starts, and waits for it a few seconds at
// most; ctx ends when the exporter shuts down. Traces started before the
// answer get "tr-" ids and are still written where the answer says.
// Without it the first export looks the link up.
func (d *Destination) LookupLink(ctx context.Context) {
	if d.exp == nil {
		return
	}
	if exp, err := d.exp.ID(ctx); err == nil {
		d.link(ctx, exp)
	}
}

// link returns the Unity Catalog location experiment exp is linked to, or
// nil. The experiment's tags are read once; after a failed read (the
// workspace down, no permission to read the experiment) traces go to the
// experiment, as in MLflow, and the tags are read again after linkRetry.
// One lookup runs at a time, with no lock held across it: concurrent
// callers wait for it or for their own ctx, whichever ends first (a caller
// whose ctx ends first gets nil: its export is over anyway).
func (d *Destination) link(ctx context.Context, exp string) *ucTarget {
	for {
		if d.linkKnown.Load() {
			return d.linked.Load()
		}
		d.linkMu.Lock()
		if d.linkKnown.Load() || time.Now().Before(d.linkRetryAt) {
			d.linkMu.Unlock()
			return d.linked.Load()
		}
		if wait := d.linkBusy; wait != nil {
			d.linkMu.Unlock()
			select {
			case <-wait:
				continue
			case <-ctx.Done():
				return nil
			}
		}
		busy := make(chan struct{})
		d.linkBusy = busy
		d.linkMu.Unlock()

		d.lookupLink(ctx, exp)

		d.linkMu.Lock()
		d.linkBusy = nil
		d.linkMu.Unlock()
		close(busy)
		return d.linked.Load()
	}
}

// lookupLink reads the experiment's tags (no lock held) and records the
// answer.
func (d *Destination) lookupLink(ctx context.Context, exp string) {
	tags, ok := d.exp.Tags() // read already when the name was looked up
	var err error
	if !ok {
		tags, err = mlflowrest.ExperimentTags(ctx, d.client, exp)
	}
	if err != nil {
		if ctx.Err() == nil { // a cancelled caller says nothing of the workspace
			d.linkMu.Lock()
			d.linkRetryAt = time.Now().Add(linkRetry)
			d.linkMu.Unlock()
		}
		return
	}
	if t := linkedTarget(exp, tags); t != nil {
		d.linked.Store(t)
	}
	d.linkKnown.Store(true)
}

// Shutdown releases idle connections (the credentials' own too). Exports
// after Shutdown fail.
func (d *Destination) Shutdown(ctx context.Context) error {
	d.closed.Store(true)
	d.client.CloseIdleConnections()
	d.ws.CloseIdleConnections()
	return nil
}

var errClosed = errors.New("databricks: destination is shut down")

// Progress carries what the spool knows of a Unity Catalog export: the
// span ingestion appends rows, so each span row of a trace must be sent
// once even when the trace is sent again (a crash, a failed span or info
// request). A trace's rows are counted in the order of its spans
// (Trace.Spans), the order they are sent in; a trace larger than one
// request (500 spans) is stored a request at a time. Experiment traces
// ignore Progress.
type Progress struct {
	// SpansStored[i] is how many rows of traces[i] are stored already: the
	// export sends the rest. len(traces[i].Spans) or more means all of them.
	SpansStored []int
	// OnSpans, when set, is called with the indexes of traces whose rows
	// are all stored now, after the request that stored the last of them.
	OnSpans func(idx []int)
	// OnSpanRows, when set, is called after each request that stored part
	// of a trace larger than one request, with the trace's index and how
	// many of its rows are stored now; OnSpans follows for the request
	// that stores the rest.
	OnSpanRows func(i, stored int)
}

// ExportTraces logs finished traces to the workspace.
func (d *Destination) ExportTraces(ctx context.Context, traces []*tracemodel.Trace) error {
	return d.ExportTracesProgress(ctx, traces, Progress{})
}

// ExportTracesProgress is ExportTraces with the spool's Progress.
func (d *Destination) ExportTracesProgress(ctx context.Context, traces []*tracemodel.Trace, p Progress) error {
	if d.closed.Load() {
		return errClosed
	}
	if len(traces) == 0 {
		return nil
	}
	traces = Priced(d.prices, traces)
	if d.uc != nil {
		return d.exportUC(ctx, d.uc, traces, p)
	}
	exp, err := d.exp.ID(ctx)
	if err != nil {
		return d.explain(fmt.Errorf("databricks: experiment: %w", err), "the experiment")
	}
	if t := d.link(ctx, exp); t != nil {
		return d.exportUC(ctx, t, traces, p)
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

// Priced returns traces as MLflow's client sends them to a Databricks
// workspace, which computes no LLM cost itself: each trace with its LLM
// spans priced (llmcost.Catalog.PriceTrace). The traces are not modified;
// when no trace changes, traces itself is returned.
func Priced(prices *llmcost.Catalog, traces []*tracemodel.Trace) []*tracemodel.Trace {
	var out []*tracemodel.Trace
	for i, t := range traces {
		p := prices.PriceTrace(t)
		if p != t && out == nil {
			out = slices.Clone(traces)
		}
		if out != nil {
			out[i] = p
		}
	}
	if out == nil {
		return traces
	}
	return out
}

// Redeliver exports traces that may have reached the workspace before
// (the spool's replay after a crash or a failed export) without storing any
// twice: each trace is looked up first (GetTraceInfoV3, or the v4
// GetTraceInfo for Unity Catalog tables). An experiment trace the
// workspace knows gets only its traces.json again (a signed-URL PUT or a
// volume write with overwrite replaces the file); a Unity Catalog trace
// whose trace info exists is complete (its spans are sent before its
// info) and is skipped, since the span ingestion appends rows. The
// workspace's answer to a repeated StartTraceV3 is not documented, so it is
// never relied on.
func (d *Destination) Redeliver(ctx context.Context, traces []*tracemodel.Trace, p Progress) error {
	if d.closed.Load() {
		return errClosed
	}
	var fresh []*tracemodel.Trace
	var freshIdx []int
	var errs []error
	uc := d.uc
	var exp string
	if uc == nil {
		var err error
		if exp, err = d.exp.ID(ctx); err != nil {
			return d.explain(fmt.Errorf("databricks: experiment: %w", err), "the experiment")
		}
		uc = d.link(ctx, exp)
	}
	for i, t := range traces {
		var (
			tags  map[string]string
			found bool
			err   error
		)
		if uc != nil {
			_, _, found, err = mlflowrest.GetTraceInfo(ctx, d.client, uc.loc, hexTraceID(t))
		} else {
			tags, _, found, err = mlflowrest.GetTraceInfo(ctx, d.client, "", t.Info.TraceID)
		}
		switch {
		case err != nil:
			errs = append(errs, fmt.Errorf("%s: look up: %w", t.Info.TraceID, d.explain(err, "the trace")))
		case !found:
			fresh = append(fresh, t)
			freshIdx = append(freshIdx, i)
		case uc == nil:
			data, err := tracemodel.MarshalTraceData(Priced(d.prices, []*tracemodel.Trace{t})[0].Spans)
			if err == nil {
				err = d.upload(ctx, t.Info.TraceID, tags[keys.TagArtifactLocation], data)
			}
			if err != nil {
				errs = append(errs, fmt.Errorf("%s: %w", t.Info.TraceID, err))
			}
		}
	}
	if len(fresh) > 0 {
		sub := Progress{SpansStored: make([]int, len(fresh))}
		for k, i := range freshIdx {
			if i < len(p.SpansStored) {
				sub.SpansStored[k] = p.SpansStored[i]
			}
		}
		if p.OnSpans != nil {
			sub.OnSpans = func(idx []int) {
				orig := make([]int, len(idx))
				for k, j := range idx {
					orig[k] = freshIdx[j]
				}
				p.OnSpans(orig)
			}
		}
		if p.OnSpanRows != nil {
			sub.OnSpanRows = func(j, stored int) { p.OnSpanRows(freshIdx[j], stored) }
		}
		errs = append(errs, d.ExportTracesProgress(ctx, fresh, sub))
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
	started, err := mlflowrest.StartTraceV3(ctx, d.client, &info)
	if err != nil {
		return d.explain(fmt.Errorf("start trace: %w", err), "experiment "+info.ExperimentID)
	}
	defer d.linkPrompts(ctx, t, info.TraceID) // after the upload, whatever its outcome, as MLflow
	tags, err := started.Tags()
	if err != nil {
		return err
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

// linkPrompts links the stored trace t, MLflow id id (an experiment's
// "tr-…", or "trace:/<location>/<hex>" in Unity Catalog tables), to the
// prompt versions its tag mlflow.linkedPrompts lists
// (tracing.LinkPromptVersion), as MLflow's exporter does once it has logged
// a trace (MlflowV3SpanExporter, and DatabricksUCTableSpanExporter, which
// inherits its _log_trace): on Databricks the
// registry is Unity Catalog's ("databricks-uc"), whose
// link_prompts_to_trace sends LinkPromptsToTraces
// (prompt-versions/links-to-traces) in batches of 25. MLflow ignores a
// failure (debug log); here it goes to the error handler, once per kind,
// and never fails the trace, which keeps its tag.
func (d *Destination) linkPrompts(ctx context.Context, t *tracemodel.Trace, id string) {
	v, ok := t.Info.Tags[keys.TagLinkedPrompts]
	if !ok {
		return
	}
	refs, err := promptlink.Parse(v)
	if err != nil {
		d.warn(fmt.Errorf("databricks: %s: prompt versions not linked: %w", id, err))
		return
	}
	for _, req := range mlflowrest.UCLinkPromptsRequests(id, refs) {
		resp, err := d.client.Do(ctx, req)
		if err != nil {
			d.warn(d.reported.Warn("link-prompts:"+transport.ErrorCode(err), fmt.Errorf("databricks: %s: link prompt versions in Unity Catalog: %w", id, err)))
			continue
		}
		resp.Release()
	}
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

// once returns err the first time key is seen and afterwards err marked as
// reported before, so a configuration problem is reported once, not per
// trace (the traces still fail).
func (d *Destination) once(key string, err error) error { return d.reported.Once(key, err) }

// warn hands a problem that does not fail the export to the error handler.
func (d *Destination) warn(err error) {
	if err != nil && d.onWarn != nil {
		d.onWarn(err)
	}
}

// --- Unity Catalog tables ----------------------------------------------------

// exportUC sends the span rows of the traces not yet stored (p.SpansStored;
// in requests of at most maxSpansPerRequest spans that split no trace but a
// larger one, which is sent a request at a time from its first row not
// stored), then the trace info of each trace whose rows are stored — never
// an info without its rows: a stored info is what tells the spool's replay
// that a trace is complete.
func (d *Destination) exportUC(ctx context.Context, t *ucTarget, traces []*tracemodel.Trace, p Progress) error {
	var errs []error
	stored := make([]bool, len(traces))
	if t.table == "" {
		// MLflow skips the spans too (it has no table to send them to). The
		// traces are still delivered: a warning, not an export error.
		d.warn(d.reported.Warn("no-spans-table", fmt.Errorf(
			"databricks: experiment %s is linked to the Unity Catalog tables %s, but the workspace names no spans table (experiment tag %s): spans are not sent, only trace infos",
			t.experiment, t.loc, TagTraceSpansTable)))
		for i := range stored {
			stored[i] = true
		}
	} else {
		var chunk []*tracemodel.Span
		var idx []int
		post := func(spans []*tracemodel.Span, done []int) bool {
			if err := d.postSpans(ctx, t, spans); err != nil {
				errs = append(errs, err)
				return false
			}
			for _, i := range done {
				stored[i] = true
			}
			if p.OnSpans != nil && len(done) > 0 {
				p.OnSpans(done)
			}
			return true
		}
		ok := true
		for i, tr := range traces {
			done := 0 // rows of tr stored
			if i < len(p.SpansStored) {
				done = min(max(p.SpansStored[i], 0), len(tr.Spans))
			}
			if done == len(tr.Spans) { // a trace without spans has no rows to store
				stored[i] = true
				continue
			}
			sp := ucSpans(tr, t.idPref)[done:]
			if len(chunk) > 0 && len(chunk)+len(sp) > maxSpansPerRequest {
				if ok = post(chunk, idx); !ok {
					break
				}
				chunk, idx = nil, nil
			}
			for len(sp) > maxSpansPerRequest { // one trace larger than a request
				if ok = post(sp[:maxSpansPerRequest], nil); !ok {
					break
				}
				sp, done = sp[maxSpansPerRequest:], done+maxSpansPerRequest
				if p.OnSpanRows != nil {
					p.OnSpanRows(i, done)
				}
			}
			if !ok {
				break
			}
			chunk, idx = append(chunk, sp...), append(idx, i)
		}
		if ok && len(idx) > 0 {
			post(chunk, idx)
		}
	}
	for i, tr := range traces {
		if !stored[i] {
			continue
		}
		if err := d.postInfoV4(ctx, t, tr); err != nil {
			errs = append(errs, fmt.Errorf("%s: %w", tr.Info.TraceID, err))
		} else {
			d.linkPrompts(ctx, tr, "trace:/"+t.loc+"/"+hexTraceID(tr))
		}
		if ctx.Err() != nil {
			break
		}
	}
	return errors.Join(errs...)
}

// hexTraceID returns the 32-hex OpenTelemetry id of tr.
func hexTraceID(tr *tracemodel.Trace) string {
	id := tr.Info.TraceID
	if i := strings.LastIndexByte(id, '/'); i >= 0 {
		id = id[i+1:]
	}
	id = strings.TrimPrefix(id, tracemodel.RequestIDPrefix)
	if len(id) != 32 {
		for _, s := range tr.Spans {
			if s != nil {
				return s.TraceID.String()
			}
		}
	}
	return id
}

// ucSpans returns t's spans as MLflow's UC span processor sends them to a
// location whose trace ids start with idPrefix: the root carries user.id and session.id from the trace's user
// and session, and every span's mlflow.traceRequestId is the trace's v4 id
// (a trace started before the experiment's link to Unity Catalog was known
// has a "tr-" id). The shared spans are not modified: changed spans are
// copied.
func ucSpans(t *tracemodel.Trace, idPrefix string) []*tracemodel.Span {
	user, session := t.Info.Metadata[keys.MetaUser], t.Info.Metadata[keys.MetaSession]
	wantID := string(encode.AppendString(nil, idPrefix+hexTraceID(t), false))
	var out []*tracemodel.Span
	for i, s := range t.Spans {
		if s == nil {
			continue
		}
		isRoot := !s.ParentSpanID.IsValid()
		fixID := s.Attributes[keys.TraceRequestID] != wantID
		if !fixID && (!isRoot || (user == "" && session == "")) {
			continue
		}
		if out == nil {
			out = make([]*tracemodel.Span, len(t.Spans))
			copy(out, t.Spans)
		}
		c := *s
		c.Attributes = make(map[string]string, len(s.Attributes)+2)
		for k, v := range s.Attributes {
			c.Attributes[k] = v
		}
		if fixID {
			c.Attributes[keys.TraceRequestID] = wantID
		}
		if isRoot && user != "" {
			c.Attributes[keys.UserID] = string(encode.AppendString(nil, user, false))
		}
		if isRoot && session != "" {
			c.Attributes[keys.SessionID] = string(encode.AppendString(nil, session, false))
		}
		out[i] = &c
	}
	if out == nil {
		return t.Spans
	}
	return out
}

func (d *Destination) postSpans(ctx context.Context, t *ucTarget, spans []*tracemodel.Span) error {
	_, err := d.client.Do(ctx, &transport.Request{
		Method: http.MethodPost,
		Path:   pathOTLP,
		Header: http.Header{
			"Content-Type": {"application/x-protobuf"},
			headerUCTable:  {t.table},
		},
		Body: otlpconv.AppendSpans(nil, spans, d.resource),
	})
	if err != nil {
		return d.explain(fmt.Errorf("log spans to %s: %w", t.table, err), "table "+t.table)
	}
	return nil
}

func (d *Destination) postInfoV4(ctx context.Context, t *ucTarget, tr *tracemodel.Trace) error {
	info := tr.Info
	hexID := hexTraceID(tr)
	info.TraceID = hexID // the v4 body carries the bare OpenTelemetry trace id
	info.UCSchema, info.UCTablePrefix = t.schema, t.prefix
	info.ExperimentID = ""
	if info.Metadata[keys.MetaSchemaVersion] != "4" {
		// Started before the experiment's link to Unity Catalog was known.
		m := make(map[string]string, len(info.Metadata))
		for k, v := range info.Metadata {
			m[k] = v
		}
		m[keys.MetaSchemaVersion] = "4"
		info.Metadata = m
	}
	body, err := info.MarshalJSON()
	if err != nil {
		return fmt.Errorf("encode trace info: %w", err)
	}
	_, err = d.client.Do(ctx, &transport.Request{
		Method: http.MethodPost,
		Path:   pathTracesV4 + url.PathEscape(t.loc) + "/" + hexID + "/info",
		Header: http.Header{"Content-Type": {"application/json"}},
		Body:   body,
	})
	if err != nil {
		return d.explain(fmt.Errorf("create trace info: %w", err), "Unity Catalog location "+t.loc)
	}
	return nil
}
