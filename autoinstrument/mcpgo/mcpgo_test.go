package mcpgo_test

import (
	"context"
	"fmt"
	"io"
	"log"
	"net/http"
	"net/http/httptest"
	"reflect"
	"strings"
	"testing"

	"github.com/mark3labs/mcp-go/client"
	"github.com/mark3labs/mcp-go/client/transport"
	"github.com/mark3labs/mcp-go/mcp"
	"github.com/mark3labs/mcp-go/server"
	sdkmcp "github.com/modelcontextprotocol/go-sdk/mcp"
	"go.uber.org/goleak"

	gosdk "github.com/mlflowtrace/mlflowtrace-go/autoinstrument/mcp"
	"github.com/mlflowtrace/mlflowtrace-go/autoinstrument/mcpgo"
	"github.com/mlflowtrace/mlflowtrace-go/exporter"
	"github.com/mlflowtrace/mlflowtrace-go/internal/spantest"
	"github.com/mlflowtrace/mlflowtrace-go/tracing"
)

func TestMain(m *testing.M) { goleak.VerifyTestMain(m) }

var attr = spantest.Value

// newServer is an mcp-go server with a tool, a failing tool, a resource and
// a prompt; the tool records a span of its own (current context: the
// server's span).
func newServer() *server.MCPServer {
	s := server.NewMCPServer("weather", "v1", mcpgo.ServerOption()) // the one line
	s.AddTool(mcp.NewTool("get_weather", mcp.WithDescription("Current weather of a city"), mcp.WithString("city")),
		func(ctx context.Context, req mcp.CallToolRequest) (*mcp.CallToolResult, error) {
			city := req.GetString("city", "")
			_, err := tracing.Do(ctx, "lookup", func(context.Context) (int, error) { return 18, nil },
				tracing.WithSpanType(tracing.SpanTypeRetriever), tracing.WithInputs(city))
			return mcp.NewToolResultStructured(map[string]any{"city": city, "temp_c": 18}, "18°C in "+city), err
		})
	s.AddTool(mcp.NewTool("convert_units", mcp.WithDescription("Converts temperatures")),
		func(ctx context.Context, req mcp.CallToolRequest) (*mcp.CallToolResult, error) {
			return mcp.NewToolResultError("unsupported unit: kelvin"), nil
		})
	s.AddResource(mcp.NewResource("file:///guide.md", "guide", mcp.WithMIMEType("text/markdown")),
		func(ctx context.Context, req mcp.ReadResourceRequest) ([]mcp.ResourceContents, error) {
			return []mcp.ResourceContents{mcp.TextResourceContents{URI: req.Params.URI, MIMEType: "text/markdown", Text: "# Paris\nMild in spring."}}, nil
		})
	s.AddPrompt(mcp.NewPrompt("summarize", mcp.WithArgument("topic")),
		func(ctx context.Context, req mcp.GetPromptRequest) (*mcp.GetPromptResult, error) {
			return mcp.NewGetPromptResult("", []mcp.PromptMessage{
				mcp.NewPromptMessage(mcp.RoleUser, mcp.NewTextContent("Summarize "+req.Params.Arguments["topic"]))}), nil
		})
	return s
}

// connect starts and initialises an mcp-go client on t, instrumented, with
// mcp-go's latest protocol version.
func connect(t *testing.T, tr transport.Interface) *client.Client {
	return connectVersion(t, tr, mcp.LATEST_PROTOCOL_VERSION)
}

func connectVersion(t *testing.T, tr transport.Interface, version string) *client.Client {
	t.Helper()
	c := client.NewClient(mcpgo.Transport(tr)) // the one line
	ctx := context.Background()
	if err := c.Start(ctx); err != nil {
		t.Fatal(err)
	}
	init := mcp.InitializeRequest{}
	init.Params.ProtocolVersion = version
	init.Params.ClientInfo = mcp.Implementation{Name: "agent", Version: "v1"}
	if _, err := c.Initialize(ctx, init); err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { _ = c.Close() })
	return c
}

