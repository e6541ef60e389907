package exporter_test

import (
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"os"
	"path/filepath"
	"strings"
	"sync"
	"testing"
	"testing/fstest"
	"time"

	"go.uber.org/goleak"

	"github.com/mlflowtrace/mlflowtrace-go/exporter"
	"github.com/mlflowtrace/mlflowtrace-go/internal/databrickstest"
	"github.com/mlflowtrace/mlflowtrace-go/tracing"
)

// dbRun initialises tracing against the fake workspace with env, runs fn and
// shuts down; it returns the errors the handler received.
type dbRun struct {
	p    *tracing.Provider
	mu   sync.Mutex
	errs []error
}

func startDatabricks(t *testing.T, ws *databrickstest.Workspace, env map[string]string, opts ...exporter.Option) *dbRun {
	t.Helper()
	r := &dbRun{}
	env["DATABRICKS_CONFIG_FILE"] = "/nonexistent/databrickscfg"
	all := append([]exporter.Option{
		exporter.WithHTTPClient(ws.HTTPClient()),
		exporter.WithRetryBackoff(10*time.Millisecond, 0),
		exporter.WithErrorHandler(func(err error) {
			r.mu.Lock()
			r.errs = append(r.errs, err)
			r.mu.Unlock()
		}),
	}, opts...)
	p, err := tracing.Init(context.Background(), tracing.WithGetenv(func(k string) string { return env[k] }),
		tracing.WithoutGlobalTracerProvider(), tracing.WithExporterOptions(all...))
	if err != nil {
		t.Fatal(err)
	}
	r.p = p
	t.Cleanup(func() { _ = p.Shutdown(context.Background()) })
	return r
}

func (r *dbRun) errors() []error {
	r.mu.Lock()
	defer r.mu.Unlock()
	return append([]error(nil), r.errs...)
}

func (r *dbRun) trace(ctx context.Context, name, input string) string {
	ctx, root := tracing.StartSpan(ctx, name, tracing.WithSpanType(tracing.SpanTypeAgent),
		tracing.WithInputs(map[string]any{"messages": []map[string]string{{"role": "user", "content": input}}}))
	_, child := tracing.StartSpan(ctx, "tool", tracing.WithSpanType(tracing.SpanTypeTool))
	child.End()
	root.SetOutputs(map[string]any{"messages": []map[string]string{{"role": "assistant", "content": "ok"}}})
	root.End()
	return root.TraceID()
}

func TestDatabricksEndToEnd(t *testing.T) {
	ws := databrickstest.New(t)
	exp := ws.CreateExperiment("/Users/a@b.c/e2e", databrickstest.ADLS)
	env := ws.PATEnv()
	env["MLFLOW_TRACKING_URI"] = "databricks"
	env["MLFLOW_EXPERIMENT_ID"] = exp
	r := startDatabricks(t, ws, env)
	long := strings.Repeat("é", 12000)
	id := r.trace(context.Background(), "agent", long)
	if err := r.p.Shutdown(context.Background()); err != nil {
		t.Fatal(err)
	}
	if errs := r.errors(); len(errs) > 0 {
		t.Fatalf("errors: %v", errs)
	}
	got, ok := ws.Trace(id)
	if !ok || got.Data == nil {
		t.Fatalf("trace %s not stored complete: %+v", id, got.TraceID)
	}
	var body struct {
		Trace struct {
			TraceInfo struct {
				RequestPreview string `json:"request_preview"`
			} `json:"trace_info"`
		} `json:"trace"`
	}
	_ = json.Unmarshal(got.StartTraceV3, &body)
	if p := []rune(body.Trace.TraceInfo.RequestPreview); len(p) != 10000 || !strings.HasSuffix(string(p), "...") {
		t.Errorf("request preview: %d characters, want 10000 ending in ...", len(p))
	}
	var data struct {
		Spans []json.RawMessage `json:"spans"`
	}
	if err := json.Unmarshal(got.Data, &data); err != nil || len(data.Spans) != 2 {
		t.Errorf("traces.json: %v, %d spans", err, len(data.Spans))
	}
}

