package databricks

import (
	"bytes"
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"net/http"
	"slices"
	"strings"
	"sync"
	"testing"
	"testing/fstest"
	"time"

	"go.opentelemetry.io/otel/trace"
	tracepb "go.opentelemetry.io/proto/otlp/trace/v1"
	"go.uber.org/goleak"
	"google.golang.org/protobuf/proto"

	"github.com/mlflowtrace/mlflowtrace-go/internal/databrickstest"
	"github.com/mlflowtrace/mlflowtrace-go/internal/dbauth"
	"github.com/mlflowtrace/mlflowtrace-go/internal/keys"
	"github.com/mlflowtrace/mlflowtrace-go/internal/llmcost"
	"github.com/mlflowtrace/mlflowtrace-go/internal/tracemodel"
	"github.com/mlflowtrace/mlflowtrace-go/internal/transport"
)

func TestMain(m *testing.M) { goleak.VerifyTestMain(m) }

// newDest returns a Destination for the fake workspace with env's
// credentials and quick retries.
func newDest(t *testing.T, ws *databrickstest.Workspace, env map[string]string, cfg Config) *Destination {
	t.Helper()
	tc := transport.Config{
		HTTPClient:    ws.HTTPClient(),
		MaxRetries:    transport.Ptr(3),
		BackoffFactor: transport.Ptr(0.01),
		BackoffJitter: transport.Ptr(0.0),
	}
	w, err := dbauth.Resolve(dbauth.Options{Getenv: func(k string) string { return env[k] }, HTTP: tc})
	if err != nil {
		t.Fatal(err)
	}
	cfg.Workspace, cfg.Transport = w, tc
	d, err := New(cfg)
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { _ = d.Shutdown(context.Background()) })
	return d
}

var seq byte

// testTrace builds a finished two-span trace; prefix "" gives "tr-" ids.
func testTrace(prefix string, payload string) *tracemodel.Trace {
	seq++
	var tid trace.TraceID
	tid[0], tid[15] = 0xab, seq
	root, child := trace.SpanID{1, seq}, trace.SpanID{2, seq}
	start := time.Date(2026, 1, 2, 3, 4, 5, 6e6, time.UTC)
	id := tracemodel.RequestID(tid)
	if prefix != "" {
		id = prefix + tid.String()
	}
	reqAttr := `"` + id + `"`
	spans := []*tracemodel.Span{
		{TraceID: tid, SpanID: root, Name: "agent", StartTime: start, EndTime: start.Add(time.Second),
			Status: tracemodel.Status{Code: tracemodel.StatusCodeOK},
			Attributes: map[string]string{keys.TraceRequestID: reqAttr, keys.SpanType: `"AGENT"`,
				keys.SpanInputs: `{"q": "hi"}`, keys.SpanOutputs: `"` + payload + `"`}},
		{TraceID: tid, SpanID: child, ParentSpanID: root, Name: "tool", StartTime: start.Add(time.Millisecond), EndTime: start.Add(2 * time.Millisecond),
			Status:     tracemodel.Status{Code: tracemodel.StatusCodeOK},
			Attributes: map[string]string{keys.TraceRequestID: reqAttr, keys.SpanType: `"TOOL"`}},
	}
	return &tracemodel.Trace{
		Info: tracemodel.TraceInfo{
			TraceID: id, RequestTime: start, ExecutionDuration: time.Second, State: tracemodel.StateOK,
			RequestPreview: `{"q": "hi"}`, ResponsePreview: "ok",
			Metadata: map[string]string{keys.MetaSchemaVersion: "3", keys.MetaUser: "user-42", keys.MetaSession: "s-7"},
			Tags:     map[string]string{keys.TagTraceName: "agent"},
		},
		Spans: spans,
	}
}

func TestExperimentTracesEveryCloud(t *testing.T) {
	for _, cloud := range databrickstest.Clouds {
		t.Run(string(cloud), func(t *testing.T) {
			ws := databrickstest.New(t)
			exp := ws.CreateExperiment("/Users/a@b.c/agent", cloud)
			d := newDest(t, ws, ws.PATEnv(), Config{ExperimentID: exp})
			tr := testTrace("", "done")
			if err := d.ExportTraces(context.Background(), []*tracemodel.Trace{tr}); err != nil {
				t.Fatal(err)
			}
			got, ok := ws.Trace(tr.Info.TraceID)
			if !ok {
				t.Fatal("trace not stored")
			}
			want, _ := tracemodel.MarshalTraceData(tr.Spans)
			if got.DataVia != string(cloud) || !bytes.Equal(got.Data, want) {
				t.Errorf("data via %q = %d bytes, want %d bytes via %s", got.DataVia, len(got.Data), len(want), cloud)
			}
			if got.Location != exp {
				t.Errorf("location %q", got.Location)
			}
			var body struct {
				Trace struct {
					TraceInfo tracemodel.TraceInfo `json:"trace_info"`
				} `json:"trace"`
			}
			if err := json.Unmarshal(got.StartTraceV3, &body); err != nil || body.Trace.TraceInfo.ExperimentID != exp {
				t.Errorf("StartTraceV3 body: %v %+v", err, body)
			}
			// The store saw only signed requests, never the workspace token.
			var ops []string
			for _, r := range ws.Requests() {
				if r.Host != string(cloud) {
					continue
				}
				if r.Header["authorization"] != "" {
					t.Errorf("workspace credentials sent to the store")
				}
				ops = append(ops, r.Method+" "+storeOp(r.Query))
			}
			wantOps := map[databrickstest.Cloud]string{
				databrickstest.AWS:   "PUT ",
				databrickstest.GCP:   "PUT ",
				databrickstest.Azure: "PUT ",
				databrickstest.ADLS:  "PUT resource=file,PATCH action=append&position=0&flush=true",
			}[cloud]
			if strings.Join(ops, ",") != wantOps {
				t.Errorf("store operations %q, want %q", ops, wantOps)
			}
			if rej := ws.Rejections(); len(rej) > 0 {
				t.Errorf("rejections: %v", rej)
			}
		})
	}
}

