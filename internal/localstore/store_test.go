package localstore

import (
	"context"
	"encoding/json"
	"fmt"
	"os"
	"os/exec"
	"path/filepath"
	"strconv"
	"strings"
	"sync"
	"testing"
	"time"

	"go.opentelemetry.io/otel/trace"

	"github.com/mlflowtrace/mlflowtrace-go/internal/pyenv"
	"github.com/mlflowtrace/mlflowtrace-go/internal/tracemodel"
)

var _ interface {
	ExportTraces(context.Context, []*tracemodel.Trace) error
	Shutdown(context.Context) error
} = (*Store)(nil)

// tricky strings exercise YAML quoting and raw key files.
var tricky = []string{
	"plain",
	"colon: value",
	"'single' and \"double\" quotes",
	"multi\nline\n\n  indented\ttab",
	"unicode ünïcödé 日本語 🚀",
	"# not a comment",
	"- not a list",
	"{not: a map}",
	"null",
	"true",
	"123",
	"  leading and trailing  ",
	"back\\slash",
	"ctrl \x01\x7f\u0085\u2028\ufeff end",
	"",
}

// sampleTrace builds a two-span trace with id derived from n.
func sampleTrace(n int, meta, tags map[string]string) *tracemodel.Trace {
	var tid trace.TraceID
	copy(tid[:], fmt.Sprintf("%016x", n))
	tid[15] = byte(n)
	tid[0] = 0xab
	root := trace.SpanID{1, 2, 3, 4, 5, 6, 7, byte(n)}
	child := trace.SpanID{9, 9, 9, 9, 9, 9, 9, byte(n)}
	start := time.Date(2026, 1, 2, 3, 4, 5, 123_456_789, time.UTC)
	id := tracemodel.RequestID(tid)
	attrs := func(typ, in, out string) map[string]string {
		return map[string]string{
			"mlflow.traceRequestId": strconv.Quote(id),
			"mlflow.spanType":       strconv.Quote(typ),
			"mlflow.spanInputs":     in,
			"mlflow.spanOutputs":    out,
		}
	}
	m := map[string]string{"mlflow.trace_schema.version": "3", "mlflow.traceInputs": `{"q": "hi"}`}
	for k, v := range meta {
		m[k] = v
	}
	tg := map[string]string{"mlflow.traceName": "root"}
	for k, v := range tags {
		tg[k] = v
	}
	return &tracemodel.Trace{
		Info: tracemodel.TraceInfo{
			TraceID:           id,
			RequestPreview:    `{"q": "hi"}`,
			ResponsePreview:   `"ok"`,
			RequestTime:       start,
			ExecutionDuration: 1500 * time.Millisecond,
			State:             tracemodel.StateOK,
			Metadata:          m,
			Tags:              tg,
		},
		Spans: []*tracemodel.Span{
			{TraceID: tid, SpanID: root, Name: "root", StartTime: start, EndTime: start.Add(1500 * time.Millisecond),
				Status: tracemodel.Status{Code: tracemodel.StatusCodeOK}, Attributes: attrs("CHAIN", `{"q": "hi"}`, `"ok"`)},
			{TraceID: tid, SpanID: child, ParentSpanID: root, Name: "llm", StartTime: start.Add(time.Millisecond), EndTime: start.Add(time.Second),
				Status: tracemodel.Status{Code: tracemodel.StatusCodeError, Message: "ValueError: bad"},
				Events: []tracemodel.Event{{Name: "exception", Time: start.Add(2 * time.Millisecond), Attributes: map[string]any{
					"exception.message": "bad", "exception.type": "ValueError", "exception.stacktrace": "line 1\nline 2"}}},
				Attributes: attrs("LLM", `[1, 2]`, `{"a": {"b": null}}`)},
		},
	}
}

