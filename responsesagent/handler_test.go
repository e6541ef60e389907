package responsesagent_test

import (
	"bufio"
	"bytes"
	"context"
	"encoding/json"
	"errors"
	"io"
	"iter"
	"math"
	"net/http"
	"net/http/httptest"
	"strings"
	"sync"
	"testing"
	"time"

	"go.uber.org/goleak"

	"github.com/mlflowtrace/mlflowtrace-go/exporter"
	"github.com/mlflowtrace/mlflowtrace-go/exporter/exportertest"
	"github.com/mlflowtrace/mlflowtrace-go/responsesagent"
	"github.com/mlflowtrace/mlflowtrace-go/tracing"
)

func TestMain(m *testing.M) { goleak.VerifyTestMain(m) }

// initTracing sends traces to an in-memory recorder for the test.
func initTracing(t *testing.T) (*tracing.Provider, *exportertest.Recorder) {
	t.Helper()
	rec := exportertest.NewRecorder()
	p, err := tracing.Init(context.Background(), tracing.WithEnabled(), tracing.WithoutGlobalTracerProvider(),
		tracing.WithGetenv(func(string) string { return "" }),
		tracing.WithExporterOptions(exporter.WithDestination(rec), exporter.WithErrorHandler(func(error) {})))
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { _ = p.Shutdown(context.Background()) })
	return p, rec
}

func waitTraces(t *testing.T, p *tracing.Provider, rec *exportertest.Recorder, n int) []*exporter.Trace {
	t.Helper()
	ctx, cancel := context.WithTimeout(context.Background(), 10*time.Second)
	defer cancel()
	_ = p.ForceFlush(ctx)
	traces, err := rec.WaitTraces(ctx, n)
	if err != nil {
		t.Fatalf("waiting for %d traces (have %d): %v", n, len(rec.Traces()), err)
	}
	return traces
}

// testAgent answers by the last user message: "error" fails, "panic"
// panics, "invalid" returns an output MLflow rejects, "slow" streams one
// event then blocks until ctx ends; anything else is echoed.
type testAgent struct {
	mu       sync.Mutex
	lastReq  *responsesagent.Request
	ctxEnded chan struct{}
}

func lastUser(req *responsesagent.Request) string {
	for i := len(req.Input) - 1; i >= 0; i-- {
		if req.Input[i].Role == "user" {
			return req.Input[i].Text()
		}
	}
	return ""
}

func (a *testAgent) Predict(ctx context.Context, req *responsesagent.Request) (*responsesagent.Response, error) {
	a.mu.Lock()
	a.lastReq = req
	a.mu.Unlock()
	switch q := lastUser(req); q {
	case "error":
		return nil, errors.New("model unavailable")
	case "panic":
		panic("agent bug")
	case "invalid":
		return &responsesagent.Response{Output: []responsesagent.Item{{Type: "hologram"}}}, nil
	default:
		_, tool := tracing.StartSpan(ctx, "lookup", tracing.WithSpanType(tracing.SpanTypeTool))
		tool.End(tracing.WithOutputs("ok"))
		return &responsesagent.Response{
			Output:        []responsesagent.Item{responsesagent.TextItem("echo: "+q, "msg_1")},
			CustomOutputs: map[string]any{"n": 1},
		}, nil
	}
}

func (a *testAgent) PredictStream(ctx context.Context, req *responsesagent.Request) iter.Seq2[responsesagent.StreamEvent, error] {
	return func(yield func(responsesagent.StreamEvent, error) bool) {
		q := lastUser(req)
		for _, w := range []string{"echo: ", q} {
			if !yield(responsesagent.TextDelta(w, "msg_1"), nil) {
				return
			}
		}
		switch q {
		case "error":
			yield(responsesagent.StreamEvent{}, errors.New("model unavailable"))
			return
		case "panic":
			panic("agent bug")
		case "invalid":
			yield(responsesagent.StreamEvent{Type: responsesagent.EventOutputTextDelta}, nil)
			return
		case "slow":
			if !yield(responsesagent.ItemDone(responsesagent.TextItem("partial", "msg_0")), nil) {
				return
			}
			<-ctx.Done()
			close(a.ctxEnded)
			yield(responsesagent.TextDelta("late", "msg_1"), nil)
			return
		}
		yield(responsesagent.ItemDone(responsesagent.TextItem("echo: "+q, "msg_1")), nil)
	}
}