// TestDatabricksUnityCatalogIDs: with a UC destination every id the program
// sees (Span.TraceID, LastTraceID) and stores (mlflow.traceRequestId, the v4
// trace info) is "trace:/<catalog>.<schema>/<hex>".
func TestDatabricksUnityCatalogIDs(t *testing.T) {
	ws := databrickstest.New(t)
	ws.CreateUCSchema("main", "agents")
	env := ws.PATEnv()
	env["MLFLOW_TRACING_DESTINATION"] = "main.agents"
	r := startDatabricks(t, ws, env)
	id := r.trace(context.Background(), "agent", "hi")
	if !strings.HasPrefix(id, "trace:/main.agents/") || len(id) != len("trace:/main.agents/")+32 {
		t.Fatalf("Span.TraceID = %q", id)
	}
	if last := tracing.LastTraceID(); last != id {
		t.Errorf("LastTraceID = %q, want %q", last, id)
	}
	if err := r.p.Shutdown(context.Background()); err != nil {
		t.Fatal(err)
	}
	got, ok := ws.Trace(id)
	if !ok || len(got.Spans) != 2 || got.TraceInfoV4 == nil {
		t.Fatalf("stored: %v spans %d info %s", ok, len(got.Spans), got.TraceInfoV4)
	}
	var info struct {
		TraceID  string            `json:"trace_id"`
		Metadata map[string]string `json:"trace_metadata"`
	}
	_ = json.Unmarshal(got.TraceInfoV4, &info)
	if info.TraceID != strings.TrimPrefix(id, "trace:/main.agents/") || info.Metadata["mlflow.trace_schema.version"] != "4" {
		t.Errorf("v4 info: %+v", info)
	}
	if errs := r.errors(); len(errs) > 0 {
		t.Errorf("errors: %v", errs)
	}
}

// TestDatabricksExperimentLinkedToUnityCatalog: with only the environment
// (PAT + MLFLOW_EXPERIMENT_ID) and an experiment linked to Unity Catalog
// tables, Init learns the link (in the background, waiting for it at most
// a few seconds) and trace ids are "trace:/<catalog>.<schema>.<prefix>/<hex>"
// from the first trace; every trace lands in the linked tables.
func TestDatabricksExperimentLinkedToUnityCatalog(t *testing.T) {
	ws := databrickstest.New(t)
	exp := ws.CreateExperiment("/Users/a@b.c/linked", databrickstest.AWS)
	ws.LinkExperimentToUC(exp, "main", "agents", "prod")
	env := ws.PATEnv()
	env["MLFLOW_EXPERIMENT_ID"] = exp
	r := startDatabricks(t, ws, env) // Init waits (bounded) for the link lookup
	const prefix = "trace:/main.agents.prod/"
	ids := []string{r.trace(context.Background(), "agent", "hi"), r.trace(context.Background(), "agent", "again")}
	for _, id := range ids {
		if !strings.HasPrefix(id, prefix) {
			t.Fatalf("trace id %q, want %q…", id, prefix)
		}
	}
	if last := tracing.LastTraceID(); last != ids[1] {
		t.Fatalf("LastTraceID %q, want %q", last, ids[1])
	}
	if err := r.p.Shutdown(context.Background()); err != nil {
		t.Fatal(err)
	}
	if errs := r.errors(); len(errs) > 0 {
		t.Fatalf("errors: %v", errs)
	}
	for _, id := range ids {
		hexID := id[strings.LastIndexAny(id, "-/")+1:]
		got, ok := ws.Trace(prefix + hexID)
		if !ok || len(got.Spans) != 2 || got.TraceInfoV4 == nil || got.SpanTable != "main.agents.prod_otel_spans" {
			t.Errorf("%s: stored %v, %d spans, table %q", id, ok, len(got.Spans), got.SpanTable)
		}
	}
	if rej := ws.Rejections(); len(rej) > 0 {
		t.Errorf("fake rejected: %v", rej)
	}
}