func TestYAMLQuoteRoundTrip(t *testing.T) {
	for _, s := range append(tricky, "a\"b", strings.Repeat("long ", 100), "\xff\xfe invalid utf8") {
		q := yamlQuote(s)
		got := parseTopLevelYAML([]byte("k: " + q + "\n"))["k"].Value
		want := strings.Map(func(r rune) rune { return r }, s) // invalid bytes -> U+FFFD each
		if got != want {
			t.Errorf("round trip of %q: got %q via %s", s, got, q)
		}
	}
}

func TestParsePyYAMLStyles(t *testing.T) {
	doc := "artifact_location: file:///tmp/a%20b/mlruns/1\n" +
		"creation_time: 1795699364213\n" +
		"experiment_id: '1'\n" +
		"lifecycle_stage: active\n" +
		"name: 'it''s: a\n  long name\n\n  folded'\n" +
		"other: \"dq \\\"x\\\" \\u00e9\\\n  \\ joined\"\n" +
		"plain: a plain\n  folded value\n" +
		"tags:\n  a: b\n" +
		"trace_location: null\n"
	f := parseTopLevelYAML([]byte(doc))
	for k, want := range map[string]string{
		"artifact_location": "file:///tmp/a%20b/mlruns/1",
		"creation_time":     "1795699364213",
		"experiment_id":     "1",
		"name":              "it's: a long name\nfolded",
		"other":             `dq "x" é joined`,
		"plain":             "a plain folded value",
	} {
		if f[k].Value != want {
			t.Errorf("%s = %q, want %q", k, f[k].Value, want)
		}
	}
	if !f["trace_location"].Null {
		t.Errorf("trace_location not null: %+v", f["trace_location"])
	}
}

func TestValidKeyName(t *testing.T) {
	for k, want := range map[string]bool{
		"mlflow.traceName": true, "a b:c-d_e.f": true, "dir/key": true, "ünï": true, "日本": true,
		"": false, ".": false, "..": false, "../x": false, "/abs": false, "a//b": false, "a/": false,
		"./a": false, "a/./b": false, "bang!": false, "new\nline": false, "q'uote": false,
		strings.Repeat("x", 256): false, tmpPrefix + "x": false,
	} {
		if got := validKeyName(k); got != want {
			t.Errorf("validKeyName(%q) = %v, want %v", k, got, want)
		}
	}
}

func TestFileURI(t *testing.T) {
	if got := fileURI("/tmp/a b/ü:x"); got != "file:///tmp/a%20b/%C3%BC%3Ax" {
		t.Fatalf("fileURI = %q", got)
	}
	p, err := localPath("file:///tmp/a%20b/%C3%BC%3Ax")
	if err != nil || p != "/tmp/a b/ü:x" {
		t.Fatalf("localPath = %q, %v", p, err)
	}
	if _, err := localPath("s3://bucket/x"); err == nil {
		t.Fatal("want error for s3")
	}
}