func post(t *testing.T, url, body string, hdr map[string]string) *http.Response {
	t.Helper()
	req, _ := http.NewRequest(http.MethodPost, url, strings.NewReader(body))
	req.Header.Set("Content-Type", "application/json")
	for k, v := range hdr {
		req.Header.Set(k, v)
	}
	resp, err := http.DefaultClient.Do(req)
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { resp.Body.Close() })
	return resp
}

func userReq(text string, extra string) string {
	return `{"input":[{"role":"user","content":` + mustJSON(text) + `}],"context":{"conversation_id":"conv-7","user_id":"alice"}` + extra + `}`
}

func mustJSON(v any) string {
	b, err := json.Marshal(v)
	if err != nil {
		panic(err)
	}
	return string(b)
}

// readSSE returns the data payloads of an SSE body.
func readSSE(t *testing.T, r io.Reader) []string {
	t.Helper()
	var out []string
	sc := bufio.NewScanner(r)
	sc.Buffer(nil, 1<<20)
	blank := true
	for sc.Scan() {
		line := sc.Text()
		if line == "" {
			blank = true
			continue
		}
		if !blank {
			t.Fatalf("two SSE lines in one event: %q", line)
		}
		blank = false
		data, ok := strings.CutPrefix(line, "data: ")
		if !ok {
			t.Fatalf("not a data line: %q", line)
		}
		out = append(out, data)
	}
	return out
}

func attr(s *exporter.Span, k string) any {
	var v any
	_ = json.Unmarshal([]byte(s.Attributes[k]), &v)
	return v
}

func TestHandlerPredict(t *testing.T) {
	p, rec := initTracing(t)
	agent := &testAgent{}
	srv := httptest.NewServer(responsesagent.NewHandler(agent))
	defer srv.Close()

	for _, path := range []string{"/invocations", "/responses"} {
		resp := post(t, srv.URL+path, userReq("hello", `,"model":"m","stream":false`), nil)
		if resp.StatusCode != 200 || !strings.HasPrefix(resp.Header.Get("Content-Type"), "application/json") {
			t.Fatalf("%s: status %d %s", path, resp.StatusCode, resp.Header.Get("Content-Type"))
		}
		var out responsesagent.Response
		if err := json.NewDecoder(resp.Body).Decode(&out); err != nil {
			t.Fatal(err)
		}
		if got := responsesagent.OutputText(out.Output); got != "echo: hello" || out.Object != "response" {
			t.Errorf("%s: output %q object %q", path, got, out.Object)
		}
		if out.Metadata["trace_id"] != "" {
			t.Errorf("trace id returned without the header")
		}
	}
	// The agent saw the unknown member, not the transport ones.
	if string(agent.lastReq.Extra["model"]) != `"m"` || agent.lastReq.Stream != nil {
		t.Errorf("agent request: extra %v stream %v", agent.lastReq.Extra, agent.lastReq.Stream)
	}

	traces := waitTraces(t, p, rec, 2)
	tr := traces[0]
	root := tr.Spans[0]
	if root.Name != "predict" || attr(root, "mlflow.spanType") != "AGENT" || attr(root, "mlflow.message.format") != "openai" {
		t.Errorf("root span %s type %v format %v", root.Name, attr(root, "mlflow.spanType"), attr(root, "mlflow.message.format"))
	}
	if len(tr.Spans) != 2 || tr.Spans[1].Name != "lookup" || tr.Spans[1].ParentSpanID != root.SpanID {
		t.Errorf("want the tool span under the root, got %d spans", len(tr.Spans))
	}
	in := attr(root, "mlflow.spanInputs").(map[string]any)["request"].(map[string]any)
	if in["stream"] != nil || in["model"] != nil || in["input"].([]any)[0].(map[string]any)["content"] != "hello" {
		t.Errorf("inputs: %v", in)
	}
	outs := attr(root, "mlflow.spanOutputs").(map[string]any)
	if outs["object"] != "response" || outs["custom_outputs"].(map[string]any)["n"] != 1.0 {
		t.Errorf("outputs: %v", outs)
	}
	md := tr.Info.Metadata
	if md["mlflow.trace.session"] != "conv-7" || md["mlflow.trace.user"] != "alice" {
		t.Errorf("session/user: %q %q", md["mlflow.trace.session"], md["mlflow.trace.user"])
	}
	if tr.Info.RequestPreview != "hello" || tr.Info.ResponsePreview != "echo: hello" {
		t.Errorf("previews: %q %q", tr.Info.RequestPreview, tr.Info.ResponsePreview)
	}
}

