package traces

import (
	"bytes"
	"context"
	"encoding/base64"
	"encoding/hex"
	"encoding/json"
	"errors"
	"fmt"
	"iter"
	"math"
	"reflect"
	"slices"
	"strings"
	"sync"
	"time"

	"github.com/mlflowtrace/mlflowtrace-go/exporter"
	"github.com/mlflowtrace/mlflowtrace-go/internal/encode"
	"github.com/mlflowtrace/mlflowtrace-go/internal/keys"
	"github.com/mlflowtrace/mlflowtrace-go/internal/tracemodel"
)

// Assessment source types (MLflow's AssessmentSourceType).
const (
	SourceHuman    = tracemodel.SourceHuman
	SourceLLMJudge = tracemodel.SourceLLMJudge
	SourceCode     = tracemodel.SourceCode
)

// DefaultFeedbackName is the name of a feedback logged without one (MLflow's
// DEFAULT_FEEDBACK_NAME).
const DefaultFeedbackName = "feedback"

// DefaultMaxResults is how many traces SearchTraces returns when
// SearchQuery.MaxResults is 0 (MLflow's SEARCH_TRACES_DEFAULT_MAX_RESULTS).
const DefaultMaxResults = 100

// ErrNotFound is matched (errors.Is) by every error about a trace, an
// assessment, a tag, an experiment or a run that does not exist.
var ErrNotFound = errors.New("not found")

// ErrInvalid is matched by every error about a request MLflow would reject,
// returned before any request is sent.
var ErrInvalid = errors.New("invalid request")

// NotFoundError says what was not found. It matches ErrNotFound.
type NotFoundError struct {
	What string // "trace", "assessment", "tag", "experiment", "run"
	ID   string
	Err  error // the backend's answer
	// told: Err's message says what was not found by itself (the local
	// store's MLflow sentences); Error prints it alone.
	told bool
}

// Error says what was not found once: "traces: " and the local store's
// message ("traces: no tag with name: k in trace with ID tr-..."), or
// "traces: <what> <id> not found" and a server's answer.
func (e *NotFoundError) Error() string {
	switch {
	case e.Err != nil && e.told:
		return "traces: " + e.Err.Error()
	case e.Err != nil:
		return fmt.Sprintf("traces: %s %s not found: %v", e.What, e.ID, e.Err)
	}
	return fmt.Sprintf("traces: %s %s not found", e.What, e.ID)
}

// Is reports whether target is ErrNotFound.
func (e *NotFoundError) Is(target error) bool { return target == ErrNotFound }

// Unwrap returns the backend's error.
func (e *NotFoundError) Unwrap() error { return e.Err }

func invalidf(format string, args ...any) error {
	return fmt.Errorf("traces: %w: %s", ErrInvalid, fmt.Sprintf(format, args...))
}

// Client reads MLflow traces and logs assessments and tags on them, on the
// destination the exporter writes to. Create it with NewClient; it is safe
// for concurrent use. Close releases its idle connections.
type Client struct {
	b backend
	// spanLoads bounds the span downloads of a search page in flight at
	// once (MLFLOW_SEARCH_TRACES_MAX_THREADS; 1 for the local store).
	spanLoads int
	// modelIDs is what a search does with a model id (see normalize).
	modelIDs modelSearch
}

// modelSearch is how SearchQuery.ModelID is searched.
type modelSearch int

const (
	// modelFilterSearch: as the metadata filter MLflow's client writes
	// without a SQL warehouse.
	modelFilterSearch modelSearch = iota
	// modelUnifiedSearch: a Databricks workspace with a SQL warehouse
	// (MLflow's SearchUnifiedTraces); the backend gets the model id.
	modelUnifiedSearch
	// modelUnsupported: a tracking server with a SQL warehouse set, where
	// MLflow's RestStore refuses a model id.
	modelUnsupported
)

// Feedback is a feedback to log (MLflow's log_feedback): a value, or the
// error that kept a judge from producing one.
type Feedback struct {
	// Name defaults to "feedback".
	Name string
	// Value is a bool, a number, a string, or a list or string-keyed map of
	// those (MLflow's FeedbackValueType). MLflow stores numbers as doubles.
	Value any
	// Error records why there is no value (MLflow's AssessmentError);
	// ErrorFrom builds one from a Go error.
	Error *exporter.AssessmentError
	// Rationale explains the value.
	Rationale string
	// Source defaults to CODE with id "default".
	Source exporter.AssessmentSource
	// SpanID attaches the feedback to one span: 16 lowercase hex digits,
	// or the base64 of the 8 bytes (a trace JSON's span_id), stored as
	// the 16 hex digits.
	SpanID string
	// Metadata values are stored as strings (Python's str() of the value:
	// 2.0 is "2.0", nil "None", [1, "a"] "[1, 'a']"), as MLflow does.
	Metadata map[string]any
}

