package mlflowserver

import (
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"net/http"
	"net/http/httptest"
	"os"
	"path/filepath"
	"strings"
	"sync"
	"testing"

	"go.opentelemetry.io/otel/trace"
	coltracepb "go.opentelemetry.io/proto/otlp/collector/trace/v1"
	"google.golang.org/protobuf/proto"

	"github.com/mlflowtrace/mlflowtrace-go/internal/otlpconv"
	"github.com/mlflowtrace/mlflowtrace-go/internal/tracemodel"
	"github.com/mlflowtrace/mlflowtrace-go/internal/transport"
)

// fakeServer imitates the parts of an MLflow tracking server the
// destination uses, and records what it received.
type fakeServer struct {
	*httptest.Server
	mu          sync.Mutex
	version     string
	otlpStatus  int    // 0: accept
	startCode   string // MLflow error_code for StartTraceV3, "" to accept
	artifactLoc string // "" → mlflow-artifacts:/<exp>/traces/<id>/artifacts
	calls       map[string]int
	spans       map[string]int // trace id → span posts (count of spans)
	expHeader   []string
	uploads     map[string][]byte
	started     []map[string]any
	experiments map[string]string
	authSeen    []string
	order       []string // "<method> <path> <client address>" of each call
	rejectTrace string   // a trace id whose StartTraceV3 gets a 400
	versionDown int      // the first versionDown /version requests get a 503
	links       []string // LinkPromptsToTrace bodies
	linkCode    string   // MLflow error_code for LinkPromptsToTrace, "" to accept
}

func newFake(t *testing.T, version string) *fakeServer {
	f := &fakeServer{version: version, calls: map[string]int{}, spans: map[string]int{}, uploads: map[string][]byte{}, experiments: map[string]string{}}
	f.Server = httptest.NewServer(http.HandlerFunc(f.serve))
	t.Cleanup(f.Close)
	return f
}

