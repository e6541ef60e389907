package main

import (
	"bufio"
	"context"
	"encoding/json"
	"io"
	"net"
	"net/http"
	"net/http/httptest"
	"os"
	"path/filepath"
	"strconv"
	"strings"
	"testing"
	"time"

	"go.uber.org/goleak"

	"github.com/mlflowtrace/mlflowtrace-go/exporter"
	"github.com/mlflowtrace/mlflowtrace-go/internal/llmtest"
	"github.com/mlflowtrace/mlflowtrace-go/internal/spantest"
	"github.com/mlflowtrace/mlflowtrace-go/traces"
	"github.com/mlflowtrace/mlflowtrace-go/tracing"
)

func TestListenAddr(t *testing.T) {
	for _, c := range []struct {
		env  map[string]string
		want string
	}{
		{nil, ":8000"},
		{map[string]string{"PORT": "9000"}, ":9000"},
		{map[string]string{"PORT": "9000", "DATABRICKS_APP_PORT": "8080"}, ":8080"},
	} {
		if got := listenAddr(func(k string) string { return c.env[k] }); got != c.want {
			t.Errorf("%v: %s, want %s", c.env, got, c.want)
		}
	}
}

func freePort(t *testing.T) string {
	ln, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	defer ln.Close()
	return strconv.Itoa(ln.Addr().(*net.TCPAddr).Port)
}

// waitHealthy polls base's /health until it answers (about 5 s at most).
func waitHealthy(base string) error {
	for i := 0; ; i++ {
		r, err := http.Get(base + "/health")
		if err == nil {
			r.Body.Close()
			return nil
		}
		if i > 100 {
			return err
		}
		time.Sleep(50 * time.Millisecond)
	}
}

// startAgent runs the program with env (PORT is chosen here) and returns
// once /health answers. stop ends the run as a SIGTERM does, with grace
// for requests in flight, and fails the test if run returned an error.
func startAgent(t *testing.T, env map[string]string, grace time.Duration) (base string, stop func()) {
	t.Helper()
	port := freePort(t)
	env["PORT"] = port
	ctx, cancel := context.WithCancel(context.Background())
	t.Cleanup(cancel) // a test that fails before stop still ends the run
	done := make(chan error, 1)
	go func() { done <- run(ctx, func(k string) string { return env[k] }, grace, 0) }()
	base = "http://127.0.0.1:" + port
	if err := waitHealthy(base); err != nil {
		cancel()
		<-done
		t.Fatalf("server not up: %v", err)
	}
	return base, func() {
		t.Helper()
		cancel()
		if err := <-done; err != nil {
			t.Fatalf("run: %v", err)
		}
	}
}