func TestHandlerStream(t *testing.T) {
	p, rec := initTracing(t)
	srv := httptest.NewServer(responsesagent.NewHandler(&testAgent{}))
	defer srv.Close()

	resp := post(t, srv.URL+"/invocations", userReq("hi", `,"stream":true`), map[string]string{responsesagent.ReturnTraceHeader: "true"})
	if ct := resp.Header.Get("Content-Type"); !strings.HasPrefix(ct, "text/event-stream") {
		t.Fatalf("Content-Type %q", ct)
	}
	data := readSSE(t, resp.Body)
	if len(data) != 5 || data[4] != "[DONE]" {
		t.Fatalf("events: %q", data)
	}
	for _, d := range data[:3] {
		var ev responsesagent.StreamEvent
		if err := json.Unmarshal([]byte(d), &ev); err != nil || ev.Validate() != nil {
			t.Errorf("event %s: %v %v", d, err, ev.Validate())
		}
	}
	var tid map[string]string
	_ = json.Unmarshal([]byte(data[3]), &tid)

	tr := waitTraces(t, p, rec, 1)[0]
	if tid["trace_id"] != tr.Info.TraceID {
		t.Errorf("trace_id event %v, trace %s", tid, tr.Info.TraceID)
	}
	root := tr.Spans[0]
	if root.Name != "predict_stream" || attr(root, "mlflow.message.format") != "openai" {
		t.Errorf("root %s", root.Name)
	}
	want := `{"object": "response", "output": [{"type": "message", "id": "msg_1", "content": [{"text": "echo: hi", "type": "output_text", "annotations": []}], "role": "assistant"}]}`
	if got := root.Attributes["mlflow.spanOutputs"]; got != want {
		t.Errorf("reduced outputs\n got %s\nwant %s", got, want)
	}
	if len(root.Events) != 3 || root.Events[0].Name != "mlflow.chunk.item.0" {
		t.Fatalf("chunk events: %+v", root.Events)
	}
	if v := root.Events[0].Attributes["mlflow.chunk.value"]; v != `{"type": "response.output_text.delta", "custom_outputs": null, "item_id": "msg_1", "delta": "echo: "}` {
		t.Errorf("chunk value %v", v)
	}
}

func TestHandlerReturnTrace(t *testing.T) {
	p, rec := initTracing(t)
	srv := httptest.NewServer(responsesagent.NewHandler(&testAgent{}))
	defer srv.Close()

	resp := post(t, srv.URL+"/invocations", userReq("hello", `,"databricks_options":{"return_trace":true}`),
		map[string]string{responsesagent.ReturnTraceHeader: "true"})
	var out struct {
		Metadata         map[string]string `json:"metadata"`
		DatabricksOutput struct {
			Trace *exporter.Trace `json:"trace"`
		} `json:"databricks_output"`
	}
	if err := json.NewDecoder(resp.Body).Decode(&out); err != nil {
		t.Fatal(err)
	}
	got := out.DatabricksOutput.Trace
	if got == nil {
		t.Fatal("no databricks_output.trace")
	}
	stored := waitTraces(t, p, rec, 1)[0]
	if got.Info.TraceID != stored.Info.TraceID || out.Metadata["trace_id"] != stored.Info.TraceID {
		t.Errorf("returned trace %s, metadata %s, stored %s", got.Info.TraceID, out.Metadata["trace_id"], stored.Info.TraceID)
	}
	if len(got.Spans) != 2 || got.Spans[0].Name != "predict" || got.Info.State != "OK" {
		t.Errorf("returned trace: %d spans, state %s", len(got.Spans), got.Info.State)
	}
	if got.Spans[0].Attributes["mlflow.spanOutputs"] != stored.Spans[0].Attributes["mlflow.spanOutputs"] {
		t.Error("returned trace differs from the stored one")
	}
}

