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
