package traces_test

import (
	"context"
	"errors"
	"fmt"
	"os"
	"path/filepath"
	"slices"
	"strings"
	"testing"
	"time"

	"github.com/mlflowtrace/mlflowtrace-go/exporter"
	"github.com/mlflowtrace/mlflowtrace-go/internal/mlflowtest"
	"github.com/mlflowtrace/mlflowtrace-go/traces"
	"github.com/mlflowtrace/mlflowtrace-go/tracing"
)

func TestMain(m *testing.M) {
	os.Exit(mlflowtest.Main(m)) // stops the shared MLflow server, then checks for leaked goroutines
}

// writeTraces writes n traces named agent-<i> with tag env=prod|dev through
// package tracing to the destination uri and returns their ids, oldest first.
func writeTraces(t *testing.T, uri string, n int) []string {
	t.Helper()
	return writeTracesTo(t, uri, "", n)
}

// writeTracesTo is writeTraces into the experiment named experiment ("":
// the default one).
func writeTracesTo(t *testing.T, uri, experiment string, n int) []string {
	t.Helper()
	ctx := context.Background()
	opts := []exporter.Option{exporter.WithTrackingURI(uri)}
	if experiment != "" {
		opts = append(opts, exporter.WithExperimentName(experiment))
	}
	p, err := tracing.Init(ctx, tracing.WithEnabled(), tracing.WithoutGlobalTracerProvider(),
		tracing.WithGetenv(func(string) string { return "" }),
		tracing.WithExporterOptions(opts...))
	if err != nil {
		t.Fatal(err)
	}
	var ids []string
	for i := range n {
		env := "dev"
		if i%2 == 0 {
			env = "prod"
		}
		c, root := tracing.StartSpan(ctx, fmt.Sprintf("agent-%d", i), tracing.WithSpanType(tracing.SpanTypeAgent),
			tracing.WithInputs(map[string]any{"q": i}))
		tracing.UpdateCurrentTrace(c, tracing.WithTags(map[string]string{"env": env}), tracing.WithUser(fmt.Sprintf("u%d", i)))
		_, tool := tracing.StartSpan(c, "tool", tracing.WithSpanType(tracing.SpanTypeTool))
		tool.End(tracing.WithOutputs("ok"))
		root.End(tracing.WithOutputs(fmt.Sprintf("answer %d", i)))
		ids = append(ids, root.TraceID())
		time.Sleep(3 * time.Millisecond) // distinct request times
	}
	if err := p.Shutdown(ctx); err != nil {
		t.Fatal(err)
	}
	return ids
}

type backend struct {
	name string
	uri  func(t *testing.T) string
}

var backends = []backend{
	{"local", func(t *testing.T) string { return filepath.Join(t.TempDir(), "mlruns") }},
	{"server", func(t *testing.T) string { return mlflowtest.Shared(t).URL }},
}

func newClient(t *testing.T, uri string) *traces.Client {
	t.Helper()
	c, err := traces.NewClient(context.Background(), exporter.WithTrackingURI(uri),
		exporter.WithGetenv(func(string) string { return "" }))
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { _ = c.Close() })
	return c
}