// TestHandlerReturnTraceInsideSpan: served inside another span
// (tracing.Wrap here; otelhttp alike), the agent's span is not the trace's
// root and the trace ends only after the response: the response goes out at
// once, without databricks_output, and the error handler is told. It used
// to wait the whole return-trace timeout (10 s by default) first.
func TestHandlerReturnTraceInsideSpan(t *testing.T) {
	p, rec := initTracing(t)
	var (
		mu       sync.Mutex
		reported []error
	)
	h := responsesagent.NewHandler(&testAgent{}, responsesagent.WithErrorHandler(func(err error) {
		mu.Lock()
		reported = append(reported, err)
		mu.Unlock()
	}))
	srv := httptest.NewServer(tracing.Wrap(h))
	defer srv.Close()
	start := time.Now()
	resp := post(t, srv.URL+"/invocations", userReq("hello", `,"databricks_options":{"return_trace":true}`), nil)
	b, err := io.ReadAll(resp.Body)
	if err != nil {
		t.Fatal(err)
	}
	if d := time.Since(start); d > responsesagent.DefaultReturnTraceTimeout/2 {
		t.Errorf("answered after %v", d)
	}
	if resp.StatusCode != http.StatusOK || bytes.Contains(b, []byte("databricks_output")) {
		t.Errorf("%d %s", resp.StatusCode, b)
	}
	mu.Lock()
	if len(reported) != 1 || !strings.Contains(reported[0].Error(), "return_trace") {
		t.Errorf("reported %v", reported)
	}
	mu.Unlock()
	if tr := waitTraces(t, p, rec, 1)[0]; len(tr.Spans) != 3 || tr.Spans[1].Name != "predict" {
		t.Errorf("trace spans %d", len(tr.Spans))
	}
}

func TestHandlerBadRequests(t *testing.T) {
	initTracing(t)
	srv := httptest.NewServer(responsesagent.NewHandler(&testAgent{}, responsesagent.WithMaxBodyBytes(4096)))
	defer srv.Close()
	f := loadFixtures(t)
	check := func(t *testing.T, resp *http.Response, status int, param string) {
		t.Helper()
		if resp.StatusCode != status {
			t.Fatalf("status %d, want %d", resp.StatusCode, status)
		}
		var body struct {
			Detail string `json:"detail"`
			Error  struct {
				Message string  `json:"message"`
				Param   *string `json:"param"`
			} `json:"error"`
		}
		if err := json.NewDecoder(resp.Body).Decode(&body); err != nil {
			t.Fatalf("error body: %v", err)
		}
		if body.Detail == "" || body.Error.Message != body.Detail {
			t.Errorf("error body %+v", body)
		}
		if param != "" && (body.Error.Param == nil || *body.Error.Param != param) {
			t.Errorf("param %v, want %q (%s)", body.Error.Param, param, body.Detail)
		}
	}
	for _, name := range sortedNames(f.InvalidRequests) {
		t.Run(name, func(t *testing.T) {
			c := f.InvalidRequests[name]
			check(t, post(t, srv.URL+"/invocations", string(c.Payload), nil), 400, c.Field)
		})
	}
	for _, body := range []string{"", "{", "[1]", "null", `{"input": [}`, "\xff"} {
		check(t, post(t, srv.URL+"/responses", body, nil), 400, "")
	}
	check(t, post(t, srv.URL+"/invocations", `{"input":[{"role":"user","content":"`+strings.Repeat("x", 5000)+`"}]}`, nil), 413, "")

	r, _ := http.Get(srv.URL + "/invocations")
	r.Body.Close()
	if r.StatusCode != http.StatusMethodNotAllowed {
		t.Errorf("GET /invocations: %d", r.StatusCode)
	}
	r, _ = http.Get(srv.URL + "/nope")
	r.Body.Close()
	if r.StatusCode != http.StatusNotFound {
		t.Errorf("GET /nope: %d", r.StatusCode)
	}
}

func TestHandlerAgentFailures(t *testing.T) {
	p, rec := initTracing(t)
	var reported []error
	var mu sync.Mutex
	srv := httptest.NewServer(responsesagent.NewHandler(&testAgent{},
		responsesagent.WithErrorHandler(func(err error) { mu.Lock(); reported = append(reported, err); mu.Unlock() })))
	defer srv.Close()

	for _, q := range []string{"error", "panic", "invalid"} {
		resp := post(t, srv.URL+"/invocations", userReq(q, ""), nil)
		if resp.StatusCode != 500 {
			t.Errorf("%s: status %d", q, resp.StatusCode)
		}
		b, _ := io.ReadAll(resp.Body)
		if !json.Valid(b) {
			t.Errorf("%s: body %s", q, b)
		}
	}
	traces := waitTraces(t, p, rec, 3)
	for i, tr := range traces {
		root := tr.Spans[0]
		if tr.Info.State != "ERROR" || root.Status.Code != exporter.StatusCodeError || len(root.Events) == 0 || root.Events[0].Name != "exception" {
			t.Errorf("trace %d: state %s status %+v events %+v", i, tr.Info.State, root.Status, root.Events)
		}
	}
	panicked := false
	for _, tr := range traces {
		panicked = panicked || strings.Contains(tr.Spans[0].Status.Message, "panic: agent bug")
	}
	if !panicked {
		t.Error("no trace records the panic")
	}
	mu.Lock()
	defer mu.Unlock()
	if len(reported) != 3 {
		t.Errorf("reported %v", reported)
	}
}

