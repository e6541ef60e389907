package mcp_test

import (
	"context"
	"errors"
	"fmt"
	"net/http"
	"net/http/httptest"
	"os"
	"reflect"
	"strings"
	"sync"
	"testing"
	"time"

	sdkmcp "github.com/modelcontextprotocol/go-sdk/mcp"

	"github.com/mlflowtrace/mlflowtrace-go/autoinstrument/mcp"
	"github.com/mlflowtrace/mlflowtrace-go/exporter"
	"github.com/mlflowtrace/mlflowtrace-go/exporter/exportertest"
	"github.com/mlflowtrace/mlflowtrace-go/internal/mlflowtest"
	"github.com/mlflowtrace/mlflowtrace-go/internal/spantest"
	"github.com/mlflowtrace/mlflowtrace-go/tracing"
)

func TestMain(m *testing.M) {
	if os.Getenv(serverProcessEnv) != "" {
		os.Exit(serveStdio()) // the MCP server process of TestTwoProcesses
	}
	os.Exit(mlflowtest.Main(m)) // stops the shared MLflow server, then checks for leaked goroutines
}

func setup(t *testing.T, opts ...tracing.Option) (*tracing.Provider, *exportertest.Recorder) {
	t.Helper()
	rec := exportertest.NewRecorder()
	base := []tracing.Option{
		tracing.WithGetenv(func(string) string { return "" }),
		tracing.WithoutGlobalTracerProvider(),
		tracing.WithExporterOptions(exporter.WithDestination(rec)),
	}
	p, err := tracing.Init(context.Background(), append(base, opts...)...)
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { _ = p.Shutdown(context.Background()) })
	return p, rec
}

func traces(t *testing.T, p *tracing.Provider, rec *exportertest.Recorder, n int) []*exporter.Trace {
	t.Helper()
	ctx, cancel := context.WithTimeout(context.Background(), 10*time.Second)
	defer cancel()
	if err := p.ForceFlush(ctx); err != nil {
		t.Fatal(err)
	}
	tr, err := rec.WaitTraces(ctx, n)
	if err != nil {
		t.Fatalf("want %d traces: %v (have %d)", n, err, len(rec.Traces()))
	}
	return tr
}

func span(t *testing.T, tr *exporter.Trace, name string) *exporter.Span {
	t.Helper()
	var found *exporter.Span
	for _, s := range tr.Spans {
		if s.Name == name {
			if found != nil {
				t.Fatalf("two spans %q", name)
			}
			found = s
		}
	}
	if found == nil {
		var names []string
		for _, s := range tr.Spans {
			names = append(names, s.Name)
		}
		t.Fatalf("no span %q in %v", name, names)
	}
	return found
}

// pair returns the client span named name and the server span under it.
func pair(t *testing.T, tr *exporter.Trace, name string) [2]*exporter.Span {
	t.Helper()
	var client, server *exporter.Span
	for _, s := range tr.Spans {
		if s.Name == name && s.ParentSpanID == tr.Spans[0].SpanID {
			client = s
		}
	}
	if client == nil {
		t.Fatalf("no client span %q", name)
	}
	for _, s := range tr.Spans {
		if s.Name == name && s.ParentSpanID == client.SpanID {
			server = s
		}
	}
	if server == nil {
		t.Fatalf("no server span %q", name)
	}
	return [2]*exporter.Span{client, server}
}

// attr decodes a span attribute's JSON (nil when absent).
var attr = spantest.Value

type weatherArgs struct {
	City string `json:"city"`
}

type weatherOut struct {
	City  string `json:"city"`
	TempC int    `json:"temp_c"`
}

// seenMeta records the _meta of the requests the server's tools got.
var (
	seenMu   sync.Mutex
	seenMeta []map[string]any
)