// storeOp strips the signature part of a signed query, keeping the
// operation parameters the client appended.
func storeOp(q string) string {
	var keep []string
	for _, kv := range strings.Split(q, "&") {
		k, _, _ := strings.Cut(kv, "=")
		switch k {
		case "resource", "action", "position", "flush", "comp":
			keep = append(keep, kv)
		}
	}
	return strings.Join(keep, "&")
}

// TestLargeTraceDataChunked: above 10 MiB Azure gets blocks and a block
// list, ADLS chunked appends and a flush.
func TestLargeTraceDataChunked(t *testing.T) {
	if testing.Short() {
		t.Skip("uploads 20 MiB")
	}
	big := strings.Repeat("x", chunkSize+1000)
	for _, tc := range []struct {
		cloud databrickstest.Cloud
		ops   string
	}{
		{databrickstest.Azure, "PUT comp=block,PUT comp=block,PUT comp=blocklist"},
		{databrickstest.ADLS, "PUT resource=file,PATCH action=append&position=0,PATCH action=append&position=10485760,PATCH action=flush&position="},
	} {
		t.Run(string(tc.cloud), func(t *testing.T) {
			ws := databrickstest.New(t)
			exp := ws.CreateExperiment("big", tc.cloud)
			d := newDest(t, ws, ws.PATEnv(), Config{ExperimentID: exp})
			tr := testTrace("", big)
			if err := d.ExportTraces(context.Background(), []*tracemodel.Trace{tr}); err != nil {
				t.Fatal(err)
			}
			got, _ := ws.Trace(tr.Info.TraceID)
			want, _ := tracemodel.MarshalTraceData(tr.Spans)
			if !bytes.Equal(got.Data, want) {
				t.Fatalf("stored %d bytes, want %d", len(got.Data), len(want))
			}
			var ops []string
			for _, r := range ws.Requests() {
				if r.Host == string(tc.cloud) {
					op := storeOp(r.Query)
					if strings.Contains(op, "comp=block&") || strings.HasPrefix(op, "comp=block") && !strings.Contains(op, "blocklist") {
						op = "comp=block"
					}
					ops = append(ops, r.Method+" "+op)
				}
			}
			got0 := strings.Join(ops, ",")
			if !strings.HasPrefix(got0, tc.ops) {
				t.Errorf("operations %q, want prefix %q", got0, tc.ops)
			}
		})
	}
}

func TestVolumeExperiment(t *testing.T) {
	ws := databrickstest.New(t)
	exp := ws.CreateVolumeExperiment("vol", "/Volumes/main/agents/traces/exp")
	d := newDest(t, ws, ws.PATEnv(), Config{ExperimentID: exp})
	tr := testTrace("", "done")
	if err := d.ExportTraces(context.Background(), []*tracemodel.Trace{tr}); err != nil {
		t.Fatal(err)
	}
	got, _ := ws.Trace(tr.Info.TraceID)
	want, _ := tracemodel.MarshalTraceData(tr.Spans)
	wantPath := "/Volumes/main/agents/traces/exp/traces/" + tr.Info.TraceID + "/artifacts/traces.json"
	if got.DataVia != databrickstest.UCVolume || got.DataPath != wantPath || !bytes.Equal(got.Data, want) {
		t.Errorf("via %q path %q, %d bytes", got.DataVia, got.DataPath, len(got.Data))
	}
}

func TestUnityCatalogTables(t *testing.T) {
	ws := databrickstest.New(t)
	ws.CreateUCSchema("main", "agents")
	d := newDest(t, ws, ws.PATEnv(), Config{UCSchema: "main.agents", Resource: map[string]any{"telemetry.sdk.language": "go"}})
	prefix := tracemodel.UCRequestIDPrefix("main.agents")
	t1, t2 := testTrace(prefix, "a"), testTrace(prefix, "b")
	for _, tr := range []*tracemodel.Trace{t1, t2} {
		tr.Info.Metadata[keys.MetaSchemaVersion] = "4"
	}
	rootAttrs := len(t1.Spans[0].Attributes)
	if err := d.ExportTraces(context.Background(), []*tracemodel.Trace{t1, t2}); err != nil {
		t.Fatal(err)
	}
	if len(t1.Spans[0].Attributes) != rootAttrs {
		t.Error("the shared root span was modified")
	}
	var otlp int
	for _, r := range ws.Requests() {
		if r.Path == "/api/2.0/otel/v1/traces" {
			otlp++
		}
	}
	if otlp != 1 {
		t.Errorf("%d OTLP requests for one batch, want 1", otlp)
	}
	for _, tr := range []*tracemodel.Trace{t1, t2} {
		got, ok := ws.Trace(tr.Info.TraceID)
		if !ok {
			t.Fatalf("%s not stored", tr.Info.TraceID)
		}
		if got.SpanTable != "main.agents.mlflow_experiment_trace_otel_spans" || len(got.Spans) != 2 {
			t.Errorf("spans: table %q, %d spans", got.SpanTable, len(got.Spans))
		}
		var info map[string]any
		_ = json.Unmarshal(got.TraceInfoV4, &info)
		if info["trace_id"] != strings.TrimPrefix(tr.Info.TraceID, prefix) {
			t.Errorf("v4 trace_id %v", info["trace_id"])
		}
		loc, _ := json.Marshal(info["trace_location"])
		if !strings.Contains(string(loc), `"type":"UC_SCHEMA"`) || !strings.Contains(string(loc), `"catalog_name":"main"`) {
			t.Errorf("location %s", loc)
		}
		for _, b := range got.Spans {
			var sp tracepb.Span
			if err := proto.Unmarshal(b, &sp); err != nil {
				t.Fatal(err)
			}
			attrs := map[string]string{}
			for _, kv := range sp.Attributes {
				attrs[kv.Key] = kv.Value.GetStringValue()
			}
			if attrs[keys.TraceRequestID] != tr.Info.TraceID {
				t.Errorf("span %s: mlflow.traceRequestId %q", sp.Name, attrs[keys.TraceRequestID])
			}
			if len(sp.ParentSpanId) == 0 && (attrs[keys.UserID] != "user-42" || attrs[keys.SessionID] != "s-7") {
				t.Errorf("root span user.id %q session.id %q", attrs[keys.UserID], attrs[keys.SessionID])
			}
		}
	}
}