func TestHandlerStreamFailures(t *testing.T) {
	p, rec := initTracing(t)
	srv := httptest.NewServer(responsesagent.NewHandler(&testAgent{}, responsesagent.WithErrorHandler(func(error) {})))
	defer srv.Close()
	for _, q := range []string{"error", "panic", "invalid"} {
		resp := post(t, srv.URL+"/invocations", userReq(q, `,"stream":true`), map[string]string{responsesagent.ReturnTraceHeader: "true"})
		data := readSSE(t, resp.Body)
		if len(data) != 4 || data[3] != "[DONE]" || !strings.HasPrefix(data[2], `{"error":`) {
			t.Errorf("%s: events %q", q, data)
		}
	}
	for _, tr := range waitTraces(t, p, rec, 3) {
		if tr.Info.State != "ERROR" {
			t.Errorf("state %s", tr.Info.State)
		}
	}
}

// An event that cannot be encoded as JSON (a NaN in custom_outputs) ends
// the stream with an error event, is reported and fails the trace, as a
// json.dumps error does in MLflow's server; it used to end the stream with a
// bare [DONE] and an OK trace.
func TestHandlerStreamUnencodableEvent(t *testing.T) {
	p, rec := initTracing(t)
	agent := responsesagent.FromStream(func(ctx context.Context, req *responsesagent.Request) iter.Seq2[responsesagent.StreamEvent, error] {
		return func(yield func(responsesagent.StreamEvent, error) bool) {
			ev := responsesagent.TextDelta("a", "msg_1")
			ev.CustomOutputs = map[string]any{"score": math.NaN()}
			_ = yield(responsesagent.TextDelta("b", "msg_1"), nil) && yield(ev, nil) &&
				yield(responsesagent.ItemDone(responsesagent.TextItem("ba", "msg_1")), nil)
		}
	})
	var reported []error
	srv := httptest.NewServer(responsesagent.NewHandler(agent, responsesagent.WithErrorHandler(func(err error) { reported = append(reported, err) })))
	defer srv.Close()
	data := readSSE(t, post(t, srv.URL+"/invocations", userReq("hi", `,"stream":true`), nil).Body)
	if len(data) != 3 || !strings.HasPrefix(data[1], `{"error":"encoding the agent's stream event: `) || data[2] != "[DONE]" {
		t.Errorf("events %q", data)
	}
	if len(reported) != 1 {
		t.Errorf("reported %v", reported)
	}
	tr := waitTraces(t, p, rec, 1)[0]
	if tr.Info.State != "ERROR" || !strings.Contains(tr.Spans[0].Status.Message, "NaN") {
		t.Errorf("state %s, status %+v", tr.Info.State, tr.Spans[0].Status)
	}
}

