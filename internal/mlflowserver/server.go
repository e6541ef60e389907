package mlflowserver

import (
	"context"
	"errors"
	"fmt"
	"net/http"
	"net/url"
	"os"
	"path"
	"path/filepath"
	"strconv"
	"strings"
	"sync"
	"sync/atomic"
	"time"

	"go.opentelemetry.io/otel/trace"
	commonpb "go.opentelemetry.io/proto/otlp/common/v1"

	"github.com/mlflowtrace/mlflowtrace-go/internal/keys"
	"github.com/mlflowtrace/mlflowtrace-go/internal/mlflowrest"
	"github.com/mlflowtrace/mlflowtrace-go/internal/otlpconv"
	"github.com/mlflowtrace/mlflowtrace-go/internal/promptlink"
	"github.com/mlflowtrace/mlflowtrace-go/internal/tracemodel"
	"github.com/mlflowtrace/mlflowtrace-go/internal/transport"
)

// REST paths.
const (
	pathVersion       = "/version"
	pathOTLPTraces    = "/v1/traces"
	pathArtifactsRoot = "/api/2.0/mlflow-artifacts/artifacts/"

	headerExperimentID = "x-mlflow-experiment-id"
	spansTrackingStore = "TRACKING_STORE"
	traceDataFile      = "traces.json"
	defaultExperiment  = "0"
	versionTimeout     = 3 * time.Second
	reprobeAfter       = 30 * time.Second
	userAgent          = "mlflowtrace-go"
)

// Config configures a Destination.
type Config struct {
	// Transport is the HTTP configuration; Transport.URL is the tracking URI.
	Transport transport.Config
	// ExperimentName wins over ExperimentID; neither means "0".
	ExperimentID   string
	ExperimentName string
	// Resource is sent as the OTLP resource of streamed spans (MLflow's
	// Python client sends its TracerProvider's telemetry.sdk.* attributes).
	Resource map[string]any
	// DisableSpanStreaming skips /v1/traces entirely (every trace goes
	// through StartTraceV3 + traces.json).
	DisableSpanStreaming bool
	// ErrorHandler, when set, is told of failures that do not fail a
	// trace: linking a stored trace to its prompt versions.
	ErrorHandler func(error)
}

// Destination exports to one MLflow tracking server. It is safe for
// concurrent use; New does no I/O.
type Destination struct {
	client   *transport.Client
	resource []*commonpb.KeyValue
	exp      *mlflowrest.Resolver

	capMu     sync.Mutex
	streaming atomic.Int32  // capUnknown, capYes, capNo
	probeFail time.Time     // under capMu
	probing   chan struct{} // under capMu: closed when the probe in flight ends

	ledger ledger

	reported mlflowrest.Reported // one-time errors already returned
	onWarn   func(error)         // Config.ErrorHandler

	closed atomic.Bool
}

const (
	capUnknown int32 = iota
	capYes
	capNo
)

// New returns a Destination; it validates the URL but does no I/O.
func New(cfg Config) (*Destination, error) {
	tc := cfg.Transport
	if tc.Headers.Get("User-Agent") == "" {
		tc.Headers = tc.Headers.Clone()
		if tc.Headers == nil {
			tc.Headers = http.Header{}
		}
		tc.Headers.Set("User-Agent", userAgent)
	}
	c, err := transport.New(tc)
	if err != nil {
		return nil, fmt.Errorf("mlflowserver: %w", err)
	}
	d := &Destination{
		client:   c,
		resource: otlpconv.KeyValues(cfg.Resource),
		exp:      mlflowrest.NewResolver(c, cfg.ExperimentID, cfg.ExperimentName, defaultExperiment),
		onWarn:   cfg.ErrorHandler,
	}
	d.ledger.init(maxTrackedTraces)
	if cfg.DisableSpanStreaming {
		d.streaming.Store(capNo)
	}
	return d, nil
}