// newServer is an MCP server with a tool, a failing tool, a resource and a
// prompt; the tool records a span of its own (current context: the server's
// span).
func newServer() *sdkmcp.Server {
	s := sdkmcp.NewServer(&sdkmcp.Implementation{Name: "weather", Version: "v1"}, nil)
	mcp.InstrumentServer(s)
	sdkmcp.AddTool(s, &sdkmcp.Tool{Name: "get_weather", Description: "Current weather of a city"},
		func(ctx context.Context, req *sdkmcp.CallToolRequest, in weatherArgs) (*sdkmcp.CallToolResult, weatherOut, error) {
			seenMu.Lock()
			seenMeta = append(seenMeta, req.Params.GetMeta())
			seenMu.Unlock()
			_, err := tracing.Do(ctx, "lookup", func(context.Context) (int, error) { return 18, nil },
				tracing.WithSpanType(tracing.SpanTypeRetriever), tracing.WithInputs(in.City))
			return nil, weatherOut{City: in.City, TempC: 18}, err
		})
	sdkmcp.AddTool(s, &sdkmcp.Tool{Name: "convert_units", Description: "Converts temperatures"},
		func(ctx context.Context, req *sdkmcp.CallToolRequest, in map[string]any) (*sdkmcp.CallToolResult, any, error) {
			return nil, nil, errors.New("unsupported unit: kelvin")
		})
	s.AddResource(&sdkmcp.Resource{URI: "file:///guide.md", Name: "guide", MIMEType: "text/markdown"},
		func(ctx context.Context, req *sdkmcp.ReadResourceRequest) (*sdkmcp.ReadResourceResult, error) {
			return &sdkmcp.ReadResourceResult{Contents: []*sdkmcp.ResourceContents{
				{URI: req.Params.URI, MIMEType: "text/markdown", Text: "# Paris\nMild in spring."}}}, nil
		})
	s.AddPrompt(&sdkmcp.Prompt{Name: "summarize", Arguments: []*sdkmcp.PromptArgument{{Name: "topic"}}},
		func(ctx context.Context, req *sdkmcp.GetPromptRequest) (*sdkmcp.GetPromptResult, error) {
			return &sdkmcp.GetPromptResult{Messages: []*sdkmcp.PromptMessage{
				{Role: "user", Content: &sdkmcp.TextContent{Text: "Summarize " + req.Params.Arguments["topic"]}}}}, nil
		})
	return s
}

// connectInMemory connects an instrumented client to newServer over
// in-memory transports.
func connectInMemory(t *testing.T) *sdkmcp.ClientSession {
	t.Helper()
	ct, st := sdkmcp.NewInMemoryTransports()
	ss, err := newServer().Connect(context.Background(), st, nil)
	if err != nil {
		t.Fatal(err)
	}
	c := sdkmcp.NewClient(&sdkmcp.Implementation{Name: "agent", Version: "v1"}, nil)
	mcp.InstrumentClient(c)
	cs, err := c.Connect(context.Background(), ct, nil)
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() {
		_ = cs.Close()
		_ = ss.Wait()
	})
	return cs
}

// agentRun calls the tools, the resource and the prompt inside one AGENT span.
func agentRun(t *testing.T, cs *sdkmcp.ClientSession) string {
	t.Helper()
	ctx, root := tracing.StartSpan(context.Background(), "agent", tracing.WithSpanType(tracing.SpanTypeAgent))
	res, err := cs.CallTool(ctx, &sdkmcp.CallToolParams{Name: "get_weather", Arguments: map[string]any{"city": "Paris"}})
	if err != nil || res.IsError {
		t.Fatalf("get_weather: %v %+v", err, res)
	}
	res, err = cs.CallTool(ctx, &sdkmcp.CallToolParams{Name: "convert_units", Arguments: map[string]any{"unit": "kelvin"}})
	if err != nil || !res.IsError {
		t.Fatalf("convert_units: %v %+v", err, res)
	}
	if _, err := cs.CallTool(ctx, &sdkmcp.CallToolParams{Name: "no_such_tool"}); err == nil {
		t.Fatal("unknown tool: no error")
	}
	if _, err := cs.ReadResource(ctx, &sdkmcp.ReadResourceParams{URI: "file:///guide.md"}); err != nil {
		t.Fatal(err)
	}
	if _, err := cs.GetPrompt(ctx, &sdkmcp.GetPromptParams{Name: "summarize", Arguments: map[string]string{"topic": "Paris"}}); err != nil {
		t.Fatal(err)
	}
	if _, err := cs.ListTools(ctx, nil); err != nil {
		t.Fatal(err)
	}
	root.End()
	return root.TraceID()
}