func TestExperimentByNameCreated(t *testing.T) {
	ws := databrickstest.New(t)
	d := newDest(t, ws, ws.PATEnv(), Config{ExperimentName: "/Users/a@b.c/new-agent"})
	tr := testTrace("", "x")
	if err := d.ExportTraces(context.Background(), []*tracemodel.Trace{tr}); err != nil {
		t.Fatal(err)
	}
	got, _ := ws.Trace(tr.Info.TraceID)
	if got.Location == "" || got.Location != d.ExperimentID() || got.DataVia != string(databrickstest.AWS) {
		t.Errorf("trace in %q (resolved %q) via %q", got.Location, d.ExperimentID(), got.DataVia)
	}
}

func TestNewNeedsAnExperiment(t *testing.T) {
	ws := &dbauth.Config{Host: "https://w", AuthType: dbauth.AuthPAT, Credentials: transport.CredentialsFunc(func(*http.Request) error { return nil })}
	_, err := New(Config{Workspace: ws})
	if err == nil || !strings.Contains(err.Error(), "MLFLOW_EXPERIMENT_ID") || !strings.Contains(err.Error(), "MLFLOW_TRACING_DESTINATION") {
		t.Errorf("err = %v", err)
	}
	if _, err := New(Config{Workspace: ws, UCSchema: "a.b.c"}); err == nil {
		t.Error("a.b.c accepted as a UC schema")
	}
}

func TestTransientFaultsRetried(t *testing.T) {
	for _, f := range []databrickstest.Fault{
		{PathPrefix: "/api/3.0/mlflow/traces", Status: 429, Times: 2, RetryAfter: "0"},
		{PathPrefix: "/api/3.0/mlflow/traces", Status: 503, Times: 2},
		{PathPrefix: "/api/2.0/mlflow/traces/", Status: 500, Times: 1},
		{Host: string(databrickstest.AWS), Status: 503, Times: 2},
	} {
		t.Run(fmt.Sprintf("%s %d", f.PathPrefix+f.Host, f.Status), func(t *testing.T) {
			ws := databrickstest.New(t)
			exp := ws.CreateExperiment("e", databrickstest.AWS)
			ws.Fail(f)
			d := newDest(t, ws, ws.PATEnv(), Config{ExperimentID: exp})
			tr := testTrace("", "x")
			if err := d.ExportTraces(context.Background(), []*tracemodel.Trace{tr}); err != nil {
				t.Fatal(err)
			}
			if got, _ := ws.Trace(tr.Info.TraceID); got.Data == nil {
				t.Error("trace data lost")
			}
		})
	}
}

func TestUnauthorizedReportedOnceWithHint(t *testing.T) {
	ws := databrickstest.New(t)
	exp := ws.CreateExperiment("e", databrickstest.AWS)
	env := ws.PATEnv()
	ws.RevokeToken(ws.Token)
	d := newDest(t, ws, env, Config{ExperimentID: exp})
	err := d.ExportTraces(context.Background(), []*tracemodel.Trace{testTrace("", "x")})
	if err == nil {
		t.Fatal("want an error")
	}
	msg := err.Error()
	for _, w := range []string{"status 401", "expired or revoked", "DATABRICKS_TOKEN"} {
		if !strings.Contains(msg, w) {
			t.Errorf("error %q does not mention %q", msg, w)
		}
	}
	if strings.Contains(msg, ws.Token) {
		t.Errorf("error leaks the token: %s", msg)
	}
	n := 0
	for _, r := range ws.Requests() {
		if r.Path == "/api/3.0/mlflow/traces" {
			n++
		}
	}
	if n != 1 {
		t.Errorf("StartTraceV3 sent %d times after a 401, want 1 (not retried)", n)
	}
}

func TestPermissionDeniedHint(t *testing.T) {
	ws := databrickstest.New(t)
	exp := ws.CreateExperiment("e", databrickstest.AWS)
	ws.DenyEdit(exp)
	d := newDest(t, ws, ws.PATEnv(), Config{ExperimentID: exp})
	err := d.ExportTraces(context.Background(), []*tracemodel.Trace{testTrace("", "x")})
	if err == nil || !strings.Contains(err.Error(), "status 403 PERMISSION_DENIED") || !strings.Contains(err.Error(), "CAN_EDIT") {
		t.Errorf("err = %v", err)
	}
}

