package traces

import (
	"context"
	"errors"
	"fmt"

	"github.com/mlflowtrace/mlflowtrace-go/exporter"
	"github.com/mlflowtrace/mlflowtrace-go/internal/envconfig"
	"github.com/mlflowtrace/mlflowtrace-go/internal/localstore"
	"github.com/mlflowtrace/mlflowtrace-go/internal/mlflowrest"
	"github.com/mlflowtrace/mlflowtrace-go/internal/settings"
)

// This file is the one place a Client is built from options: they are
// resolved by internal/settings, as for the exporter (same defaults,
// environment, options and backend selection), and the backend is built from
// the exporter's own building blocks: the REST client of the selected
// server or workspace (Settings.RESTClient: internal/transport — one HTTP
// client, retries, redaction — with the Databricks credentials of
// internal/dbauth), internal/mlflowrest (experiment name → id) and
// internal/localstore.

// maxResponseBytes bounds a response body: a trace with its spans can be
// much larger than the exporter's answers.
const maxResponseBytes = 256 << 20

const userAgent = "mlflowtrace-go-traces"

// backend is one kind of store.
type backend interface {
	traceInfo(ctx context.Context, id string) (*exporter.TraceInfo, error)
	trace(ctx context.Context, id string) (*exporter.Trace, error)
	spans(ctx context.Context, info *exporter.TraceInfo) ([]*exporter.Span, error)
	// pageSpans loads the spans of a search page's traces, up to loads
	// requests at once: spans[i] for infos[i] when ok[i].
	pageSpans(ctx context.Context, infos []*exporter.TraceInfo, loads int) (spans [][]*exporter.Span, ok []bool)
	search(ctx context.Context, q SearchQuery) ([]*exporter.TraceInfo, string, error)
	defaultLocation(ctx context.Context) (string, error)
	// runExperiment returns the experiment id of a run (MLflow's get_run).
	runExperiment(ctx context.Context, runID string) (string, error)
	createAssessment(ctx context.Context, a *exporter.Assessment) (*exporter.Assessment, error)
	getAssessment(ctx context.Context, traceID, assessmentID string) (*exporter.Assessment, error)
	updateAssessment(ctx context.Context, traceID, assessmentID string, u AssessmentUpdate) (*exporter.Assessment, error)
	deleteAssessment(ctx context.Context, traceID, assessmentID string) error
	setTag(ctx context.Context, traceID, key, value string) error
	deleteTag(ctx context.Context, traceID, key string) error
	deleteTraces(ctx context.Context, experimentID string, q DeleteQuery) (int, error)
	close()
}

// NewClient returns a Client for the destination the same options and
// environment select for tracing.Init and exporter.New: a local ./mlruns
// store, an MLflow tracking server, or a Databricks workspace (experiments
// and Unity Catalog tables). Pipeline options are accepted and ignored, and
// the pipeline's environment variables (MLFLOW_ENABLE_ASYNC_TRACE_LOGGING,
// MLFLOW_ASYNC_TRACE_LOGGING_*, MLFLOW_TRACE_TIMEOUT_*, MLFLOW_TRACE_BUFFER_*,
// MLFLOWTRACE_SPOOL_*) are not read, so a value only the writer would
// refuse does not stop a reader; a malformed variable it uses (the tracking
// URI, credentials, MLFLOW_HTTP_REQUEST_*, ...) is an error naming it.
// It does no network I/O.
func NewClient(ctx context.Context, opts ...exporter.Option) (*Client, error) {
	s, err := settings.Resolve(append([]exporter.Option{settings.ForReading()}, opts...)...)
	if err != nil {
		return nil, fmt.Errorf("traces: %w", err)
	}
	loads, err := envconfig.SearchTracesMaxThreads.Get(s.Env)
	if err != nil {
		return nil, fmt.Errorf("traces: %w", err)
	}
	if s.SQLWarehouseEnvErr != nil {
		return nil, fmt.Errorf("traces: %w", s.SQLWarehouseEnvErr)
	}
	switch s.Kind {
	case settings.Server:
		c, err := s.RESTClient(userAgent, maxResponseBytes)
		if err != nil {
			return nil, fmt.Errorf("traces: tracking server: %w", err)
		}
		cl := &Client{b: newREST(c, false, mlflowrest.NewResolver(c, s.ExperimentID, s.ExperimentName, "0"), ""), spanLoads: loads}
		if s.SQLWarehouseID != "" {
			cl.modelIDs = modelUnsupported
		}
		return cl, nil
	case settings.Databricks:
		c, err := s.RESTClient(userAgent, maxResponseBytes)
		if err != nil {
			return nil, fmt.Errorf("traces: databricks: %w", err)
		}
		b := newREST(c, true, mlflowrest.NewResolver(c, s.ExperimentID, s.ExperimentName, ""), s.UCSchema)
		b.closeAuth = s.Workspace.CloseIdleConnections
		b.wh = newWarehouse(s, c)
		cl := &Client{b: b, spanLoads: loads}
		if s.SQLWarehouseID != "" {
			cl.modelIDs = modelUnifiedSearch
		}
		return cl, nil
	case settings.Local:
		r, err := localstore.OpenReader(s.LocalRoot)
		if err != nil {
			return nil, fmt.Errorf("traces: %w", err)
		}
		return &Client{b: &localBackend{r: r, experimentID: s.ExperimentID, experimentName: s.ExperimentName}}, nil
	}
	return nil, errors.New("traces: exporter.WithDestination names no store to read traces from: use WithTrackingURI")
}
