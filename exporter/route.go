package exporter

import (
	"context"
	"fmt"

	"github.com/mlflowtrace/mlflowtrace-go/internal/databricks"
	"github.com/mlflowtrace/mlflowtrace-go/internal/localstore"
	"github.com/mlflowtrace/mlflowtrace-go/internal/mlflowserver"
	"github.com/mlflowtrace/mlflowtrace-go/internal/settings"
)

// route is a destination as its constructor describes it. The pipeline
// drives exactly what is stated here; it never inspects a destination's
// methods at run time.
type route struct {
	// where names the destination in messages, without credentials.
	where string
	// dest receives finished traces.
	dest Destination
	// spans, when set, receives spans as they end.
	spans SpanStreamer
	// carrier: dest's ExportTraces sends the spans of a trace the stream has
	// not delivered, so only spans of traces still open are streamed, and a
	// trace export does not wait for the span queue.
	carrier bool
	// streaming, when set, says whether span batches spans accepted were
	// really streamed (an MLflow server without the OTLP route accepts them
	// and leaves them to the trace); nil means they always are.
	streaming func() bool
	// idPrefix, when set, gives the prefix of MLflow trace ids and their
	// schema version ("" for "tr-" and "3"); called on the caller's path,
	// it must be a cheap read.
	idPrefix func() (prefix, schemaVersion string)
	// experimentID, when set, is the experiment traces go to, once known.
	experimentID func() string
	// redeliver, when set, exports traces that may have reached the
	// destination before (the spool's replay) without storing any twice;
	// nil means dest.ExportTraces is safe to repeat.
	redeliver func(ctx context.Context, traces []*Trace) error
	// staged, when set, exports in two steps — span rows, then trace
	// infos (Unity Catalog tables, whose span ingestion appends rows) — and
	// takes and reports how many of each trace's span rows are stored
	// (databricks.Progress), so that the spool never sends a row twice; with
	// replay it looks each trace up first. With a spool it replaces
	// dest.ExportTraces and redeliver.
	staged func(ctx context.Context, traces []*Trace, p databricks.Progress, replay bool) error
	// background, when set, is work the pipeline runs once on a goroutine
	// of its own when the Exporter starts; ctx ends at Shutdown. New waits
	// for it up to backgroundWait.
	background func(ctx context.Context)
}

// newRoute builds the destination the settings select; report is the
// pipeline's error path, for a destination's warnings.
func newRoute(s *settings.Settings, report func(error)) (route, error) {
	if testRoute != nil {
		if r, ok := testRoute(s); ok {
			return r, nil
		}
	}
	switch s.Kind {
	case settings.Custom:
		return route{where: "the custom destination", dest: s.CustomTraces, spans: s.CustomSpans}, nil
	case settings.Server:
		return newServerRoute(s, report)
	case settings.Databricks:
		return newDatabricksRoute(s, report)
	default:
		st, err := localstore.New(s.LocalRoot, localstore.Options{ExperimentID: s.ExperimentID, ExperimentName: s.ExperimentName})
		if err != nil {
			return route{}, fmt.Errorf("local store: %w", err)
		}
		return route{where: s.Where(), dest: st, experimentID: st.ExperimentID}, nil
	}
}

// testRoute lets tests of this package replace the destination with one
// whose capabilities they choose (export_test.go).
var testRoute func(*settings.Settings) (route, bool)

// newServerRoute builds the MLflow tracking server destination. It does no
// I/O: the server's capabilities and the experiment are resolved on the
// first export, on a worker. report is the pipeline's error path, for what
// fails without failing a trace (linking a trace's prompt versions).
func newServerRoute(s *settings.Settings, report func(error)) (route, error) {
	d, err := mlflowserver.New(mlflowserver.Config{
		Transport:            s.HTTP(),
		ExperimentID:         s.ExperimentID,
		ExperimentName:       s.ExperimentName,
		Resource:             sdkResource,
		DisableSpanStreaming: s.DisableSpanStreaming,
		ErrorHandler:         func(err error) { report(fmt.Errorf("exporter: %w", err)) },
	})
	if err != nil {
		return route{}, fmt.Errorf("tracking server: %w", err)
	}
	r := route{where: s.Where(), dest: d, experimentID: d.ExperimentID, redeliver: d.Redeliver}
	if !s.DisableSpanStreaming {
		r.spans, r.carrier, r.streaming = d, true, d.StreamingSupported
	}
	return r, nil
}

// newDatabricksRoute builds the Databricks destination. It does no network
// I/O; for an experiment, its background work looks up whether the
// experiment is linked to Unity Catalog tables (which changes trace ids).
func newDatabricksRoute(s *settings.Settings, report func(error)) (route, error) {
	d, err := databricks.New(databricks.Config{
		Workspace:      s.Workspace,
		Transport:      s.HTTP(),
		ExperimentID:   s.ExperimentID,
		ExperimentName: s.ExperimentName,
		UCSchema:       s.UCSchema,
		Resource:       sdkResource,
		Prices:         modelCatalog(s),
		ErrorHandler:   func(err error) { report(fmt.Errorf("exporter: %w", err)) },
	})
	if err != nil {
		return route{}, err
	}
	r := route{where: s.Where(), dest: d, idPrefix: d.TraceIDPrefix, experimentID: d.ExperimentID}
	r.staged = func(ctx context.Context, traces []*Trace, p databricks.Progress, replay bool) error {
		if replay {
			return d.Redeliver(ctx, traces, p)
		}
		return d.ExportTracesProgress(ctx, traces, p)
	}
	if s.UCSchema == "" {
		r.background = d.LookupLink
	}
	return r, nil
}

// sdkResource is the OTLP resource of the spans the HTTP destinations send.
var sdkResource = map[string]any{
	"telemetry.sdk.language": "go",
	"telemetry.sdk.name":     "mlflowtrace-go",
}