// StreamingSupported reports what capability detection found: true when
// spans go over /v1/traces; false before the first export.
func (d *Destination) StreamingSupported() bool { return d.streaming.Load() == capYes }

// SendsUnstreamedSpans reports that ExportTraces sends every span of a trace
// the stream has not delivered before the trace itself, so the exporter
// need not stream the spans of finished traces.
func (d *Destination) SendsUnstreamedSpans() bool { return true }

// ExperimentID returns the resolved experiment id ("" before the first
// successful export).
func (d *Destination) ExperimentID() string { return d.exp.Resolved() }

// Shutdown releases idle connections. Exports after Shutdown fail.
func (d *Destination) Shutdown(ctx context.Context) error {
	d.closed.Store(true)
	d.client.CloseIdleConnections()
	return nil
}

var errClosed = errors.New("mlflowserver: destination is shut down")

// ExportSpans streams spans to /v1/traces. On servers without span
// streaming it does nothing: the spans reach the server with their trace.
func (d *Destination) ExportSpans(ctx context.Context, spans []*tracemodel.Span) error {
	if d.closed.Load() {
		return errClosed
	}
	if d.streaming.Load() == capNo || len(spans) == 0 {
		return nil
	}
	spans = d.ledger.unfinished(spans)
	if len(spans) == 0 {
		return nil
	}
	if !d.canStream(ctx, false) {
		return nil
	}
	exp, err := d.experiment(ctx)
	if err != nil {
		return err
	}
	ok, err := d.postSpans(ctx, exp, spans)
	if ok {
		d.ledger.delivered(spans)
	}
	return err
}

// postSpans sends spans; ok reports delivery. A 404/501 answer turns span
// streaming off for good (ok false, err nil).
func (d *Destination) postSpans(ctx context.Context, exp string, spans []*tracemodel.Span) (bool, error) {
	_, err := d.client.Do(ctx, d.spansRequest(exp, spans))
	return d.spansSent(err)
}

// spansRequest is the /v1/traces request for spans. The body is an OTLP
// ExportTraceServiceRequest, uncompressed, as MLflow's Python client sends
// log_spans: on the loopback or LAN an MLflow server usually sits on, gzip
// cost both sides CPU (about 6 % of the client's per-trace CPU, and the
// server's decompression) to save bandwidth that is not the bottleneck.
func (d *Destination) spansRequest(exp string, spans []*tracemodel.Span) *transport.Request {
	return &transport.Request{
		Method: http.MethodPost,
		Path:   pathOTLPTraces,
		Header: http.Header{
			"Content-Type":     {"application/x-protobuf"},
			headerExperimentID: {exp},
		},
		AppendBody: func(b []byte) []byte { return otlpconv.AppendSpans(b, spans, d.resource) },
	}
}

// spansSent reads the outcome of a /v1/traces request (err): ok reports
// delivery; a 404/501 answer turns span streaming off for good (ok false,
// err nil).
func (d *Destination) spansSent(err error) (bool, error) {
	if err == nil {
		return true, nil
	}
	if st := transport.StatusCode(err); st == http.StatusNotFound || st == http.StatusNotImplemented {
		// No OTLP route (404) or a FileStore behind the server (501):
		// MLflow's client stops streaming, so do we.
		d.streaming.Store(capNo)
		return false, nil
	}
	return false, fmt.Errorf("mlflowserver: log spans: %w", err)
}

