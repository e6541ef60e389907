package exporter_test

import (
	"bufio"
	"bytes"
	"encoding/json"
	"fmt"
	"io"
	"math/rand/v2"
	"net"
	"net/http"
	"os"
	"os/exec"
	"path/filepath"
	"strconv"
	"strings"
	"sync"
	"syscall"
	"testing"
	"time"

	tracepb "go.opentelemetry.io/proto/otlp/trace/v1"
	"google.golang.org/protobuf/proto"

	"github.com/mlflowtrace/mlflowtrace-go/internal/databrickstest"
	"github.com/mlflowtrace/mlflowtrace-go/internal/mlflowtest"
)

// The crash tests run exporter/internal/spoolchild, a program configured
// only from the environment through tracing.Init: it records traces of 6
// spans while the destination is down, is SIGKILLed at a random moment,
// and is restarted with the destination up (and killed once more, at a
// random moment of the replay, before a last run delivers the rest). What
// it accepted — Stats.TracesSpooled, which it prints as it grows — must be
// stored exactly once.

const crashN = 500

// buildChild builds spoolchild into a temporary directory of the test.
func buildChild(t *testing.T) string {
	t.Helper()
	bin := filepath.Join(t.TempDir(), "spoolchild")
	out, err := exec.Command("go", "build", "-o", bin, "./internal/spoolchild").CombinedOutput()
	if err != nil {
		t.Fatalf("go build: %v\n%s", err, out)
	}
	return bin
}

// child is one run of spoolchild.
type child struct {
	cmd    *exec.Cmd
	mu     sync.Mutex
	last   map[string]int64 // last value printed per key ("spooled", "replayed")
	out    bytes.Buffer
	stderr string
	done   chan struct{}
	err    error
}

func startChild(t *testing.T, bin string, env map[string]string, args ...string) *child {
	t.Helper()
	c := &child{cmd: exec.Command(bin, args...), last: map[string]int64{}, done: make(chan struct{})}
	c.cmd.Env = []string{"PATH=" + os.Getenv("PATH"), "HOME=" + t.TempDir(), "MLFLOW_DISABLE_TELEMETRY=true"}
	for k, v := range env {
		c.cmd.Env = append(c.cmd.Env, k+"="+v)
	}
	c.cmd.Dir = t.TempDir()
	stdout, err := c.cmd.StdoutPipe()
	if err != nil {
		t.Fatal(err)
	}
	c.stderr = filepath.Join(t.TempDir(), "stderr")
	stderr, err := os.Create(c.stderr)
	if err != nil {
		t.Fatal(err)
	}
	c.cmd.Stderr = stderr
	if err := c.cmd.Start(); err != nil {
		t.Fatal(err)
	}
	go func() {
		sc := bufio.NewScanner(stdout)
		sc.Buffer(make([]byte, 1<<20), 1<<20)
		for sc.Scan() {
			line := sc.Text()
			c.mu.Lock()
			c.out.WriteString(line + "\n")
			if k, v, ok := strings.Cut(line, " "); ok {
				if n, err := strconv.ParseInt(v, 10, 64); err == nil {
					c.last[k] = n
				}
			}
			c.mu.Unlock()
		}
		c.err = c.cmd.Wait()
		stderr.Close()
		close(c.done)
	}()
	t.Cleanup(func() { c.kill(); <-c.done })
	return c
}

func (c *child) value(key string) int64 {
	c.mu.Lock()
	defer c.mu.Unlock()
	return c.last[key]
}

func (c *child) kill() { _ = c.cmd.Process.Signal(syscall.SIGKILL) }

func (c *child) wait(t *testing.T, d time.Duration) {
	t.Helper()
	select {
	case <-c.done:
	case <-time.After(d):
		c.kill()
		<-c.done
		t.Fatalf("spoolchild did not finish in %v:\n%s", d, c.output())
	}
}

func (c *child) output() string {
	c.mu.Lock()
	defer c.mu.Unlock()
	s := c.out.String()
	if b, err := os.ReadFile(c.stderr); err == nil {
		s += "--- stderr\n" + string(b)
	}
	return s
}

// waitValue waits until the child printed key with a value ≥ n.
func (c *child) waitValue(t *testing.T, key string, n int64, d time.Duration) {
	t.Helper()
	deadline := time.Now().Add(d)
	for c.value(key) < n {
		select {
		case <-c.done:
			t.Fatalf("spoolchild exited before %s reached %d:\n%s", key, n, c.output())
		default:
		}
		if time.Now().After(deadline) {
			t.Fatalf("%s did not reach %d in %v", key, n, d)
		}
		time.Sleep(5 * time.Millisecond)
	}
}