func TestNewLayout(t *testing.T) {
	root := filepath.Join(t.TempDir(), "mlruns")
	s, err := New(root, Options{})
	if err != nil {
		t.Fatal(err)
	}
	if s.ExperimentID() != "0" {
		t.Fatalf("experiment %q", s.ExperimentID())
	}
	for _, p := range []string{".trash", "0/meta.yaml"} {
		if _, err := os.Stat(filepath.Join(root, p)); err != nil {
			t.Fatal(err)
		}
	}
	m, err := readMeta(filepath.Join(root, "0"))
	if err != nil || m.Name != "Default" || m.ArtifactLocation != fileURI(filepath.Join(root, "0")) {
		t.Fatalf("meta %+v, %v", m, err)
	}
	tr := sampleTrace(1, nil, nil)
	if err := s.ExportTraces(context.Background(), []*tracemodel.Trace{tr}); err != nil {
		t.Fatal(err)
	}
	dir := filepath.Join(root, "0", "traces", tr.Info.TraceID)
	for _, p := range []string{"trace_info.yaml", "artifacts/traces.json", "tags/mlflow.traceName", "tags/mlflow.artifactLocation", "request_metadata/mlflow.trace_schema.version"} {
		if _, err := os.Stat(filepath.Join(dir, p)); err != nil {
			t.Fatal(err)
		}
	}
	loc, _ := os.ReadFile(filepath.Join(dir, "tags", "mlflow.artifactLocation"))
	if want := fileURI(filepath.Join(root, "0")) + "/traces/" + tr.Info.TraceID + "/artifacts"; string(loc) != want {
		t.Fatalf("artifactLocation %q, want %q", loc, want)
	}
	entries, _ := os.ReadDir(filepath.Join(root, "0", "traces"))
	if len(entries) != 1 {
		t.Fatalf("leftover entries: %v", entries)
	}
	// Exporting the same trace again updates it in place.
	if err := s.ExportTraces(context.Background(), []*tracemodel.Trace{tr}); err != nil {
		t.Fatal(err)
	}
	if err := s.Shutdown(context.Background()); err != nil {
		t.Fatal(err)
	}
	if err := s.ExportTraces(context.Background(), []*tracemodel.Trace{tr}); err != ErrShutdown {
		t.Fatalf("after shutdown: %v", err)
	}
}

func TestExperimentSelection(t *testing.T) {
	root := filepath.Join(t.TempDir(), "mlruns")
	a, err := New(root, Options{ExperimentName: "my: exp 'x'"})
	if err != nil {
		t.Fatal(err)
	}
	if len(a.ExperimentID()) != 18 {
		t.Fatalf("id %q", a.ExperimentID())
	}
	b, err := New(root, Options{ExperimentName: "my: exp 'x'"})
	if err != nil || b.ExperimentID() != a.ExperimentID() {
		t.Fatalf("second lookup: %v, %v", b, err)
	}
	c, err := New(root, Options{ExperimentID: a.ExperimentID(), ExperimentName: "ignored"})
	if err != nil || c.ExperimentID() != a.ExperimentID() {
		t.Fatalf("by id: %v", err)
	}
	d, err := New(root, Options{ExperimentName: "Default"})
	if err != nil || d.ExperimentID() != "0" {
		t.Fatalf("Default by name: %v %v", d, err)
	}
	if _, err := New(root, Options{ExperimentID: "424242"}); err == nil {
		t.Fatal("want error for a missing experiment id")
	}
	if _, err := New(root, Options{ExperimentID: "../x"}); err == nil || !strings.Contains(err.Error(), "MLFLOW_EXPERIMENT_ID") {
		t.Fatalf("want an error naming MLFLOW_EXPERIMENT_ID for an invalid experiment id, got %v", err)
	}
	// A deleted experiment (moved to .trash) is not reused.
	if err := os.Rename(filepath.Join(root, a.ExperimentID()), filepath.Join(root, ".trash", a.ExperimentID())); err != nil {
		t.Fatal(err)
	}
	if _, err := New(root, Options{ExperimentName: "my: exp 'x'"}); err == nil || !strings.Contains(err.Error(), "deleted") {
		t.Fatalf("want deleted error, got %v", err)
	}
}

func TestConcurrentExperimentCreation(t *testing.T) {
	root := filepath.Join(t.TempDir(), "mlruns")
	var wg sync.WaitGroup
	ids := make([]string, 16)
	errs := make([]error, 16)
	for i := range ids {
		wg.Add(1)
		go func() {
			defer wg.Done()
			s, err := New(root, Options{ExperimentName: "race"})
			errs[i] = err
			if err == nil {
				ids[i] = s.ExperimentID()
			}
		}()
	}
	wg.Wait()
	for i := range ids {
		if errs[i] != nil || ids[i] != ids[0] {
			t.Fatalf("creator %d: id %q err %v (first %q)", i, ids[i], errs[i], ids[0])
		}
	}
	entries, _ := os.ReadDir(root)
	if len(entries) != 3 { // .trash, 0, race
		t.Fatalf("entries %v", entries)
	}
}