// Expectation is a ground-truth label to log (MLflow's log_expectation).
type Expectation struct {
	Name string
	// Value is any JSON value; nil is rejected, as in MLflow.
	Value any
	// Source defaults to HUMAN with id "default".
	Source exporter.AssessmentSource
	// SpanID is as Feedback's.
	SpanID   string
	Metadata map[string]any
}

// AssessmentUpdate changes an assessment in place (MLflow's
// update_assessment); nil fields are kept. A feedback's value cannot become
// an expectation or the reverse.
type AssessmentUpdate struct {
	Name        *string
	Feedback    *exporter.FeedbackValue
	Expectation *exporter.ExpectationValue
	Rationale   *string
	Metadata    map[string]any
}

// ErrorFrom returns the AssessmentError of a Go error: its type name as the
// code and its message, as MLflow records a Python exception.
func ErrorFrom(err error) *exporter.AssessmentError {
	if err == nil {
		return nil
	}
	t := reflect.TypeOf(err)
	for t.Kind() == reflect.Pointer {
		t = t.Elem()
	}
	code := t.String()
	if code == "" {
		code = "ASSESSMENT_ERROR"
	}
	return &exporter.AssessmentError{Code: code, Message: err.Error()}
}

// SearchQuery selects traces (MLflow's search_traces).
type SearchQuery struct {
	// Locations are experiment ids, or on Databricks "<catalog>.<schema>"
	// and "<catalog>.<schema>.<table prefix>" Unity Catalog locations.
	// Default: the configured experiment.
	Locations []string
	// Filter is MLflow's filter string; a server evaluates it as is.
	Filter string
	// OrderBy are order_by clauses ("timestamp_ms DESC").
	OrderBy []string
	// MaxResults bounds the traces SearchTraces returns (default 100); for
	// AllTraces it is the page size.
	MaxResults int
	// PageToken continues an earlier search.
	PageToken string
	// RunID keeps the traces of one MLflow run; as in MLflow, the run must
	// exist (else a *NotFoundError) and be in one of Locations (else an
	// ErrInvalid error naming its experiment).
	RunID string
	// WithoutSpans returns trace infos only (MLflow's include_spans=False).
	WithoutSpans bool
	// ModelID keeps the traces linked to a LoggedModel (metadata
	// mlflow.modelId: MLFLOW_ACTIVE_MODEL_ID, tracing.WithModelID), as
	// MLflow's search_traces(model_id=...): Filter must be empty; without a
	// SQL warehouse (MLFLOW_TRACING_SQL_WAREHOUSE_ID, WithSQLWarehouseID) it
	// becomes the filter request_metadata.`mlflow.modelId` = '<id>' and
	// must hold no single quote (ErrInvalid, as MLflow's filter parser
	// refuses it). With a warehouse, a Databricks workspace is asked for
	// the model's traces with GET /api/2.0/mlflow/unified-traces (MLflow's
	// SearchUnifiedTraces: model id, warehouse, the locations as experiment
	// ids), a tracking server refuses it (ErrInvalid, as MLflow's RestStore
	// does) and ./mlruns keeps the metadata filter (MLflow's FileStore
	// ignores the model id there and returns every trace).
	ModelID string
}

// Page is one page of search results.
type Page struct {
	Traces        []*exporter.Trace
	NextPageToken string // "" on the last page
}

// DeleteQuery selects traces to delete: by id, or every trace that started
// at or before OlderThan (the oldest first, at most MaxTraces when > 0).
type DeleteQuery struct {
	TraceIDs  []string
	OlderThan time.Time
	MaxTraces int
}

// GetTrace returns the trace id with its assessments and spans, read from
// wherever the backend keeps them.
func (c *Client) GetTrace(ctx context.Context, id string) (*exporter.Trace, error) {
	if strings.TrimSpace(id) == "" {
		return nil, invalidf("empty trace id")
	}
	return c.b.trace(ctx, id)
}

// GetTraceInfo returns the trace info of id (with assessments, no spans).
func (c *Client) GetTraceInfo(ctx context.Context, id string) (*exporter.TraceInfo, error) {
	if strings.TrimSpace(id) == "" {
		return nil, invalidf("empty trace id")
	}
	return c.b.traceInfo(ctx, id)
}

