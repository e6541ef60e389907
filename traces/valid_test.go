package traces_test

import (
	"context"
	"net/http"
	"net/http/httptest"
	"strings"
	"testing"
)

// TestFeedbackValidDefaultsToTrue: an assessment a server returns without
// "valid" is read as MLflow 3.17.2 reads it: Assessment.valid is a proto2
// field with [default = true], so Feedback.from_proto gives valid=True (an
// expectation has none). Before, such a feedback came back as valid=false,
// as if it had been overridden. An explicit false stays false.
func TestFeedbackValidDefaultsToTrue(t *testing.T) {
	const tid = "tr-00000000000000000000000000000001"
	assessment := func(id, extra string) string {
		return `{"assessment_id": "` + id + `", "assessment_name": "q", "trace_id": "` + tid + `",
			"source": {"source_type": "HUMAN", "source_id": "u"}, "create_time": "2026-01-01T00:00:00Z",
			"last_update_time": "2026-01-01T00:00:00Z"` + extra + `}`
	}
	absent := assessment("a-1", `, "feedback": {"value": 1.0}`)
	invalid := assessment("a-2", `, "feedback": {"value": 0.0}, "valid": false`)
	expectation := assessment("a-3", `, "expectation": {"value": "x"}`)
	srv := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		w.Header().Set("Content-Type", "application/json")
		switch {
		case strings.HasSuffix(r.URL.Path, "/assessments/a-1"):
			_, _ = w.Write([]byte(`{"assessment": ` + absent + `}`))
		case r.URL.Path == "/api/3.0/mlflow/traces/"+tid:
			_, _ = w.Write([]byte(`{"trace": {"trace_info": {"trace_id": "` + tid + `", "request_time": "2026-01-01T00:00:00Z",
				"state": "OK", "assessments": [` + absent + `, ` + invalid + `, ` + expectation + `]}}}`))
		default:
			w.WriteHeader(http.StatusNotFound)
			_, _ = w.Write([]byte(`{"error_code": "RESOURCE_DOES_NOT_EXIST", "message": "no"}`))
		}
	}))
	defer srv.Close()
	c := newClient(t, srv.URL)

	a, err := c.GetAssessment(context.Background(), tid, "a-1")
	if err != nil {
		t.Fatal(err)
	}
	if a.Valid == nil || !*a.Valid {
		t.Errorf("GetAssessment: valid %v, want true", a.Valid)
	}
	info, err := c.GetTraceInfo(context.Background(), tid)
	if err != nil {
		t.Fatal(err)
	}
	want := map[string]string{"a-1": "true", "a-2": "false", "a-3": "none"}
	for _, a := range info.Assessments {
		got := "none"
		if a.Valid != nil {
			got = map[bool]string{true: "true", false: "false"}[*a.Valid]
		}
		if got != want[a.AssessmentID] {
			t.Errorf("GetTraceInfo: %s valid %s, want %s", a.AssessmentID, got, want[a.AssessmentID])
		}
	}
}
