package mlflowserver

import (
	"context"
	"fmt"
	"sync"
	"testing"
	"time"

	"github.com/mlflowtrace/mlflowtrace-go/internal/mlflowtest"
	"github.com/mlflowtrace/mlflowtrace-go/internal/tracemodel"
)

// exportConcurrently exports traces from several goroutines the way the
// exporter does: some spans streamed first (for some traces none, for the
// root never), then the finished traces in small batches.
func exportConcurrently(t *testing.T, d *Destination, traces []*tracemodel.Trace, workers int) {
	t.Helper()
	ctx, cancel := context.WithTimeout(context.Background(), 2*time.Minute)
	defer cancel()
	var wg sync.WaitGroup
	errs := make(chan error, len(traces)*2)
	for w := range workers {
		wg.Add(1)
		go func() {
			defer wg.Done()
			for i := w; i < len(traces); i += workers {
				tr := traces[i]
				if i%3 != 0 { // stream the children, as they would end first
					if err := d.ExportSpans(ctx, tr.Spans[1:]); err != nil {
						errs <- err
					}
				}
				if err := d.ExportTraces(ctx, []*tracemodel.Trace{tr}); err != nil {
					errs <- err
				}
				if i%4 == 0 { // a late span batch after the trace: skipped
					if err := d.ExportSpans(ctx, tr.Spans[:1]); err != nil {
						errs <- err
					}
				}
			}
		}()
	}
	wg.Wait()
	close(errs)
	for err := range errs {
		t.Error(err)
	}
}

func TestServerFlow(t *testing.T) {
	for _, tc := range []struct {
		name string
		opts []mlflowtest.Option
		loc  string
	}{
		{"new", nil, locTrackingStore},
		{"old", []mlflowtest.Option{mlflowtest.Old()}, locArtifact},
	} {
		t.Run(tc.name, func(t *testing.T) {
			t.Parallel()
			srv := mlflowtest.Shared(t, tc.opts...)
			label := fmt.Sprintf("flow-%s-%d", tc.name, time.Now().UnixNano())
			d, err := New(Config{Transport: fastTransport(srv.URL), ExperimentName: label})
			if err != nil {
				t.Fatal(err)
			}
			defer d.Shutdown(context.Background())
			var traces []*tracemodel.Trace
			for i := range 12 {
				traces = append(traces, makeTrace(fmt.Sprintf("%s-%d", label, i), 1+i%4))
			}
			exportConcurrently(t, d, traces, 4)
			if d.StreamingSupported() != (tc.loc == locTrackingStore) {
				t.Errorf("StreamingSupported = %v", d.StreamingSupported())
			}
			exp := d.ExperimentID()
			if exp == "" || exp == "0" {
				t.Fatalf("experiment %q not created", exp)
			}
			one := traces[5]
			rb := readTraces(t, srv, exp, sortedIDs(traces), []string{
				fmt.Sprintf("tags.suite = '%s'", one.Info.Tags["suite"]),
				fmt.Sprintf("metadata.`mlflow.trace.user` = '%s'", one.Info.Metadata["mlflow.trace.user"]),
				"trace.status = 'OK'",
			})
			for _, tr := range traces {
				checkTrace(t, tr, rb, tc.loc)
			}
			for i, want := range [][]string{{one.Info.TraceID}, {one.Info.TraceID}, sortedIDs(traces)} {
				if fmt.Sprint(rb.Filters[i]) != fmt.Sprint(want) {
					t.Errorf("filter %d found %v, want %v", i, rb.Filters[i], want)
				}
			}
		})
	}
}

func TestFileStoreServerFallsBack(t *testing.T) {
	srv := mlflowtest.Shared(t, mlflowtest.FileStore())
	d, err := New(Config{Transport: fastTransport(srv.URL)})
	if err != nil {
		t.Fatal(err)
	}
	defer d.Shutdown(context.Background())
	traces := []*tracemodel.Trace{makeTrace("fs-a", 3), makeTrace("fs-b", 1)}
	exportConcurrently(t, d, traces, 1)
	if d.StreamingSupported() {
		t.Error("FileStore server: streaming still on after 501")
	}
	rb := readTraces(t, srv, "0", sortedIDs(traces), []string{})
	for _, tr := range traces {
		checkTrace(t, tr, rb, locArtifact)
	}
}

// TestExperimentCreateRace: two destinations (two processes) create the
// same experiment at once and agree on its id.
func TestExperimentCreateRace(t *testing.T) {
	srv := mlflowtest.Shared(t)
	name := fmt.Sprintf("race-%d", time.Now().UnixNano())
	ids := make([]string, 6)
	var wg sync.WaitGroup
	for i := range ids {
		wg.Add(1)
		go func() {
			defer wg.Done()
			d, err := New(Config{Transport: fastTransport(srv.URL), ExperimentName: name})
			if err != nil {
				t.Error(err)
				return
			}
			defer d.Shutdown(context.Background())
			ids[i], err = d.experiment(context.Background())
			if err != nil {
				t.Error(err)
			}
		}()
	}
	wg.Wait()
	for _, id := range ids {
		if id == "" || id != ids[0] {
			t.Fatalf("ids = %v", ids)
		}
	}
}
