package exporter_test

import (
	"bytes"
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"log/slog"
	"net"
	"net/http"
	"net/http/httptest"
	"net/http/httputil"
	"net/url"
	"slices"
	"sort"
	"strings"
	"sync"
	"sync/atomic"
	"testing"
	"time"

	sdktrace "go.opentelemetry.io/otel/sdk/trace"

	"github.com/mlflowtrace/mlflowtrace-go/exporter"
	"github.com/mlflowtrace/mlflowtrace-go/internal/mlflowtest"
	"github.com/mlflowtrace/mlflowtrace-go/tracing"
)

type wantSpan struct {
	inputs, outputs any
	typ             string
}

type wantTrace struct {
	id      string
	user    string
	session string
	tag     string
	spans   map[string]wantSpan
	tokens  int
}

func jsonRoundTrip(v any) any {
	b, _ := json.Marshal(v)
	var out any
	_ = json.Unmarshal(b, &out)
	return out
}

// runAgent records one trace through package tracing: an AGENT root with
// an LLM child (token usage) and a TOOL child.
// runAgent records one agent trace; beforeRootEnd, when not nil, runs after
// the children ended and before the root ends (the trace is still open).
func runAgent(ctx context.Context, label string, g, i int, beforeRootEnd func()) wantTrace {
	name := fmt.Sprintf("agent-%s-%d-%d", label, g, i)
	in := map[string]any{"question": fmt.Sprintf("q %d/%d é🎉", g, i), "history": []any{"a", 1, 2.5, true, nil}}
	ctx, root := tracing.StartSpan(ctx, name, tracing.WithSpanType(tracing.SpanTypeAgent), tracing.WithInputs(in))
	w := wantTrace{
		id: root.TraceID(), user: fmt.Sprintf("user-%s-%d", label, g), session: fmt.Sprintf("sess-%s-%d-%d", label, g, i),
		tag: fmt.Sprintf("%s-%d", label, g), spans: map[string]wantSpan{},
	}
	_ = tracing.UpdateCurrentTrace(ctx, tracing.WithUser(w.user), tracing.WithSession(w.session),
		tracing.WithTags(map[string]string{"group": w.tag}))

	llmIn := map[string]any{"messages": []any{map[string]any{"role": "user", "content": in["question"]}}, "model": "gpt-x"}
	llmOut := map[string]any{"choices": []any{map[string]any{"index": 0, "message": map[string]any{"role": "assistant", "content": "answer " + name}}}}
	_, llm := tracing.StartSpan(ctx, "llm", tracing.WithSpanType(tracing.SpanTypeLLM), tracing.WithInputs(llmIn))
	llm.SetTokenUsage(tracing.TokenUsage{InputTokens: 10 + i, OutputTokens: 5})
	llm.End(tracing.WithOutputs(llmOut))
	w.tokens = 15 + i

	toolIn := map[string]any{"query": "weather", "n": 3}
	_, tool := tracing.StartSpan(ctx, "tool", tracing.WithSpanType(tracing.SpanTypeTool), tracing.WithInputs(toolIn))
	tool.End(tracing.WithOutputs([]any{"sunny", 21.5}))

	out := map[string]any{"answer": "answer " + name, "nested": map[string]any{"ok": true, "big": 1234567890123}}
	if beforeRootEnd != nil {
		beforeRootEnd()
	}
	root.End(tracing.WithOutputs(out))

	w.spans[name] = wantSpan{jsonRoundTrip(in), jsonRoundTrip(out), "AGENT"}
	w.spans["llm"] = wantSpan{jsonRoundTrip(llmIn), jsonRoundTrip(llmOut), "LLM"}
	w.spans["tool"] = wantSpan{jsonRoundTrip(toolIn), jsonRoundTrip([]any{"sunny", 21.5}), "TOOL"}
	return w
}

func envFunc(m map[string]string) func(string) string { return func(k string) string { return m[k] } }