func (f *fakeServer) serve(w http.ResponseWriter, r *http.Request) {
	f.mu.Lock()
	defer f.mu.Unlock()
	f.calls[r.Method+" "+r.URL.Path]++
	f.order = append(f.order, r.Method+" "+r.URL.Path+" "+r.RemoteAddr)
	f.authSeen = append(f.authSeen, r.Header.Get("Authorization"))
	switch {
	case r.URL.Path == "/version":
		if f.versionDown > 0 {
			f.versionDown--
			w.WriteHeader(http.StatusServiceUnavailable)
			return
		}
		_, _ = io.WriteString(w, f.version)
	case r.URL.Path == "/v1/traces":
		if f.otlpStatus != 0 {
			w.WriteHeader(f.otlpStatus)
			_, _ = io.WriteString(w, `{"detail":"REST OTLP span logging is not supported by FileStore"}`)
			return
		}
		f.expHeader = append(f.expHeader, r.Header.Get("x-mlflow-experiment-id"))
		if r.Header.Get("Content-Type") != "application/x-protobuf" || r.Header.Get("Content-Encoding") != "" {
			w.WriteHeader(400)
			return
		}
		b, _ := io.ReadAll(r.Body)
		var req coltracepb.ExportTraceServiceRequest
		if err := proto.Unmarshal(b, &req); err != nil {
			w.WriteHeader(400)
			return
		}
		for _, rs := range req.ResourceSpans {
			for _, ss := range rs.ScopeSpans {
				for _, s := range ss.Spans {
					f.spans[fmt.Sprintf("tr-%x", s.TraceId)]++
				}
			}
		}
	case r.URL.Path == "/api/3.0/mlflow/traces":
		if f.startCode != "" {
			w.WriteHeader(404)
			_, _ = fmt.Fprintf(w, `{"error_code":%q,"message":"nope"}`, f.startCode)
			return
		}
		var body struct {
			Trace struct {
				TraceInfo map[string]any `json:"trace_info"`
			} `json:"trace"`
		}
		_ = json.NewDecoder(r.Body).Decode(&body)
		ti := body.Trace.TraceInfo
		id, _ := ti["trace_id"].(string)
		if id == f.rejectTrace {
			w.WriteHeader(400)
			_, _ = io.WriteString(w, `{"error_code":"INVALID_PARAMETER_VALUE","message":"rejected"}`)
			return
		}
		f.started = append(f.started, ti)
		exp := ti["trace_location"].(map[string]any)["mlflow_experiment"].(map[string]any)["experiment_id"].(string)
		tags, _ := ti["tags"].(map[string]any)
		if tags == nil {
			tags = map[string]any{}
		}
		loc := f.artifactLoc
		if loc == "" {
			loc = "mlflow-artifacts:/" + exp + "/traces/" + id + "/artifacts"
		}
		tags["mlflow.artifactLocation"] = loc
		if f.spans[id] > 0 {
			tags["mlflow.trace.spansLocation"] = "TRACKING_STORE"
		}
		ti["tags"] = tags
		_ = json.NewEncoder(w).Encode(map[string]any{"trace": map[string]any{"trace_info": ti}})
	case r.URL.Path == "/api/2.0/mlflow/traces/link-prompts":
		if f.linkCode != "" {
			w.WriteHeader(400)
			_, _ = fmt.Fprintf(w, `{"error_code":%q,"message":"Linking prompts to traces is not supported in FileStore."}`, f.linkCode)
			return
		}
		b, _ := io.ReadAll(r.Body)
		f.links = append(f.links, string(b))
		_, _ = io.WriteString(w, "{}")
	case strings.HasPrefix(r.URL.Path, "/api/2.0/mlflow-artifacts/artifacts/"):
		b, _ := io.ReadAll(r.Body)
		f.uploads[strings.TrimPrefix(r.URL.Path, "/api/2.0/mlflow-artifacts/artifacts/")] = b
	case r.URL.Path == "/api/2.0/mlflow/experiments/get-by-name":
		name := r.URL.Query().Get("experiment_name")
		if id, ok := f.experiments[name]; ok {
			_, _ = fmt.Fprintf(w, `{"experiment":{"experiment_id":%q,"name":%q,"lifecycle_stage":"active"}}`, id, name)
			return
		}
		w.WriteHeader(404)
		_, _ = io.WriteString(w, `{"error_code":"RESOURCE_DOES_NOT_EXIST","message":"no"}`)
	case r.URL.Path == "/api/2.0/mlflow/experiments/create":
		var body struct{ Name string }
		_ = json.NewDecoder(r.Body).Decode(&body)
		if _, ok := f.experiments[body.Name]; ok {
			w.WriteHeader(400)
			_, _ = io.WriteString(w, `{"error_code":"RESOURCE_ALREADY_EXISTS","message":"exists"}`)
			return
		}
		id := fmt.Sprint(100 + len(f.experiments))
		f.experiments[body.Name] = id
		_, _ = fmt.Fprintf(w, `{"experiment_id":%q}`, id)
	default:
		w.WriteHeader(404)
	}
}

func (f *fakeServer) count(key string) int {
	f.mu.Lock()
	defer f.mu.Unlock()
	return f.calls[key]
}

func newDest(t *testing.T, cfg Config) *Destination {
	t.Helper()
	d, err := New(cfg)
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { _ = d.Shutdown(context.Background()) })
	return d
}

// TestProbeUnansweredIsNotOldServer: a server that does not answer
// /version yet (down, starting, behind a proxy answering 503) is not taken
// for one without span ingestion: the batch's probe is retried as its
// requests would be, and its spans go over OTLP (where the server prices
// them), not through the older traces.json upload.
func TestProbeUnansweredIsNotOldServer(t *testing.T) {
	f := newFake(t, "3.17.2")
	f.versionDown = 2
	d := newDest(t, Config{Transport: fastTransport(f.URL), ExperimentID: "7"})
	tr := makeTrace("a", 3)
	if err := d.ExportTraces(context.Background(), []*tracemodel.Trace{tr}); err != nil {
		t.Fatal(err)
	}
	f.mu.Lock()
	defer f.mu.Unlock()
	if f.spans[tr.Info.TraceID] != 3 || len(f.uploads) != 0 || f.calls["GET /version"] != 3 {
		t.Errorf("spans %v, uploads %d, calls %v: want the 3 spans over OTLP after the third /version", f.spans, len(f.uploads), f.calls)
	}
}