// ExportTraces logs finished traces: each trace's info (StartTraceV3) and,
// in one OTLP request per experiment for the whole batch, the spans the
// stream has not delivered, all pipelined on one connection in that order
// (transport's DoPipelined): the server takes them one after the other, and
// the client writes them at once and reads the answers after one wait;
// traces.json only where the server does not keep spans. Trace info first
// is the server's cheap path: StartTraceV3 inserts the trace in one
// statement, and the spans then find it (MLflow's Python SDK sends spans
// first, so its StartTraceV3 collides with the trace log_spans created and
// takes the server's rollback-and-merge path; see BENCHMARKS.md for what it
// costs the server). The stored trace is the same either way (the parity
// tests compare them), and so it is when a StartTraceV3 is retried after
// the spans.
func (d *Destination) ExportTraces(ctx context.Context, traces []*tracemodel.Trace) error {
	if d.closed.Load() {
		return errClosed
	}
	if len(traces) == 0 {
		return nil
	}
	exp, err := d.experiment(ctx)
	if err != nil {
		return err
	}
	stream := d.streaming.Load() != capNo && d.canStream(ctx, true)

	var (
		errs     []error
		starting []*spanWork // StartTraceV3, in the order of reqs
		waiting  []*spanWork // spans to send over OTLP
		reqs     []*transport.Request
	)
	for _, t := range traces {
		w := &spanWork{t: t, exp: t.Info.ExperimentID}
		if w.exp == "" {
			w.exp = exp
		}
		if stream {
			w.missing = d.ledger.missing(t)
			w.none = len(w.missing) == countSpans(t)
		}
		if t.ContinuesRemote() {
			// The part of a distributed trace that this process continued
			// from a remote parent: as MLflow's Python SDK does, only its
			// spans go to the server, which adds them to the trace; the
			// trace info is the business of the process that started the
			// trace (a StartTraceV3 from here would replace it).
			if !stream {
				errs = append(errs, d.remoteUnsupported(t.Info.TraceID))
				continue
			}
			w.remote = true
			waiting = append(waiting, w)
			continue
		}
		info := t.Info // a copy: the Trace is shared and read-only
		info.ExperimentID = w.exp
		starting = append(starting, w)
		reqs = append(reqs, mlflowrest.StartTraceRequest(&info))
		if len(w.missing) > 0 {
			waiting = append(waiting, w)
		}
	}
	groups := groupSpans(waiting)
	for _, g := range groups {
		reqs = append(reqs, d.spansRequest(g.exp, g.spans))
	}
	resps, reqErrs := d.send(ctx, reqs, stream)
	defer func() {
		// Nothing holds the answers after this call: StartTraceV3's,
		// read by w.started, have served here.
		for _, r := range resps {
			r.Release()
		}
	}()

	// 1. Trace info. The traces whose spans are not streamed upload
	// traces.json now when the server wants it.
	for i, w := range starting {
		t := w.t
		err := d.startFailed(reqErrs[i])
		if err != nil {
			errs = append(errs, fmt.Errorf("%s: %w", t.Info.TraceID, err))
			if ctx.Err() != nil {
				break
			}
			continue
		}
		w.started = mlflowrest.Started(resps[i])
		if stream {
			continue // its spans went over OTLP (or went already)
		}
		if err := d.uploadTraceData(ctx, w, true); err != nil {
			errs = append(errs, fmt.Errorf("%s: %w", t.Info.TraceID, err))
		}
	}

	// 2. Spans the stream had not delivered: one request per experiment
	// (normally one for the whole batch).
	for j, g := range groups {
		ok, err := d.spansSent(reqErrs[len(starting)+j])
		errs = append(errs, d.spansFailed(ctx, g, ok, err)...)
	}

	// 3. The prompt versions the stored traces used.
	d.linkPrompts(ctx, starting, stream)
	for _, t := range traces {
		d.ledger.finish(traceIDOf(t))
	}
	return errors.Join(errs...)
}

