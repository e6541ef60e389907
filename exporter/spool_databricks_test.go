package exporter_test

import (
	"context"
	"fmt"
	"net/http"
	"os"
	"path/filepath"
	"strings"
	"sync"
	"sync/atomic"
	"testing"
	"time"

	tracepb "go.opentelemetry.io/proto/otlp/trace/v1"
	"google.golang.org/protobuf/proto"

	"github.com/mlflowtrace/mlflowtrace-go/exporter"
	"github.com/mlflowtrace/mlflowtrace-go/internal/databrickstest"
	"github.com/mlflowtrace/mlflowtrace-go/tracing"
)

const pathUCSpans = "/api/2.0/otel/v1/traces"

// hangSecondSpans passes requests to next, except the second span request
// of the Unity Catalog ingestion, which it holds until the request's
// context ends, as a process killed in the middle of a trace leaves it.
type hangSecondSpans struct {
	next     http.RoundTripper
	n        atomic.Int32
	second   chan struct{}
	hangOnce sync.Once
}

func (h *hangSecondSpans) RoundTrip(req *http.Request) (*http.Response, error) {
	if req.URL.Path == pathUCSpans && h.n.Add(1) == 2 {
		if req.Body != nil {
			req.Body.Close()
		}
		h.hangOnce.Do(func() { close(h.second) })
		<-req.Context().Done()
		return nil, req.Context().Err()
	}
	return h.next.RoundTrip(req)
}

// recordLargeTrace records a trace of n spans: a root and n-1 children.
func recordLargeTrace(n int) string {
	ctx, root := tracing.StartSpan(context.Background(), "agent", tracing.WithSpanType(tracing.SpanTypeAgent))
	for i := 1; i < n; i++ {
		_, c := tracing.StartSpan(ctx, fmt.Sprintf("step-%d", i))
		c.End()
	}
	root.End()
	return root.TraceID()
}

// TestSpoolLargeUCTraceRowsStoredOnce: a Unity Catalog trace of 1200 spans
// goes in three span requests; the first process stores the first 500 rows
// and no more (it is stopped with the second request in flight, or the
// second request fails and the trace becomes a dead letter). The next
// process on the same spool sends only the 700 rows not stored: the
// append-only span table holds each row once, and the trace info is
// written once.
func TestSpoolLargeUCTraceRowsStoredOnce(t *testing.T) {
	for _, tc := range []struct {
		name string
		dead bool // the second request fails (else it hangs until Shutdown)
	}{
		{"stopped mid-trace", false},
		{"failed mid-trace: dead letter", true},
	} {
		t.Run(tc.name, func(t *testing.T) {
			ws := databrickstest.New(t)
			ws.CreateUCSchema("main", "agents")
			dir := t.TempDir()
			env := ws.PATEnv()
			env["MLFLOW_TRACING_DESTINATION"] = "main.agents"
			env["MLFLOWTRACE_SPOOL_DIR"] = dir
			env["MLFLOW_HTTP_REQUEST_MAX_RETRIES"] = "0"

			hang := &hangSecondSpans{next: ws.HTTPClient().Transport, second: make(chan struct{})}
			opts := []exporter.Option{exporter.WithHTTPClient(&http.Client{Transport: hang})}
			if tc.dead {
				opts = nil
				ws.Fail(databrickstest.Fault{Method: http.MethodPost, PathPrefix: pathUCSpans, Status: http.StatusServiceUnavailable, After: 1})
			}
			first := startDatabricks(t, ws, clone(env), opts...)
			id := recordLargeTrace(1200)
			if tc.dead {
				waitFor(t, "the dead letter", func() bool { return first.p.Stats().SpoolDeadLetters == 1 })
			} else {
				select {
				case <-hang.second:
				case <-time.After(20 * time.Second):
					t.Fatal("the second span request was never sent")
				}
			}
			ctx, cancel := context.WithTimeout(context.Background(), 500*time.Millisecond)
			_ = first.p.Shutdown(ctx) // gives up on the request in flight
			cancel()
			// The process is done: its spool closed, its slot free, as a
			// killed process leaves it.
			ctx, cancel = context.WithTimeout(context.Background(), 10*time.Second)
			_ = first.p.Shutdown(ctx)
			cancel()
			if got, _ := ws.Trace(id); len(got.Spans) != 500 || got.TraceInfoV4 != nil {
				t.Fatalf("after the first process: %d rows, trace info %v; want 500 rows, no info", len(got.Spans), got.TraceInfoV4 != nil)
			}
			if tc.dead {
				letters, _ := filepath.Glob(filepath.Join(dir, "slot-0", "dead", "*.json"))
				if len(letters) != 1 {
					t.Fatalf("dead letters %v, want 1", letters)
				}
				b, _ := os.ReadFile(letters[0])
				if !strings.Contains(string(b), `"mlflowtrace.spans_stored_count": 500`) {
					t.Errorf("the dead letter does not say 500 rows are stored: …%s", b[max(0, len(b)-80):])
				}
				ws.ClearFaults()
			}

			second := startDatabricks(t, ws, clone(env))
			ctx, cancel = context.WithTimeout(context.Background(), 30*time.Second)
			defer cancel()
			if err := second.p.Shutdown(ctx); err != nil { // delivers the spool's backlog first
				t.Fatal(err)
			}
			got, _ := ws.Trace(id)
			spanIDs := map[string]int{}
			for _, b := range got.Spans {
				var sp tracepb.Span
				if err := proto.Unmarshal(b, &sp); err != nil {
					t.Fatal(err)
				}
				spanIDs[string(sp.GetSpanId())]++
			}
			twice := 0
			for _, n := range spanIDs {
				if n > 1 {
					twice++
				}
			}
			if len(got.Spans) != 1200 || len(spanIDs) != 1200 || twice > 0 {
				t.Errorf("%d rows of %d spans (%d stored more than once), want 1200 rows, each span once", len(got.Spans), len(spanIDs), twice)
			}
			infos := 0
			for _, r := range ws.Requests() {
				if r.Method == http.MethodPost && strings.HasPrefix(r.Path, "/api/4.0/mlflow/traces/") && strings.HasSuffix(r.Path, "/info") && r.Status == http.StatusOK {
					infos++
				}
			}
			if infos != 1 || got.TraceInfoV4 == nil {
				t.Errorf("%d trace infos written, want 1", infos)
			}
			if errs := second.errors(); len(errs) > 0 {
				t.Errorf("second process: %v", errs)
			}
			if st := second.p.Stats(); st.SpoolPending != 0 || st.SpoolDeadLetters != 0 {
				t.Errorf("left in the spool: %d records, %d dead letters", st.SpoolPending, st.SpoolDeadLetters)
			}
		})
	}
}
