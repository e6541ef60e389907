package mlflowserver

import (
	"crypto/rand"
	"encoding/json"
	"fmt"
	"os"
	"sort"
	"testing"
	"time"

	"go.opentelemetry.io/otel/trace"

	"github.com/mlflowtrace/mlflowtrace-go/internal/mlflowtest"
	"github.com/mlflowtrace/mlflowtrace-go/internal/tracemodel"
	"github.com/mlflowtrace/mlflowtrace-go/internal/transport"
)

func TestMain(m *testing.M) { os.Exit(mlflowtest.Main(m)) }

func jsonString(s string) string {
	b, _ := json.Marshal(s)
	return string(b)
}

func jsonOf(v any) string {
	b, _ := json.Marshal(v)
	return string(b)
}

// makeTrace builds a finished trace: a root CHAIN span and n-1 LLM children,
// with the metadata and tags MLflow's Python SDK writes.
func makeTrace(label string, n int) *tracemodel.Trace {
	var tid trace.TraceID
	_, _ = rand.Read(tid[:])
	rid := tracemodel.RequestID(tid)
	start := time.Now().Add(-time.Second).Truncate(time.Microsecond)
	mk := func(i int, parent trace.SpanID) *tracemodel.Span {
		var sid trace.SpanID
		_, _ = rand.Read(sid[:])
		name, typ := fmt.Sprintf("llm-%d", i), "LLM"
		in := map[string]any{"messages": []any{map[string]any{"role": "user", "content": fmt.Sprintf("%s q%d é🎉", label, i)}}, "n": i, "temp": 0.5}
		out := map[string]any{"choices": []any{map[string]any{"message": map[string]any{"role": "assistant", "content": fmt.Sprintf("a%d", i)}}}, "ok": true, "none": nil}
		if i == 0 {
			name, typ = "root-"+label, "CHAIN"
			in = map[string]any{"question": label, "list": []any{1, "two", 3.5}}
			out = map[string]any{"answer": "42 " + label}
		}
		s := &tracemodel.Span{
			TraceID: tid, SpanID: sid, ParentSpanID: parent, Name: name,
			StartTime: start.Add(time.Duration(i) * time.Millisecond),
			EndTime:   start.Add(time.Duration(500+i) * time.Millisecond),
			Status:    tracemodel.Status{Code: tracemodel.StatusCodeOK},
			Attributes: map[string]string{
				"mlflow.traceRequestId": jsonString(rid),
				"mlflow.spanType":       jsonString(typ),
				"mlflow.spanInputs":     jsonOf(in),
				"mlflow.spanOutputs":    jsonOf(out),
			},
		}
		if i > 0 {
			s.Attributes["mlflow.chat.tokenUsage"] = `{"input_tokens":3,"output_tokens":4,"total_tokens":7}`
		}
		return s
	}
	root := mk(0, trace.SpanID{})
	spans := []*tracemodel.Span{root}
	for i := 1; i < n; i++ {
		spans = append(spans, mk(i, root.SpanID))
	}
	usage := fmt.Sprintf(`{"input_tokens": %d, "output_tokens": %d, "total_tokens": %d}`, 3*(n-1), 4*(n-1), 7*(n-1))
	info := tracemodel.TraceInfo{
		TraceID:           rid,
		RequestTime:       root.StartTime,
		ExecutionDuration: root.EndTime.Sub(root.StartTime),
		State:             tracemodel.StateOK,
		RequestPreview:    root.Attributes["mlflow.spanInputs"],
		ResponsePreview:   root.Attributes["mlflow.spanOutputs"],
		Metadata: map[string]string{
			"mlflow.trace_schema.version": "3",
			"mlflow.traceInputs":          root.Attributes["mlflow.spanInputs"],
			"mlflow.traceOutputs":         root.Attributes["mlflow.spanOutputs"],
			"mlflow.trace.sizeStats":      fmt.Sprintf(`{"total_size_bytes": %d, "num_spans": %d, "max": 1, "p25": 1, "p50": 1, "p75": 1}`, 1000*n, n),
			"mlflow.trace.tokenUsage":     usage,
			"mlflow.trace.user":           "user-" + label,
			"mlflow.trace.session":        "session-" + label,
		},
		Tags: map[string]string{"mlflow.traceName": root.Name, "suite": "go-" + label},
	}
	return &tracemodel.Trace{Info: info, Spans: spans}
}