// agentRun calls the tools, the resource and the prompt inside one AGENT
// span through an mcp-go client.
func agentRun(t *testing.T, c *client.Client) {
	t.Helper()
	ctx, root := tracing.StartSpan(context.Background(), "agent", tracing.WithSpanType(tracing.SpanTypeAgent))
	call := func(name string, args map[string]any) (*mcp.CallToolResult, error) {
		req := mcp.CallToolRequest{}
		req.Params.Name, req.Params.Arguments = name, args
		return c.CallTool(ctx, req)
	}
	if res, err := call("get_weather", map[string]any{"city": "Paris"}); err != nil || res.IsError {
		t.Fatalf("get_weather: %v %+v", err, res)
	}
	if res, err := call("convert_units", map[string]any{"unit": "kelvin"}); err != nil || !res.IsError {
		t.Fatalf("convert_units: %v %+v", err, res)
	}
	if _, err := call("no_such_tool", nil); err == nil {
		t.Fatal("unknown tool: no error")
	}
	read := mcp.ReadResourceRequest{}
	read.Params.URI = "file:///guide.md"
	if _, err := c.ReadResource(ctx, read); err != nil {
		t.Fatal(err)
	}
	prompt := mcp.GetPromptRequest{}
	prompt.Params.Name, prompt.Params.Arguments = "summarize", map[string]string{"topic": "Paris"}
	if _, err := c.GetPrompt(ctx, prompt); err != nil {
		t.Fatal(err)
	}
	if _, err := c.ListTools(ctx, mcp.ListToolsRequest{}); err != nil {
		t.Fatal(err)
	}
	root.End()
}

// clientAndServer returns the client span of name (a child of the root) and
// the server span under it.
func clientAndServer(t *testing.T, tr *exporter.Trace, name string) (clientSpan, serverSpan *exporter.Span) {
	t.Helper()
	for _, s := range tr.Spans {
		if s.Name == name && s.ParentSpanID == tr.Spans[0].SpanID {
			clientSpan = s
		}
	}
	if clientSpan == nil {
		t.Fatalf("no client span %q in %v", name, spantest.Names(tr.Spans))
	}
	for _, s := range tr.Spans {
		if s.Name == name && s.ParentSpanID == clientSpan.SpanID {
			serverSpan = s
		}
	}
	if serverSpan == nil {
		t.Fatalf("no server span %q under the client's", name)
	}
	return clientSpan, serverSpan
}