// SearchTraces returns up to q.MaxResults traces matching q, following the
// backend's pages as MLflow's TracingClient.search_traces does, and the
// token of the next page. Traces whose span data cannot be loaded are left
// out, as MLflow does.
func (c *Client) SearchTraces(ctx context.Context, q SearchQuery) (*Page, error) {
	q, err := c.normalize(ctx, q, c.modelIDs)
	if err != nil {
		return nil, err
	}
	return c.searchPage(ctx, q)
}

// searchPage is SearchTraces of a normalized query.
func (c *Client) searchPage(ctx context.Context, q SearchQuery) (*Page, error) {
	want := q.MaxResults
	page := &Page{}
	token := q.PageToken
	for len(page.Traces) < want {
		q.PageToken = token
		q.MaxResults = want - len(page.Traces)
		infos, next, err := c.b.search(ctx, q)
		if err != nil {
			return nil, err
		}
		traces, err := c.withSpans(ctx, infos, q.WithoutSpans)
		if err != nil {
			return nil, err
		}
		page.Traces = append(page.Traces, traces...)
		token = next
		if token == "" {
			break
		}
	}
	page.NextPageToken = token
	return page, nil
}

// withSpans returns a trace per info, in the order of infos, with its spans
// unless withoutSpans; a trace whose spans cannot be loaded is left out, as
// MLflow leaves it out.
func (c *Client) withSpans(ctx context.Context, infos []*exporter.TraceInfo, withoutSpans bool) ([]*exporter.Trace, error) {
	traces := make([]*exporter.Trace, 0, len(infos))
	if withoutSpans {
		for _, info := range infos {
			traces = append(traces, &exporter.Trace{Info: *info})
		}
		return traces, nil
	}
	spans, ok := c.b.pageSpans(ctx, infos, c.spanLoads)
	if err := ctx.Err(); err != nil {
		return nil, err
	}
	for i, info := range infos {
		if ok[i] {
			traces = append(traces, &exporter.Trace{Info: *info, Spans: spans[i]})
		}
	}
	return traces, nil
}

// loadEach runs load(i) for every i < n, up to loads at once (in order, on
// the caller's goroutine, when loads ≤ 1), as MLflow's client runs a page's
// downloads on its thread pool.
func loadEach(n, loads int, load func(i int)) {
	if loads <= 1 || n <= 1 {
		for i := range n {
			load(i)
		}
		return
	}
	slots := make(chan struct{}, loads)
	var wg sync.WaitGroup
	for i := range n {
		slots <- struct{}{}
		wg.Go(func() {
			defer func() { <-slots }()
			load(i)
		})
	}
	wg.Wait()
}

// AllTraces iterates over every trace matching q, page after page
// (q.MaxResults per page). Iteration stops at the first error, which it
// yields.
func (c *Client) AllTraces(ctx context.Context, q SearchQuery) iter.Seq2[*exporter.Trace, error] {
	return func(yield func(*exporter.Trace, error) bool) {
		q, err := c.normalize(ctx, q, c.modelIDs) // once: the run is looked up once
		if err != nil {
			yield(nil, err)
			return
		}
		c.all(ctx, q)(yield)
	}
}

// all is AllTraces of a normalized query.
func (c *Client) all(ctx context.Context, q SearchQuery) iter.Seq2[*exporter.Trace, error] {
	return func(yield func(*exporter.Trace, error) bool) {
		for {
			page, err := c.searchPage(ctx, q)
			if err != nil {
				yield(nil, err)
				return
			}
			for _, t := range page.Traces {
				if !yield(t, nil) {
					return
				}
			}
			if page.NextPageToken == "" {
				return
			}
			q.PageToken = page.NextPageToken
		}
	}
}