// closedURL is an http URL nothing listens on: a destination that is down.
func closedURL(t *testing.T) string {
	t.Helper()
	l, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	u := "http://" + l.Addr().String()
	l.Close()
	return u
}

// crashAndDeliver runs the scenario of the crash tests: record while
// down, SIGKILL at a random moment, deliver (SIGKILL at a random moment of
// the replay), deliver to the end. It returns how many traces the first
// run had accepted when it was killed and how many it had started.
func crashAndDeliver(t *testing.T, bin, dir string, down, up map[string]string) (accepted int64) {
	t.Helper()
	seed := time.Now().UnixNano()
	rng := rand.New(rand.NewPCG(uint64(seed), 0))
	t.Logf("random seed %d", seed)

	down["MLFLOWTRACE_SPOOL_DIR"] = dir
	up["MLFLOWTRACE_SPOOL_DIR"] = dir
	rec := startChild(t, bin, down, "-mode", "record", "-n", strconv.Itoa(crashN))
	// A random moment of the recording: once a random number of traces is
	// accepted, plus a random few milliseconds.
	target := 1 + rng.Int64N(crashN)
	rec.waitValue(t, "spooled", target, 2*time.Minute)
	time.Sleep(time.Duration(rng.Int64N(int64(20 * time.Millisecond))))
	accepted = rec.value("spooled") // read before the kill: accepted by then
	rec.kill()
	rec.wait(t, time.Minute)
	t.Logf("record run killed once %d traces were accepted: %d accepted at the kill", target, accepted)

	first := startChild(t, bin, up, "-mode", "deliver")
	time.Sleep(time.Duration(rng.Int64N(int64(2 * time.Second))))
	first.kill()
	first.wait(t, time.Minute)
	t.Logf("first delivery killed after %d replayed", first.value("replayed"))

	last := startChild(t, bin, up, "-mode", "deliver", "-timeout", "8m")
	last.wait(t, 10*time.Minute)
	if last.err != nil {
		t.Fatalf("delivery failed: %v\n%s", last.err, last.output())
	}
	var st struct{ TracesDropped, TracesFailed, SpoolPending, SpoolDeadLetters, SpoolRecordsSkipped int64 }
	for _, line := range strings.Split(last.output(), "\n") {
		if js, ok := strings.CutPrefix(line, "stats "); ok {
			_ = json.Unmarshal([]byte(js), &st)
		}
	}
	if st.TracesDropped+st.TracesFailed+st.SpoolPending+st.SpoolDeadLetters != 0 {
		t.Fatalf("the last delivery did not deliver everything: %+v\n%s", st, last.output())
	}
	if left, _ := os.ReadDir(dir); len(left) != 0 {
		t.Fatalf("the delivered spool left %v", left)
	}
	return accepted
}

func createServerExperiment(t *testing.T, srv *mlflowtest.Server, name string) string {
	t.Helper()
	body, _ := json.Marshal(map[string]string{"name": name})
	resp, err := http.Post(srv.URL+"/api/2.0/mlflow/experiments/create", "application/json", bytes.NewReader(body))
	if err != nil {
		t.Fatal(err)
	}
	defer resp.Body.Close()
	b, _ := io.ReadAll(resp.Body)
	var out struct {
		ExperimentID string `json:"experiment_id"`
	}
	if err := json.Unmarshal(b, &out); err != nil || out.ExperimentID == "" {
		t.Fatalf("create experiment: %s", b)
	}
	return out.ExperimentID
}