func TestExpiredSignedURLGetsFreshCredentials(t *testing.T) {
	for _, cloud := range databrickstest.Clouds {
		t.Run(string(cloud), func(t *testing.T) {
			ws := databrickstest.New(t)
			exp := ws.CreateExperiment("e", cloud)
			body := `<?xml version="1.0"?><Error><Code>AccessDenied</Code><Message>Request has expired</Message></Error>`
			status := http.StatusForbidden
			if cloud == databrickstest.GCP {
				status, body = http.StatusBadRequest, `<?xml version="1.0"?><Error><Code>ExpiredToken</Code><Message>The provided token has expired.</Message></Error>`
			}
			ws.Fail(databrickstest.Fault{Host: string(cloud), Status: status, Times: 1, Body: body})
			d := newDest(t, ws, ws.PATEnv(), Config{ExperimentID: exp})
			tr := testTrace("", "x")
			if err := d.ExportTraces(context.Background(), []*tracemodel.Trace{tr}); err != nil {
				t.Fatal(err)
			}
			creds := 0
			for _, r := range ws.Requests() {
				if strings.HasSuffix(r.Path, "/credentials-for-data-upload") {
					creds++
				}
				if r.Host == string(cloud) && strings.Contains(r.Query, "sig") && r.Status >= 400 && r.Status != status {
					t.Errorf("unexpected store answer %d", r.Status)
				}
			}
			if got, _ := ws.Trace(tr.Info.TraceID); got.Data == nil || creds != 2 {
				t.Errorf("data %d bytes, %d credential requests (want 2)", len(got.Data), creds)
			}
		})
	}
}

// TestOAuthTokenExpiryMidRun: the token expires between two exports; the
// second export's 401 makes the provider fetch a new token once and the
// trace is not lost. Concurrent exports share that refresh.
func TestOAuthTokenExpiryMidRun(t *testing.T) {
	ws := databrickstest.New(t)
	exp := ws.CreateExperiment("e", databrickstest.GCP)
	d := newDest(t, ws, ws.OAuthEnv(), Config{ExperimentID: exp})
	first := testTrace("", "1")
	if err := d.ExportTraces(context.Background(), []*tracemodel.Trace{first}); err != nil {
		t.Fatal(err)
	}
	if ws.TokenRequests() != 1 {
		t.Fatalf("token requests = %d", ws.TokenRequests())
	}
	ws.ExpireTokens()
	var wg sync.WaitGroup
	traces := make([]*tracemodel.Trace, 8)
	errs := make([]error, len(traces))
	for i := range traces {
		traces[i] = testTrace("", "n")
	}
	for i := range traces {
		wg.Add(1)
		go func() {
			defer wg.Done()
			errs[i] = d.ExportTraces(context.Background(), traces[i:i+1])
		}()
	}
	wg.Wait()
	for i, err := range errs {
		if err != nil {
			t.Errorf("export %d: %v", i, err)
		}
		if got, _ := ws.Trace(traces[i].Info.TraceID); got.Data == nil {
			t.Errorf("trace %d lost", i)
		}
	}
	if n := ws.TokenRequests(); n != 2 {
		t.Errorf("token requests = %d, want 2 (one refresh shared by 8 exports)", n)
	}
}

func TestUnsupportedArtifactLocationReportedOnce(t *testing.T) {
	d := &Destination{} // the zero Reported is ready
	// Every upload fails; after the first the error is marked as reported
	// before (the trace counts as failed, the handler hears it once).
	for i := 0; i < 2; i++ {
		err := d.upload(context.Background(), "tr-x", "s3://bucket/path", nil)
		if err == nil || !strings.Contains(err.Error(), `"s3"`) || errors.Is(err, tracemodel.ErrReportedBefore) != (i > 0) {
			t.Errorf("call %d: %v", i, err)
		}
	}
	if err := d.upload(context.Background(), "tr-x", "dbfs:/tmp/elsewhere", nil); err == nil || !strings.Contains(err.Error(), "outside") {
		t.Errorf("dbfs path: %v", err)
	}
}

// The part of a distributed trace continued from a remote parent is
// written as a trace of its own (a Databricks experiment takes no separate
// spans; dropping it, as MLflow's Python SDK does, would lose it).
func TestContinuedRemoteTraceWritten(t *testing.T) {
	ws := databrickstest.New(t)
	d := newDest(t, ws, ws.PATEnv(), Config{ExperimentID: ws.CreateExperiment("e", databrickstest.AWS)})
	tr := testTrace("", "a")
	root := *tr.Spans[0]
	root.ParentSpanID = trace.SpanID{9, 9, 9}
	tr.Spans[0] = &root
	if !tr.ContinuesRemote() {
		t.Fatal("test trace does not continue a remote parent")
	}
	if err := d.ExportTraces(context.Background(), []*tracemodel.Trace{tr}); err != nil {
		t.Fatal(err)
	}
	got, ok := ws.Trace(tr.Info.TraceID)
	want, _ := tracemodel.MarshalTraceData(tr.Spans)
	if !ok || !bytes.Equal(got.Data, want) {
		t.Errorf("continued trace stored %v, %d bytes", ok, len(got.Data))
	}
}