// linkPrompts links each trace of ws that the server stored to the prompt
// versions its tag mlflow.linkedPrompts lists (tracing.LinkPromptVersion):
// one LinkPromptsToTrace per trace, after its StartTraceV3 and spans, as
// MLflow's exporter calls it once it has logged the trace — sent as the
// batch's requests are (pipelined to a SQL store). MLflow's client reads
// the trace info back first, to add the versions to that tag; the tag went
// with StartTraceV3 here, so that read is not made. A failure does not fail
// the trace (it is stored, tag included): it goes to Config.ErrorHandler,
// once when the server cannot link at all (a FileStore backend, a server
// older than the route).
func (d *Destination) linkPrompts(ctx context.Context, ws []*spanWork, pipelined bool) {
	var reqs []*transport.Request
	var ids []string
	for _, w := range ws {
		v, ok := w.t.Info.Tags[keys.TagLinkedPrompts]
		if w.started == nil || !ok {
			continue
		}
		refs, err := promptlink.Parse(v)
		if err != nil {
			d.warn(fmt.Errorf("mlflowserver: %s: prompt versions not linked: %w", w.t.Info.TraceID, err))
			continue
		}
		if len(refs) > 0 {
			reqs = append(reqs, mlflowrest.LinkPromptsRequest(w.t.Info.TraceID, refs))
			ids = append(ids, w.t.Info.TraceID)
		}
	}
	if len(reqs) == 0 {
		return
	}
	resps, errs := d.send(ctx, reqs, pipelined)
	for i, err := range errs {
		resps[i].Release()
		if err == nil {
			continue
		}
		switch transport.ErrorCode(err) {
		case "ENDPOINT_NOT_FOUND", "INVALID_PARAMETER_VALUE":
			d.warn(d.reported.Warn("link-prompts", fmt.Errorf("mlflowserver: the tracking server does not link prompt versions to traces (a FileStore backend, or an MLflow version without the route); traces keep their %s tag: %w", keys.TagLinkedPrompts, err)))
		default:
			d.warn(fmt.Errorf("mlflowserver: %s: link prompt versions: %w", ids[i], err))
		}
	}
}

func (d *Destination) warn(err error) {
	if err != nil && d.onWarn != nil {
		d.onWarn(err)
	}
}

// Redeliver exports traces that may have reached the server before (the
// spool's replay after a crash or a failed export) without storing any
// twice; each is looked up first (GetTraceInfoV3). A SQL-backed server
// (its StartTraceV3 finalizes the info: metadata mlflow.trace.infoFinalized,
// or spans stored: tag mlflow.trace.spansLocation TRACKING_STORE) upserts
// the trace info (StartTraceV3 merges into an existing trace) and the spans
// (OTLP), so such a trace is simply exported again, which also completes
// one whose spans or info were cut short. A FileStore-backed server answers
// a repeated StartTraceV3 with a 500; there a stored trace only gets its
// traces.json again (a PUT replaces it).
func (d *Destination) Redeliver(ctx context.Context, traces []*tracemodel.Trace) error {
	if d.closed.Load() {
		return errClosed
	}
	var fresh []*tracemodel.Trace
	var errs []error
	for _, t := range traces {
		if t.ContinuesRemote() {
			fresh = append(fresh, t) // only its spans are sent: upserted
			continue
		}
		tags, meta, found, err := mlflowrest.GetTraceInfo(ctx, d.client, "", t.Info.TraceID)
		if err != nil {
			errs = append(errs, fmt.Errorf("%s: look up: %w", t.Info.TraceID, err))
			continue
		}
		if !found || tags[keys.TagSpansLocation] == spansTrackingStore || meta[metaInfoFinalized] != "" {
			fresh = append(fresh, t)
			continue
		}
		d.ledger.finish(traceIDOf(t))
		loc := tags[keys.TagArtifactLocation]
		data, err := tracemodel.MarshalTraceData(t.Spans)
		switch {
		case loc == "":
			err = errors.New("the stored trace has no mlflow.artifactLocation")
		case err == nil:
			err = d.upload(ctx, loc, data)
		}
		if err != nil {
			errs = append(errs, fmt.Errorf("%s: %w", t.Info.TraceID, err))
		}
	}
	if len(fresh) > 0 {
		errs = append(errs, d.ExportTraces(ctx, fresh))
	}
	return errors.Join(errs...)
}