// normalize fills q's defaults and turns ModelID (unless models is
// modelUnifiedSearch: the backend searches it) and RunID into filter
// clauses (checking the run, as MLflow does), leaving them empty: the
// query searchPage and all take.
func (c *Client) normalize(ctx context.Context, q SearchQuery, models modelSearch) (SearchQuery, error) {
	if q.MaxResults == 0 {
		q.MaxResults = DefaultMaxResults
	}
	if q.MaxResults < 0 {
		return q, invalidf("max results must be positive, got %d", q.MaxResults)
	}
	if len(q.Locations) == 0 {
		loc, err := c.b.defaultLocation(ctx)
		if err != nil {
			return q, err
		}
		q.Locations = []string{loc}
	}
	if q.ModelID != "" {
		if q.Filter != "" {
			return q, invalidf("cannot specify both a model id and a filter string in one search (MLflow's search_traces)")
		}
		switch {
		case models == modelUnsupported:
			return q, invalidf("searching traces by model_id is not supported on the current tracking server (with a SQL warehouse set, MLflow's client leaves the model id to the backend; unset MLFLOW_TRACING_SQL_WAREHOUSE_ID to search it as metadata)")
		case models == modelUnifiedSearch:
			// The backend searches it (SearchUnifiedTraces).
		case strings.Contains(q.ModelID, "'"):
			// MLflow writes the id between single quotes unescaped: its
			// filter parser refuses such an id.
			return q, invalidf("model id %q holds a single quote", q.ModelID)
		default:
			q.Filter, q.ModelID = modelFilter(q.ModelID), ""
		}
	}
	if q.RunID != "" {
		// As MLflow's search_traces: the run must exist and belong to a
		// searched experiment.
		exp, err := c.b.runExperiment(ctx, q.RunID)
		if err != nil {
			return q, err
		}
		if !slices.Contains(q.Locations, exp) {
			return q, invalidf("run %s belongs to experiment %s, which is not in the list of locations provided: %s; include experiment %s in the locations to search for traces from this run", q.RunID, exp, strings.Join(q.Locations, ", "), exp)
		}
		if strings.Contains(q.Filter, "mlflow.sourceRun") {
			return q, invalidf("you cannot filter by run_id when it is already part of the filter string")
		}
		f := "attribute.run_id = '" + strings.ReplaceAll(q.RunID, "'", "") + "'"
		if q.Filter != "" {
			f = q.Filter + " AND " + f
		}
		q.Filter, q.RunID = f, ""
	}
	return q, nil
}

// modelFilter selects the traces of LoggedModel id (without a single
// quote), as MLflow's search_traces writes it.
func modelFilter(id string) string {
	return "request_metadata.`" + keys.MetaModelID + "` = '" + id + "'"
}

// LogFeedback logs a feedback on trace traceID and returns it as stored
// (with its id and times).
func (c *Client) LogFeedback(ctx context.Context, traceID string, fb Feedback) (*exporter.Assessment, error) {
	a, err := feedbackAssessment(traceID, fb)
	if err != nil {
		return nil, err
	}
	return c.b.createAssessment(ctx, a)
}

// LogExpectation logs an expectation on trace traceID.
func (c *Client) LogExpectation(ctx context.Context, traceID string, ex Expectation) (*exporter.Assessment, error) {
	if strings.TrimSpace(traceID) == "" {
		return nil, invalidf("empty trace id")
	}
	if strings.TrimSpace(ex.Name) == "" {
		return nil, invalidf("an expectation needs a name")
	}
	if ex.Value == nil {
		return nil, invalidf("the expectation value must be specified")
	}
	v, err := jsonValue(ex.Value, "expectation value")
	if err != nil {
		return nil, err
	}
	src, err := source(ex.Source, SourceHuman)
	if err != nil {
		return nil, err
	}
	md, err := metadata(ex.Metadata)
	if err != nil {
		return nil, err
	}
	sid, err := spanID(ex.SpanID)
	if err != nil {
		return nil, err
	}
	return c.b.createAssessment(ctx, &exporter.Assessment{
		Name: ex.Name, TraceID: traceID, SpanID: sid, Source: src,
		Expectation: &exporter.ExpectationValue{Value: v}, Metadata: md,
	})
}

// OverrideFeedback logs fb as a new feedback that overrides the feedback
// assessmentID (MLflow's override_feedback): it keeps the old one's name and
// span, the old one is marked invalid but kept.
func (c *Client) OverrideFeedback(ctx context.Context, traceID, assessmentID string, fb Feedback) (*exporter.Assessment, error) {
	old, err := c.GetAssessment(ctx, traceID, assessmentID)
	if err != nil {
		return nil, err
	}
	if old.Feedback == nil {
		return nil, invalidf("the assessment with ID %s is not a feedback assessment", assessmentID)
	}
	fb.Name, fb.SpanID = old.Name, old.SpanID
	a, err := feedbackAssessment(traceID, fb)
	if err != nil {
		return nil, err
	}
	a.Overrides = old.AssessmentID
	return c.b.createAssessment(ctx, a)
}