// TestExperimentLinkedToUnityCatalog: an experiment whose tags link it to a
// Unity Catalog table-prefix location gets its traces as MLflow sends them
// there (OTLP spans to the linked spans table, v4 infos of type
// UC_TABLE_PREFIX), not through StartTraceV3. A trace built before the link
// was known ("tr-" id, schema version 3) is converted; once Start returns
// the destination hands out the "trace:/<location>/" prefix.
func TestExperimentLinkedToUnityCatalog(t *testing.T) {
	ws := databrickstest.New(t)
	exp := ws.CreateExperiment("/Users/a@b.c/linked", databrickstest.AWS)
	spansTable := ws.LinkExperimentToUC(exp, "main", "agents", "prod")
	d := newDest(t, ws, ws.PATEnv(), Config{ExperimentID: exp})
	if p, v := d.TraceIDPrefix(); p != "" || v != "" {
		t.Fatalf("before LookupLink: prefix %q version %q", p, v)
	}
	early := testTrace("", "early") // built before the link was known
	ctx, cancel := context.WithTimeout(context.Background(), 10*time.Second)
	d.LookupLink(ctx)
	cancel()
	loc := "main.agents.prod"
	prefix, version := d.TraceIDPrefix()
	if d.UCLocation() != loc || prefix != tracemodel.UCRequestIDPrefix(loc) || version != "4" {
		t.Fatalf("after LookupLink: location %q prefix %q version %q", d.UCLocation(), prefix, version)
	}
	late := testTrace(prefix, "late")
	late.Info.Metadata[keys.MetaSchemaVersion] = "4"
	if err := d.ExportTraces(context.Background(), []*tracemodel.Trace{early, late}); err != nil {
		t.Fatal(err)
	}
	for _, r := range ws.Requests() {
		if strings.Contains(r.Path, "/api/3.0/mlflow/traces") {
			t.Errorf("linked experiment got %s %s", r.Method, r.Path)
		}
	}
	if rej := ws.Rejections(); len(rej) > 0 {
		t.Fatalf("fake rejected: %v", rej)
	}
	for _, tr := range []*tracemodel.Trace{early, late} {
		hexID := tr.Spans[0].TraceID.String()
		got, ok := ws.Trace(prefix + hexID)
		if !ok {
			t.Fatalf("%s not stored under %s", tr.Info.TraceID, prefix+hexID)
		}
		if got.SpanTable != spansTable || len(got.Spans) != 2 {
			t.Errorf("spans: table %q, %d spans", got.SpanTable, len(got.Spans))
		}
		var info struct {
			TraceID  string            `json:"trace_id"`
			Metadata map[string]string `json:"trace_metadata"`
			Location struct {
				Type   string            `json:"type"`
				Prefix map[string]string `json:"uc_table_prefix"`
			} `json:"trace_location"`
		}
		_ = json.Unmarshal(got.TraceInfoV4, &info)
		if info.TraceID != hexID || info.Metadata[keys.MetaSchemaVersion] != "4" || info.Location.Type != "UC_TABLE_PREFIX" ||
			info.Location.Prefix["table_prefix"] != "prod" || info.Location.Prefix["spans_table_name"] != spansTable {
			t.Errorf("v4 info %s", got.TraceInfoV4)
		}
		for _, b := range got.Spans {
			var sp tracepb.Span
			if err := proto.Unmarshal(b, &sp); err != nil {
				t.Fatal(err)
			}
			for _, kv := range sp.Attributes {
				if kv.Key == keys.TraceRequestID && kv.Value.GetStringValue() != prefix+hexID {
					t.Errorf("span %s: mlflow.traceRequestId %q", sp.Name, kv.Value.GetStringValue())
				}
			}
		}
	}
	if early.Info.Metadata[keys.MetaSchemaVersion] != "3" || early.Spans[1].Attributes[keys.TraceRequestID] != `"`+early.Info.TraceID+`"` {
		t.Error("the shared early trace was modified")
	}
}

// TestLinkWithoutSpansTableWarnsOnce: an experiment linked to Unity Catalog
// whose tags name no spans table gets trace infos only (as MLflow, which
// skips the spans). The traces are delivered: every export succeeds, and
// the missing table is told once to Config.ErrorHandler.
func TestLinkWithoutSpansTableWarnsOnce(t *testing.T) {
	ws := databrickstest.New(t)
	exp := ws.CreateExperiment("/Users/a@b.c/notable", databrickstest.AWS)
	ws.LinkExperimentToUC(exp, "main", "agents", "prod")
	ws.DeleteExperimentTag(exp, TagTraceSpansTable)
	var mu sync.Mutex
	var warned []error
	d := newDest(t, ws, ws.PATEnv(), Config{ExperimentID: exp, ErrorHandler: func(err error) {
		mu.Lock()
		defer mu.Unlock()
		warned = append(warned, err)
	}})
	for i := 0; i < 2; i++ {
		if err := d.ExportTraces(context.Background(), []*tracemodel.Trace{testTrace("", "x")}); err != nil {
			t.Fatalf("export %d: %v", i, err)
		}
	}
	mu.Lock()
	defer mu.Unlock()
	if len(warned) != 1 || !strings.Contains(warned[0].Error(), TagTraceSpansTable) {
		t.Fatalf("warnings = %v, want one naming %s", warned, TagTraceSpansTable)
	}
	for _, r := range ws.Requests() {
		if strings.Contains(r.Path, "/otel/") {
			t.Errorf("spans sent with no spans table: %s %s", r.Method, r.Path)
		}
	}
}