func TestStreamingFlow(t *testing.T) {
	f := newFake(t, "3.17.2")
	d := newDest(t, Config{Transport: fastTransport(f.URL), ExperimentID: "7"})
	ctx := context.Background()
	a, b := makeTrace("a", 4), makeTrace("b", 2)
	// Two children of a streamed; b streams nothing.
	if err := d.ExportSpans(ctx, a.Spans[1:3]); err != nil {
		t.Fatal(err)
	}
	if err := d.ExportTraces(ctx, []*tracemodel.Trace{a, b}); err != nil {
		t.Fatal(err)
	}
	// Late batch with a's root: already sent with the trace, skipped.
	if err := d.ExportSpans(ctx, a.Spans[:1]); err != nil {
		t.Fatal(err)
	}
	f.mu.Lock()
	defer f.mu.Unlock()
	if f.spans[a.Info.TraceID] != 4 || f.spans[b.Info.TraceID] != 2 {
		t.Errorf("spans received %v, want each once", f.spans)
	}
	if f.calls["GET /version"] != 1 || f.calls["POST /v1/traces"] != 2 || f.calls["POST /api/3.0/mlflow/traces"] != 2 {
		t.Errorf("calls %v", f.calls)
	}
	if len(f.uploads) != 0 {
		t.Errorf("uploaded %v although spans are in the tracking store", f.uploads)
	}
	for _, h := range f.expHeader {
		if h != "7" {
			t.Errorf("x-mlflow-experiment-id %q", h)
		}
	}
	if got := f.started[0]["trace_location"].(map[string]any)["mlflow_experiment"].(map[string]any)["experiment_id"]; got != "7" {
		t.Errorf("experiment in trace info %v", got)
	}
	if a.Info.ExperimentID != "" {
		t.Error("ExportTraces mutated the shared trace")
	}
}

// TestExportTracesPipelined: a batch's trace infos and then its spans go to
// the server on one connection, in that order; a trace whose StartTraceV3
// is refused is reported, its spans are sent all the same (as MLflow's
// Python SDK sends spans before the info), and the other traces are logged.
func TestExportTracesPipelined(t *testing.T) {
	f := newFake(t, "3.17.2")
	d := newDest(t, Config{Transport: fastTransport(f.URL), ExperimentID: "7"})
	ctx := context.Background()
	if !d.canStream(ctx, false) {
		t.Fatal("no streaming")
	}
	traces := []*tracemodel.Trace{makeTrace("a", 2), makeTrace("b", 3), makeTrace("c", 2)}
	f.mu.Lock()
	f.rejectTrace = traces[1].Info.TraceID
	before := len(f.order)
	f.mu.Unlock()

	err := d.ExportTraces(ctx, traces)
	if err == nil || !strings.Contains(err.Error(), traces[1].Info.TraceID) || !strings.Contains(err.Error(), "rejected") {
		t.Fatalf("ExportTraces: %v, want the refused trace reported", err)
	}
	if strings.Contains(err.Error(), traces[0].Info.TraceID) || strings.Contains(err.Error(), traces[2].Info.TraceID) {
		t.Errorf("ExportTraces: %v reports the logged traces", err)
	}
	f.mu.Lock()
	defer f.mu.Unlock()
	calls := f.order[before:]
	want := []string{"POST /api/3.0/mlflow/traces", "POST /api/3.0/mlflow/traces", "POST /api/3.0/mlflow/traces", "POST /v1/traces"}
	if len(calls) != len(want) {
		t.Fatalf("calls %v", calls)
	}
	addr := calls[0][strings.LastIndexByte(calls[0], ' ')+1:]
	for i, c := range calls {
		if c != want[i]+" "+addr {
			t.Errorf("call %d: %q, want %q on the connection of the first", i, c, want[i]+" "+addr)
		}
	}
	for _, tr := range traces {
		if got := f.spans[tr.Info.TraceID]; got != len(tr.Spans) {
			t.Errorf("%s: %d spans received, want %d", tr.Info.TraceID, got, len(tr.Spans))
		}
	}
	if len(f.started) != 2 || len(f.uploads) != 0 {
		t.Errorf("started %d, uploads %d", len(f.started), len(f.uploads))
	}
}