func checkReadBack(t *testing.T, rb mlflowtest.ReadBack, want []wantTrace, trackingStore bool) {
	t.Helper()
	for _, w := range want {
		got, ok := rb.Traces[w.id]
		if !ok || got.Error != "" {
			t.Errorf("%s: get_trace: %s", w.id, got.Error)
			continue
		}
		if len(got.Spans) != len(w.spans) {
			t.Errorf("%s: %d spans, want %d", w.id, len(got.Spans), len(w.spans))
		}
		for _, s := range got.Spans {
			ws, ok := w.spans[s.Name]
			if !ok {
				t.Errorf("%s: unexpected span %q", w.id, s.Name)
				continue
			}
			if gi, wi := mustJSON(s.Inputs), mustJSON(ws.inputs); gi != wi {
				t.Errorf("%s/%s inputs\n got %s\nwant %s", w.id, s.Name, gi, wi)
			}
			if gout, wout := mustJSON(s.Outputs), mustJSON(ws.outputs); gout != wout {
				t.Errorf("%s/%s outputs\n got %s\nwant %s", w.id, s.Name, gout, wout)
			}
			if s.SpanType != ws.typ {
				t.Errorf("%s/%s type %q, want %q", w.id, s.Name, s.SpanType, ws.typ)
			}
		}
		if got.Metadata["mlflow.trace.user"] != w.user || got.Metadata["mlflow.trace.session"] != w.session {
			t.Errorf("%s: user/session %q/%q", w.id, got.Metadata["mlflow.trace.user"], got.Metadata["mlflow.trace.session"])
		}
		if got.Tags["group"] != w.tag || !strings.HasPrefix(got.Tags["mlflow.traceName"], "agent-") {
			t.Errorf("%s: tags %v", w.id, got.Tags)
		}
		if got.TokenUsage["total_tokens"] != w.tokens {
			t.Errorf("%s: token usage %v, want total %d", w.id, got.TokenUsage, w.tokens)
		}
		if got.State != "TraceState.OK" && got.State != "OK" {
			t.Errorf("%s: state %q", w.id, got.State)
		}
		if !strings.Contains(got.RequestPreview, "question") || !strings.Contains(got.ResponsePreview, "answer") {
			t.Errorf("%s: previews %q / %q", w.id, got.RequestPreview, got.ResponsePreview)
		}
		loc := got.Tags["mlflow.trace.spansLocation"]
		if trackingStore && (loc != "TRACKING_STORE" || got.SpanRows != len(w.spans)) {
			t.Errorf("%s: spansLocation %q, %d span rows", w.id, loc, got.SpanRows)
		}
		if !trackingStore && (loc == "TRACKING_STORE" || !got.HasArtifact) {
			t.Errorf("%s: spansLocation %q, traces.json %v", w.id, loc, got.HasArtifact)
		}
	}
}

func mustJSON(v any) string {
	var buf bytes.Buffer
	enc := json.NewEncoder(&buf)
	enc.SetEscapeHTML(false)
	_ = enc.Encode(v)
	return strings.TrimSpace(buf.String())
}