// The offline agent serves; a SIGTERM (ctx cancelled) with a streaming
// request in flight lets it finish, refuses new connections, and the trace
// of every request is in ./mlruns afterwards: an AGENT root with the chat
// model and tool spans under it.
func TestServeThenStopWithRequestInFlight(t *testing.T) {
	defer goleak.VerifyNone(t)
	t.Chdir(t.TempDir())
	port := freePort(t)
	env := map[string]string{"PORT": port}
	getenv := func(k string) string { return env[k] }
	ctx, stop := context.WithCancel(context.Background())
	defer stop()
	done := make(chan error, 1)
	go func() { done <- run(ctx, getenv, 20*time.Second, 200*time.Millisecond) }()

	base := "http://127.0.0.1:" + port
	if err := waitHealthy(base); err != nil {
		t.Fatalf("server not up: %v", err)
	}

	r, err := http.Post(base+"/invocations", "application/json",
		strings.NewReader(`{"input":[{"role":"user","content":"Weather in Paris?"}]}`))
	if err != nil {
		t.Fatal(err)
	}
	var plain struct {
		Output []json.RawMessage `json:"output"`
	}
	_ = json.NewDecoder(r.Body).Decode(&plain)
	r.Body.Close()
	if len(plain.Output) != 3 || !strings.Contains(string(plain.Output[2]), "Paris: 18C, sunny") {
		t.Fatalf("plain answer: %s", plain.Output)
	}

	// Four model calls of 200 ms: stop the server during the first.
	r, err = http.Post(base+"/invocations", "application/json",
		strings.NewReader(`{"input":[{"role":"user","content":"Weather in Paris and Rome, in Fahrenheit?"}],"stream":true}`))
	if err != nil {
		t.Fatal(err)
	}
	defer r.Body.Close()
	stop() // SIGTERM
	var last string
	sc := bufio.NewScanner(r.Body)
	for sc.Scan() {
		if sc.Text() != "" {
			last = sc.Text()
		}
	}
	if last != "data: [DONE]" {
		t.Errorf("in-flight stream did not finish: last line %q", last)
	}
	if err := <-done; err != nil {
		t.Fatalf("run: %v", err)
	}
	if _, err := http.Get(base + "/health"); err == nil {
		t.Error("still accepting connections after the stop")
	}

	// Both traces were written before run returned.
	dirs, _ := filepath.Glob("mlruns/0/traces/tr-*")
	if len(dirs) != 2 {
		t.Fatalf("%d traces in ./mlruns, want 2", len(dirs))
	}
	types := map[string]int{}
	for _, d := range dirs {
		spans := spantest.ReadTraceData(t, d)
		root := spans[0]
		if root.ParentSpanID != nil || root.Attributes["mlflow.spanType"] != `"AGENT"` || root.Attributes["mlflow.message.format"] != `"openai"` {
			t.Errorf("root %s %v", root.Name, root.Attributes["mlflow.spanType"])
		}
		for _, s := range spans[1:] {
			types[s.Attributes["mlflow.spanType"]]++
		}
	}
	// Plain: 2 model calls, 1 tool; stream: 3 model calls, 2 + 2 tools.
	if types[`"CHAT_MODEL"`] != 5 || types[`"TOOL"`] != 5 {
		t.Errorf("child span types %v", types)
	}
}

// With OPENAI_BASE_URL the agent calls that Chat Completions API through an
// openai-go client instrumented by autoinstrument/openai (here the fake
// OpenAI API of internal/llmtest): the trace is an AGENT root with the
// instrumented client's CHAT_MODEL spans and the TOOL spans under it.
func TestOpenAIModelThroughAutoinstrument(t *testing.T) {
	defer goleak.VerifyNone(t)
	fake := llmtest.NewServer()
	defer fake.Close()
	t.Chdir(t.TempDir())
	port := freePort(t)
	env := map[string]string{"PORT": port, "OPENAI_BASE_URL": fake.OpenAIBaseURL(), "OPENAI_API_KEY": llmtest.OpenAIKey}
	ctx, stop := context.WithCancel(context.Background())
	defer stop()
	done := make(chan error, 1)
	go func() { done <- run(ctx, func(k string) string { return env[k] }, 10*time.Second, 0) }()

	base := "http://127.0.0.1:" + port
	var r *http.Response
	var err error
	for i := 0; ; i++ {
		if r, err = http.Post(base+"/invocations", "application/json",
			strings.NewReader(`{"input":[{"role":"user","content":"What is the weather in Paris?"}]}`)); err == nil {
			break
		}
		if i > 100 {
			t.Fatalf("server not up: %v", err)
		}
		time.Sleep(50 * time.Millisecond)
	}
	var resp struct {
		Output []json.RawMessage `json:"output"`
	}
	_ = json.NewDecoder(r.Body).Decode(&resp)
	r.Body.Close()
	if r.StatusCode != http.StatusOK || len(resp.Output) != 3 || !strings.Contains(string(resp.Output[2]), "Paris: 18C, sunny") {
		t.Fatalf("status %d, output %s", r.StatusCode, resp.Output)
	}
	stop()
	if err := <-done; err != nil {
		t.Fatalf("run: %v", err)
	}

	dirs, _ := filepath.Glob("mlruns/0/traces/tr-*")
	if len(dirs) != 1 {
		t.Fatalf("%d traces in ./mlruns, want 1", len(dirs))
	}
	spans := spantest.ReadTraceData(t, dirs[0])
	got := spantest.NamesAndTypes(spans)
	want := []string{`predict "AGENT"`, `Completions "CHAT_MODEL"`, `get_weather "TOOL"`, `Completions "CHAT_MODEL"`}
	if strings.Join(got, ",") != strings.Join(want, ",") {
		t.Errorf("spans %v, want %v", got, want)
	}
	if u := spans[1].Attributes["mlflow.chat.tokenUsage"]; u == "" {
		t.Error("instrumented chat span has no token usage")
	}
	if n := len(fake.Requests()); n != 2 {
		t.Errorf("%d requests to the model, want 2", n)
	}
}