// TestDatabricksTokenExpiryMidRun: the OAuth token expires while the
// program runs; the next export refreshes it once and no trace is lost.
func TestDatabricksTokenExpiryMidRun(t *testing.T) {
	ws := databrickstest.New(t)
	exp := ws.CreateExperiment("e", databrickstest.Azure)
	env := ws.OAuthEnv()
	env["MLFLOW_EXPERIMENT_ID"] = exp
	r := startDatabricks(t, ws, env)
	ctx := context.Background()
	var ids []string
	ids = append(ids, r.trace(ctx, "before", "a"))
	if err := r.p.ForceFlush(ctx); err != nil {
		t.Fatal(err)
	}
	ws.ExpireTokens()
	for i := 0; i < 5; i++ {
		ids = append(ids, r.trace(ctx, "after", "b"))
	}
	if err := r.p.Shutdown(ctx); err != nil {
		t.Fatal(err)
	}
	if errs := r.errors(); len(errs) > 0 {
		t.Fatalf("errors: %v", errs)
	}
	for _, id := range ids {
		if got, ok := ws.Trace(id); !ok || got.Data == nil {
			t.Errorf("trace %s lost", id)
		}
	}
	if n := ws.TokenRequests(); n != 2 {
		t.Errorf("token requests = %d, want 2", n)
	}
}

// TestDatabricksTokenRetryIsCounted: an OAuth token request the workspace
// answers 503 is retried, and the retry is counted in Stats().Retried like
// the retries of every other request.
func TestDatabricksTokenRetryIsCounted(t *testing.T) {
	ws := databrickstest.New(t)
	exp := ws.CreateExperiment("e", databrickstest.AWS)
	env := ws.OAuthEnv()
	env["MLFLOW_EXPERIMENT_ID"] = exp
	ws.Fail(databrickstest.Fault{PathPrefix: "/oidc/v1/token", Status: 503, Times: 1})
	r := startDatabricks(t, ws, env)
	ctx := context.Background()
	id := r.trace(ctx, "t", "a")
	if err := r.p.Shutdown(ctx); err != nil {
		t.Fatal(err)
	}
	if got, ok := ws.Trace(id); !ok || got.Data == nil {
		t.Fatalf("trace %s lost", id)
	}
	if st := r.p.Stats(); st.Retried != 1 {
		t.Errorf("Stats().Retried = %d, want 1 (the token request)", st.Retried)
	}
}

// TestDatabricksModelServingTokenRotation: inside Model Serving (only the
// serving variables, no tracking URI) traces go to the workspace with the
// token of the serving credentials file; when the platform rotates the file
// and revokes the old token, the next export's 401 makes the exporter read
// the file again, and no trace is lost.
func TestDatabricksModelServingTokenRotation(t *testing.T) {
	ws := databrickstest.New(t)
	exp := ws.CreateExperiment("serving", databrickstest.GCP)
	dir := t.TempDir()
	writeToken := func(tok string) {
		ws.AddToken(tok)
		b, _ := json.Marshal(map[string]any{"OAUTH_TOKEN": []map[string]string{{"oauthTokenValue": tok}}})
		if err := os.WriteFile(filepath.Join(dir, "model-dependencies-oauth-token"), b, 0o600); err != nil {
			t.Fatal(err)
		}
	}
	writeToken("serving-token-1")
	env := map[string]string{
		"IS_IN_DB_MODEL_SERVING_ENV": "true",
		"ENABLE_MLFLOW_TRACING":      "true",
		"DB_MODEL_SERVING_HOST_URL":  ws.URL,
		"SERVING_CREDENTIALS_DIR":    dir,
		"MLFLOW_EXPERIMENT_ID":       exp,
	}
	r := startDatabricks(t, ws, env)
	ctx := context.Background()
	first := r.trace(ctx, "before", "a")
	if err := r.p.ForceFlush(ctx); err != nil {
		t.Fatal(err)
	}
	writeToken("serving-token-2")
	ws.RevokeToken("serving-token-1")
	second := r.trace(ctx, "after", "b")
	if err := r.p.Shutdown(ctx); err != nil {
		t.Fatal(err)
	}
	if errs := r.errors(); len(errs) > 0 {
		t.Fatalf("errors: %v", errs)
	}
	for _, id := range []string{first, second} {
		if got, ok := ws.Trace(id); !ok || got.Data == nil {
			t.Errorf("trace %s lost", id)
		}
	}
	auths := map[string]int{}
	for _, q := range ws.Requests() {
		if q.Host == "workspace" && q.Status < 400 {
			auths[q.Auth]++
		}
	}
	if auths["serving"] == 0 || auths["pat"] != 0 {
		t.Errorf("requests by auth: %v", auths)
	}
}

