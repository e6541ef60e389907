package traces_test

import (
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"net/http"
	"net/http/httptest"
	"net/http/httputil"
	"net/url"
	"os"
	"path/filepath"
	"slices"
	"strings"
	"sync"
	"sync/atomic"
	"testing"
	"time"

	"github.com/mlflowtrace/mlflowtrace-go/exporter"
	"github.com/mlflowtrace/mlflowtrace-go/internal/mlflowtest"
	"github.com/mlflowtrace/mlflowtrace-go/traces"
	"github.com/mlflowtrace/mlflowtrace-go/tracing"
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

// TestSearchRunIDChecked: SearchQuery.RunID is checked as MLflow's
// search_traces checks run_id (get_run first): an unknown run is a
// not-found error about the run, a run of an experiment that is not searched
// an ErrInvalid naming its experiment. Before, both searched and silently
// returned no traces.
func TestSearchRunIDChecked(t *testing.T) {
	for _, b := range backends {
		t.Run(b.name, func(t *testing.T) {
			ctx := context.Background()
			uri := b.uri(t)
			if b.name == "local" {
				writeTraces(t, uri, 1) // creates experiment 0; the shared server's 0 keeps other tests' traces only
			}
			run := createRun(t, b.name, uri)
			c := newClient(t, uri)

			page, err := c.SearchTraces(ctx, traces.SearchQuery{RunID: run})
			if err != nil || len(page.Traces) != 0 {
				t.Errorf("run of experiment 0: %v, %v; want no traces, no error", page, err)
			}
			_, err = c.SearchTraces(ctx, traces.SearchQuery{RunID: "0123456789abcdef0123456789abcdef"})
			var nf *traces.NotFoundError
			if !errors.As(err, &nf) || nf.What != "run" {
				t.Errorf("unknown run: err = %v, want a *NotFoundError about a run", err)
			}
			_, err = c.SearchTraces(ctx, traces.SearchQuery{RunID: run, Locations: []string{"12345"}})
			if !errors.Is(err, traces.ErrInvalid) || !strings.Contains(err.Error(), "belongs to experiment 0") {
				t.Errorf("run of another experiment: err = %v, want ErrInvalid naming experiment 0", err)
			}
		})
	}
}

// createRun creates a run in experiment 0 and returns its id: on a server
// through the REST API, in ./mlruns as the directory FileStore makes.
func createRun(t *testing.T, backend, uri string) string {
	t.Helper()
	if backend == "local" {
		id := fmt.Sprintf("%032x", time.Now().UnixNano())
		dir := filepath.Join(uri, "0", id)
		if err := os.MkdirAll(dir, 0o755); err != nil {
			t.Fatal(err)
		}
		if err := os.WriteFile(filepath.Join(dir, "meta.yaml"), []byte("experiment_id: '0'\nrun_id: "+id+"\n"), 0o644); err != nil {
			t.Fatal(err)
		}
		return id
	}
	resp, err := http.Post(uri+"/api/2.0/mlflow/runs/create", "application/json", strings.NewReader(`{"experiment_id": "0"}`))
	if err != nil {
		t.Fatal(err)
	}
	defer resp.Body.Close()
	var out struct {
		Run struct {
			Info struct {
				RunID string `json:"run_id"`
			} `json:"info"`
		} `json:"run"`
	}
	if err := json.NewDecoder(resp.Body).Decode(&out); err != nil || out.Run.Info.RunID == "" {
		t.Fatalf("create run: %v, %+v", err, out)
	}
	return out.Run.Info.RunID
}

// TestSearchModelIDWithQuote: a model id with a single quote is refused
// (ErrInvalid), as MLflow's search_traces(model_id=...) and
// search_sessions(model_id=...) refuse the filter it makes ("Invalid
// clause(s) in filter string"). Before, the quote was removed, so "m-a'b"
// silently returned the traces of LoggedModel "m-ab".
func TestSearchModelIDWithQuote(t *testing.T) {
	ctx := context.Background()
	uri := filepath.Join(t.TempDir(), "mlruns")
	p, err := tracing.Init(ctx, tracing.WithEnabled(), tracing.WithoutGlobalTracerProvider(),
		tracing.WithGetenv(func(string) string { return "" }),
		tracing.WithExporterOptions(exporter.WithTrackingURI(uri)))
	if err != nil {
		t.Fatal(err)
	}
	sc := tracing.ContextWithTraceOptions(ctx, tracing.WithModelID("m-ab"), tracing.WithSession("s-1"))
	_, s := tracing.StartSpan(sc, "other_model")
	s.End()
	if err := p.Shutdown(ctx); err != nil {
		t.Fatal(err)
	}
	c := newClient(t, uri)
	page, err := c.SearchTraces(ctx, traces.SearchQuery{ModelID: "m-a'b"})
	if !errors.Is(err, traces.ErrInvalid) {
		t.Errorf("SearchTraces(ModelID m-a'b) = %d traces, %v; want ErrInvalid", len(page.Traces), err)
	}
	sessions, err := c.SearchSessions(ctx, traces.SessionQuery{ModelID: "m-a'b"})
	if !errors.Is(err, traces.ErrInvalid) {
		t.Errorf("SearchSessions(ModelID m-a'b) = %d sessions, %v; want ErrInvalid", len(sessions), err)
	}
}

// TestRunLookedUpOncePerSearch: a run id is checked (GetRun) once per
// AllTraces and once per SearchSessions, not once per page or per session.
func TestRunLookedUpOncePerSearch(t *testing.T) {
	var getRuns, searches atomic.Int32
	srv := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		w.Header().Set("Content-Type", "application/json")
		switch {
		case strings.HasSuffix(r.URL.Path, "/runs/get"):
			getRuns.Add(1)
			_, _ = w.Write([]byte(`{"run": {"info": {"experiment_id": "1"}}}`))
		case strings.HasSuffix(r.URL.Path, "/traces/search"):
			// Three pages of one trace each, of sessions s0, s1, s2.
			n := searches.Add(1)
			var req struct {
				PageToken string `json:"page_token"`
			}
			_ = json.NewDecoder(r.Body).Decode(&req)
			i := 0
			fmt.Sscan(req.PageToken, &i)
			next := ""
			if i < 2 {
				next = fmt.Sprint(i + 1)
			}
			_, _ = fmt.Fprintf(w, `{"traces": [{"trace_id": "tr-%032x", "trace_metadata": {"mlflow.trace.session": "s%d"}}], "next_page_token": %q}`, n, i, next)
		default:
			http.NotFound(w, r)
		}
	}))
	defer srv.Close()
	c := newClient(t, srv.URL)
	q := traces.SearchQuery{Locations: []string{"1"}, RunID: "r1", WithoutSpans: true}
	n := 0
	for _, err := range c.AllTraces(context.Background(), q) {
		if err != nil {
			t.Fatal(err)
		}
		n++
	}
	if n != 3 || getRuns.Load() != 1 {
		t.Errorf("AllTraces: %d traces, %d GetRun requests; want 3 and 1", n, getRuns.Load())
	}
	getRuns.Store(0)
	sessions, err := c.SearchSessions(context.Background(), traces.SessionQuery{Locations: []string{"1"}, RunID: "r1", WithoutSpans: true})
	if err != nil || len(sessions) != 3 || getRuns.Load() != 1 {
		t.Errorf("SearchSessions: %d sessions, err %v, %d GetRun requests; want 3, nil and 1", len(sessions), err, getRuns.Load())
	}
}
