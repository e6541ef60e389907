package traces_test

import (
	"context"
	"encoding/base64"
	"errors"
	"path/filepath"
	"strings"
	"testing"

	"github.com/mlflowtrace/mlflowtrace-go/traces"
)

// TestAssessmentSpanIDForms: a span id is taken as 16 lowercase hex digits
// or as the base64 of its 8 bytes (the span_id of a trace's JSON, as
// `mlflowtrace traces get` prints it), and stored as the hex digits, the
// form MLflow's Python log_feedback(span_id=span.span_id) stores and the UI
// links. Anything else is ErrInvalid, naming both forms.
func TestAssessmentSpanIDForms(t *testing.T) {
	ctx := context.Background()
	uri := filepath.Join(t.TempDir(), "mlruns")
	ids := writeTraces(t, uri, 1)
	c := newClient(t, uri)
	tr, err := c.GetTrace(ctx, ids[0])
	if err != nil {
		t.Fatal(err)
	}
	sid := tr.Spans[1].SpanID
	hexID, b64 := sid.String(), base64.StdEncoding.EncodeToString(sid[:])
	for _, tc := range []struct {
		name, in, want string // want "": ErrInvalid
	}{
		{"hex", hexID, hexID},
		{"base64", b64, hexID},
		{"none", "", ""},
		{"not hex", "nothex", "!"},
		{"upper hex", strings.ToUpper(hexID), "!"},
		{"base64 without padding", strings.TrimRight(b64, "="), "!"},
		{"base64 of 7 bytes", base64.StdEncoding.EncodeToString(sid[:7]), "!"},
		{"base64 of 16 bytes", base64.StdEncoding.EncodeToString(make([]byte, 16)), "!"},
		{"url-safe alphabet", "-_-_-_-_-_-=", "!"},
	} {
		t.Run(tc.name, func(t *testing.T) {
			fb, err := c.LogFeedback(ctx, ids[0], traces.Feedback{Name: "f", Value: 1, SpanID: tc.in})
			ex, err2 := c.LogExpectation(ctx, ids[0], traces.Expectation{Name: "e", Value: 1, SpanID: tc.in})
			if tc.want == "!" {
				for _, err := range []error{err, err2} {
					if !errors.Is(err, traces.ErrInvalid) || !strings.Contains(err.Error(), "16 lowercase hex digits") || !strings.Contains(err.Error(), "base64 of 8 bytes") {
						t.Errorf("err = %v, want ErrInvalid naming both forms", err)
					}
				}
				return
			}
			if err != nil || err2 != nil {
				t.Fatal(err, err2)
			}
			for _, a := range []string{fb.AssessmentID, ex.AssessmentID} {
				got, err := c.GetAssessment(ctx, ids[0], a)
				if err != nil {
					t.Fatal(err)
				}
				if got.SpanID != tc.want {
					t.Errorf("stored span id %q, want %q", got.SpanID, tc.want)
				}
			}
		})
	}
}