// GetAssessment returns assessment assessmentID of trace traceID.
func (c *Client) GetAssessment(ctx context.Context, traceID, assessmentID string) (*exporter.Assessment, error) {
	if strings.TrimSpace(traceID) == "" || strings.TrimSpace(assessmentID) == "" {
		return nil, invalidf("a trace id and an assessment id are required")
	}
	return c.b.getAssessment(ctx, traceID, assessmentID)
}

// UpdateAssessment changes an assessment in place and returns it.
func (c *Client) UpdateAssessment(ctx context.Context, traceID, assessmentID string, u AssessmentUpdate) (*exporter.Assessment, error) {
	if strings.TrimSpace(traceID) == "" || strings.TrimSpace(assessmentID) == "" {
		return nil, invalidf("a trace id and an assessment id are required")
	}
	if u.Feedback != nil && u.Expectation != nil {
		return nil, invalidf("exactly one of the expectation or the feedback may be updated")
	}
	if u.Feedback != nil {
		v, err := feedbackValue(u.Feedback.Value)
		if err != nil {
			return nil, err
		}
		u.Feedback = &exporter.FeedbackValue{Value: v, Error: u.Feedback.Error}
	}
	if u.Expectation != nil {
		if u.Expectation.Value == nil {
			return nil, invalidf("the expectation value must be specified")
		}
		v, err := jsonValue(u.Expectation.Value, "expectation value")
		if err != nil {
			return nil, err
		}
		u.Expectation = &exporter.ExpectationValue{Value: v}
	}
	if u.Name != nil && strings.TrimSpace(*u.Name) == "" {
		return nil, invalidf("an assessment name cannot be empty")
	}
	if _, err := metadata(u.Metadata); err != nil {
		return nil, err
	}
	return c.b.updateAssessment(ctx, traceID, assessmentID, u)
}

// DeleteAssessment deletes an assessment; one it overrode becomes valid
// again.
func (c *Client) DeleteAssessment(ctx context.Context, traceID, assessmentID string) error {
	if strings.TrimSpace(traceID) == "" || strings.TrimSpace(assessmentID) == "" {
		return invalidf("a trace id and an assessment id are required")
	}
	return c.b.deleteAssessment(ctx, traceID, assessmentID)
}

// SetTraceTag sets a tag on a trace.
func (c *Client) SetTraceTag(ctx context.Context, traceID, key, value string) error {
	if err := checkTag(traceID, key); err != nil {
		return err
	}
	return c.b.setTag(ctx, traceID, key, value)
}

// DeleteTraceTag deletes a tag of a trace.
func (c *Client) DeleteTraceTag(ctx context.Context, traceID, key string) error {
	if err := checkTag(traceID, key); err != nil {
		return err
	}
	return c.b.deleteTag(ctx, traceID, key)
}

// immutableTags are the tags MLflow keeps the client from setting or
// deleting (IMMUTABLE_TAGS).
var immutableTags = map[string]bool{"mlflow.user": true, "mlflow.artifactLocation": true, "mlflow.trace.spansLocation": true}

func checkTag(traceID, key string) error {
	switch {
	case strings.TrimSpace(traceID) == "":
		return invalidf("empty trace id")
	case key == "":
		return invalidf("empty tag key")
	case immutableTags[key]:
		return invalidf("tag '%s' is immutable and cannot be set or deleted on a trace", key)
	}
	return nil
}

// DeleteTraces deletes traces of experiment experimentID and returns how
// many it deleted.
func (c *Client) DeleteTraces(ctx context.Context, experimentID string, q DeleteQuery) (int, error) {
	switch {
	case strings.TrimSpace(experimentID) == "":
		return 0, invalidf("an experiment id is required")
	case q.OlderThan.IsZero() && len(q.TraceIDs) == 0:
		return 0, invalidf("either the trace ids or a time (OlderThan) must be given")
	case !q.OlderThan.IsZero() && len(q.TraceIDs) > 0:
		return 0, invalidf("only one of the trace ids and a time (OlderThan) can be given")
	case len(q.TraceIDs) > 0 && q.MaxTraces != 0:
		return 0, invalidf("max traces can't be given with trace ids")
	case q.MaxTraces < 0:
		return 0, invalidf("max traces must be a positive integer, got %d", q.MaxTraces)
	}
	return c.b.deleteTraces(ctx, experimentID, q)
}

// Close releases the client's idle connections.
func (c *Client) Close() error {
	c.b.close()
	return nil
}

// --- validation --------------------------------------------------------------