// TestExperimentLinkLookupFailsOver: when the experiment's tags cannot be
// read, traces go to the experiment (as in MLflow) and the export succeeds.
func TestExperimentLinkLookupFailsOver(t *testing.T) {
	ws := databrickstest.New(t)
	exp := ws.CreateExperiment("/Users/a@b.c/plain", databrickstest.GCP)
	ws.Fail(databrickstest.Fault{PathPrefix: "/api/2.0/mlflow/experiments/get", Status: 403, Times: 1})
	d := newDest(t, ws, ws.PATEnv(), Config{ExperimentID: exp})
	tr := testTrace("", "x")
	if err := d.ExportTraces(context.Background(), []*tracemodel.Trace{tr}); err != nil {
		t.Fatal(err)
	}
	if got, ok := ws.Trace(tr.Info.TraceID); !ok || got.Location != exp {
		t.Errorf("trace stored %v in %q", ok, got.Location)
	}
	if d.UCLocation() != "" {
		t.Errorf("UCLocation %q", d.UCLocation())
	}
}

// TestExperimentLinkedByNameOneLookup: an experiment configured by name is
// read once (get-by-name answers with its tags): the link needs no second
// GET of the experiment.
func TestExperimentLinkedByNameOneLookup(t *testing.T) {
	ws := databrickstest.New(t)
	exp := ws.CreateExperiment("/Users/a@b.c/linked-by-name", databrickstest.AWS)
	ws.LinkExperimentToUC(exp, "main", "agents", "prod")
	d := newDest(t, ws, ws.PATEnv(), Config{ExperimentName: "/Users/a@b.c/linked-by-name"})
	ctx, cancel := context.WithTimeout(context.Background(), 10*time.Second)
	d.LookupLink(ctx)
	cancel()
	if d.UCLocation() != "main.agents.prod" {
		t.Fatalf("UCLocation %q", d.UCLocation())
	}
	lookups := map[string]int{}
	for _, r := range ws.Requests() {
		if strings.HasPrefix(r.Path, "/api/2.0/mlflow/experiments/") {
			lookups[r.Path]++
		}
	}
	if len(lookups) != 1 || lookups["/api/2.0/mlflow/experiments/get-by-name"] != 1 {
		t.Errorf("experiment requests %v, want one get-by-name", lookups)
	}
}

// TestLLMCost: the workspace computes no cost, so the destination sends the
// LLM spans priced (mlflow.llm.cost) and the trace's sum in its metadata
// (mlflow.trace.cost), as MLflow's client does for Databricks, through both
// the experiment (StartTraceV3 + traces.json) and the Unity Catalog (OTLP
// spans + v4 info) paths; Config.Prices replaces the bundled prices. The
// exporter's trace is not modified. (conformance/test_databricks.py proves
// the values equal MLflow's own client's.)
func TestLLMCost(t *testing.T) {
	const (
		bundledCost = `{"input_cost": 1.8e-06, "output_cost": 4.8e-06, "total_cost": 6.5999999999999995e-06}`
		ownCost     = `{"input_cost": 1.2e-05, "output_cost": 1.6e-05, "total_cost": 2.8e-05}`
	)
	own := llmcost.New(llmcost.WithDirectory(fstest.MapFS{"openai.json": {Data: []byte(
		`{"models": {"gpt-4o-mini": {"pricing": {"input_per_million_tokens": 1, "output_per_million_tokens": 2}}}}`)}}))
	for _, tc := range []struct {
		name   string
		uc     bool
		prices *llmcost.Catalog
		want   string
	}{
		{"experiment", false, nil, bundledCost},
		{"unity catalog", true, nil, bundledCost},
		{"own prices", false, own, ownCost},
	} {
		t.Run(tc.name, func(t *testing.T) {
			ws := databrickstest.New(t)
			cfg := Config{Prices: tc.prices}
			prefix := ""
			if tc.uc {
				ws.CreateUCSchema("main", "agents")
				cfg.UCSchema, prefix = "main.agents", tracemodel.UCRequestIDPrefix("main.agents")
			} else {
				cfg.ExperimentID = ws.CreateExperiment("e", databrickstest.AWS)
			}
			d := newDest(t, ws, ws.PATEnv(), cfg)
			tr := testTrace(prefix, "done")
			if tc.uc {
				tr.Info.Metadata[keys.MetaSchemaVersion] = "4"
			}
			llm := tr.Spans[1]
			llm.Attributes[keys.SpanType] = `"CHAT_MODEL"`
			llm.Attributes[keys.LLMModel] = `"gpt-4o-mini"`
			llm.Attributes[keys.LLMProvider] = `"openai"`
			llm.Attributes[keys.ChatTokenUsage] = `{"input_tokens": 12, "output_tokens": 8, "total_tokens": 20}`
			if err := d.ExportTraces(context.Background(), []*tracemodel.Trace{tr}); err != nil {
				t.Fatal(err)
			}
			if _, ok := llm.Attributes[keys.LLMCost]; ok || tr.Info.Metadata[keys.MetaCost] != "" {
				t.Fatal("the exporter's trace was modified")
			}
			got, ok := ws.Trace(tr.Info.TraceID)
			if !ok {
				t.Fatal("trace not stored")
			}
			attrs, err := got.SpanAttributes()
			if err != nil {
				t.Fatal(err)
			}
			spanCost := map[string]string{} // span name -> mlflow.llm.cost
			for name, a := range attrs {
				if c, ok := a[keys.LLMCost]; ok {
					spanCost[name] = c
				}
			}
			info := got.StartTraceV3
			if tc.uc {
				info = got.TraceInfoV4
			}
			var body struct {
				Metadata map[string]string `json:"trace_metadata"`
				Trace    struct {
					TraceInfo struct {
						Metadata map[string]string `json:"trace_metadata"`
					} `json:"trace_info"`
				} `json:"trace"`
			}
			if err := json.Unmarshal(info, &body); err != nil {
				t.Fatal(err)
			}
			meta := body.Metadata // v4: the info itself
			if !tc.uc {
				meta = body.Trace.TraceInfo.Metadata // v3: {"trace": {"trace_info": ...}}
			}
			if len(spanCost) != 1 || spanCost["tool"] != tc.want {
				t.Errorf("span costs %v, want tool: %s", spanCost, tc.want)
			}
			if meta[keys.MetaCost] != tc.want {
				t.Errorf("trace cost %q, want %s", meta[keys.MetaCost], tc.want)
			}
		})
	}
}