// TestServerIntegration records traces through package tracing from
// concurrent goroutines and reads them back with MLflow's Python client,
// against MLflow 3.17.2 (spans in the SQL store) and 3.3.2 (traces.json).
func TestServerIntegration(t *testing.T) {
	for _, tc := range []struct {
		name          string
		opts          []mlflowtest.Option
		trackingStore bool
	}{
		{"new", nil, true},
		{"old", []mlflowtest.Option{mlflowtest.Old()}, false},
	} {
		t.Run(tc.name, func(t *testing.T) {
			srv := mlflowtest.StartServer(t, tc.opts...)
			label := fmt.Sprintf("it-%s-%d", tc.name, time.Now().UnixNano())
			env := map[string]string{
				"MLFLOW_TRACKING_URI":                            srv.URL,
				"MLFLOW_EXPERIMENT_NAME":                         label,
				"MLFLOW_ASYNC_TRACE_LOGGING_MAX_INTERVAL_MILLIS": "200",
			}
			var handlerErrs []error
			var mu sync.Mutex
			p, err := tracing.Init(context.Background(), tracing.WithoutGlobalTracerProvider(), tracing.WithGetenv(envFunc(env)),
				tracing.WithExporterOptions(exporter.WithRetryBackoff(100*time.Millisecond, -1), exporter.WithErrorHandler(func(err error) {
					mu.Lock()
					if _, notice := errors.AsType[*exporter.WaitNotice](err); !notice { // a slow server may be announced
						handlerErrs = append(handlerErrs, err)
					}
					mu.Unlock()
				})))
			if err != nil {
				t.Fatal(err)
			}
			// One trace stays open until its ended children have been
			// streamed (new server) or for longer than the batch interval
			// (old server: nothing streams). Spans of finished traces go
			// with their trace instead, so only this one is sure to stream.
			holdOpen := func() {
				deadline := time.Now().Add(30 * time.Second)
				if !tc.trackingStore {
					deadline = time.Now().Add(time.Second)
				}
				for time.Now().Before(deadline) && p.Stats().SpansStreamed < 2 {
					time.Sleep(20 * time.Millisecond)
				}
			}
			const goroutines, perG = 6, 3
			want := make([][]wantTrace, goroutines)
			var wg sync.WaitGroup
			for g := range goroutines {
				wg.Add(1)
				go func() {
					defer wg.Done()
					for i := range perG {
						var hold func()
						if g == 0 && i == 0 {
							hold = holdOpen
						}
						want[g] = append(want[g], runAgent(context.Background(), label, g, i, hold))
					}
				}()
			}
			wg.Wait()
			ctx, cancel := context.WithTimeout(context.Background(), 2*time.Minute)
			defer cancel()
			if err := p.Shutdown(ctx); err != nil {
				t.Fatalf("Shutdown: %v", err)
			}
			// Spans count as streamed only where the server has the OTLP
			// route (MLflow 3.3 accepts them with their trace only).
			if st := p.Stats(); st.TracesExported != goroutines*perG || st.TracesDropped != 0 ||
				(st.SpansStreamed >= 2) != tc.trackingStore || (!tc.trackingStore && st.SpansStreamed != 0) {
				t.Errorf("Stats = %+v, want %d traces exported, spans streamed: %v", st, goroutines*perG, tc.trackingStore)
			}
			mu.Lock()
			for _, err := range handlerErrs {
				t.Errorf("error handler: %v", err)
			}
			mu.Unlock()

			all := slices.Concat(want...)
			ids := make([]string, len(all))
			for i, w := range all {
				ids[i] = w.id
			}
			sort.Strings(ids)
			expID := experimentID(t, srv, label)
			rb := srv.ReadTraces(t, expID, ids, []string{
				"tags.group = '" + all[4].tag + "'",
				"metadata.`mlflow.trace.user` = '" + all[4].user + "'",
				"metadata.`mlflow.trace.session` = '" + all[4].session + "'",
			})
			checkReadBack(t, rb, all, tc.trackingStore)
			var groupIDs []string
			for _, w := range all {
				if w.tag == all[4].tag {
					groupIDs = append(groupIDs, w.id)
				}
			}
			sort.Strings(groupIDs)
			for i, want := range [][]string{groupIDs, groupIDs, {all[4].id}} {
				if fmt.Sprint(rb.Filters[i]) != fmt.Sprint(want) {
					t.Errorf("filter %d: %v, want %v", i, rb.Filters[i], want)
				}
			}
		})
	}
}

func experimentID(t *testing.T, srv *mlflowtest.Server, name string) string {
	t.Helper()
	out := srv.RunPython(t, `import sys, mlflow; print(mlflow.MlflowClient().get_experiment_by_name(sys.argv[1]).experiment_id)`, name)
	return strings.TrimSpace(string(out))
}