func TestNoStreamingServers(t *testing.T) {
	for _, tc := range []struct {
		name       string
		version    string
		otlpStatus int
		wantPosts  int
	}{
		{"old version", "3.3.2", 0, 0},
		{"2.x", "2.21.0", 0, 0},
		{"filestore 501", "3.17.2", 501, 1},
		{"no route 404", "3.17.2", 404, 1},
	} {
		t.Run(tc.name, func(t *testing.T) {
			f := newFake(t, tc.version)
			f.otlpStatus = tc.otlpStatus
			d := newDest(t, Config{Transport: fastTransport(f.URL)})
			ctx := context.Background()
			for i := range 3 {
				tr := makeTrace(fmt.Sprint(i), 3)
				if err := d.ExportSpans(ctx, tr.Spans[1:]); err != nil {
					t.Fatal(err)
				}
				if err := d.ExportTraces(ctx, []*tracemodel.Trace{tr}); err != nil {
					t.Fatal(err)
				}
				f.mu.Lock()
				data, ok := f.uploads["0/traces/"+tr.Info.TraceID+"/artifacts/traces.json"]
				f.mu.Unlock()
				if !ok {
					t.Fatalf("traces.json not uploaded for %s", tr.Info.TraceID)
				}
				var td struct{ Spans []map[string]any }
				if err := json.Unmarshal(data, &td); err != nil || len(td.Spans) != 3 {
					t.Errorf("traces.json %s: %v", data, err)
				}
			}
			if got := f.count("POST /v1/traces"); got != tc.wantPosts {
				t.Errorf("/v1/traces posts = %d, want %d (detection must be cached)", got, tc.wantPosts)
			}
			if got := f.count("GET /version"); got != 1 {
				t.Errorf("/version calls = %d", got)
			}
		})
	}
}

func TestV2ServerOneClearError(t *testing.T) {
	f := newFake(t, "2.21.0")
	f.startCode = "ENDPOINT_NOT_FOUND"
	d := newDest(t, Config{Transport: fastTransport(f.URL)})
	err := d.ExportTraces(context.Background(), []*tracemodel.Trace{makeTrace("x", 1)})
	if err == nil || !strings.Contains(err.Error(), "MLflow >= 3.0") {
		t.Fatalf("err = %v", err)
	}
	// The next trace fails too, with the error marked as reported before
	// (the exporter counts it failed and does not report it again).
	if err := d.ExportTraces(context.Background(), []*tracemodel.Trace{makeTrace("y", 1)}); !tracemodel.OnlyRepeated(err) || !strings.Contains(err.Error(), "MLflow >= 3.0") {
		t.Errorf("second error %v; want the same error, marked as reported before", err)
	}
}

func TestArtifactLocations(t *testing.T) {
	dir := t.TempDir()
	f := newFake(t, "3.3.2")
	f.artifactLoc = "file://" + dir + "/art"
	d := newDest(t, Config{Transport: fastTransport(f.URL)})
	tr := makeTrace("file", 2)
	if err := d.ExportTraces(context.Background(), []*tracemodel.Trace{tr}); err != nil {
		t.Fatal(err)
	}
	b, err := os.ReadFile(filepath.Join(dir, "art", "traces.json"))
	if err != nil || !strings.Contains(string(b), `"spans"`) {
		t.Fatalf("file artifact: %v %s", err, b)
	}
	f.mu.Lock()
	f.artifactLoc = "s3://bucket/x"
	f.mu.Unlock()
	err = d.ExportTraces(context.Background(), []*tracemodel.Trace{makeTrace("s3", 1)})
	if err == nil || !strings.Contains(err.Error(), `"s3"`) {
		t.Errorf("s3: err = %v", err)
	}
	if err := d.ExportTraces(context.Background(), []*tracemodel.Trace{makeTrace("s3b", 1)}); !tracemodel.OnlyRepeated(err) || !strings.Contains(err.Error(), `"s3"`) {
		t.Errorf("s3 again: err = %v, want the s3 error marked as reported before", err)
	}
}

func TestExperimentByName(t *testing.T) {
	f := newFake(t, "3.17.2")
	f.experiments["exists"] = "42"
	for name, want := range map[string]string{"exists": "42", "new one": "101"} {
		d := newDest(t, Config{Transport: fastTransport(f.URL), ExperimentName: name, ExperimentID: "9"})
		if err := d.ExportTraces(context.Background(), []*tracemodel.Trace{makeTrace(name, 1)}); err != nil {
			t.Fatal(err)
		}
		if d.ExperimentID() != want {
			t.Errorf("%s: experiment %q, want %q", name, d.ExperimentID(), want)
		}
	}
	// Default experiment, no lookups.
	before := f.count("GET /api/2.0/mlflow/experiments/get-by-name")
	d := newDest(t, Config{Transport: fastTransport(f.URL)})
	_ = d.ExportTraces(context.Background(), []*tracemodel.Trace{makeTrace("d", 1)})
	if d.ExperimentID() != "0" || f.count("GET /api/2.0/mlflow/experiments/get-by-name") != before {
		t.Errorf("default experiment %q", d.ExperimentID())
	}
}