// TestShutdownClosesEveryConnection: after Shutdown no connection of the
// destination to the workspace stays open, neither the API client's nor the
// OAuth provider's (discovery and token requests).
func TestShutdownClosesEveryConnection(t *testing.T) {
	ws, err := databrickstest.Start(databrickstest.Config{})
	if err != nil {
		t.Fatal(err)
	}
	defer ws.Close()
	exp := ws.CreateExperiment("e", databrickstest.AWS)
	env := ws.OAuthEnv()
	tc := transport.Config{MaxRetries: transport.Ptr(0)} // the package's own HTTP client
	w, err := dbauth.Resolve(dbauth.Options{Getenv: func(k string) string { return env[k] }, HTTP: tc})
	if err != nil {
		t.Fatal(err)
	}
	d, err := New(Config{Workspace: w, Transport: tc, ExperimentID: exp})
	if err != nil {
		t.Fatal(err)
	}
	if err := d.ExportTraces(context.Background(), []*tracemodel.Trace{testTrace("", "x")}); err != nil {
		t.Fatal(err)
	}
	if ws.TokenRequests() != 1 {
		t.Fatalf("token requests = %d, want 1", ws.TokenRequests())
	}
	if err := d.Shutdown(context.Background()); err != nil {
		t.Fatal(err)
	}
	if n := ws.OpenConnections(2 * time.Second); n != 0 {
		t.Errorf("%d connection(s) to the workspace still open after Shutdown", n)
	}
}

// A stored experiment trace is linked to the prompt versions of its
// mlflow.linkedPrompts tag through Unity Catalog's LinkPromptsToTraces, in
// batches of 25, as MLflow's client links them on Databricks; a failed
// link is reported once and fails nothing.
func TestPromptVersionsLinkedInUnityCatalog(t *testing.T) {
	ws := databrickstest.New(t)
	ws.CreateUCSchema("main", "p")
	for i := 0; i < 30; i++ {
		if _, err := ws.AddPromptVersion("main.p.qa", "Hi", "", nil); err != nil {
			t.Fatal(err)
		}
	}
	exp := ws.CreateExperiment("/Users/a@b.c/agent", databrickstest.AWS)
	var mu sync.Mutex
	var warned []error
	d := newDest(t, ws, ws.PATEnv(), Config{ExperimentID: exp, ErrorHandler: func(err error) {
		mu.Lock()
		warned = append(warned, err)
		mu.Unlock()
	}})
	var tag []string
	var want []string
	for v := 1; v <= 30; v++ {
		tag = append(tag, fmt.Sprintf(`{"name": "main.p.qa", "version": "%d"}`, v))
		want = append(want, fmt.Sprintf("main.p.qa/%d", v))
	}
	linked := testTrace("", "done")
	linked.Info.Tags[keys.TagLinkedPrompts] = "[" + strings.Join(tag, ", ") + "]"
	plain := testTrace("", "done")
	missing := testTrace("", "done")
	missing.Info.Tags[keys.TagLinkedPrompts] = `[{"name": "main.p.nope", "version": "1"}]`
	if err := d.ExportTraces(context.Background(), []*tracemodel.Trace{linked, plain, missing, missing}); err != nil {
		t.Fatal(err)
	}
	links := ws.PromptLinks()
	if len(links) != 2 || len(links[0].Versions) != 25 || len(links[1].Versions) != 5 {
		t.Fatalf("links %+v", links)
	}
	if got := append(links[0].Versions, links[1].Versions...); strings.Join(got, " ") != strings.Join(want, " ") ||
		links[0].Kind != "traces" || strings.Join(links[0].IDs, " ") != linked.Info.TraceID || strings.Join(links[1].IDs, " ") != linked.Info.TraceID {
		t.Errorf("links %+v", links)
	}
	for _, tr := range []*tracemodel.Trace{plain, missing} {
		if _, ok := ws.Trace(tr.Info.TraceID); !ok {
			t.Errorf("%s not stored", tr.Info.TraceID)
		}
	}
	mu.Lock()
	defer mu.Unlock()
	if len(warned) != 1 || !strings.Contains(warned[0].Error(), "RESOURCE_DOES_NOT_EXIST") {
		t.Errorf("warned %v", warned)
	}
}