func TestInvalidKeysSkipped(t *testing.T) {
	root := filepath.Join(t.TempDir(), "mlruns")
	s, err := New(root, Options{})
	if err != nil {
		t.Fatal(err)
	}
	tr := sampleTrace(2, map[string]string{"bad!": "x", "ok": "y"}, map[string]string{"a": "1", "a/b": "2", "../up": "3"})
	err = s.ExportTraces(context.Background(), []*tracemodel.Trace{tr})
	if err == nil || !strings.Contains(err.Error(), "bad!") || !strings.Contains(err.Error(), "a/b") || !strings.Contains(err.Error(), "../up") {
		t.Fatalf("want skipped-key error, got %v", err)
	}
	dir := filepath.Join(root, "0", "traces", tr.Info.TraceID)
	if _, err := os.Stat(filepath.Join(dir, "request_metadata", "ok")); err != nil {
		t.Fatal("valid key not written")
	}
	if _, err := os.Stat(filepath.Join(dir, "trace_info.yaml")); err != nil {
		t.Fatal("trace not written")
	}
	bad := &tracemodel.Trace{Info: tracemodel.TraceInfo{TraceID: "../../etc"}}
	if err := s.ExportTraces(context.Background(), []*tracemodel.Trace{bad, nil}); err == nil {
		t.Fatal("want error for invalid trace id")
	}
}

func TestExportCanceled(t *testing.T) {
	s, err := New(filepath.Join(t.TempDir(), "mlruns"), Options{})
	if err != nil {
		t.Fatal(err)
	}
	ctx, cancel := context.WithCancel(context.Background())
	cancel()
	if err := s.ExportTraces(ctx, []*tracemodel.Trace{sampleTrace(3, nil, nil)}); err == nil {
		t.Fatal("want context error")
	}
}

// writerEnv names the environment variables that make the test binary act
// as a second writer process (see TestMain).
const (
	writerEnvRoot  = "LOCALSTORE_TEST_WRITER_ROOT"
	writerEnvBase  = "LOCALSTORE_TEST_WRITER_BASE"
	writerEnvCount = "LOCALSTORE_TEST_WRITER_COUNT"
)

func TestMain(m *testing.M) {
	if root := os.Getenv(writerEnvRoot); root != "" {
		base, _ := strconv.Atoi(os.Getenv(writerEnvBase))
		n, _ := strconv.Atoi(os.Getenv(writerEnvCount))
		if err := writeMany(root, base, n); err != nil {
			fmt.Fprintln(os.Stderr, err)
			os.Exit(1)
		}
		os.Exit(0)
	}
	os.Exit(m.Run())
}

// writeMany writes n traces numbered from base into root's "concurrent"
// experiment from 4 goroutines.
func writeMany(root string, base, n int) error {
	s, err := New(root, Options{ExperimentName: "concurrent"})
	if err != nil {
		return err
	}
	var wg sync.WaitGroup
	errc := make(chan error, n)
	for w := 0; w < 4; w++ {
		wg.Add(1)
		go func() {
			defer wg.Done()
			for i := w; i < n; i += 4 {
				tags := map[string]string{"writer": strconv.Itoa(base)}
				for j, v := range tricky {
					tags["t"+strconv.Itoa(j)] = v
				}
				if err := s.ExportTraces(context.Background(), []*tracemodel.Trace{sampleTrace(base+i, nil, tags)}); err != nil {
					errc <- err
				}
			}
		}()
	}
	wg.Wait()
	close(errc)
	for err := range errc {
		return err
	}
	return s.Shutdown(context.Background())
}