const (
	locTrackingStore = "TRACKING_STORE"
	locArtifact      = "ARTIFACT"
)

type readBack = mlflowtest.ReadBack

func readTraces(t *testing.T, srv *mlflowtest.Server, exp string, ids []string, filters []string) readBack {
	t.Helper()
	return srv.ReadTraces(t, exp, ids, filters)
}

// wantLoc is locTrackingStore, locArtifact or "" (either, as long as the
// trace is complete).
func checkTrace(t *testing.T, want *tracemodel.Trace, rb readBack, wantLoc string) {
	t.Helper()
	id := want.Info.TraceID
	got, ok := rb.Traces[id]
	if !ok || got.Error != "" {
		t.Errorf("%s: get_trace failed: %s", id, got.Error)
		return
	}
	if len(got.Spans) != len(want.Spans) {
		t.Errorf("%s: %d spans, want %d", id, len(got.Spans), len(want.Spans))
	}
	byName := map[string]mlflowtest.SpanView{}
	for _, s := range got.Spans {
		byName[s.Name] = s
	}
	for _, ws := range want.Spans {
		gs, ok := byName[ws.Name]
		if !ok {
			t.Errorf("%s: span %s missing", id, ws.Name)
			continue
		}
		var wi, wo any
		_ = json.Unmarshal([]byte(ws.Attributes["mlflow.spanInputs"]), &wi)
		_ = json.Unmarshal([]byte(ws.Attributes["mlflow.spanOutputs"]), &wo)
		if jsonOf(gs.Inputs) != jsonOf(wi) || jsonOf(gs.Outputs) != jsonOf(wo) {
			t.Errorf("%s/%s: inputs/outputs\n got %s / %s\nwant %s / %s", id, ws.Name, jsonOf(gs.Inputs), jsonOf(gs.Outputs), jsonOf(wi), jsonOf(wo))
		}
		var wt string
		_ = json.Unmarshal([]byte(ws.Attributes["mlflow.spanType"]), &wt)
		if gs.SpanType != wt {
			t.Errorf("%s/%s: type %q, want %q", id, ws.Name, gs.SpanType, wt)
		}
	}
	for k, v := range want.Info.Tags {
		if got.Tags[k] != v {
			t.Errorf("%s: tag %s = %q, want %q", id, k, got.Tags[k], v)
		}
	}
	for _, k := range []string{"mlflow.trace.user", "mlflow.trace.session", "mlflow.traceInputs", "mlflow.traceOutputs", "mlflow.trace.sizeStats"} {
		if got.Metadata[k] != want.Info.Metadata[k] {
			t.Errorf("%s: metadata %s = %q, want %q", id, k, got.Metadata[k], want.Info.Metadata[k])
		}
	}
	n := len(want.Spans) - 1
	if got.TokenUsage["input_tokens"] != 3*n || got.TokenUsage["total_tokens"] != 7*n {
		t.Errorf("%s: token usage %v", id, got.TokenUsage)
	}
	if got.State != "TraceState.OK" && got.State != "OK" {
		t.Errorf("%s: state %q", id, got.State)
	}
	loc := got.Tags["mlflow.trace.spansLocation"]
	switch wantLoc {
	case locTrackingStore:
		if loc != "TRACKING_STORE" || got.SpanRows != len(want.Spans) {
			t.Errorf("%s: spansLocation %q, %d span rows; want TRACKING_STORE, %d", id, loc, got.SpanRows, len(want.Spans))
		}
	case locArtifact:
		if loc == "TRACKING_STORE" || !got.HasArtifact {
			t.Errorf("%s: spansLocation %q, traces.json artifact %v; want artifact", id, loc, got.HasArtifact)
		}
	}
}

func sortedIDs(traces []*tracemodel.Trace) []string {
	ids := make([]string, len(traces))
	for i, tr := range traces {
		ids[i] = tr.Info.TraceID
	}
	sort.Strings(ids)
	return ids
}

func fastTransport(url string) transport.Config {
	return transport.Config{
		URL:           url,
		BackoffFactor: transport.Ptr(0.05),
		BackoffJitter: transport.Ptr(0.05),
		RetryTimeout:  transport.Ptr(60 * time.Second),
	}
}