// TestStreamFailureFallsBack: when the span POST fails for good, the trace
// info is still logged and its data goes to traces.json.
func TestStreamFailureFallsBack(t *testing.T) {
	f := newFake(t, "3.17.2")
	cfg := fastTransport(f.URL)
	cfg.MaxRetries = transport.Ptr(1)
	d := newDest(t, Config{Transport: cfg})
	if !d.canStream(context.Background(), false) {
		t.Fatal("no streaming")
	}
	f.mu.Lock()
	f.otlpStatus = 503
	f.mu.Unlock()
	tr := makeTrace("down", 3)
	if err := d.ExportSpans(context.Background(), tr.Spans[1:]); err == nil {
		t.Error("ExportSpans: want error while /v1/traces is down")
	}
	if err := d.ExportTraces(context.Background(), []*tracemodel.Trace{tr}); err != nil {
		t.Fatalf("ExportTraces: %v", err)
	}
	f.mu.Lock()
	defer f.mu.Unlock()
	if len(f.started) != 1 || len(f.uploads) != 1 {
		t.Errorf("started %d, uploads %d", len(f.started), len(f.uploads))
	}
	if !d.StreamingSupported() {
		t.Error("a 503 must not turn streaming off")
	}
}

func TestSecretsNeverInErrors(t *testing.T) {
	const token = "s3cr3t-token-value"
	f := newFake(t, "3.17.2")
	f.startCode = "PERMISSION_DENIED"
	cfg := fastTransport(f.URL)
	cfg.Token = transport.Ptr(token)
	d := newDest(t, Config{Transport: cfg})
	err := d.ExportTraces(context.Background(), []*tracemodel.Trace{makeTrace("s", 1)})
	if err == nil || strings.Contains(err.Error(), token) {
		t.Fatalf("err = %v", err)
	}
	f.mu.Lock()
	defer f.mu.Unlock()
	for _, a := range f.authSeen {
		if a != "Bearer "+token {
			t.Errorf("Authorization %q", a)
		}
	}
	var te *transport.Error
	if !errors.As(err, &te) || te.ErrorCode != "PERMISSION_DENIED" {
		t.Errorf("typed error lost: %#v", err)
	}
}

func TestSupportsOTLP(t *testing.T) {
	for v, want := range map[string]bool{"3.4.0": true, "3.17.2": true, "3.3.2": false, "2.22.1": false, "4.0.0rc1": true,
		"3.4.0.dev0": true, "3.10": true, "junk": false, "": false, "3": false} {
		if supportsOTLP(v) != want {
			t.Errorf("supportsOTLP(%q) = %v", v, !want)
		}
	}
}

func TestLedgerBounded(t *testing.T) {
	var l ledger
	l.init(8)
	var all []*tracemodel.Trace
	for i := range 50 {
		tr := makeTrace(fmt.Sprint(i), 2)
		all = append(all, tr)
		l.delivered(tr.Spans)
	}
	if len(l.sent) > 8 || len(l.sentFIFO) > 2*8+16 {
		t.Errorf("sent %d, fifo %d", len(l.sent), len(l.sentFIFO))
	}
	for _, tr := range all {
		l.finish(tr.Spans[0].TraceID)
	}
	if len(l.finished) != 8 || len(l.sent) != 0 || l.nspans != 0 {
		t.Errorf("finished %d sent %d", len(l.finished), len(l.sent))
	}
	last := all[len(all)-1]
	if got := l.unfinished(last.Spans); len(got) != 0 {
		t.Errorf("finished trace spans not skipped")
	}
	if got := l.unfinished(all[0].Spans); len(got) != 2 {
		t.Errorf("forgotten trace spans skipped")
	}
}

func BenchmarkEncodeSpans(b *testing.B) {
	tr := makeTrace("bench", 5)
	b.ReportAllocs()
	var body []byte
	for b.Loop() {
		body = otlpconv.AppendSpans(body[:0], tr.Spans, nil)
		if len(body) == 0 {
			b.Fatal("empty body")
		}
	}
}