// MLFLOWTRACE_SPOOL_DIR works for this program unchanged: with the tracking
// server down its trace waits in the spool (a dead letter once the export
// failed); the next run, with a destination that works, delivers it.
func TestSpoolFromTheEnvironment(t *testing.T) {
	defer goleak.VerifyNone(t)
	t.Chdir(t.TempDir())
	spool := filepath.Join(t.TempDir(), "spool")
	serve := func(env map[string]string, during func(base string)) {
		t.Helper()
		env["MLFLOWTRACE_SPOOL_DIR"] = spool
		base, stop := startAgent(t, env, 5*time.Second)
		during(base)
		stop()
	}
	l, _ := net.Listen("tcp", "127.0.0.1:0")
	down := "http://" + l.Addr().String()
	l.Close()
	serve(map[string]string{"MLFLOW_TRACKING_URI": down, "MLFLOW_HTTP_REQUEST_MAX_RETRIES": "0"}, func(base string) {
		r, err := http.Post(base+"/invocations", "application/json", strings.NewReader(`{"input":[{"role":"user","content":"Weather in Paris?"}]}`))
		if err != nil {
			t.Fatal(err)
		}
		r.Body.Close()
		for i := 0; ; i++ {
			if dead, _ := filepath.Glob(filepath.Join(spool, "slot-0", "dead", "*.json")); len(dead) == 1 {
				break
			}
			if i > 200 {
				t.Fatal("the trace did not become a dead letter in the spool")
			}
			time.Sleep(25 * time.Millisecond)
		}
	})
	serve(map[string]string{"MLFLOW_TRACKING_URI": "file:./mlruns"}, func(string) {
		for i := 0; ; i++ {
			if dirs, _ := filepath.Glob("mlruns/0/traces/tr-*/trace_info.yaml"); len(dirs) == 1 {
				break
			}
			if i > 400 {
				t.Fatal("the next run did not deliver the spooled trace to ./mlruns")
			}
			time.Sleep(25 * time.Millisecond)
		}
	})
	if left, _ := os.ReadDir(spool); len(left) != 0 {
		t.Fatalf("the delivered spool left %v", left)
	}
}