// serverReadBack is what MLflow's own client finds in an experiment:
// search_traces (REST) with every page, the span rows of the SQL store per
// trace, and each trace in a normal form (ids and times left out) by its
// spool.index tag.
const serverReadBack = `
import json, sqlite3, sys
from mlflow import MlflowClient
spec = json.loads(sys.argv[1])
c = MlflowClient()
con = sqlite3.connect(spec["db"])
VOLATILE_META = {"mlflow.trace.sizeBytes"}
def norm(t):
    names = {s.span_id: s.name for s in t.data.spans}
    spans = sorted(({"name": s.name, "type": s.span_type, "parent": names.get(s.parent_id), "inputs": s.inputs,
                     "outputs": s.outputs, "status": str(s.status.status_code),
                     "attributes": {k: v for k, v in s.attributes.items() if k != "mlflow.traceRequestId"}}
                    for s in t.data.spans), key=lambda s: s["name"])
    i = t.info
    return {"state": str(i.state), "request_preview": i.request_preview, "response_preview": i.response_preview,
            "tags": {k: v for k, v in i.tags.items() if k != "mlflow.artifactLocation"},
            "metadata": sized(i, {k: v for k, v in i.trace_metadata.items() if k not in VOLATILE_META}),
            "spans": spans}
def sized(i, meta):
    # total_size_bytes counts the trace info as MLflow's to_dict writes it,
    # whose request time (no fraction on a whole second: 4 bytes shorter),
    # duration and experiment id differ between two runs of equal traces.
    # Their lengths are taken out so that only the content is compared.
    if "mlflow.trace.sizeStats" in meta:
        d, st = i.to_dict(), json.loads(meta["mlflow.trace.sizeStats"])
        st["total_size_bytes"] -= (len(d["request_time"]) + len(str(d["execution_duration_ms"])) +
                                   len(d["trace_location"]["mlflow_experiment"]["experiment_id"]))
        meta["mlflow.trace.sizeStats"] = json.dumps(st)
    return meta
out = {}
for exp in spec["experiments"]:
    ids, by_index, rows, token = [], {}, {}, None
    while True:
        page = c.search_traces(locations=[exp], max_results=200, page_token=token)
        for t in page:
            ids.append(t.info.trace_id)
            by_index.setdefault(t.info.tags.get("spool.index"), []).append(norm(t))
        token = page.token
        if not token:
            break
    for tid in ids:
        rows[tid] = con.execute("select count(*) from spans where trace_id = ?", (tid,)).fetchone()[0]
    out[exp] = {"ids": ids, "rows": rows, "by_index": by_index}
print(json.dumps(out))
`

type readBack struct {
	IDs     []string                    `json:"ids"`
	Rows    map[string]int              `json:"rows"`
	ByIndex map[string][]map[string]any `json:"by_index"`
}

// checkExactlyOnce checks the stored traces of a crash run: at least the
// accepted ones, no more than were recorded, each once, each with its 6
// spans. spanRows returns a trace's rows and how many distinct span ids
// they hold. dupAllowed is how many traces may have each of their 6 rows
// twice (Unity Catalog tables: see TestSpoolCrashDatabricks).
func checkExactlyOnce(t *testing.T, ids []string, byIndex map[string]int, spanRows func(id string) (rows, distinct int), accepted int64, dupAllowed int) {
	t.Helper()
	seen := map[string]bool{}
	for _, id := range ids {
		if seen[id] {
			t.Errorf("trace %s stored twice", id)
		}
		seen[id] = true
	}
	if int64(len(seen)) < accepted || len(seen) > crashN {
		t.Errorf("%d traces stored; %d were accepted before the kill, %d recorded at most", len(seen), accepted, crashN)
	}
	for idx, n := range byIndex {
		if n != 1 {
			t.Errorf("trace spool.index=%s stored %d times", idx, n)
		}
	}
	total, doubled := 0, 0
	for id := range seen {
		n, distinct := spanRows(id)
		total += n
		switch {
		case n == 6 && distinct == 6:
		case n == 12 && distinct == 6 && doubled < dupAllowed:
			doubled++
		default:
			t.Errorf("trace %s has %d span rows (%d distinct spans), want 6", id, n, distinct)
		}
	}
	if total != 6*(len(seen)+doubled) {
		t.Errorf("%d span rows for %d traces, want %d", total, len(seen), 6*len(seen))
	}
	t.Logf("%d traces stored (%d accepted before the kill), %d span rows, %d traces with their rows twice", len(seen), accepted, total, doubled)
}