// TestTraceStreamFailureOutputs: a stream that fails — an error or a panic
// after an item was done — records no outputs, as MLflow's generator span
// does for an exception (a panic used to record the output so far); a
// consumer that stops early keeps the output so far.
func TestTraceStreamFailureOutputs(t *testing.T) {
	for _, tc := range []struct {
		name        string
		fail        func(yield func(responsesagent.StreamEvent, error) bool)
		stop        bool // the consumer stops after the first event
		wantOutputs bool
		wantStatus  string
	}{
		{"error", func(yield func(responsesagent.StreamEvent, error) bool) {
			yield(responsesagent.StreamEvent{}, errors.New("model unavailable"))
		}, false, false, exporter.StatusCodeError},
		{"panic", func(func(responsesagent.StreamEvent, error) bool) { panic("agent bug") }, false, false, exporter.StatusCodeError},
		{"consumer stops", nil, true, true, exporter.StatusCodeOK},
	} {
		t.Run(tc.name, func(t *testing.T) {
			p, rec := initTracing(t)
			agent := responsesagent.Trace(responsesagent.FromStream(func(ctx context.Context, req *responsesagent.Request) iter.Seq2[responsesagent.StreamEvent, error] {
				return func(yield func(responsesagent.StreamEvent, error) bool) {
					if !yield(responsesagent.ItemDone(responsesagent.TextItem("partial", "msg_1")), nil) {
						return
					}
					if tc.fail != nil {
						tc.fail(yield)
						return
					}
					yield(responsesagent.ItemDone(responsesagent.TextItem("rest", "msg_2")), nil)
				}
			}))
			req, err := responsesagent.DecodeRequest([]byte(userReq("hi", "")))
			if err != nil {
				t.Fatal(err)
			}
			func() {
				defer func() { _ = recover() }() // the panic case re-raises
				for _, err := range agent.PredictStream(context.Background(), req) {
					if err != nil || tc.stop {
						break
					}
				}
			}()
			root := waitTraces(t, p, rec, 1)[0].Spans[0]
			_, hasOutputs := root.Attributes["mlflow.spanOutputs"]
			if hasOutputs != tc.wantOutputs || root.Status.Code != tc.wantStatus {
				t.Errorf("outputs %v (%s), status %+v; want outputs %v, status %s",
					hasOutputs, root.Attributes["mlflow.spanOutputs"], root.Status, tc.wantOutputs, tc.wantStatus)
			}
		})
	}
}

func TestHandlerClientDisconnect(t *testing.T) {
	p, rec := initTracing(t)
	agent := &testAgent{ctxEnded: make(chan struct{})}
	srv := httptest.NewServer(responsesagent.NewHandler(agent))
	defer srv.Close()

	ctx, cancel := context.WithCancel(context.Background())
	req, _ := http.NewRequestWithContext(ctx, http.MethodPost, srv.URL+"/invocations", strings.NewReader(userReq("slow", `,"stream":true`)))
	resp, err := http.DefaultClient.Do(req)
	if err != nil {
		t.Fatal(err)
	}
	br := bufio.NewReader(resp.Body)
	for n := 0; n < 3; { // two deltas and the partial item, each flushed at once
		line, err := br.ReadString('\n')
		if err != nil {
			t.Fatalf("reading the stream: %v", err)
		}
		if strings.HasPrefix(line, "data: ") {
			n++
		}
	}
	cancel()
	resp.Body.Close()
	select {
	case <-agent.ctxEnded:
	case <-time.After(10 * time.Second):
		t.Fatal("the agent's ctx was not cancelled after the client left")
	}
	tr := waitTraces(t, p, rec, 1)[0]
	root := tr.Spans[0]
	if !strings.Contains(root.Attributes["mlflow.spanOutputs"], `"partial"`) {
		t.Errorf("partial output missing: %s", root.Attributes["mlflow.spanOutputs"])
	}
	if root.Status.Code != exporter.StatusCodeError || !strings.Contains(root.Status.Message, "context canceled") {
		t.Errorf("status %+v", root.Status)
	}
}

func TestHandlerInfoAndHealth(t *testing.T) {
	srv := httptest.NewServer(responsesagent.NewHandler(&testAgent{},
		responsesagent.WithGetenv(func(k string) string {
			if k == "DATABRICKS_APP_NAME" {
				return "my-app"
			}
			return ""
		})))
	defer srv.Close()
	for path, want := range map[string]string{
		"/agent/info": `{"agent_api":"responses","mlflow_version":"3.17.2","name":"my-app","use_case":"agent"}`,
		"/health":     `{"status":"healthy"}`,
	} {
		r, err := http.Get(srv.URL + path)
		if err != nil {
			t.Fatal(err)
		}
		b, _ := io.ReadAll(r.Body)
		r.Body.Close()
		if string(b) != want {
			t.Errorf("%s: %s", path, b)
		}
	}
}