// checkAgentTrace checks the trace of agentRun: every client span has the
// matching server span as its child, in the same trace.
func checkAgentTrace(t *testing.T, tr *exporter.Trace) {
	t.Helper()
	byParent := map[string][]*exporter.Span{}
	for _, s := range tr.Spans {
		byParent[s.ParentSpanID.String()] = append(byParent[s.ParentSpanID.String()], s)
	}
	root := span(t, tr, "agent")
	var clientNames []string
	for _, c := range byParent[root.SpanID.String()] {
		clientNames = append(clientNames, c.Name)
		kids := byParent[c.SpanID.String()]
		if len(kids) != 1 || kids[0].Name != c.Name {
			t.Errorf("client span %q: children %v, want the server span of the same name", c.Name, kids)
		}
	}
	want := []string{"tools/call get_weather", "tools/call convert_units", "tools/call no_such_tool",
		"resources/read", "prompts/get summarize", "tools/list"}
	if !reflect.DeepEqual(clientNames, want) {
		t.Errorf("client spans %v\nwant %v", clientNames, want)
	}

	// get_weather: TOOL spans both sides, arguments in, result out; the
	// tool's own span under the server span.
	var weather []*exporter.Span
	for _, s := range tr.Spans {
		if s.Name == "tools/call get_weather" {
			weather = append(weather, s)
		}
	}
	for _, s := range weather {
		if attr(s, "mlflow.spanType") != "TOOL" || !reflect.DeepEqual(attr(s, "mlflow.spanInputs"), map[string]any{"city": "Paris"}) ||
			attr(s, "gen_ai.tool.name") != "get_weather" || attr(s, "mcp.method.name") != "tools/call" || attr(s, "gen_ai.operation.name") != "execute_tool" {
			t.Errorf("get_weather span %v", s.Attributes)
		}
		out, _ := attr(s, "mlflow.spanOutputs").(map[string]any)
		if sc, _ := out["structuredContent"].(map[string]any); sc["temp_c"] != 18.0 {
			t.Errorf("get_weather outputs %v", out)
		}
	}
	server := weather[1]
	if lookup := span(t, tr, "lookup"); lookup.ParentSpanID != server.SpanID {
		t.Errorf("the tool's own span is not under the server span")
	}

	// isError: both sides an error with a tool_error exception, outputs kept.
	for _, s := range tr.Spans {
		if s.Name != "tools/call convert_units" {
			continue
		}
		if s.Status.Code != "STATUS_CODE_ERROR" || attr(s, "error.type") != "tool_error" || len(s.Events) != 1 ||
			s.Events[0].Attributes["exception.type"] != "tool_error" ||
			!strings.Contains(fmt.Sprint(s.Events[0].Attributes["exception.message"]), "unsupported unit") ||
			attr(s, "mlflow.spanOutputs") == nil {
			t.Errorf("convert_units span: status %+v events %+v attrs %v", s.Status, s.Events, s.Attributes)
		}
	}
	for _, unknown := range pair(t, tr, "tools/call no_such_tool") {
		if unknown.Status.Code != "STATUS_CODE_ERROR" || attr(unknown, "error.type") == nil || attr(unknown, "rpc.response.status_code") == nil {
			t.Errorf("unknown tool span %+v %v", unknown.Status, unknown.Attributes)
		}
	}

	res := pair(t, tr, "resources/read")[1]
	if attr(res, "mlflow.spanType") != "RETRIEVER" || attr(res, "mcp.resource.uri") != "file:///guide.md" ||
		!reflect.DeepEqual(attr(res, "mlflow.spanOutputs"), []any{map[string]any{"page_content": "# Paris\nMild in spring.",
			"metadata": map[string]any{"uri": "file:///guide.md", "mimeType": "text/markdown"}, "id": nil}}) {
		t.Errorf("resources/read server span %v", res.Attributes)
	}
	prompt := pair(t, tr, "prompts/get summarize")[1]
	if !reflect.DeepEqual(attr(prompt, "mlflow.spanInputs"), map[string]any{"name": "summarize", "arguments": map[string]any{"topic": "Paris"}}) {
		t.Errorf("prompt inputs %v", attr(prompt, "mlflow.spanInputs"))
	}
}

func TestInMemoryOneTrace(t *testing.T) {
	p, rec := setup(t)
	cs := connectInMemory(t) // initialize and its notification: outside a trace, no spans
	id := agentRun(t, cs)
	trs := traces(t, p, rec, 1)
	if len(trs) != 1 || trs[0].Info.TraceID != id {
		t.Fatalf("traces %d", len(trs))
	}
	checkAgentTrace(t, trs[0])

	seenMu.Lock()
	meta := seenMeta[len(seenMeta)-1]
	seenMu.Unlock()
	if tp, _ := meta["traceparent"].(string); !strings.HasPrefix(tp, "00-"+strings.TrimPrefix(id, "tr-")+"-") {
		t.Errorf("the server got _meta %v, want the trace's traceparent", meta)
	}
}