// metaInfoFinalized is the metadata a SQL store's StartTraceV3 adds
// (MLflow's TraceMetadataKey.TRACE_INFO_FINALIZED).
const metaInfoFinalized = "mlflow.trace.infoFinalized"

// spanWork is a trace whose spans go over OTLP after its info.
type spanWork struct {
	t       *tracemodel.Trace
	exp     string
	missing []*tracemodel.Span // spans the stream has not delivered
	none    bool               // the stream delivered none of its spans
	remote  bool               // a trace continued from another process: spans only
	started *mlflowrest.StartedTrace
}

func countSpans(t *tracemodel.Trace) int {
	n := 0
	for _, s := range t.Spans {
		if s != nil {
			n++
		}
	}
	return n
}

// send sends reqs and returns their outcomes in order: pipelined on one
// connection to a server that ingests spans (a SQL store, whose StartTraceV3
// merges a repeat into the stored trace, so requests left unanswered by a
// broken connection can safely be sent again — RFC 9112 §9.3.2 allows
// pipelining after a non-idempotent request only with such a means to
// recover); one after the other, each after the answer to the one before,
// to other servers (a FileStore-backed server answers a repeated
// StartTraceV3 with a 500).
func (d *Destination) send(ctx context.Context, reqs []*transport.Request, sqlStore bool) ([]*transport.Response, []error) {
	if sqlStore {
		return d.client.DoPipelined(ctx, reqs)
	}
	return d.client.DoInTurn(ctx, reqs)
}

// remoteUnsupported is the error (reported once) for the part of a
// distributed trace continued here when the server does not ingest spans.
func (d *Destination) remoteUnsupported(traceID string) error {
	return d.once("remote", fmt.Errorf("mlflowserver: %s: the spans of a trace continued from another process need a tracking server that ingests spans (MLflow >= 3.4 with a SQL backend); not logged", traceID))
}

// spanGroup is the spans of one experiment's traces, sent in one request.
type spanGroup struct {
	exp   string
	works []*spanWork
	spans []*tracemodel.Span
}

// groupSpans groups the missing spans of ws by experiment, in order.
func groupSpans(ws []*spanWork) []*spanGroup {
	var groups []*spanGroup
	byExp := map[string]*spanGroup{}
	for _, w := range ws {
		g := byExp[w.exp]
		if g == nil {
			g = &spanGroup{exp: w.exp}
			byExp[w.exp] = g
			groups = append(groups, g)
		}
		g.works = append(g.works, w)
		g.spans = append(g.spans, w.missing...)
	}
	return groups
}

// spansFailed completes the traces of g when their spans did not arrive
// (ok false): when the server turns out not to ingest spans (streaming goes
// off) or the request failed, a trace none of whose spans reached the
// server gets its traces.json instead — its info says the spans are in the
// artifacts — so it is still complete; a trace part of whose spans were
// streamed cannot be completed that way and is reported. A trace whose
// info did not reach the server either is reported already.
func (d *Destination) spansFailed(ctx context.Context, g *spanGroup, ok bool, err error) []error {
	if ok {
		return nil
	}
	var errs []error
	for _, w := range g.works {
		switch {
		case w.remote && err == nil:
			errs = append(errs, d.remoteUnsupported(w.t.Info.TraceID))
		case w.remote:
			errs = append(errs, fmt.Errorf("%s: spans of a trace continued from another process not logged: %w", w.t.Info.TraceID, err))
		case w.started == nil:
			// Its StartTraceV3 failed: reported with that error.
		case w.none:
			if uerr := d.uploadTraceData(ctx, w, false); uerr != nil {
				if err != nil {
					uerr = fmt.Errorf("%w (spans: %v)", uerr, err)
				}
				errs = append(errs, fmt.Errorf("%s: %w", w.t.Info.TraceID, uerr))
			}
		case err != nil:
			// Some spans reached the SQL store earlier, the rest did
			// not: the server reads spans from the store only.
			errs = append(errs, fmt.Errorf("%s: trace stored with missing spans: %w", w.t.Info.TraceID, err))
		default:
			errs = append(errs, fmt.Errorf("%s: trace stored with missing spans: the server stopped ingesting spans", w.t.Info.TraceID))
		}
	}
	return errs
}