// TestHandlerName: the name GET /agent/info reports comes from
// DATABRICKS_APP_NAME (read through WithGetenv's function, or the process
// environment), WithName wins over it, and "mlflow_agent_server" is the
// default.
func TestHandlerName(t *testing.T) {
	for _, tc := range []struct {
		name    string
		env     map[string]string // nil: no WithGetenv, the process environment
		process string            // DATABRICKS_APP_NAME in the process environment
		opts    []responsesagent.HandlerOption
		want    string
	}{
		{"default", map[string]string{}, "", nil, "mlflow_agent_server"},
		{"environment", map[string]string{"DATABRICKS_APP_NAME": "my-app"}, "", nil, "my-app"},
		{"environment trimmed", map[string]string{"DATABRICKS_APP_NAME": " my-app "}, "", nil, "my-app"},
		{"blank is unset", map[string]string{"DATABRICKS_APP_NAME": "  "}, "", nil, "mlflow_agent_server"},
		{"option wins", map[string]string{"DATABRICKS_APP_NAME": "my-app"}, "",
			[]responsesagent.HandlerOption{responsesagent.WithName("explicit")}, "explicit"},
		{"nil option ignored", map[string]string{"DATABRICKS_APP_NAME": "my-app"}, "",
			[]responsesagent.HandlerOption{responsesagent.WithName("explicit"), nil}, "explicit"},
		{"empty option ignored", map[string]string{"DATABRICKS_APP_NAME": "my-app"}, "",
			[]responsesagent.HandlerOption{responsesagent.WithName("")}, "my-app"},
		{"getenv replaces the process environment", map[string]string{}, "process-app", nil, "mlflow_agent_server"},
		{"process environment", nil, "process-app", nil, "process-app"},
	} {
		t.Run(tc.name, func(t *testing.T) {
			t.Setenv("DATABRICKS_APP_NAME", tc.process)
			opts := tc.opts
			if tc.env != nil {
				// After the options: the getenv option is found wherever it is.
				opts = append(opts[:len(opts):len(opts)], responsesagent.WithGetenv(func(k string) string { return tc.env[k] }))
			}
			rec := httptest.NewRecorder()
			responsesagent.NewHandler(&testAgent{}, opts...).ServeHTTP(rec, httptest.NewRequest(http.MethodGet, "/agent/info", nil))
			var info struct{ Name string }
			if err := json.Unmarshal(rec.Body.Bytes(), &info); err != nil {
				t.Fatalf("%v: %s", err, rec.Body)
			}
			if info.Name != tc.want {
				t.Errorf("name %q, want %q", info.Name, tc.want)
			}
		})
	}
}

func TestHandlerWithoutTracing(t *testing.T) {
	p, err := tracing.Init(context.Background(), tracing.WithDisabled())
	if err != nil {
		t.Fatal(err)
	}
	defer p.Shutdown(context.Background())
	srv := httptest.NewServer(responsesagent.NewHandler(&testAgent{}, responsesagent.WithErrorHandler(func(error) {})))
	defer srv.Close()
	resp := post(t, srv.URL+"/invocations", userReq("hi", `,"databricks_options":{"return_trace":true}`), map[string]string{responsesagent.ReturnTraceHeader: "true"})
	b, _ := io.ReadAll(resp.Body)
	if resp.StatusCode != 200 || bytes.Contains(b, []byte("databricks_output")) {
		t.Errorf("%d %s", resp.StatusCode, b)
	}
	resp = post(t, srv.URL+"/invocations", userReq("invalid", ""), nil)
	if resp.StatusCode != 500 {
		t.Errorf("invalid output without tracing: %d", resp.StatusCode)
	}
}

func TestNewWithoutFunctions(t *testing.T) {
	a := responsesagent.New(nil, nil)
	if _, err := a.Predict(context.Background(), &responsesagent.Request{}); !errors.Is(err, responsesagent.ErrNoAgent) {
		t.Errorf("Predict = %v", err)
	}
	for _, err := range a.PredictStream(context.Background(), &responsesagent.Request{}) {
		if !errors.Is(err, responsesagent.ErrNoAgent) {
			t.Errorf("PredictStream = %v", err)
		}
	}
}