// faultProxy forwards to target, answering every other request (while the
// budget lasts) with 429+Retry-After, 503, a hang or a connection reset.
func faultProxy(t *testing.T, target string, budget int64) (*httptest.Server, *atomic.Int64) {
	u, _ := url.Parse(target)
	rp := httputil.NewSingleHostReverseProxy(u)
	tr := &http.Transport{}
	rp.Transport = tr
	rp.ErrorLog = slog.NewLogLogger(slog.DiscardHandler, slog.LevelError)
	var n, injected atomic.Int64
	stop := make(chan struct{})
	srv := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		if r.URL.Path != "/version" && n.Add(1)%2 == 0 && injected.Load() < budget {
			switch injected.Add(1) % 4 {
			case 0:
				w.Header().Set("Retry-After", "1")
				w.WriteHeader(429)
			case 1:
				w.WriteHeader(503)
			case 2:
				select {
				case <-r.Context().Done():
				case <-stop:
				}
			case 3:
				if conn, _, err := w.(http.Hijacker).Hijack(); err == nil {
					if tc, ok := conn.(*net.TCPConn); ok {
						_ = tc.SetLinger(0)
					}
					_ = conn.Close()
				}
			}
			return
		}
		rp.ServeHTTP(w, r)
	}))
	t.Cleanup(func() { close(stop); srv.Close(); tr.CloseIdleConnections() })
	return srv, &injected
}

// TestServerFaults: a proxy injects 429/503/hangs/resets in front of the
// real server; every trace still arrives complete, End() stays fast, and
// Stats count the retries.
func TestServerFaults(t *testing.T) {
	srv := mlflowtest.StartServer(t)
	proxy, injected := faultProxy(t, srv.URL, 30)
	label := fmt.Sprintf("faults-%d", time.Now().UnixNano())
	exp, err := exporter.New(context.Background(),
		exporter.WithGetenv(envFunc(nil)),
		exporter.WithTrackingURI(proxy.URL),
		exporter.WithExperimentName(label),
		exporter.WithRetryBackoff(50*time.Millisecond, 50*time.Millisecond),
		exporter.WithMaxRetries(10),
		exporter.WithRequestTimeout(5*time.Second),
		exporter.WithBatchInterval(100*time.Millisecond),
		exporter.WithErrorHandler(func(err error) {
			if _, notice := errors.AsType[*exporter.WaitNotice](err); !notice { // a slow (faulty) server may be announced
				t.Errorf("error handler: %v", err)
			}
		}),
	)
	if err != nil {
		t.Fatal(err)
	}
	tp := sdktrace.NewTracerProvider(sdktrace.WithSpanProcessor(exp))
	tracer := tp.Tracer("faults")
	var maxEnd atomic.Int64
	var ids []string
	var idsMu sync.Mutex
	var wg sync.WaitGroup
	for g := range 4 {
		wg.Add(1)
		go func() {
			defer wg.Done()
			for i := range 5 {
				ctx, root := tracer.Start(context.Background(), fmt.Sprintf("root-%d-%d", g, i))
				for c := range 1 + i%3 {
					_, child := tracer.Start(ctx, fmt.Sprintf("child-%d", c))
					start := time.Now()
					child.End()
					recordMax(&maxEnd, time.Since(start))
				}
				start := time.Now()
				root.End()
				recordMax(&maxEnd, time.Since(start))
				idsMu.Lock()
				ids = append(ids, "tr-"+root.SpanContext().TraceID().String())
				idsMu.Unlock()
			}
		}()
	}
	wg.Wait()
	ctx, cancel := context.WithTimeout(context.Background(), 3*time.Minute)
	defer cancel()
	if err := tp.Shutdown(ctx); err != nil {
		t.Fatalf("Shutdown: %v", err)
	}
	st := exp.Stats()
	t.Logf("faults injected %d, stats %+v, slowest End %v", injected.Load(), st, time.Duration(maxEnd.Load()))
	if st.TracesExported != int64(len(ids)) || st.TracesDropped != 0 || st.ExportFailures != 0 {
		t.Errorf("stats %+v, want %d traces exported", st, len(ids))
	}
	if st.Retried < injected.Load() {
		t.Errorf("Retried %d < injected faults %d", st.Retried, injected.Load())
	}
	// Not a performance target (those are benchmarks): a hang detector.
	// The proxy holds requests for seconds; End never waits for them.
	if d := time.Duration(maxEnd.Load()); d > time.Second {
		t.Errorf("slowest End() took %v: End waited for the destination", d)
	}
	sort.Strings(ids)
	rb := srv.ReadTraces(t, experimentID(t, srv, label), ids, nil)
	for _, id := range ids {
		got := rb.Traces[id]
		if got.Error != "" || got.Tags["mlflow.trace.spansLocation"] != "TRACKING_STORE" || got.SpanRows != len(got.Spans) || len(got.Spans) < 2 {
			t.Errorf("%s: %q, %d spans, %d rows, tags %v", id, got.Error, len(got.Spans), got.SpanRows, got.Tags)
		}
	}
}

