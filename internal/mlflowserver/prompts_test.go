package mlflowserver

import (
	"context"
	"strings"
	"sync"
	"testing"

	"github.com/mlflowtrace/mlflowtrace-go/internal/keys"
	"github.com/mlflowtrace/mlflowtrace-go/internal/tracemodel"
)

// The traces whose tag mlflow.linkedPrompts lists prompt versions are linked
// to them after their StartTraceV3 and spans, one LinkPromptsToTrace each,
// pipelined as the batch is; a trace the server refused, or without the
// tag, is not.
func TestLinkPrompts(t *testing.T) {
	f := newFake(t, "3.17.2")
	var warned []error
	d := newDest(t, Config{Transport: fastTransport(f.URL), ExperimentID: "7", ErrorHandler: func(err error) { warned = append(warned, err) }})
	ctx := context.Background()
	if !d.canStream(ctx, false) {
		t.Fatal("no streaming")
	}
	traces := []*tracemodel.Trace{makeTrace("a", 2), makeTrace("b", 2), makeTrace("c", 2), makeTrace("d", 2)}
	traces[0].Info.Tags[keys.TagLinkedPrompts] = `[{"name": "qa", "version": "3"}, {"name": "chat", "version": "1"}]`
	traces[1].Info.Tags[keys.TagLinkedPrompts] = `[{"name": "qa", "version": "3"}]` // refused below
	traces[3].Info.Tags[keys.TagLinkedPrompts] = `[{"name": "ünï", "version": "12"}]`
	f.mu.Lock()
	f.rejectTrace = traces[1].Info.TraceID
	before := len(f.order)
	f.mu.Unlock()

	err := d.ExportTraces(ctx, traces)
	if err == nil || !strings.Contains(err.Error(), traces[1].Info.TraceID) || strings.Contains(err.Error(), "link") {
		t.Fatalf("ExportTraces: %v, want the refused trace alone reported", err)
	}
	f.mu.Lock()
	defer f.mu.Unlock()
	want := []string{
		`{"trace_id":"` + traces[0].Info.TraceID + `","prompt_versions":[{"name":"qa","version":"3"},{"name":"chat","version":"1"}]}`,
		`{"trace_id":"` + traces[3].Info.TraceID + `","prompt_versions":[{"name":"ünï","version":"12"}]}`,
	}
	if strings.Join(f.links, "\n") != strings.Join(want, "\n") {
		t.Errorf("links:\n%s\nwant\n%s", strings.Join(f.links, "\n"), strings.Join(want, "\n"))
	}
	calls := f.order[before:]
	if n := len(calls); n != 7 || !strings.HasPrefix(calls[4], "POST /v1/traces ") ||
		!strings.HasPrefix(calls[5], "POST /api/2.0/mlflow/traces/link-prompts ") || !strings.HasPrefix(calls[6], "POST /api/2.0/mlflow/traces/link-prompts ") {
		t.Fatalf("calls %v: want 4 StartTraceV3, the spans, then 2 links", calls)
	}
	if len(warned) != 0 {
		t.Errorf("warnings: %v", warned)
	}
}

// A server that cannot link (FileStore backend) is reported once, to the
// error handler; the traces are stored and the exports succeed.
func TestLinkPromptsUnsupportedReportedOnce(t *testing.T) {
	f := newFake(t, "3.17.2")
	f.linkCode = "INVALID_PARAMETER_VALUE"
	var mu sync.Mutex
	var warned []error
	d := newDest(t, Config{Transport: fastTransport(f.URL), ExperimentID: "7", ErrorHandler: func(err error) {
		mu.Lock()
		warned = append(warned, err)
		mu.Unlock()
	}})
	for i := 0; i < 2; i++ {
		tr := makeTrace("x", 2)
		tr.Info.Tags[keys.TagLinkedPrompts] = `[{"name": "qa", "version": "1"}]`
		if err := d.ExportTraces(context.Background(), []*tracemodel.Trace{tr}); err != nil {
			t.Fatalf("ExportTraces: %v", err)
		}
	}
	if f.count("POST /api/2.0/mlflow/traces/link-prompts") != 2 || f.count("POST /api/3.0/mlflow/traces") != 2 {
		t.Errorf("calls %v", f.calls)
	}
	if len(warned) != 1 || !strings.Contains(warned[0].Error(), "does not link prompt versions") || !strings.Contains(warned[0].Error(), "FileStore") {
		t.Errorf("warnings %v, want one", warned)
	}
}