func traceIDOf(t *tracemodel.Trace) trace.TraceID {
	for _, s := range t.Spans {
		if s != nil {
			return s.TraceID
		}
	}
	var id trace.TraceID
	if h, ok := strings.CutPrefix(t.Info.TraceID, "tr-"); ok {
		if tid, err := trace.TraceIDFromHex(h); err == nil {
			id = tid
		}
	}
	return id
}

// startFailed is the error a failed StartTraceV3 (err) makes: nil for
// none; for a server without the route, one clear error (marked as reported
// before after the first time: every such trace still fails).
func (d *Destination) startFailed(err error) error {
	if err == nil {
		return nil
	}
	if transport.ErrorCode(err) == "ENDPOINT_NOT_FOUND" {
		return d.once("v2", errors.New("mlflowserver: the tracking server has no StartTraceV3 endpoint (MLflow 2.x); upgrade the server to MLflow >= 3.0"))
	}
	return fmt.Errorf("start trace: %w", err)
}

// uploadTraceData writes the trace's spans as traces.json under the
// artifact location its info got — unless, when unlessStored, the server
// answered that it keeps the spans itself.
func (d *Destination) uploadTraceData(ctx context.Context, w *spanWork, unlessStored bool) error {
	tags, err := w.started.Tags()
	if err != nil {
		return err
	}
	if unlessStored && tags[keys.TagSpansLocation] == spansTrackingStore {
		return nil
	}
	loc := tags[keys.TagArtifactLocation]
	if loc == "" {
		return errors.New("upload trace data: the server returned no mlflow.artifactLocation")
	}
	data, err := tracemodel.MarshalTraceData(w.t.Spans)
	if err != nil {
		return fmt.Errorf("encode trace data: %w", err)
	}
	return d.upload(ctx, loc, data)
}

// upload writes traces.json under the artifact location loc.
func (d *Destination) upload(ctx context.Context, loc string, data []byte) error {
	u, err := url.Parse(loc)
	if err != nil {
		return errors.New("upload trace data: malformed artifact location")
	}
	switch strings.ToLower(u.Scheme) {
	case "mlflow-artifacts":
		// mlflow-artifacts:/<path> or mlflow-artifacts://<host>/<path>: the
		// tracking server proxies both.
		p := strings.TrimPrefix(path.Clean("/"+u.Path), "/")
		_, err := d.client.Do(ctx, &transport.Request{
			Method: http.MethodPut,
			Path:   pathArtifactsRoot + mlflowrest.EscapePath(p) + "/" + traceDataFile,
			Header: http.Header{"Content-Type": {"application/json"}},
			Body:   data,
		})
		if err != nil {
			return fmt.Errorf("upload trace data: %w", err)
		}
		return nil
	case "file", "":
		if u.Host != "" && u.Host != "localhost" {
			return d.once("file-host", errors.New("mlflowserver: artifact location is a file: URI on another host; traces.json cannot be written"))
		}
		dir := u.Path
		if dir == "" {
			dir = loc
		}
		return writeFileAtomic(filepath.Join(dir, traceDataFile), data)
	default:
		return d.once("scheme:"+u.Scheme, fmt.Errorf("mlflowserver: artifact location scheme %q is not supported; serve artifacts through the tracking server (mlflow server --serve-artifacts) so traces.json can be uploaded", u.Scheme))
	}
}