func TestReadSearchAnnotate(t *testing.T) {
	for _, b := range backends {
		t.Run(b.name, func(t *testing.T) {
			ctx := context.Background()
			uri := b.uri(t)
			ids := writeTraces(t, uri, 5)
			c := newClient(t, uri)

			tr, err := c.GetTrace(ctx, ids[1])
			if err != nil {
				t.Fatal(err)
			}
			if tr.Info.TraceID != ids[1] || len(tr.Spans) != 2 || tr.Info.Tags["env"] != "dev" || tr.Info.Tags["mlflow.traceName"] != "agent-1" {
				t.Fatalf("GetTrace: %+v, %d spans", tr.Info, len(tr.Spans))
			}
			if got := tr.Spans[0].Attributes["mlflow.spanType"]; got != `"AGENT"` {
				t.Errorf("root span type %s", got)
			}

			page, err := c.SearchTraces(ctx, traces.SearchQuery{Filter: "tags.env = 'prod'", OrderBy: []string{"timestamp_ms ASC"}})
			if err != nil {
				t.Fatal(err)
			}
			if got := traceIDs(page.Traces); !slices.Equal(got, []string{ids[0], ids[2], ids[4]}) {
				t.Errorf("search prod = %v, want %v", got, []string{ids[0], ids[2], ids[4]})
			}
			var all []string
			for tr, err := range c.AllTraces(ctx, traces.SearchQuery{MaxResults: 2, WithoutSpans: true}) {
				if err != nil {
					t.Fatal(err)
				}
				if len(tr.Spans) != 0 {
					t.Errorf("WithoutSpans returned spans")
				}
				all = append(all, tr.Info.TraceID)
			}
			want := slices.Clone(ids)
			slices.Reverse(want)
			if !slices.Equal(all, want) {
				t.Errorf("AllTraces (3 pages) = %v, want %v", all, want)
			}

			// Assessments.
			fb, err := c.LogFeedback(ctx, ids[0], traces.Feedback{Name: "user_feedback", Value: true, Rationale: "good",
				Source: exporter.AssessmentSource{Type: traces.SourceHuman, ID: "alice"}, Metadata: map[string]any{"k": 1, "f": 2.0, "l": []any{1, "a"}, "n": nil}})
			if err != nil {
				t.Fatal(err)
			}
			if fb.AssessmentID == "" || fb.Source.ID != "alice" || fb.Feedback.Value != true || fb.Metadata["k"] != "1" ||
				fb.Metadata["f"] != "2.0" || fb.Metadata["l"] != "[1, 'a']" || fb.Metadata["n"] != "None" {
				t.Fatalf("LogFeedback = %+v", fb)
			}
			ex, err := c.LogExpectation(ctx, ids[0], traces.Expectation{Name: "expected", Value: map[string]any{"a": []int{1, 2}}})
			if err != nil {
				t.Fatal(err)
			}
			over, err := c.OverrideFeedback(ctx, ids[0], fb.AssessmentID, traces.Feedback{Value: false, Rationale: "changed my mind",
				Source: exporter.AssessmentSource{Type: traces.SourceHuman, ID: "bob"}})
			if err != nil {
				t.Fatal(err)
			}
			if over.Overrides != fb.AssessmentID || over.Name != "user_feedback" {
				t.Errorf("override = %+v", over)
			}
			got, err := c.GetAssessment(ctx, ids[0], fb.AssessmentID)
			if err != nil {
				t.Fatal(err)
			}
			if got.Valid == nil || *got.Valid {
				t.Errorf("overridden feedback still valid: %+v", got.Valid)
			}
			rat := "updated"
			up, err := c.UpdateAssessment(ctx, ids[0], over.AssessmentID, traces.AssessmentUpdate{
				Feedback: &exporter.FeedbackValue{Value: 0.5}, Rationale: &rat})
			if err != nil {
				t.Fatal(err)
			}
			if up.Feedback.Value != 0.5 || up.Rationale != "updated" {
				t.Errorf("update = %+v %+v", up, up.Feedback)
			}
			info, err := c.GetTraceInfo(ctx, ids[0])
			if err != nil {
				t.Fatal(err)
			}
			if len(info.Assessments) != 3 {
				t.Errorf("trace has %d assessments, want 3", len(info.Assessments))
			}
			if err := c.DeleteAssessment(ctx, ids[0], ex.AssessmentID); err != nil {
				t.Fatal(err)
			}
			if _, err := c.GetAssessment(ctx, ids[0], ex.AssessmentID); !errors.Is(err, traces.ErrNotFound) {
				t.Errorf("deleted assessment: %v", err)
			}

			// Tags.
			if err := c.SetTraceTag(ctx, ids[2], "reviewed", "yes"); err != nil {
				t.Fatal(err)
			}
			page, err = c.SearchTraces(ctx, traces.SearchQuery{Filter: "tags.reviewed = 'yes'"})
			if err != nil || len(page.Traces) != 1 || page.Traces[0].Info.TraceID != ids[2] {
				t.Fatalf("search by new tag: %v %v", page, err)
			}
			if err := c.DeleteTraceTag(ctx, ids[2], "reviewed"); err != nil {
				t.Fatal(err)
			}

			// Deletion.
			n, err := c.DeleteTraces(ctx, "0", traces.DeleteQuery{TraceIDs: []string{ids[3]}})
			if err != nil || n != 1 {
				t.Fatalf("DeleteTraces = %d, %v", n, err)
			}
			if _, err := c.GetTrace(ctx, ids[3]); !errors.Is(err, traces.ErrNotFound) {
				t.Errorf("deleted trace: %v", err)
			}
		})
	}
}

func TestErrors(t *testing.T) {
	for _, b := range backends {
		t.Run(b.name, func(t *testing.T) {
			ctx := context.Background()
			uri := b.uri(t)
			ids := writeTraces(t, uri, 1)
			c := newClient(t, uri)
			missing := "tr-00000000000000000000000000000001"
			_, err := c.GetTrace(ctx, missing)
			var nf *traces.NotFoundError
			if !errors.As(err, &nf) || nf.What != "trace" || !errors.Is(err, traces.ErrNotFound) {
				t.Errorf("unknown trace: %v", err)
			}
			if _, err := c.LogFeedback(ctx, missing, traces.Feedback{Value: 1}); !errors.Is(err, traces.ErrNotFound) {
				t.Errorf("feedback on unknown trace: %v", err)
			}
			invalid := []struct {
				name string
				call func() error
			}{
				{"source type", func() error {
					_, err := c.LogFeedback(ctx, ids[0], traces.Feedback{Value: 1, Source: exporter.AssessmentSource{Type: "ROBOT"}})
					return err
				}},
				{"channel value", func() error {
					_, err := c.LogFeedback(ctx, ids[0], traces.Feedback{Value: make(chan int)})
					return err
				}},
				{"nil expectation", func() error {
					_, err := c.LogExpectation(ctx, ids[0], traces.Expectation{Name: "x"})
					return err
				}},
				{"span id", func() error {
					_, err := c.LogFeedback(ctx, ids[0], traces.Feedback{Value: 1, SpanID: "nothex"})
					return err
				}},
				{"immutable tag", func() error { return c.SetTraceTag(ctx, ids[0], "mlflow.artifactLocation", "x") }},
				{"delete query", func() error {
					_, err := c.DeleteTraces(ctx, "0", traces.DeleteQuery{})
					return err
				}},
			}
			for _, tc := range invalid {
				if err := tc.call(); !errors.Is(err, traces.ErrInvalid) {
					t.Errorf("%s: err = %v, want ErrInvalid", tc.name, err)
				}
			}
			_, err = c.SearchTraces(ctx, traces.SearchQuery{Filter: "foo = 'x'"})
			if err == nil || !strings.Contains(err.Error(), "ttribute key 'foo'") {
				t.Errorf("invalid filter: %v", err)
			}
		})
	}
}

func traceIDs(ts []*exporter.Trace) []string {
	out := make([]string, len(ts))
	for i, t := range ts {
		out[i] = t.Info.TraceID
	}
	return out
}