func TestSpoolCrashMLflowServer(t *testing.T) {
	if testing.Short() {
		t.Skip("starts an MLflow server and child processes")
	}
	bin := buildChild(t)
	srv := mlflowtest.StartServer(t) // its own: stopped before goleak looks
	exp := createServerExperiment(t, srv, fmt.Sprintf("spool-crash-%d", time.Now().UnixNano()))
	ref := createServerExperiment(t, srv, fmt.Sprintf("spool-reference-%d", time.Now().UnixNano()))
	base := map[string]string{"MLFLOW_EXPERIMENT_ID": exp, "MLFLOW_HTTP_REQUEST_MAX_RETRIES": "2",
		"MLFLOW_HTTP_REQUEST_BACKOFF_FACTOR": "1", "MLFLOW_HTTP_REQUEST_BACKOFF_JITTER": "0"}
	down, up := clone(base), clone(base)
	down["MLFLOW_TRACKING_URI"] = closedURL(t)
	up["MLFLOW_TRACKING_URI"] = srv.URL
	accepted := crashAndDeliver(t, bin, t.TempDir(), down, up)

	// The same traces from a run without a crash (and without a spool).
	refEnv := map[string]string{"MLFLOW_TRACKING_URI": srv.URL, "MLFLOW_EXPERIMENT_ID": ref}
	once := startChild(t, bin, refEnv, "-mode", "once", "-n", "5")
	once.wait(t, 5*time.Minute)
	if once.err != nil {
		t.Fatalf("reference run: %v\n%s", once.err, once.output())
	}

	spec, _ := json.Marshal(map[string]any{"experiments": []string{exp, ref}, "db": filepath.Join(srv.Dir, "mlflow.db")})
	var got map[string]readBack
	if err := json.Unmarshal(srv.RunPython(t, serverReadBack, string(spec)), &got); err != nil {
		t.Fatal(err)
	}
	crash, reference := got[exp], got[ref]
	counts := map[string]int{}
	for idx, ts := range crash.ByIndex {
		counts[idx] = len(ts)
	}
	checkExactlyOnce(t, crash.IDs, counts, func(id string) (int, int) { return crash.Rows[id], crash.Rows[id] }, accepted, 0)
	compared := 0
	for idx, want := range reference.ByIndex {
		have, ok := crash.ByIndex[idx]
		if !ok {
			continue
		}
		compared++
		a, _ := json.Marshal(have[0])
		b, _ := json.Marshal(want[0])
		if !bytes.Equal(a, b) {
			t.Errorf("trace spool.index=%s differs from the run without a crash:\n crash: %s\n   ref: %s", idx, a, b)
		}
	}
	if compared == 0 && len(crash.IDs) > 0 {
		t.Errorf("no trace to compare with the reference run (indexes %v)", mapKeys(crash.ByIndex))
	}
}

func clone(m map[string]string) map[string]string {
	out := make(map[string]string, len(m))
	for k, v := range m {
		out[k] = v
	}
	return out
}

func mapKeys[V any](m map[string]V) []string {
	var out []string
	for k := range m {
		out = append(out, k)
	}
	return out
}