// BenchmarkExportTraces measures the client's cost per export of 1 and of 5
// traces (5 spans each) against a minimal in-process server that accepts
// everything.
func BenchmarkExportTraces(b *testing.B) {
	srv := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		_, _ = io.Copy(io.Discard, r.Body)
		switch r.URL.Path {
		case "/version":
			_, _ = io.WriteString(w, "3.17.2")
		case "/api/3.0/mlflow/traces":
			_, _ = io.WriteString(w, `{"trace":{"trace_info":{"tags":{"mlflow.trace.spansLocation":"TRACKING_STORE"}}}}`)
		}
	}))
	defer srv.Close()
	d, err := New(Config{Transport: transport.Config{URL: srv.URL}})
	if err != nil {
		b.Fatal(err)
	}
	defer d.Shutdown(context.Background())
	ctx := context.Background()
	for _, n := range []int{1, 5} {
		batch := make([]*tracemodel.Trace, n)
		for i := range batch {
			batch[i] = makeTrace(fmt.Sprint("bench", i), 5)
		}
		// 5: the batch the exporter hands over by default, its StartTraceV3
		// requests and one /v1/traces request pipelined on one connection.
		b.Run(fmt.Sprintf("traces=%d", n), func(b *testing.B) {
			b.ReportAllocs()
			for b.Loop() {
				if err := d.ExportTraces(ctx, batch); err != nil {
					b.Fatal(err)
				}
			}
		})
	}
}

func TestLedgerSpanBound(t *testing.T) {
	var l ledger
	l.init(1000)
	l.maxSpans = 10
	for i := range 5 {
		l.delivered(makeTrace(fmt.Sprint(i), 4).Spans)
	}
	if l.nspans > 10 || len(l.sent) > 3 {
		t.Errorf("nspans %d traces %d", l.nspans, len(l.sent))
	}
}

func TestTraceExperimentWins(t *testing.T) {
	f := newFake(t, "3.17.2")
	d := newDest(t, Config{Transport: fastTransport(f.URL), ExperimentID: "7"})
	tr := makeTrace("own-exp", 2)
	tr.Info.ExperimentID = "55"
	if err := d.ExportTraces(context.Background(), []*tracemodel.Trace{tr, makeTrace("default-exp", 1)}); err != nil {
		t.Fatal(err)
	}
	f.mu.Lock()
	defer f.mu.Unlock()
	if fmt.Sprint(f.expHeader) != "[55 7]" {
		t.Errorf("x-mlflow-experiment-id headers %v", f.expHeader)
	}
}

// TestRemoteTracePart: a trace whose root continues a remote parent (the
// server side of a distributed trace) sends only its spans, as MLflow's
// Python SDK does; StartTraceV3 is left to the process that started the
// trace. A server that cannot ingest spans gets nothing, with one error.
func TestRemoteTracePart(t *testing.T) {
	remote := func() *tracemodel.Trace {
		tr := makeTrace("remote", 3)
		tr.Spans[0].ParentSpanID = trace.SpanID{1, 2, 3, 4, 5, 6, 7, 8}
		return tr
	}
	t.Run("streaming server", func(t *testing.T) {
		f := newFake(t, "3.17.2")
		d := newDest(t, Config{Transport: fastTransport(f.URL)})
		a, b := remote(), makeTrace("local", 2)
		if err := d.ExportTraces(context.Background(), []*tracemodel.Trace{a, b}); err != nil {
			t.Fatal(err)
		}
		f.mu.Lock()
		defer f.mu.Unlock()
		if f.spans[a.Info.TraceID] != 3 || f.spans[b.Info.TraceID] != 2 {
			t.Errorf("spans %v", f.spans)
		}
		if len(f.started) != 1 || f.started[0]["trace_id"] != b.Info.TraceID {
			t.Errorf("StartTraceV3 for %v, want only the local trace", f.started)
		}
	})
	t.Run("old server", func(t *testing.T) {
		f := newFake(t, "3.3.2")
		d := newDest(t, Config{Transport: fastTransport(f.URL)})
		err := d.ExportTraces(context.Background(), []*tracemodel.Trace{remote()})
		if err == nil || !strings.Contains(err.Error(), "continued from another process") {
			t.Errorf("error %v", err)
		}
		// Not logged either: the same error, marked as reported before.
		if err := d.ExportTraces(context.Background(), []*tracemodel.Trace{remote()}); !tracemodel.OnlyRepeated(err) || !strings.Contains(err.Error(), "continued from another process") {
			t.Errorf("second error %v: want the same error, marked as reported before", err)
		}
		if f.count("POST /api/3.0/mlflow/traces") != 0 || len(f.uploads) != 0 {
			t.Errorf("calls %v uploads %d", f.calls, len(f.uploads))
		}
	})
}