// A thumbs-up posted right after the answer, before the trace is exported,
// is stored on the answer's trace as MLflow's docs pattern has it: a HUMAN
// feedback named user_feedback with the comment as rationale and the user
// as source.
func TestFeedback(t *testing.T) {
	defer goleak.VerifyNone(t)
	t.Chdir(t.TempDir())
	base, stop := startAgent(t, map[string]string{}, 10*time.Second)
	req, _ := http.NewRequest(http.MethodPost, base+"/invocations", strings.NewReader(`{"input":[{"role":"user","content":"Weather in Paris?"}]}`))
	req.Header.Set("x-mlflow-return-trace-id", "true")
	r, err := http.DefaultClient.Do(req)
	if err != nil {
		t.Fatal(err)
	}
	var answer struct {
		Metadata map[string]string `json:"metadata"`
	}
	_ = json.NewDecoder(r.Body).Decode(&answer)
	r.Body.Close()
	tid := answer.Metadata["trace_id"]
	if tid == "" {
		t.Fatal("no trace id in the answer")
	}

	post := func(body string) (int, map[string]string) {
		r, err := http.Post(base+"/feedback", "application/json", strings.NewReader(body))
		if err != nil {
			t.Fatal(err)
		}
		defer r.Body.Close()
		var out map[string]string
		_ = json.NewDecoder(r.Body).Decode(&out)
		return r.StatusCode, out
	}
	code, out := post(`{"trace_id":"` + tid + `","value":true,"comment":"spot on","user_id":"alice"}`)
	if code != http.StatusOK || !strings.HasPrefix(out["assessment_id"], "a-") {
		t.Fatalf("POST /feedback = %d %v", code, out)
	}
	for _, bad := range []struct {
		body string
		code int
	}{
		{`{"value":true}`, 400},
		{`{"trace_id":"` + tid + `"}`, 400},
		{`{"trace_id":"` + tid + `","value":"yes"}`, 400},
		{`not json`, 400},
	} {
		if code, out := post(bad.body); code != bad.code {
			t.Errorf("%s: %d %v, want %d", bad.body, code, out, bad.code)
		}
	}
	stop()

	c, err := traces.NewClient(context.Background(), exporter.WithTrackingURI("mlruns"))
	if err != nil {
		t.Fatal(err)
	}
	defer c.Close()
	a, err := c.GetAssessment(context.Background(), tid, out["assessment_id"])
	if err != nil {
		t.Fatal(err)
	}
	if a.Name != "user_feedback" || a.Feedback.Value != true || a.Rationale != "spot on" ||
		a.Source != (exporter.AssessmentSource{Type: "HUMAN", ID: "alice"}) {
		t.Errorf("stored feedback %+v", a)
	}
}

// TestFeedbackMLflowDown: with MLflow unreachable, POST /feedback answers
// 502 (or 504 when the timeout passed first) within its timeout instead of
// hanging for the transport's retry budget.
func TestFeedbackMLflowDown(t *testing.T) {
	defer goleak.VerifyNone(t)
	ln, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	addr := ln.Addr().String()
	ln.Close() // nobody listens there now
	env := map[string]string{"MLFLOW_TRACKING_URI": "http://bob:s3cretPW@" + addr}
	p, err := tracing.Init(context.Background(), tracing.WithGetenv(func(k string) string { return env[k] }),
		tracing.WithoutGlobalTracerProvider())
	if err != nil {
		t.Fatal(err)
	}
	defer func() {
		ctx, cancel := context.WithTimeout(context.Background(), 10*time.Second)
		defer cancel()
		_ = p.Shutdown(ctx)
	}()
	srv := httptest.NewServer(feedbackHandler(p, time.Second))
	defer srv.Close()

	start := time.Now()
	r, err := http.Post(srv.URL, "application/json",
		strings.NewReader(`{"trace_id":"tr-0123456789abcdef0123456789abcdef","value":true}`))
	if err != nil {
		t.Fatal(err)
	}
	body, _ := io.ReadAll(r.Body)
	r.Body.Close()
	if took := time.Since(start); took > 5*time.Second {
		t.Errorf("POST /feedback with MLflow down took %v, want about its 1s timeout", took)
	}
	switch {
	case r.StatusCode == http.StatusBadGateway && strings.Contains(string(body), "MLflow did not store the feedback"):
	case r.StatusCode == http.StatusGatewayTimeout && strings.Contains(string(body), "did not confirm the feedback within 1s"):
	default:
		t.Errorf("POST /feedback with MLflow down = %d %s, want 502 or 504", r.StatusCode, body)
	}
	if strings.Contains(string(body), "s3cretPW") {
		t.Errorf("the answer shows the password: %s", body)
	}
}