// TestDatabricksUnauthorizedReportedOnce: a revoked token gives one error
// per failed export, with the hint, and no retry storm or crash.
func TestDatabricksUnauthorizedReportedOnce(t *testing.T) {
	ws := databrickstest.New(t)
	exp := ws.CreateExperiment("e", databrickstest.AWS)
	env := ws.PATEnv()
	env["MLFLOW_EXPERIMENT_ID"] = exp
	ws.RevokeToken(ws.Token)
	r := startDatabricks(t, ws, env)
	r.trace(context.Background(), "agent", "x")
	err := r.p.Shutdown(context.Background())
	if ue, ok := errors.AsType[*exporter.UndeliveredError](err); !ok || ue.Traces != 1 || !strings.Contains(err.Error(), "DATABRICKS_TOKEN") {
		t.Fatalf("Shutdown = %v, want the one undelivered trace with the hint", err)
	}
	errs := r.errors()
	if len(errs) != 1 {
		t.Fatalf("%d errors reported, want 1: %v", len(errs), errs)
	}
	msg := errs[0].Error()
	for _, w := range []string{"status 401", "expired or revoked", "DATABRICKS_TOKEN"} {
		if !strings.Contains(msg, w) {
			t.Errorf("error %q does not mention %q", msg, w)
		}
	}
	if strings.Contains(msg, ws.Token) {
		t.Error("error leaks the token")
	}
	calls := 0
	for _, q := range ws.Requests() {
		if q.Path == "/api/3.0/mlflow/traces" {
			calls++
		}
	}
	if calls != 1 {
		t.Errorf("StartTraceV3 sent %d times, want 1", calls)
	}
}

// TestDatabricksHungWorkspaceNeverBlocks: a workspace that does not answer
// never slows End() (nor New: the experiment's Unity Catalog lookup hangs
// too); Shutdown returns at its deadline, and nothing the exporter started
// is left running.
func TestDatabricksHungWorkspaceNeverBlocks(t *testing.T) {
	ws := databrickstest.New(t)
	before := goleak.IgnoreCurrent() // the fake workspace's own servers
	exp := ws.CreateExperiment("e", databrickstest.AWS)
	ws.Fail(databrickstest.Fault{Delay: time.Minute})
	env := ws.PATEnv()
	env["MLFLOW_EXPERIMENT_ID"] = exp
	r := startDatabricks(t, ws, env, exporter.WithMaxQueueSize(10))
	start := time.Now()
	for i := 0; i < 200; i++ {
		r.trace(context.Background(), "agent", "x")
	}
	if d := time.Since(start); d > 5*time.Second {
		t.Errorf("200 traces took %v on the caller's path with a hung workspace", d)
	}
	ctx, cancel := context.WithTimeout(context.Background(), 500*time.Millisecond)
	defer cancel()
	sstart := time.Now()
	err := r.p.Shutdown(ctx)
	if d := time.Since(sstart); d > 5*time.Second {
		t.Errorf("Shutdown took %v with a 500ms deadline", d)
	}
	if !errors.Is(err, context.DeadlineExceeded) || !strings.Contains(err.Error(), "waiting to reach "+ws.URL) {
		t.Errorf("Shutdown = %v, want the deadline, with what was waiting and where", err)
	}
	goleak.VerifyNone(t, before)
}