func writeFileAtomic(name string, data []byte) error {
	if err := os.MkdirAll(filepath.Dir(name), 0o755); err != nil {
		return fmt.Errorf("upload trace data: %w", err)
	}
	f, err := os.CreateTemp(filepath.Dir(name), ".traces-*.json")
	if err != nil {
		return fmt.Errorf("upload trace data: %w", err)
	}
	_, err = f.Write(data)
	if cerr := f.Close(); err == nil {
		err = cerr
	}
	if err == nil {
		err = os.Rename(f.Name(), name)
	}
	if err != nil {
		_ = os.Remove(f.Name())
		return fmt.Errorf("upload trace data: %w", err)
	}
	return nil
}

// once returns err the first time key is seen and nil afterwards, so a
// configuration problem is reported once, not per trace.
func (d *Destination) once(key string, err error) error { return d.reported.Once(key, err) }

// canStream runs capability detection (once; a failed probe is retried
// after reprobeAfter) and reports whether spans go over OTLP. One probe runs
// at a time and no lock is held across it; concurrent callers wait for it,
// or for their own ctx. With retried, a probe the server does not answer
// (down, starting, a 5xx) is retried as a batch's own requests are (the
// transport's policy, within ctx) instead of taken for "no": ExportTraces,
// whose requests would wait for the server anyway, asks so, and a server
// that was down when the first batch came gets its spans over OTLP — where
// it computes their cost — not as an uploaded traces.json.
func (d *Destination) canStream(ctx context.Context, retried bool) bool {
	for {
		switch d.streaming.Load() {
		case capYes:
			return true
		case capNo:
			return false
		}
		d.capMu.Lock()
		if s := d.streaming.Load(); s != capUnknown {
			d.capMu.Unlock()
			return s == capYes
		}
		if !retried && !d.probeFail.IsZero() && time.Since(d.probeFail) < reprobeAfter {
			d.capMu.Unlock()
			return false
		}
		if wait := d.probing; wait != nil {
			d.capMu.Unlock()
			select {
			case <-wait:
				continue
			case <-ctx.Done():
				return false
			}
		}
		wait := make(chan struct{})
		d.probing = wait
		d.capMu.Unlock()

		ok := d.probe(ctx, retried)

		d.capMu.Lock()
		d.probing = nil
		d.capMu.Unlock()
		close(wait)
		return ok
	}
}

// probe asks the server's version (once, or with the transport's retries)
// and records whether it streams.
func (d *Destination) probe(ctx context.Context, retried bool) bool {
	resp, err := d.client.Do(ctx, &transport.Request{Method: http.MethodGet, Path: pathVersion, NoRetry: !retried, Timeout: versionTimeout})
	if err != nil {
		if st := transport.StatusCode(err); st >= 400 && st < 500 {
			d.streaming.Store(capNo) // no /version: older than MLflow 2.x's version route
			return false
		}
		d.capMu.Lock()
		d.probeFail = time.Now()
		d.capMu.Unlock()
		return false
	}
	if supportsOTLP(string(resp.Body)) {
		d.streaming.Store(capYes)
		return true
	}
	d.streaming.Store(capNo)
	return false
}

// supportsOTLP reports whether a server version is >= 3.4.
func supportsOTLP(v string) bool {
	v = strings.TrimSpace(strings.TrimPrefix(strings.TrimSpace(v), "v"))
	parts := strings.SplitN(v, ".", 3)
	if len(parts) < 2 {
		return false
	}
	major, err1 := strconv.Atoi(parts[0])
	minor, err2 := strconv.Atoi(leadingDigits(parts[1]))
	if err1 != nil || err2 != nil {
		return false
	}
	return major > 3 || (major == 3 && minor >= 4)
}

func leadingDigits(s string) string {
	for i, c := range s {
		if c < '0' || c > '9' {
			return s[:i]
		}
	}
	return s
}

// experiment resolves the experiment id once, on first use.
func (d *Destination) experiment(ctx context.Context) (string, error) {
	id, err := d.exp.ID(ctx)
	if err != nil {
		return "", fmt.Errorf("mlflowserver: %w", err)
	}
	return id, nil
}