// A trace in Unity Catalog tables is linked by its "trace:/<location>/<hex>"
// id once its trace info is stored.
func TestPromptVersionsLinkedForUnityCatalogTables(t *testing.T) {
	ws := databrickstest.New(t)
	ws.CreateUCSchema("main", "agents")
	if _, err := ws.AddPromptVersion("main.agents.qa", "Hi", "", nil); err != nil {
		t.Fatal(err)
	}
	d := newDest(t, ws, ws.PATEnv(), Config{UCSchema: "main.agents"})
	tr := testTrace(tracemodel.UCRequestIDPrefix("main.agents"), "a")
	tr.Info.Metadata[keys.MetaSchemaVersion] = "4"
	tr.Info.Tags[keys.TagLinkedPrompts] = `[{"name": "main.agents.qa", "version": "1"}]`
	if err := d.ExportTraces(context.Background(), []*tracemodel.Trace{tr}); err != nil {
		t.Fatal(err)
	}
	links := ws.PromptLinks()
	if len(links) != 1 || strings.Join(links[0].Versions, " ") != "main.agents.qa/1" || strings.Join(links[0].IDs, " ") != tr.Info.TraceID ||
		!strings.HasPrefix(tr.Info.TraceID, "trace:/main.agents/") {
		t.Errorf("links %+v for %s", links, tr.Info.TraceID)
	}
}

// bigTrace builds a finished trace of n spans named "span-<index>": a
// root and n-1 children.
func bigTrace(prefix string, n int) *tracemodel.Trace {
	tr := testTrace(prefix, "big")
	root := tr.Spans[0]
	root.Name = "span-0"
	tr.Spans = tr.Spans[:1]
	for i := 1; i < n; i++ {
		c := *tr.Spans[0]
		c.SpanID = trace.SpanID{3, byte(i >> 16), byte(i >> 8), byte(i)}
		c.ParentSpanID = root.SpanID
		c.Name = fmt.Sprintf("span-%d", i)
		c.Attributes = map[string]string{keys.TraceRequestID: root.Attributes[keys.TraceRequestID]}
		tr.Spans = append(tr.Spans, &c)
	}
	return tr
}

// spanNames decodes the span rows the fake stored, in the order stored.
func spanNames(t *testing.T, rows [][]byte) []string {
	t.Helper()
	names := make([]string, len(rows))
	for i, b := range rows {
		var sp tracepb.Span
		if err := proto.Unmarshal(b, &sp); err != nil {
			t.Fatal(err)
		}
		names[i] = sp.Name
	}
	return names
}

// A Unity Catalog trace larger than one span request whose second request
// fails reports the rows its first one stored (OnSpanRows); a redelivery
// given that progress sends only the rest, so that the append-only span
// table holds every row once.
func TestLargeUCTraceResumesAfterItsStoredRows(t *testing.T) {
	ws := databrickstest.New(t)
	ws.CreateUCSchema("main", "agents")
	d := newDest(t, ws, ws.PATEnv(), Config{UCSchema: "main.agents"})
	prefix := tracemodel.UCRequestIDPrefix("main.agents")
	small, big := testTrace(prefix, "small"), bigTrace(prefix, 1200)
	for _, tr := range []*tracemodel.Trace{small, big} {
		tr.Info.Metadata[keys.MetaSchemaVersion] = "4"
	}
	ctx := context.Background()
	if err := d.ExportTraces(ctx, []*tracemodel.Trace{small}); err != nil {
		t.Fatal(err)
	}

	var progress []string // what the export reported, in order
	p := Progress{
		OnSpans:    func(idx []int) { progress = append(progress, fmt.Sprint("all ", idx)) },
		OnSpanRows: func(i, n int) { progress = append(progress, fmt.Sprintf("%d: %d", i, n)) },
	}
	ws.Fail(databrickstest.Fault{Method: http.MethodPost, PathPrefix: pathOTLP, Status: http.StatusServiceUnavailable, After: 1})
	if err := d.ExportTracesProgress(ctx, []*tracemodel.Trace{big}, p); err == nil {
		t.Fatal("the export succeeded with its second span request failing")
	}
	if want := []string{"0: 500"}; !slices.Equal(progress, want) {
		t.Fatalf("first export reported %q, want %q", progress, want)
	}
	if got, _ := ws.Trace(big.Info.TraceID); got.TraceInfoV4 != nil {
		t.Fatal("trace info stored without all its rows")
	}

	ws.ClearFaults()
	progress = nil
	sent := len(ws.Requests())
	p.SpansStored = []int{len(small.Spans), 500}
	if err := d.Redeliver(ctx, []*tracemodel.Trace{small, big}, p); err != nil {
		t.Fatal(err)
	}
	if want := []string{"1: 1000", "all [1]"}; !slices.Equal(progress, want) {
		t.Errorf("redelivery reported %q, want %q (indexes of the redelivered batch)", progress, want)
	}
	var otlp int
	for _, r := range ws.Requests()[sent:] {
		if r.Path == pathOTLP {
			otlp++
		}
	}
	if otlp != 2 {
		t.Errorf("redelivery sent %d span requests, want 2 (rows 500-999, 1000-1199)", otlp)
	}
	got, _ := ws.Trace(big.Info.TraceID)
	if got.TraceInfoV4 == nil {
		t.Error("trace info not stored")
	}
	names := spanNames(t, got.Spans)
	seen := map[string]int{}
	for _, n := range names {
		seen[n]++
	}
	for i := range 1200 {
		if n := seen[fmt.Sprintf("span-%d", i)]; n != 1 {
			t.Errorf("span-%d stored %d times", i, n)
		}
	}
	if len(names) != 1200 {
		t.Errorf("%d rows stored, want 1200", len(names))
	}
	if got, _ := ws.Trace(small.Info.TraceID); len(got.Spans) != 2 {
		t.Errorf("the complete trace has %d rows after the redelivery, want 2", len(got.Spans))
	}
}
