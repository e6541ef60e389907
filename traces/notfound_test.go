package traces_test

import (
	"context"
	"errors"
	"path/filepath"
	"testing"

	"github.com/mlflowtrace/mlflowtrace-go/traces"
)

// TestLocalNotFoundMessages: on ./mlruns a not-found error is a
// *NotFoundError of the right kind whose message says what was not found
// once, in the words of MLflow's FileStore.
func TestLocalNotFoundMessages(t *testing.T) {
	ctx := context.Background()
	uri := filepath.Join(t.TempDir(), "mlruns")
	ids := writeTraces(t, uri, 1)
	c := newClient(t, uri)
	for _, tc := range []struct {
		name, what, want string
		call             func() error
	}{
		{"experiment", "experiment", "traces: experiment 999 does not exist", func() error {
			_, err := c.SearchTraces(ctx, traces.SearchQuery{Locations: []string{"999"}})
			return err
		}},
		{"tag", "tag", "traces: no tag with name: nonexist in trace with ID " + ids[0], func() error {
			return c.DeleteTraceTag(ctx, ids[0], "nonexist")
		}},
		{"trace", "trace", "traces: trace with ID 'tr-00000000000000000000000000000001' not found", func() error {
			_, err := c.GetTrace(ctx, "tr-00000000000000000000000000000001")
			return err
		}},
		{"assessment", "assessment", "traces: assessment with ID 'a-1' not found for trace '" + ids[0] + "'", func() error {
			_, err := c.GetAssessment(ctx, ids[0], "a-1")
			return err
		}},
	} {
		t.Run(tc.name, func(t *testing.T) {
			err := tc.call()
			var nf *traces.NotFoundError
			if !errors.As(err, &nf) || nf.What != tc.what || !errors.Is(err, traces.ErrNotFound) {
				t.Fatalf("err = %#v, want a *NotFoundError about a %s", err, tc.what)
			}
			if err.Error() != tc.want {
				t.Errorf("message %q, want %q", err.Error(), tc.want)
			}
		})
	}
}

// TestLocalAssessmentIDIsNotAPath: on ./mlruns an assessment id with a path
// separator names no assessment. Before, "../../../meta" read, rewrote or
// deleted <experiment>/meta.yaml (delete-assessment made the experiment and
// its traces disappear) and "../trace_info" the trace's trace_info.yaml.
func TestLocalAssessmentIDIsNotAPath(t *testing.T) {
	ctx := context.Background()
	uri := filepath.Join(t.TempDir(), "mlruns")
	ids := writeTraces(t, uri, 1)
	c := newClient(t, uri)
	rationale := "x"
	for _, tc := range []struct {
		name string
		call func(id string) error
	}{
		{"get", func(id string) error { _, err := c.GetAssessment(ctx, ids[0], id); return err }},
		{"update", func(id string) error {
			_, err := c.UpdateAssessment(ctx, ids[0], id, traces.AssessmentUpdate{Rationale: &rationale})
			return err
		}},
		{"override", func(id string) error {
			_, err := c.OverrideFeedback(ctx, ids[0], id, traces.Feedback{Value: 1})
			return err
		}},
	} {
		for _, id := range []string{"../../../meta", "../trace_info", "..\\..\\..\\meta"} {
			t.Run(tc.name+" "+id, func(t *testing.T) {
				if err := tc.call(id); !errors.Is(err, traces.ErrNotFound) {
					t.Errorf("err = %v, want a not-found error", err)
				}
			})
		}
	}
	for _, id := range []string{"../../../meta", "../trace_info"} {
		if err := c.DeleteAssessment(ctx, ids[0], id); err != nil {
			t.Errorf("DeleteAssessment(%q) = %v, want nil (nothing to delete)", id, err)
		}
	}
	if _, err := c.GetTrace(ctx, ids[0]); err != nil {
		t.Fatalf("the trace is gone after the calls above: %v", err)
	}
	page, err := c.SearchTraces(ctx, traces.SearchQuery{})
	if err != nil || len(page.Traces) != 1 {
		t.Fatalf("search after the calls above: %v, %v; want the one trace", page, err)
	}
}