func recordMax(m *atomic.Int64, d time.Duration) {
	for {
		cur := m.Load()
		if int64(d) <= cur || m.CompareAndSwap(cur, int64(d)) {
			return
		}
	}
}

// TestServerDownNeverBlocks: the server accepts connections and never
// answers. End() stays as fast as with a healthy server, and Shutdown
// returns by its deadline without leaking goroutines (goleak in TestMain).
func TestServerDownNeverBlocks(t *testing.T) {
	hang := make(chan struct{})
	down := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		select {
		case <-r.Context().Done():
		case <-hang:
		}
	}))
	defer down.Close()
	defer close(hang)
	const token = "tok-never-logged-123"
	var logged bytes.Buffer
	var logMu sync.Mutex
	exp, err := exporter.New(context.Background(),
		exporter.WithGetenv(envFunc(map[string]string{"MLFLOW_TRACKING_TOKEN": token})),
		exporter.WithTrackingURI(down.URL),
		exporter.WithMaxQueueSize(50),
		exporter.WithBatchInterval(10*time.Millisecond),
		exporter.WithErrorHandler(func(err error) {
			logMu.Lock()
			fmt.Fprintln(&logged, err)
			logMu.Unlock()
		}),
	)
	if err != nil {
		t.Fatal(err)
	}
	tp := sdktrace.NewTracerProvider(sdktrace.WithSpanProcessor(exp))
	tracer := tp.Tracer("down")
	var durs []time.Duration
	for i := range 2000 {
		ctx, root := tracer.Start(context.Background(), fmt.Sprint("r", i))
		_, child := tracer.Start(ctx, "c")
		child.End()
		start := time.Now()
		root.End()
		durs = append(durs, time.Since(start))
	}
	slices.Sort(durs)
	p99 := durs[len(durs)*99/100]
	t.Logf("End() with the server down: p50 %v p99 %v max %v", durs[len(durs)/2], p99, durs[len(durs)-1])
	// Not a performance target (BENCHMARKS.md measures p99 End): a hang
	// detector — the server never answers, End never waits for it.
	if p99 > time.Second {
		t.Errorf("p99 End() = %v with the server down: End waited for the destination", p99)
	}
	ctx, cancel := context.WithTimeout(context.Background(), 2*time.Second)
	defer cancel()
	start := time.Now()
	_ = tp.Shutdown(ctx)
	if d := time.Since(start); d > 4*time.Second {
		t.Errorf("Shutdown took %v with a 2s deadline", d)
	}
	st := exp.Stats()
	if st.TracesDropped == 0 {
		t.Errorf("stats %+v: want drops while the server hangs", st)
	}
	logMu.Lock()
	defer logMu.Unlock()
	if strings.Contains(logged.String(), token) {
		t.Errorf("token in error handler output:\n%s", logged.String())
	}
}