// TestDatabricksLLMCost: on a workspace the trace's LLM spans are sent
// priced (mlflow.llm.cost) with the trace's cost in its metadata
// (mlflow.trace.cost), from MLflow's bundled prices, a file://
// MLFLOW_MODEL_CATALOG_URI directory, or WithModelCatalog (which wins); an
// http(s) catalog URI is reported once, without its value, and the bundled
// prices used.
func TestDatabricksLLMCost(t *testing.T) {
	const (
		bundled = `{"input_cost": 1.8e-06, "output_cost": 4.8e-06, "total_cost": 6.5999999999999995e-06}`
		fromDir = `{"input_cost": 1.2e-05, "output_cost": 1.6e-05, "total_cost": 2.8e-05}`
		fromOpt = `{"input_cost": 0.00012000000000000002, "output_cost": 0.00016, "total_cost": 0.00028000000000000003}`
	)
	dir := t.TempDir()
	catalog := func(in, out int) []byte {
		return []byte(fmt.Sprintf(`{"models": {"gpt-4o-mini": {"pricing": {"input_per_million_tokens": %d, "output_per_million_tokens": %d}}}}`, in, out))
	}
	if err := os.WriteFile(filepath.Join(dir, "openai.json"), catalog(1, 2), 0o600); err != nil {
		t.Fatal(err)
	}
	for _, tc := range []struct {
		name, uri string
		opts      []exporter.Option
		want      string
		reported  string
	}{
		{"bundled", "", nil, bundled, ""},
		{"file directory", "file://" + dir, nil, fromDir, ""},
		{"missing directory", "file:///nonexistent-mlflow-model-catalog", nil, bundled, ""},
		{"option wins", "file://" + dir, []exporter.Option{exporter.WithModelCatalog(fstest.MapFS{"openai.json": {Data: catalog(10, 20)}})}, fromOpt, ""},
		{"https not downloaded", "https://user:secret@example.com/catalog", nil, bundled, `MLFLOW_MODEL_CATALOG_URI has scheme "https"`},
	} {
		t.Run(tc.name, func(t *testing.T) {
			ws := databrickstest.New(t)
			env := ws.PATEnv()
			env["MLFLOW_TRACKING_URI"] = "databricks"
			env["MLFLOW_EXPERIMENT_ID"] = ws.CreateExperiment("/Users/a@b.c/cost", databrickstest.AWS)
			env["MLFLOW_MODEL_CATALOG_URI"] = tc.uri
			r := startDatabricks(t, ws, env, tc.opts...)
			ctx, root := tracing.StartSpan(context.Background(), "agent", tracing.WithSpanType(tracing.SpanTypeAgent))
			_, llm := tracing.StartSpan(ctx, "chat", tracing.WithSpanType(tracing.SpanTypeChatModel))
			llm.SetModel("gpt-4o-mini")
			llm.SetProvider("openai")
			llm.SetTokenUsage(tracing.TokenUsage{InputTokens: 12, OutputTokens: 8, TotalTokens: 20})
			llm.End()
			root.End()
			if err := r.p.Shutdown(context.Background()); err != nil {
				t.Fatal(err)
			}
			errs := r.errors()
			if tc.reported == "" && len(errs) > 0 || tc.reported != "" && (len(errs) != 1 || !strings.Contains(errs[0].Error(), tc.reported)) {
				t.Fatalf("errors %v, want %q", errs, tc.reported)
			}
			if len(errs) == 1 && strings.Contains(errs[0].Error(), "secret") {
				t.Errorf("the catalog URI's credentials were reported: %v", errs[0])
			}
			got, ok := ws.Trace(root.TraceID())
			if !ok {
				t.Fatal("trace not stored")
			}
			attrs, err := got.SpanAttributes()
			if err != nil {
				t.Fatal(err)
			}
			for name, a := range attrs {
				if c, has := a["mlflow.llm.cost"]; (name == "chat") != has || has && c != tc.want {
					t.Errorf("span %s: mlflow.llm.cost %q, want %s on chat only", name, c, tc.want)
				}
			}
			var body struct {
				Trace struct {
					TraceInfo struct {
						Metadata map[string]string `json:"trace_metadata"`
					} `json:"trace_info"`
				} `json:"trace"`
			}
			_ = json.Unmarshal(got.StartTraceV3, &body)
			if c := body.Trace.TraceInfo.Metadata["mlflow.trace.cost"]; c != tc.want {
				t.Errorf("mlflow.trace.cost %q, want %s", c, tc.want)
			}
		})
	}
}