// The same crash against the fake Databricks workspace: an experiment
// whose traces.json goes to signed URLs, and Unity Catalog tables. The
// span ingestion of Unity Catalog tables appends rows and offers no way to
// ask which are stored: the spool marks a trace's rows stored as soon as
// the workspace confirms them and posts a trace info only after its rows,
// so a replay sends them again only when the kill fell while their request
// was in flight (stored, not yet confirmed): at most the traces of the
// requests in flight at the kill, one batch per export worker.
func TestSpoolCrashDatabricks(t *testing.T) {
	if testing.Short() {
		t.Skip("starts child processes")
	}
	bin := buildChild(t)
	for _, target := range []string{"signed-url", "uc-tables"} {
		t.Run(target, func(t *testing.T) {
			ws, err := databrickstest.Start(databrickstest.Config{})
			if err != nil {
				t.Fatal(err)
			}
			defer ws.Close()
			base := map[string]string{"MLFLOW_TRACKING_URI": "databricks", "DATABRICKS_TOKEN": ws.Token,
				"DATABRICKS_CONFIG_FILE":          "/nonexistent/databrickscfg",
				"MLFLOW_HTTP_REQUEST_MAX_RETRIES": "2", "MLFLOW_HTTP_REQUEST_BACKOFF_FACTOR": "1", "MLFLOW_HTTP_REQUEST_BACKOFF_JITTER": "0"}
			if target == "uc-tables" {
				ws.CreateUCSchema("main", "spool")
				base["MLFLOW_TRACING_DESTINATION"] = "main.spool"
			} else {
				base["MLFLOW_EXPERIMENT_ID"] = ws.CreateExperiment("/Users/spool@example.com/crash", databrickstest.AWS)
			}
			down, up := clone(base), clone(base)
			down["DATABRICKS_HOST"] = closedURL(t)
			up["DATABRICKS_HOST"] = ws.URL
			accepted := crashAndDeliver(t, bin, t.TempDir(), down, up)

			var ids []string
			counts := map[string]int{}
			rows, distinct := map[string]int{}, map[string]int{}
			for _, tr := range ws.Traces() {
				ids = append(ids, tr.TraceID)
				rows[tr.TraceID] = len(tr.Spans)
				spanIDs := map[string]bool{}
				for _, b := range tr.Spans {
					var sp tracepb.Span
					if err := proto.Unmarshal(b, &sp); err == nil {
						spanIDs[string(sp.GetSpanId())] = true
					}
				}
				distinct[tr.TraceID] = len(spanIDs)
				if target == "signed-url" {
					var data struct {
						Spans []json.RawMessage `json:"spans"`
					}
					if err := json.Unmarshal(tr.Data, &data); err != nil || tr.StartTraceV3 == nil {
						t.Errorf("trace %s: StartTraceV3 %v, traces.json %v", tr.TraceID, tr.StartTraceV3 != nil, err)
					}
					rows[tr.TraceID], distinct[tr.TraceID] = len(data.Spans), len(data.Spans)
				} else if tr.TraceInfoV4 == nil {
					t.Errorf("trace %s has span rows but no trace info", tr.TraceID)
				}
				counts[tr.TraceID]++
			}
			for _, rej := range ws.Rejections() {
				// (An object store's port can be one another process on
				// this machine used before: only the workspace's count.)
				if !strings.Contains(rej, " store: ") {
					t.Errorf("the fake workspace rejected: %v", rej)
				}
			}
			starts := 0
			for _, r := range ws.Requests() {
				if r.Method == http.MethodPost && r.Path == "/api/3.0/mlflow/traces" && r.Status == http.StatusOK {
					starts++
				}
			}
			if target == "signed-url" && starts != len(ids) {
				t.Errorf("%d StartTraceV3 calls for %d traces: a replay repeated one", starts, len(ids))
			}
			dupAllowed := 0
			if target == "uc-tables" {
				dupAllowed = 10 * 5 // MaxWorkers replay workers × BatchSize traces
			}
			checkExactlyOnce(t, ids, counts, func(id string) (int, int) { return rows[id], distinct[id] }, accepted, dupAllowed)
		})
	}
}

// Rolling restart: process A is stopped (SIGTERM, bounded Shutdown)
// during an outage; process B, started on the same directory with the
// destination back, delivers A's traces.
func TestSpoolRollingRestart(t *testing.T) {
	if testing.Short() {
		t.Skip("starts child processes")
	}
	bin := buildChild(t)
	ws, err := databrickstest.Start(databrickstest.Config{})
	if err != nil {
		t.Fatal(err)
	}
	defer ws.Close()
	dir := t.TempDir()
	base := map[string]string{"MLFLOW_TRACKING_URI": "databricks", "DATABRICKS_TOKEN": ws.Token,
		"DATABRICKS_CONFIG_FILE": "/nonexistent/databrickscfg", "MLFLOWTRACE_SPOOL_DIR": dir,
		"MLFLOW_EXPERIMENT_ID": ws.CreateExperiment("/Users/spool@example.com/rolling", databrickstest.GCP)}
	down, up := clone(base), clone(base)
	down["DATABRICKS_HOST"] = closedURL(t)
	up["DATABRICKS_HOST"] = ws.URL

	a := startChild(t, bin, down, "-mode", "record", "-n", "100", "-grace", "500ms")
	a.waitValue(t, "recorded", 100, 2*time.Minute)
	a.waitValue(t, "spooled", 100, time.Minute)
	_ = a.cmd.Process.Signal(syscall.SIGTERM)
	a.wait(t, time.Minute)
	if a.err != nil {
		t.Fatalf("A exited with %v:\n%s", a.err, a.output())
	}
	if !strings.Contains(a.output(), "stay in the spool") {
		t.Errorf("A did not say what it left in the spool:\n%s", a.output())
	}
	b := startChild(t, bin, up, "-mode", "deliver", "-timeout", "5m")
	b.wait(t, 6*time.Minute)
	if b.err != nil {
		t.Fatalf("B: %v\n%s", b.err, b.output())
	}
	if n := len(ws.Traces()); n != 100 {
		t.Fatalf("B delivered %d of A's 100 traces", n)
	}
	if b.value("replayed") != 100 {
		t.Fatalf("B replayed %d, want 100", b.value("replayed"))
	}
	if _, err := os.Stat(filepath.Join(dir, "slot-0")); !os.IsNotExist(err) {
		t.Fatalf("A's slot is still there after B delivered it (%v)", err)
	}
}