// checkAgentTrace checks the trace of agentRun as autoinstrument/mcp's test
// checks the go-sdk's: every client span has the matching server span as
// its child, recorded the same way.
func checkAgentTrace(t *testing.T, tr *exporter.Trace) {
	t.Helper()
	if tr.Spans[0].Name != "agent" {
		t.Fatalf("root %q", tr.Spans[0].Name)
	}
	var clientNames []string
	for _, s := range tr.Spans {
		if s.ParentSpanID == tr.Spans[0].SpanID {
			clientNames = append(clientNames, s.Name)
		}
	}
	want := []string{"tools/call get_weather", "tools/call convert_units", "tools/call no_such_tool",
		"resources/read", "prompts/get summarize", "tools/list"}
	if !reflect.DeepEqual(clientNames, want) {
		t.Errorf("client spans %v\nwant %v", clientNames, want)
	}

	c, s := clientAndServer(t, tr, "tools/call get_weather")
	for _, sp := range []*exporter.Span{c, s} {
		if attr(sp, "mlflow.spanType") != "TOOL" || !reflect.DeepEqual(attr(sp, "mlflow.spanInputs"), map[string]any{"city": "Paris"}) ||
			attr(sp, "gen_ai.tool.name") != "get_weather" || attr(sp, "mcp.method.name") != "tools/call" || attr(sp, "gen_ai.operation.name") != "execute_tool" {
			t.Errorf("get_weather span %v", sp.Attributes)
		}
		out, _ := attr(sp, "mlflow.spanOutputs").(map[string]any)
		if sc, _ := out["structuredContent"].(map[string]any); sc["temp_c"] != 18.0 {
			t.Errorf("get_weather outputs %v", out)
		}
	}
	for _, sp := range tr.Spans {
		if sp.Name == "lookup" && sp.ParentSpanID != s.SpanID {
			t.Errorf("the tool's own span is not under the server span")
		}
	}

	c, s = clientAndServer(t, tr, "tools/call convert_units")
	for _, sp := range []*exporter.Span{c, s} {
		if sp.Status.Code != exporter.StatusCodeError || attr(sp, "error.type") != "tool_error" || len(sp.Events) != 1 ||
			sp.Events[0].Attributes["exception.type"] != "tool_error" ||
			!strings.Contains(fmt.Sprint(sp.Events[0].Attributes["exception.message"]), "unsupported unit") ||
			attr(sp, "mlflow.spanOutputs") == nil {
			t.Errorf("convert_units span: status %+v events %+v attrs %v", sp.Status, sp.Events, sp.Attributes)
		}
	}
	c, s = clientAndServer(t, tr, "tools/call no_such_tool")
	for _, sp := range []*exporter.Span{c, s} {
		if sp.Status.Code != exporter.StatusCodeError || attr(sp, "error.type") == nil || attr(sp, "rpc.response.status_code") == nil {
			t.Errorf("unknown tool span %+v %v", sp.Status, sp.Attributes)
		}
	}

	_, s = clientAndServer(t, tr, "resources/read")
	if attr(s, "mlflow.spanType") != "RETRIEVER" || attr(s, "mcp.resource.uri") != "file:///guide.md" ||
		!reflect.DeepEqual(attr(s, "mlflow.spanOutputs"), []any{map[string]any{"page_content": "# Paris\nMild in spring.",
			"metadata": map[string]any{"uri": "file:///guide.md", "mimeType": "text/markdown"}, "id": nil}}) {
		t.Errorf("resources/read server span %v", s.Attributes)
	}
	_, s = clientAndServer(t, tr, "prompts/get summarize")
	if !reflect.DeepEqual(attr(s, "mlflow.spanInputs"), map[string]any{"name": "summarize", "arguments": map[string]any{"topic": "Paris"}}) {
		t.Errorf("prompt inputs %v", attr(s, "mlflow.spanInputs"))
	}
}

func TestInProcessOneTrace(t *testing.T) {
	f := spantest.Start(t, tracing.WithoutGlobalTracerProvider())
	c := connect(t, transport.NewInProcessTransport(newServer())) // initialize: outside a trace, no spans
	agentRun(t, c)
	trs := f.Traces(t, 1)
	if len(trs) != 1 {
		t.Fatalf("%d traces", len(trs))
	}
	checkAgentTrace(t, trs[0])
}

func TestStreamableHTTPOneTrace(t *testing.T) {
	f := spantest.Start(t, tracing.WithoutGlobalTracerProvider())
	srv := httptest.NewServer(server.NewStreamableHTTPServer(newServer()))
	defer srv.Close()
	tr, err := transport.NewStreamableHTTP(srv.URL)
	if err != nil {
		t.Fatal(err)
	}
	c := connect(t, tr)
	if _, ok := c.GetTransport().(transport.HTTPConnection); !ok {
		t.Error("the instrumented transport of an HTTP connection is not an HTTPConnection")
	}
	agentRun(t, c)
	_ = c.Close()
	checkAgentTrace(t, f.Traces(t, 1)[0])
}

