package traces

import (
	"context"
	"errors"
	"fmt"
	"strings"

	"github.com/mlflowtrace/mlflowtrace-go/exporter"
	"github.com/mlflowtrace/mlflowtrace-go/internal/localstore"
	"github.com/mlflowtrace/mlflowtrace-go/internal/tracefilter"
)

// localBackend is a local ./mlruns FileStore folder.
type localBackend struct {
	r                            *localstore.Reader
	experimentID, experimentName string
}

var _ backend = (*localBackend)(nil)

// localErr turns localstore's errors into this package's.
func localErr(err error, what, id string) error {
	switch {
	case err == nil:
		return nil
	case errors.Is(err, localstore.ErrTraceNotFound):
		return &NotFoundError{What: "trace", ID: id, Err: err, told: true}
	case errors.Is(err, localstore.ErrAssessmentNotFound):
		return &NotFoundError{What: "assessment", ID: id, Err: err, told: true}
	case errors.Is(err, localstore.ErrTagNotFound):
		return &NotFoundError{What: "tag", ID: id, Err: err, told: true}
	case errors.Is(err, localstore.ErrExperimentNotFound):
		return &NotFoundError{What: "experiment", ID: id, Err: err, told: true}
	case errors.Is(err, localstore.ErrRunNotFound):
		return &NotFoundError{What: "run", ID: id, Err: err, told: true}
	case errors.Is(err, tracefilter.ErrInvalid):
		return fmt.Errorf("traces: %w: %v", ErrInvalid, err)
	}
	return fmt.Errorf("traces: %s %s: %w", what, id, err)
}

func (l *localBackend) traceInfo(_ context.Context, id string) (*exporter.TraceInfo, error) {
	info, err := l.r.TraceInfo(id)
	return info, localErr(err, "trace", id)
}

func (l *localBackend) trace(ctx context.Context, id string) (*exporter.Trace, error) {
	info, err := l.traceInfo(ctx, id)
	if err != nil {
		return nil, err
	}
	spans, err := l.spans(ctx, info)
	if err != nil {
		return nil, err
	}
	return &exporter.Trace{Info: *info, Spans: spans}, nil
}

func (l *localBackend) spans(_ context.Context, info *exporter.TraceInfo) ([]*exporter.Span, error) {
	spans, err := l.r.Spans(info)
	return spans, localErr(err, "trace", info.TraceID)
}

// pageSpans reads each trace's traces.json in turn (local files: no
// concurrency needed).
func (l *localBackend) pageSpans(ctx context.Context, infos []*exporter.TraceInfo, _ int) ([][]*exporter.Span, []bool) {
	spans, ok := make([][]*exporter.Span, len(infos)), make([]bool, len(infos))
	loadEach(len(infos), 1, func(i int) {
		var err error
		spans[i], err = l.spans(ctx, infos[i])
		ok[i] = err == nil
	})
	return spans, ok
}

func (l *localBackend) defaultLocation(context.Context) (string, error) {
	switch {
	case l.experimentName != "":
		id, err := l.r.ExperimentByName(l.experimentName)
		return id, localErr(err, "experiment", l.experimentName)
	case l.experimentID != "":
		return l.experimentID, nil
	}
	return "0", nil
}

func (l *localBackend) runExperiment(_ context.Context, runID string) (string, error) {
	id, err := l.r.RunExperiment(runID)
	return id, localErr(err, "run", runID)
}

func (l *localBackend) search(_ context.Context, q SearchQuery) ([]*exporter.TraceInfo, string, error) {
	infos, next, err := l.r.Search(q.Locations, q.Filter, q.OrderBy, q.MaxResults, q.PageToken)
	if errors.Is(err, localstore.ErrExperimentNotFound) {
		return nil, "", localErr(err, "experiment", strings.Join(q.Locations, ","))
	}
	return infos, next, localErr(err, "search in", l.r.Root())
}

func (l *localBackend) createAssessment(_ context.Context, a *exporter.Assessment) (*exporter.Assessment, error) {
	out, err := l.r.CreateAssessment(a)
	if errors.Is(err, localstore.ErrAssessmentNotFound) {
		return nil, localErr(err, "assessment", a.Overrides)
	}
	return out, localErr(err, "trace", a.TraceID)
}

func (l *localBackend) getAssessment(_ context.Context, traceID, assessmentID string) (*exporter.Assessment, error) {
	a, err := l.r.GetAssessment(traceID, assessmentID)
	if errors.Is(err, localstore.ErrAssessmentNotFound) {
		return nil, localErr(err, "assessment", assessmentID)
	}
	return a, localErr(err, "trace", traceID)
}

func (l *localBackend) updateAssessment(_ context.Context, traceID, assessmentID string, u AssessmentUpdate) (*exporter.Assessment, error) {
	md, _ := metadata(u.Metadata)
	a, err := l.r.UpdateAssessment(traceID, assessmentID, localstore.AssessmentUpdate{
		Name: u.Name, Feedback: u.Feedback, Expectation: u.Expectation, Rationale: u.Rationale, Metadata: md,
	})
	if errors.Is(err, localstore.ErrAssessmentNotFound) {
		return nil, localErr(err, "assessment", assessmentID)
	}
	return a, localErr(err, "trace", traceID)
}

func (l *localBackend) deleteAssessment(_ context.Context, traceID, assessmentID string) error {
	return localErr(l.r.DeleteAssessment(traceID, assessmentID), "trace", traceID)
}

func (l *localBackend) setTag(_ context.Context, traceID, key, value string) error {
	return localErr(l.r.SetTag(traceID, key, value), "trace", traceID)
}

func (l *localBackend) deleteTag(_ context.Context, traceID, key string) error {
	err := l.r.DeleteTag(traceID, key)
	if errors.Is(err, localstore.ErrTagNotFound) {
		return localErr(err, "tag", key)
	}
	return localErr(err, "trace", traceID)
}

func (l *localBackend) deleteTraces(_ context.Context, experimentID string, q DeleteQuery) (int, error) {
	var maxMs int64
	if !q.OlderThan.IsZero() {
		maxMs = q.OlderThan.UnixMilli()
	}
	n, err := l.r.DeleteTraces(experimentID, maxMs, q.MaxTraces, q.TraceIDs)
	return n, localErr(err, "experiment", experimentID)
}

func (l *localBackend) close() {}