const loadScript = `
import json, sys, mlflow
root, exp_name = sys.argv[1], sys.argv[2]
client = mlflow.MlflowClient(tracking_uri=root)
exp = client.get_experiment_by_name(exp_name)
infos = client.search_traces(locations=[exp.experiment_id], max_results=500)
out = {"experiment_id": exp.experiment_id, "traces": []}
mlflow.set_tracking_uri(root)
df = mlflow.search_traces(locations=[exp.experiment_id], max_results=500, return_type="list")
out["search_traces_count"] = len(df)
for info in infos:
    t = client.get_trace(info.trace_id)
    out["traces"].append({
        "trace_id": t.info.trace_id,
        "state": str(t.info.state),
        "request_preview": t.info.request_preview,
        "request_time": t.info.request_time,
        "execution_duration": t.info.execution_duration,
        "tags": t.info.tags,
        "metadata": t.info.trace_metadata,
        "spans": [{"name": s.name, "parent_id": s.parent_id, "span_type": s.span_type,
                   "inputs": s.inputs, "outputs": s.outputs, "status": str(s.status.status_code),
                   "events": [{"name": e.name, "attributes": e.attributes} for e in s.events]} for s in t.data.spans],
    })
print(json.dumps(out))
`

type loaded struct {
	ExperimentID      string `json:"experiment_id"`
	SearchTracesCount int    `json:"search_traces_count"`
	Traces            []loadedTrace
}

type loadedTrace struct {
	TraceID           string            `json:"trace_id"`
	State             string            `json:"state"`
	RequestPreview    string            `json:"request_preview"`
	RequestTime       int64             `json:"request_time"`
	ExecutionDuration int64             `json:"execution_duration"`
	Tags              map[string]string `json:"tags"`
	Metadata          map[string]string `json:"metadata"`
	Spans             []struct {
		Name     string  `json:"name"`
		ParentID *string `json:"parent_id"`
		SpanType string  `json:"span_type"`
		Inputs   any     `json:"inputs"`
		Outputs  any     `json:"outputs"`
		Status   string  `json:"status"`
		Events   []struct {
			Name       string         `json:"name"`
			Attributes map[string]any `json:"attributes"`
		} `json:"events"`
	} `json:"spans"`
}

func loadWithMLflow(t *testing.T, root, expName string) loaded {
	t.Helper()
	py := pyenv.Python(t)
	out := pyenv.Run(t, py, loadScript, root, expName)
	var l loaded
	if err := json.Unmarshal(out, &l); err != nil {
		t.Fatalf("decode loader output: %v\n%s", err, out)
	}
	return l
}

func TestMLflowLoadsTraces(t *testing.T) {
	py := pyenv.Python(t)
	_ = py
	root := filepath.Join(t.TempDir(), "my mlruns")
	s, err := New(root, Options{})
	if err != nil {
		t.Fatal(err)
	}
	meta := map[string]string{"mlflow.trace.user": "ünï: 'x'"}
	tags := map[string]string{}
	for i, v := range tricky {
		tags["tag "+strconv.Itoa(i)] = v
		meta["m:"+strconv.Itoa(i)] = v
	}
	tr := sampleTrace(7, meta, tags)
	tr.Info.ClientRequestID = "client: 1"
	tr.Info.RequestPreview = tricky[3] + tricky[4] + tricky[13]
	if err := s.ExportTraces(context.Background(), []*tracemodel.Trace{tr}); err != nil {
		t.Fatal(err)
	}
	l := loadWithMLflow(t, root, "Default")
	if len(l.Traces) != 1 || l.SearchTracesCount != 1 {
		t.Fatalf("got %d traces (search_traces %d)", len(l.Traces), l.SearchTracesCount)
	}
	got := l.Traces[0]
	if got.TraceID != tr.Info.TraceID || got.State != "OK" || got.RequestPreview != tr.Info.RequestPreview {
		t.Errorf("info: %+v", got)
	}
	if got.RequestTime != tr.Info.RequestTime.UnixMilli() || got.ExecutionDuration != 1500 {
		t.Errorf("times: %d %d", got.RequestTime, got.ExecutionDuration)
	}
	for k, v := range tr.Info.Tags {
		if got.Tags[k] != v {
			t.Errorf("tag %q = %q, want %q", k, got.Tags[k], v)
		}
	}
	for k, v := range tr.Info.Metadata {
		if got.Metadata[k] != v {
			t.Errorf("metadata %q = %q, want %q", k, got.Metadata[k], v)
		}
	}
	if len(got.Spans) != 2 {
		t.Fatalf("spans: %+v", got.Spans)
	}
	r, c := got.Spans[0], got.Spans[1]
	if r.Name != "root" || r.ParentID != nil || r.SpanType != "CHAIN" || r.Outputs != "ok" {
		t.Errorf("root span: %+v", r)
	}
	if c.Name != "llm" || c.ParentID == nil || c.SpanType != "LLM" || !strings.HasSuffix(c.Status, "ERROR") || len(c.Events) != 1 || c.Events[0].Attributes["exception.type"] != "ValueError" {
		t.Errorf("child span: %+v", c)
	}
}

