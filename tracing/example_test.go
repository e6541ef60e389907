package tracing_test

import (
	"context"
	"fmt"
	"io"
	"net/http"
	"net/http/httptest"
	"strings"
	"time"

	"github.com/mlflowtrace/mlflowtrace-go/exporter"
	"github.com/mlflowtrace/mlflowtrace-go/exporter/exportertest"
	"github.com/mlflowtrace/mlflowtrace-go/tracing"
)

// initForExample sets tracing up with an in-memory destination so the
// examples can print what was recorded. A program calls tracing.Init(ctx)
// and lets MLFLOW_TRACKING_URI choose the destination (default ./mlruns).
func initForExample() (*tracing.Provider, *exportertest.Recorder) {
	rec := exportertest.NewRecorder()
	p, err := tracing.Init(context.Background(),
		tracing.WithEnabled(),
		tracing.WithoutGlobalTracerProvider(),
		tracing.WithExporterOptions(exporter.WithDestination(rec)))
	if err != nil {
		panic(err)
	}
	return p, rec
}

func Example() {
	ctx := context.Background()
	p, rec := initForExample()

	ctx, span := tracing.StartSpan(ctx, "answer", tracing.WithSpanType(tracing.SpanTypeAgent),
		tracing.WithInputs(map[string]string{"question": "What is MLflow?"}))
	_, llm := tracing.StartSpan(ctx, "llm", tracing.WithSpanType(tracing.SpanTypeChatModel))
	llm.SetTokenUsage(tracing.TokenUsage{InputTokens: 12, OutputTokens: 30})
	llm.End(tracing.WithOutputs("An open source platform for the ML lifecycle."))
	span.End(tracing.WithOutputs("MLflow is an open source platform."))

	// Shutdown writes the buffered traces; bound it, and read its error
	// (how many traces were not delivered, and why).
	sctx, cancel := context.WithTimeout(context.Background(), 30*time.Second)
	defer cancel()
	if err := p.Shutdown(sctx); err != nil {
		panic(err)
	}
	tr := rec.Traces()[0]
	fmt.Println(tr.Info.Tags["mlflow.traceName"], tr.Info.State, len(tr.Spans), "spans")
	fmt.Println(tr.Info.Metadata["mlflow.trace.tokenUsage"])
	// Output:
	// answer OK 2 spans
	// {"input_tokens": 12, "output_tokens": 30, "total_tokens": 42}
}

type Query struct {
	Text string `json:"text"`
	TopK int    `json:"top_k"`
}

func search(ctx context.Context, q Query) ([]string, error) {
	return []string{"doc-1", "doc-2"}[:q.TopK], nil
}

func ExampleFunc() {
	p, rec := initForExample()

	// Wrap once, call many times: every call is a RETRIEVER span.
	tracedSearch := tracing.Func("search", search, tracing.WithSpanType(tracing.SpanTypeRetriever))
	docs, err := tracedSearch(context.Background(), Query{Text: "mlflow", TopK: 2})
	fmt.Println(docs, err)

	_ = p.Shutdown(context.Background())
	s := rec.Traces()[0].Spans[0]
	fmt.Println(s.Attributes["mlflow.spanInputs"])
	fmt.Println(s.Attributes["mlflow.spanOutputs"])
	fmt.Println(s.Attributes["mlflow.spanFunctionName"])
	// Output:
	// [doc-1 doc-2] <nil>
	// {"text": "mlflow", "top_k": 2}
	// ["doc-1", "doc-2"]
	// "search"
}

func ExampleDo() {
	p, rec := initForExample()

	n, err := tracing.Do(context.Background(), "count", func(ctx context.Context) (int, error) {
		return 3, nil
	}, tracing.WithInputs("a b c"))
	fmt.Println(n, err)

	_ = p.Shutdown(context.Background())
	fmt.Println(rec.Traces()[0].Spans[0].Attributes["mlflow.spanOutputs"])
	// Output:
	// 3 <nil>
	// 3
}

func ExampleUpdateCurrentTrace() {
	p, rec := initForExample()

	chat := tracing.Func("chat", func(ctx context.Context, msg string) (string, error) {
		err := tracing.UpdateCurrentTrace(ctx,
			tracing.WithUser("user-42"),
			tracing.WithSession("session-7"),
			tracing.WithTags(map[string]string{"channel": "web"}))
		return "hello!", err
	}, tracing.WithSpanType(tracing.SpanTypeAgent))
	_, _ = chat(context.Background(), "hi")

	_ = p.Shutdown(context.Background())
	info := rec.Traces()[0].Info
	fmt.Println(info.Metadata["mlflow.trace.user"], info.Metadata["mlflow.trace.session"], info.Tags["channel"])
	// Output: user-42 session-7 web
}

func ExampleWrap() {
	p, rec := initForExample()

	agent := http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		body, _ := io.ReadAll(r.Body)
		w.Header().Set("Content-Type", "application/json")
		fmt.Fprintf(w, `{"output": %q}`, "echo: "+string(body))
	})
	srv := httptest.NewServer(tracing.Wrap(agent, tracing.WithHandlerSpanType(tracing.SpanTypeAgent)))
	resp, err := http.Post(srv.URL+"/invocations", "text/plain", strings.NewReader("hi"))
	if err != nil {
		panic(err)
	}
	out, _ := io.ReadAll(resp.Body)
	resp.Body.Close()
	srv.Close()
	fmt.Println(string(out))

	_ = p.Shutdown(context.Background())
	s := rec.Traces()[0].Spans[0]
	fmt.Println(s.Name, s.Attributes["mlflow.spanType"], s.Attributes["mlflow.spanInputs"])
	// Output:
	// {"output": "echo: hi"}
	// POST /invocations "AGENT" "hi"
}

func ExampleInjectHTTPHeaders() {
	p, _ := initForExample()
	defer p.Shutdown(context.Background())

	ctx, span := tracing.StartSpan(context.Background(), "call tool service")
	defer span.End()
	req, _ := http.NewRequestWithContext(ctx, http.MethodPost, "http://tools.internal/run", nil)
	tracing.InjectHTTPHeaders(ctx, req.Header) // the service continues the trace (see Wrap)
	fmt.Println(strings.Contains(req.Header.Get("traceparent"), span.SpanContext().TraceID().String()))
	// Output: true
}

// A request's user and session on every trace started while serving it —
// also traces whose root span an instrumented client starts — and a call
// left untraced: MLflow's mlflow.tracing.context.
func ExampleContextWithTraceOptions() {
	p, rec := initForExample()

	ctx := tracing.ContextWithTraceOptions(context.Background(),
		tracing.WithUser("alice"), tracing.WithSession("chat-1"))
	tracedSearch := tracing.Func("search", search, tracing.WithSpanType(tracing.SpanTypeRetriever))
	_, _ = tracedSearch(ctx, Query{Text: "mlflow", TopK: 1})
	_, _ = tracedSearch(tracing.ContextWithTracingEnabled(ctx, false), Query{Text: "health check", TopK: 1})

	_ = p.Shutdown(context.Background())
	traces := rec.Traces()
	fmt.Println(len(traces), "trace")
	fmt.Println(traces[0].Info.Metadata["mlflow.trace.user"], traces[0].Info.Metadata["mlflow.trace.session"])
	// Output:
	// 1 trace
	// alice chat-1
}
