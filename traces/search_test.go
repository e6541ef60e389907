package traces_test

import (
	"context"
	"fmt"
	"net/http"
	"net/http/httptest"
	"net/http/httputil"
	"net/url"
	"slices"
	"strings"
	"sync"
	"sync/atomic"
	"testing"
	"time"

	"github.com/mlflowtrace/mlflowtrace-go/exporter"
	"github.com/mlflowtrace/mlflowtrace-go/internal/mlflowtest"
	"github.com/mlflowtrace/mlflowtrace-go/traces"
)

// spanProxy forwards to a real MLflow server, counts the requests that load
// spans by route, and the most in flight at once; with noBatchGet it answers
// batchGet with 404, as a server without the route does.
type spanProxy struct {
	noBatchGet bool
	mu         sync.Mutex
	calls      map[string]int
	batchIDs   []int // trace ids per batchGet
	inFlight   atomic.Int32
	most       atomic.Int32
}

func (p *spanProxy) start(t *testing.T, target string) string {
	u, err := url.Parse(target)
	if err != nil {
		t.Fatal(err)
	}
	rp := httputil.NewSingleHostReverseProxy(u)
	p.calls = map[string]int{}
	srv := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		route := ""
		switch {
		case strings.HasSuffix(r.URL.Path, "/traces/batchGet"):
			route = "batchGet"
		case strings.HasSuffix(r.URL.Path, "/traces/get"):
			route = "get"
		}
		if route != "" {
			n := p.inFlight.Add(1)
			defer p.inFlight.Add(-1)
			for m := p.most.Load(); n > m && !p.most.CompareAndSwap(m, n); m = p.most.Load() {
			}
			p.mu.Lock()
			p.calls[route]++
			if route == "batchGet" {
				p.batchIDs = append(p.batchIDs, len(r.URL.Query()["trace_ids"]))
			}
			p.mu.Unlock()
			if route == "batchGet" && p.noBatchGet {
				w.WriteHeader(http.StatusNotFound)
				fmt.Fprint(w, `{"error_code":"ENDPOINT_NOT_FOUND","message":"no such route"}`)
				return
			}
		}
		rp.ServeHTTP(w, r)
	}))
	t.Cleanup(srv.Close)
	return srv.URL
}

// TestSearchLoadsSpansInBatches: on a server that keeps spans in its
// tracking store, a search page's spans come from batchGet, ten traces per
// request, requests in flight together, as MLflow's client loads them; on a
// server without batchGet each trace's spans come from traces/get instead.
// Both give the same traces with the same spans, in the search's order.
func TestSearchLoadsSpansInBatches(t *testing.T) {
	srv := mlflowtest.Shared(t)
	label := fmt.Sprintf("batch-%d", time.Now().UnixNano())
	ids := writeTracesTo(t, srv.URL, label, 23)
	slices.Reverse(ids) // the search's default order: newest first
	for _, tc := range []struct {
		name       string
		noBatchGet bool
	}{{"batchGet", false}, {"without batchGet", true}} {
		t.Run(tc.name, func(t *testing.T) {
			p := &spanProxy{noBatchGet: tc.noBatchGet}
			c, err := traces.NewClient(context.Background(), exporter.WithTrackingURI(p.start(t, srv.URL)),
				exporter.WithExperimentName(label), exporter.WithGetenv(func(string) string { return "" }))
			if err != nil {
				t.Fatal(err)
			}
			t.Cleanup(func() { _ = c.Close() })
			page, err := c.SearchTraces(context.Background(), traces.SearchQuery{MaxResults: 50})
			if err != nil {
				t.Fatal(err)
			}
			if got := traceIDs(page.Traces); !slices.Equal(got, ids) {
				t.Fatalf("traces %v, want %v", got, ids)
			}
			for _, tr := range page.Traces {
				if len(tr.Spans) != 2 || tr.Spans[0].Name == tr.Spans[1].Name {
					t.Errorf("%s: %d spans", tr.Info.TraceID, len(tr.Spans))
				}
			}
			p.mu.Lock()
			defer p.mu.Unlock()
			if tc.noBatchGet {
				if p.calls["get"] != len(ids) || p.calls["batchGet"] != 3 {
					t.Errorf("calls %v, want 3 refused batchGets then %d gets", p.calls, len(ids))
				}
			} else {
				slices.Sort(p.batchIDs)
				if p.calls["get"] != 0 || !slices.Equal(p.batchIDs, []int{3, 10, 10}) {
					t.Errorf("calls %v, batch sizes %v; want batchGets of 10, 10 and 3 traces", p.calls, p.batchIDs)
				}
			}
			if p.most.Load() < 2 {
				t.Errorf("at most %d span requests in flight: the page's loads did not overlap", p.most.Load())
			}
		})
	}
}