// TestTwoProcesses writes the same folder from this process and a second
// one (the test binary re-executed) at the same time, both creating the
// same experiment by name, then checks MLflow loads every trace.
func TestTwoProcesses(t *testing.T) {
	root := filepath.Join(t.TempDir(), "mlruns")
	const n = 40
	exe, err := os.Executable()
	if err != nil {
		t.Fatal(err)
	}
	cmd := exec.Command(exe, "-test.run=^$")
	cmd.Env = append(os.Environ(), writerEnvRoot+"="+root, writerEnvBase+"=1000", writerEnvCount+"="+strconv.Itoa(n))
	var stderr strings.Builder
	cmd.Stderr = &stderr
	if err := cmd.Start(); err != nil {
		t.Fatal(err)
	}
	localErr := writeMany(root, 2000, n)
	if err := cmd.Wait(); err != nil {
		t.Fatalf("second writer: %v\n%s", err, stderr.String())
	}
	if localErr != nil {
		t.Fatal(localErr)
	}
	exps, _ := os.ReadDir(root)
	if len(exps) != 3 {
		t.Fatalf("experiments: %v", exps)
	}
	l := loadWithMLflow(t, root, "concurrent")
	if len(l.Traces) != 2*n || l.SearchTracesCount != 2*n {
		t.Fatalf("loaded %d traces (search_traces %d), want %d", len(l.Traces), l.SearchTracesCount, 2*n)
	}
	for _, tr := range l.Traces {
		if len(tr.Spans) != 2 || tr.Tags["t1"] != tricky[1] || tr.Tags["t4"] != tricky[4] {
			t.Fatalf("trace %s: %+v", tr.TraceID, tr)
		}
	}
}