// TestServerWithoutClientTrace: a tool call from an uninstrumented client
// starts a trace of its own on the server; a list request does not.
func TestServerWithoutClientTrace(t *testing.T) {
	f := spantest.Start(t, tracing.WithoutGlobalTracerProvider())
	c, err := client.NewInProcessClient(newServer())
	if err != nil {
		t.Fatal(err)
	}
	defer c.Close()
	ctx := context.Background()
	if err := c.Start(ctx); err != nil {
		t.Fatal(err)
	}
	init := mcp.InitializeRequest{}
	init.Params.ProtocolVersion = mcp.LATEST_PROTOCOL_VERSION
	if _, err := c.Initialize(ctx, init); err != nil {
		t.Fatal(err)
	}
	if _, err := c.ListTools(ctx, mcp.ListToolsRequest{}); err != nil {
		t.Fatal(err)
	}
	req := mcp.CallToolRequest{}
	req.Params.Name, req.Params.Arguments = "get_weather", map[string]any{"city": "Rome"}
	if _, err := c.CallTool(ctx, req); err != nil {
		t.Fatal(err)
	}
	trs := f.Traces(t, 1)
	if names := spantest.Names(trs[0].Spans); len(trs) != 1 || !reflect.DeepEqual(names, []string{"tools/call get_weather", "lookup"}) {
		t.Errorf("traces %d, spans %v", len(trs), names)
	}
}

// TestServerHandlerPanic: a tool handler that panics on an HTTP server
// (net/http recovers it; the client sees the connection drop) leaves a
// server span with status ERROR — it used to be OK, as if the call had
// succeeded — and, with server.WithRecovery, the error response mcp-go
// makes of it.
func TestServerHandlerPanic(t *testing.T) {
	for _, tc := range []struct {
		name    string
		opts    []server.ServerOption
		wantMsg string
	}{
		{"bare", nil, "panic: the request's handler did not return"},
		{"WithRecovery", []server.ServerOption{server.WithRecovery()}, "panic recovered in boom tool handler: tool bug"},
	} {
		t.Run(tc.name, func(t *testing.T) {
			f := spantest.Start(t, tracing.WithoutGlobalTracerProvider())
			s := server.NewMCPServer("weather", "v1", append([]server.ServerOption{mcpgo.ServerOption()}, tc.opts...)...)
			s.AddTool(mcp.NewTool("boom"), func(context.Context, mcp.CallToolRequest) (*mcp.CallToolResult, error) {
				panic("tool bug")
			})
			srv := httptest.NewUnstartedServer(server.NewStreamableHTTPServer(s))
			srv.Config.ErrorLog = log.New(io.Discard, "", 0) // net/http logs the panic it recovers
			srv.Start()
			defer srv.Close()
			tr, err := transport.NewStreamableHTTP(srv.URL)
			if err != nil {
				t.Fatal(err)
			}
			c := connect(t, tr)
			ctx, root := tracing.StartSpan(context.Background(), "agent", tracing.WithSpanType(tracing.SpanTypeAgent))
			req := mcp.CallToolRequest{}
			req.Params.Name = "boom"
			if _, err := c.CallTool(ctx, req); err == nil {
				t.Error("no error from a panicking tool")
			}
			root.End()
			_ = c.Close()
			_, sp := clientAndServer(t, f.Traces(t, 1)[0], "tools/call boom")
			if sp.Status.Code != exporter.StatusCodeError || !strings.Contains(sp.Status.Message, tc.wantMsg) {
				t.Errorf("server span status %+v, want ERROR with %q", sp.Status, tc.wantMsg)
			}
		})
	}
}

func TestContentCaptureOff(t *testing.T) {
	f := spantest.Start(t, tracing.WithoutGlobalTracerProvider(), tracing.WithContentCapture(false))
	agentRun(t, connect(t, transport.NewInProcessTransport(newServer())))
	for _, s := range f.Traces(t, 1)[0].Spans {
		for _, k := range []string{"mlflow.spanInputs", "mlflow.spanOutputs"} {
			if _, ok := s.Attributes[k]; ok && s.Name != "lookup" && s.Name != "agent" {
				t.Errorf("%s: %s recorded", s.Name, k)
			}
		}
		if s.Name == "tools/call convert_units" && (len(s.Events) != 1 || s.Events[0].Attributes["exception.message"] != nil) {
			t.Errorf("tool error without content: %v", s.Events)
		}
	}
}