func TestCollectAndEvents(t *testing.T) {
	resp := &responsesagent.Response{
		ID:            "r1",
		Output:        []responsesagent.Item{responsesagent.FunctionCallItem("fc", "c", "f", "{}"), responsesagent.TextItem("hi", "m")},
		CustomOutputs: map[string]any{"k": "v"},
	}
	agent := responsesagent.FromPredict(func(context.Context, *responsesagent.Request) (*responsesagent.Response, error) { return resp, nil })
	var types []string
	for ev, err := range agent.PredictStream(context.Background(), &responsesagent.Request{}) {
		if err != nil {
			t.Fatal(err)
		}
		if err := ev.Validate(); err != nil {
			t.Errorf("%s: %v", ev.Type, err)
		}
		types = append(types, ev.Type)
	}
	if strings.Join(types, ",") != "response.output_item.done,response.output_item.done,response.completed" {
		t.Errorf("events %v", types)
	}
	back, err := responsesagent.FromStream(agent.PredictStream).Predict(context.Background(), &responsesagent.Request{})
	if err != nil {
		t.Fatal(err)
	}
	if back.ID != "r1" || len(back.Output) != 2 || back.CustomOutputs["k"] != "v" {
		t.Errorf("collected %+v", back)
	}
	// Without response.completed the output is the items of the done events.
	got, err := responsesagent.Collect(func(yield func(responsesagent.StreamEvent, error) bool) {
		_ = yield(responsesagent.TextDelta("h", "m"), nil) && yield(responsesagent.ItemDone(responsesagent.TextItem("h", "m")), nil)
	})
	if err != nil || len(got.Output) != 1 || responsesagent.OutputText(got.Output) != "h" {
		t.Errorf("Collect: %+v %v", got, err)
	}
	_, err = responsesagent.Collect(func(yield func(responsesagent.StreamEvent, error) bool) {
		yield(responsesagent.ErrorEvent("rate", "slow down"), nil)
	})
	var se *responsesagent.StreamError
	if !errors.As(err, &se) || se.Code != "rate" || se.Message != "slow down" {
		t.Errorf("Collect error event: %v", err)
	}
}

// TestHandlerClientGoneNotReported: an agent that ends with ctx.Err() after
// the client left (as the Agent docs suggest) is not an error to report —
// MLflow's server logs nothing then — but its span still records the
// cancellation. A cancellation of the agent's own, with the client still
// there, is reported.
func TestHandlerClientGoneNotReported(t *testing.T) {
	for _, tc := range []struct {
		name       string
		stream     bool
		clientGone bool
	}{
		{"stream, client gone", true, true},
		{"predict, client gone", false, true},
		{"stream, own cancellation", true, false},
		{"predict, own cancellation", false, false},
	} {
		t.Run(tc.name, func(t *testing.T) {
			p, rec := initTracing(t)
			started := make(chan struct{})
			wait := func(ctx context.Context) error {
				close(started)
				if !tc.clientGone {
					return context.Canceled // the agent's own, e.g. a sub-call's
				}
				<-ctx.Done()
				return ctx.Err()
			}
			agent := responsesagent.New(
				func(ctx context.Context, req *responsesagent.Request) (*responsesagent.Response, error) {
					return nil, wait(ctx)
				},
				func(ctx context.Context, req *responsesagent.Request) iter.Seq2[responsesagent.StreamEvent, error] {
					return func(yield func(responsesagent.StreamEvent, error) bool) {
						if yield(responsesagent.ItemDone(responsesagent.TextItem("partial", "msg_0")), nil) {
							yield(responsesagent.StreamEvent{}, wait(ctx))
						}
					}
				})
			var mu sync.Mutex
			var reported []error
			srv := httptest.NewServer(responsesagent.NewHandler(agent,
				responsesagent.WithErrorHandler(func(err error) { mu.Lock(); reported = append(reported, err); mu.Unlock() })))
			defer srv.Close()

			ctx, cancel := context.WithCancel(context.Background())
			defer cancel()
			extra := ""
			if tc.stream {
				extra = `,"stream":true`
			}
			req, _ := http.NewRequestWithContext(ctx, http.MethodPost, srv.URL+"/invocations", strings.NewReader(userReq("hi", extra)))
			done := make(chan struct{})
			go func() {
				defer close(done)
				if resp, err := http.DefaultClient.Do(req); err == nil {
					_, _ = io.Copy(io.Discard, resp.Body)
					resp.Body.Close()
				}
			}()
			<-started
			if tc.clientGone {
				cancel()
			}
			<-done
			tr := waitTraces(t, p, rec, 1)[0]
			if root := tr.Spans[0]; root.Status.Code != exporter.StatusCodeError || !strings.Contains(root.Status.Message, "context canceled") {
				t.Errorf("span status %+v, want the cancellation recorded", root.Status)
			}
			srv.Close() // waits for the handler
			mu.Lock()
			defer mu.Unlock()
			if tc.clientGone && len(reported) != 0 {
				t.Errorf("reported %v; the client left, MLflow reports nothing", reported)
			}
			if !tc.clientGone && len(reported) != 1 {
				t.Errorf("reported %v, want the agent's own cancellation", reported)
			}
		})
	}
}