func TestExternalArtifactLocation(t *testing.T) {
	tmp := t.TempDir()
	root := filepath.Join(tmp, "mlruns")
	if _, err := New(root, Options{}); err != nil {
		t.Fatal(err)
	}
	art := filepath.Join(tmp, "elsewhere", "42")
	if err := os.MkdirAll(filepath.Join(root, "42"), 0o755); err != nil {
		t.Fatal(err)
	}
	meta := metaYAML("42", "external", fileURI(art), time.Now())
	if err := os.WriteFile(filepath.Join(root, "42", "meta.yaml"), meta, 0o644); err != nil {
		t.Fatal(err)
	}
	s, err := New(root, Options{ExperimentName: "external"})
	if err != nil || s.ExperimentID() != "42" {
		t.Fatalf("lookup: %v %v", s, err)
	}
	tr := sampleTrace(9, nil, nil)
	if err := s.ExportTraces(context.Background(), []*tracemodel.Trace{tr}); err != nil {
		t.Fatal(err)
	}
	if _, err := os.Stat(filepath.Join(art, "traces", tr.Info.TraceID, "artifacts", "traces.json")); err != nil {
		t.Fatal(err)
	}
	loc, _ := os.ReadFile(filepath.Join(root, "42", "traces", tr.Info.TraceID, "tags", "mlflow.artifactLocation"))
	if want := fileURI(art) + "/traces/" + tr.Info.TraceID + "/artifacts"; string(loc) != want {
		t.Fatalf("artifactLocation %q, want %q", loc, want)
	}
	// A trace naming another experiment of the folder goes there.
	tr2 := sampleTrace(10, nil, nil)
	tr2.Info.ExperimentID = "0"
	if err := s.ExportTraces(context.Background(), []*tracemodel.Trace{tr2}); err != nil {
		t.Fatal(err)
	}
	if _, err := os.Stat(filepath.Join(root, "0", "traces", tr2.Info.TraceID, "trace_info.yaml")); err != nil {
		t.Fatal(err)
	}
	// Remote artifact locations are refused at construction.
	if err := os.WriteFile(filepath.Join(root, "42", "meta.yaml"), metaYAML("42", "external", "s3://bucket/42", time.Now()), 0o644); err != nil {
		t.Fatal(err)
	}
	if _, err := New(root, Options{ExperimentID: "42"}); err == nil {
		t.Fatal("want error for an s3 artifact location")
	}
}

func BenchmarkExportTraces(b *testing.B) {
	s, err := New(filepath.Join(b.TempDir(), "mlruns"), Options{})
	if err != nil {
		b.Fatal(err)
	}
	traces := make([]*tracemodel.Trace, b.N)
	for i := range traces {
		traces[i] = sampleTrace(i, nil, map[string]string{"k": "v"})
		traces[i].Info.TraceID = fmt.Sprintf("tr-%032x", i)
	}
	ctx := context.Background()
	b.ReportAllocs()
	b.ResetTimer()
	for i := 0; i < b.N; i++ {
		if err := s.ExportTraces(ctx, traces[i:i+1]); err != nil {
			b.Fatal(err)
		}
	}
}

func BenchmarkYAMLQuote(b *testing.B) {
	s := strings.Repeat("plain text with ünïcode and \"quotes\"\n", 20)
	b.ReportAllocs()
	for i := 0; i < b.N; i++ {
		_ = yamlQuote(s)
	}
}

// TestNoPartialTraceVisible reads the traces folder while traces are being
// written: every directory MLflow would list (one holding trace_info.yaml)
// must already hold its spans and tags.
func TestNoPartialTraceVisible(t *testing.T) {
	root := filepath.Join(t.TempDir(), "mlruns")
	s, err := New(root, Options{})
	if err != nil {
		t.Fatal(err)
	}
	tracesPath := filepath.Join(root, "0", "traces")
	done := make(chan struct{})
	var wg sync.WaitGroup
	wg.Add(1)
	go func() {
		defer wg.Done()
		defer close(done)
		for i := 0; i < 150; i++ {
			if err := s.ExportTraces(context.Background(), []*tracemodel.Trace{sampleTrace(i, map[string]string{"m": "v"}, nil)}); err != nil {
				t.Error(err)
				return
			}
		}
	}()
	checks := 0
	for {
		select {
		case <-done:
			wg.Wait()
			if checks == 0 {
				t.Log("reader saw no complete trace while writing")
			}
			return
		default:
		}
		entries, _ := os.ReadDir(tracesPath)
		for _, e := range entries {
			dir := filepath.Join(tracesPath, e.Name())
			if _, err := os.Stat(filepath.Join(dir, "trace_info.yaml")); err != nil {
				continue
			}
			checks++
			for _, p := range []string{"artifacts/traces.json", "tags/mlflow.artifactLocation", "tags/mlflow.traceName", "request_metadata/m"} {
				if _, err := os.Stat(filepath.Join(dir, p)); err != nil {
					t.Fatalf("%s visible without %s", e.Name(), p)
				}
			}
		}
	}
}