func TestStreamableHTTPOneTrace(t *testing.T) {
	p, rec := setup(t)
	server := newServer()
	h := sdkmcp.NewStreamableHTTPHandler(func(*http.Request) *sdkmcp.Server { return server }, nil)
	srv := httptest.NewServer(h)
	defer srv.Close()
	c := sdkmcp.NewClient(&sdkmcp.Implementation{Name: "agent", Version: "v1"}, nil)
	mcp.InstrumentClient(c)
	cs, err := c.Connect(context.Background(), &sdkmcp.StreamableClientTransport{Endpoint: srv.URL, DisableStandaloneSSE: true}, nil)
	if err != nil {
		t.Fatal(err)
	}
	id := agentRun(t, cs)
	if err := cs.Close(); err != nil {
		t.Fatal(err)
	}
	trs := traces(t, p, rec, 1)
	if trs[0].Info.TraceID != id {
		t.Fatalf("trace %s, want %s", trs[0].Info.TraceID, id)
	}
	checkAgentTrace(t, trs[0])
	if attr(pair(t, trs[0], "resources/read")[1], "mcp.session.id") == nil {
		t.Errorf("no mcp.session.id over streamable HTTP")
	}
}

func TestServerWithoutClientTrace(t *testing.T) {
	p, rec := setup(t)
	// A client without instrumentation: each tool call is a trace of the
	// server's own; listing tools is not recorded.
	ct, st := sdkmcp.NewInMemoryTransports()
	ss, err := newServer().Connect(context.Background(), st, nil)
	if err != nil {
		t.Fatal(err)
	}
	cs, err := sdkmcp.NewClient(&sdkmcp.Implementation{Name: "plain"}, nil).Connect(context.Background(), ct, nil)
	if err != nil {
		t.Fatal(err)
	}
	defer func() { _ = cs.Close(); _ = ss.Wait() }()
	if _, err := cs.ListTools(context.Background(), nil); err != nil {
		t.Fatal(err)
	}
	if _, err := cs.CallTool(context.Background(), &sdkmcp.CallToolParams{Name: "get_weather", Arguments: map[string]any{"city": "Oslo"}}); err != nil {
		t.Fatal(err)
	}
	trs := traces(t, p, rec, 1)
	if len(trs[0].Spans) != 2 || trs[0].Spans[0].Name != "tools/call get_weather" || trs[0].Spans[0].ParentSpanID.IsValid() {
		t.Errorf("server-only trace: %+v", trs[0].Spans)
	}
	time.Sleep(50 * time.Millisecond)
	if n := len(rec.Traces()); n != 1 {
		t.Errorf("%d traces, want 1 (tools/list outside a trace is not recorded)", n)
	}
}

func TestContentCaptureOff(t *testing.T) {
	p, rec := setup(t, tracing.WithContentCapture(false))
	cs := connectInMemory(t)
	agentRun(t, cs)
	tr := traces(t, p, rec, 1)[0]
	for _, s := range tr.Spans {
		if s.Name == "lookup" || s.Name == "agent" {
			continue // the program's own spans
		}
		for _, k := range []string{"mlflow.spanInputs", "mlflow.spanOutputs"} {
			if v, ok := s.Attributes[k]; ok {
				t.Errorf("%s: %s = %s with content capture off", s.Name, k, v)
			}
		}
		for _, e := range s.Events {
			if _, ok := e.Attributes["exception.message"]; ok && e.Attributes["exception.type"] == "tool_error" {
				t.Errorf("%s: tool error message recorded with content capture off", s.Name)
			}
		}
	}
	if s := pair(t, tr, "resources/read")[1]; attr(s, "mlflow.spanType") != "RETRIEVER" || attr(s, "mcp.resource.uri") != "file:///guide.md" {
		t.Errorf("metadata lost: %v", s.Attributes)
	}
}

func TestUntraced(t *testing.T) {
	// Without tracing (no Provider, or a shut-down one) the middleware only
	// passes calls through.
	cs := connectInMemory(t)
	res, err := cs.CallTool(context.Background(), &sdkmcp.CallToolParams{Name: "get_weather", Arguments: map[string]any{"city": "Rome"}})
	if err != nil || res.IsError {
		t.Fatal(err, res)
	}
}