// TestAcrossSDKs: the trace goes from the official go-sdk's client to an
// mcp-go server, and from an mcp-go client to a go-sdk server, in
// params._meta, over streamable HTTP: one trace, each server span under its
// client span.
func TestAcrossSDKs(t *testing.T) {
	t.Run("go-sdk client to mcp-go server", func(t *testing.T) {
		f := spantest.Start(t, tracing.WithoutGlobalTracerProvider())
		srv := httptest.NewServer(server.NewStreamableHTTPServer(newServer()))
		defer srv.Close()
		c := sdkmcp.NewClient(&sdkmcp.Implementation{Name: "agent", Version: "v1"}, nil)
		gosdk.InstrumentClient(c)
		cs, err := c.Connect(context.Background(), &sdkmcp.StreamableClientTransport{Endpoint: srv.URL}, nil)
		if err != nil {
			t.Fatal(err)
		}
		ctx, root := tracing.StartSpan(context.Background(), "agent", tracing.WithSpanType(tracing.SpanTypeAgent))
		if _, err := cs.CallTool(ctx, &sdkmcp.CallToolParams{Name: "get_weather", Arguments: map[string]any{"city": "Paris"}}); err != nil {
			t.Fatal(err)
		}
		root.End()
		_ = cs.Close()
		c2, s := clientAndServer(t, f.Traces(t, 1)[0], "tools/call get_weather")
		if attr(s, "mlflow.spanType") != "TOOL" || attr(c2, "mlflow.spanType") != "TOOL" {
			t.Errorf("spans %v / %v", c2.Attributes, s.Attributes)
		}
	})
	t.Run("mcp-go client to go-sdk server", func(t *testing.T) {
		f := spantest.Start(t, tracing.WithoutGlobalTracerProvider())
		s := sdkmcp.NewServer(&sdkmcp.Implementation{Name: "weather", Version: "v1"}, nil)
		gosdk.InstrumentServer(s)
		sdkmcp.AddTool(s, &sdkmcp.Tool{Name: "get_weather"}, func(ctx context.Context, _ *sdkmcp.CallToolRequest, in map[string]any) (*sdkmcp.CallToolResult, any, error) {
			return nil, map[string]any{"temp_c": 18}, nil
		})
		srv := httptest.NewServer(sdkmcp.NewStreamableHTTPHandler(func(*http.Request) *sdkmcp.Server { return s }, nil))
		defer srv.Close()
		tr, err := transport.NewStreamableHTTP(srv.URL)
		if err != nil {
			t.Fatal(err)
		}
		c := connectVersion(t, tr, "2025-11-25") // go-sdk v1.8.0 serves up to this one
		ctx, root := tracing.StartSpan(context.Background(), "agent", tracing.WithSpanType(tracing.SpanTypeAgent))
		req := mcp.CallToolRequest{}
		req.Params.Name, req.Params.Arguments = "get_weather", map[string]any{"city": "Paris"}
		if _, err := c.CallTool(ctx, req); err != nil {
			t.Fatal(err)
		}
		root.End()
		_ = c.Close()
		c2, sp := clientAndServer(t, f.Traces(t, 1)[0], "tools/call get_weather")
		if !reflect.DeepEqual(attr(sp, "mlflow.spanInputs"), map[string]any{"city": "Paris"}) || attr(c2, "mlflow.spanType") != "TOOL" {
			t.Errorf("spans %v / %v", c2.Attributes, sp.Attributes)
		}
	})
}

func TestUntraced(t *testing.T) {
	spantest.Start(t, tracing.WithDisabled())
	c := connect(t, transport.NewInProcessTransport(newServer()))
	agentRun(t, c) // works, records nothing
}