func feedbackAssessment(traceID string, fb Feedback) (*exporter.Assessment, error) {
	if strings.TrimSpace(traceID) == "" {
		return nil, invalidf("empty trace id")
	}
	name := fb.Name
	if name == "" {
		name = DefaultFeedbackName
	}
	v, err := feedbackValue(fb.Value)
	if err != nil {
		return nil, err
	}
	if fb.Error != nil && fb.Error.Code == "" {
		return nil, invalidf("a feedback error needs a code")
	}
	src, err := source(fb.Source, SourceCode)
	if err != nil {
		return nil, err
	}
	md, err := metadata(fb.Metadata)
	if err != nil {
		return nil, err
	}
	sid, err := spanID(fb.SpanID)
	if err != nil {
		return nil, err
	}
	valid := true
	return &exporter.Assessment{
		Name: name, TraceID: traceID, SpanID: sid, Source: src,
		Feedback:  &exporter.FeedbackValue{Value: v, Error: fb.Error},
		Rationale: fb.Rationale, Metadata: md, Valid: &valid,
	}, nil
}

func source(s exporter.AssessmentSource, def string) (exporter.AssessmentSource, error) {
	if s.Type == "" {
		s.Type = def
	}
	t, ok := tracemodel.NormalizeSourceType(s.Type)
	if !ok || t == tracemodel.SourceUnspecified {
		return s, invalidf("invalid assessment source type %q: want HUMAN, LLM_JUDGE or CODE", s.Type)
	}
	s.Type = t
	if s.ID == "" {
		s.ID = "default"
	}
	return s, nil
}

func metadata(m map[string]any) (map[string]string, error) {
	if len(m) == 0 {
		return nil, nil
	}
	out := make(map[string]string, len(m))
	for k, v := range m {
		if k == "" {
			return nil, invalidf("empty metadata key")
		}
		out[k] = encode.PyStr(v) // str(value), as MLflow writes it
	}
	return out, nil
}

// spanID returns the span id an assessment is stored with: 16 lowercase hex
// digits, the form of exporter.Span's SpanID and of MLflow's Python
// Span.span_id, which the UI links to the span. The base64 of the 8 bytes
// (the span_id of MLflow's trace JSON, Trace.to_dict, as `mlflowtrace
// traces get` prints it: "moV45MTpUjA=") is converted to that form; MLflow's
// CLI stores such a string verbatim, and the assessment then links to no
// span. Anything else is an ErrInvalid error.
func spanID(id string) (string, error) {
	if id == "" {
		return "", nil
	}
	if len(id) == 16 && strings.Trim(id, "0123456789abcdef") == "" {
		return id, nil
	}
	if b, err := base64.StdEncoding.Strict().DecodeString(id); err == nil && len(b) == 8 {
		return hex.EncodeToString(b), nil
	}
	return "", invalidf("span id %q is neither 16 lowercase hex digits nor the base64 of 8 bytes (the span_id of a trace's JSON)", id)
}

// feedbackValue checks v is what MLflow's feedback takes (scalars, lists
// and string-keyed maps of scalars, nil) and returns it as JSON will carry
// it.
func feedbackValue(v any) (any, error) {
	out, err := jsonValue(v, "feedback value")
	return floats(out), err
}

// floats turns json.Number into float64: MLflow keeps feedback numbers as
// protobuf doubles.
func floats(v any) any {
	switch x := v.(type) {
	case json.Number:
		f, _ := x.Float64()
		return f
	case []any:
		for i := range x {
			x[i] = floats(x[i])
		}
	case map[string]any:
		for k := range x {
			x[k] = floats(x[k])
		}
	}
	return v
}

// jsonValue converts v to plain JSON values (through encoding/json), with a
// clear error for what JSON cannot carry (NaN, infinities, channels,
// functions, cycles).
func jsonValue(v any, what string) (any, error) {
	switch x := v.(type) {
	case nil, bool, string:
		return v, nil
	case float64:
		if math.IsNaN(x) || math.IsInf(x, 0) {
			return nil, invalidf("%s %v is not a JSON number", what, x)
		}
		return x, nil
	case float32:
		return jsonValue(float64(x), what)
	}
	b, err := json.Marshal(v)
	if err != nil {
		return nil, invalidf("%s of type %T cannot be stored: %v", what, v, err)
	}
	dec := json.NewDecoder(bytes.NewReader(b))
	dec.UseNumber()
	var out any
	if err := dec.Decode(&out); err != nil {
		return nil, invalidf("%s of type %T cannot be stored: %v", what, v, err)
	}
	return out, nil
}
