package mcpgo_test

import (
	"context"
	"net/http/httptest"
	"testing"

	"github.com/mark3labs/mcp-go/client"
	"github.com/mark3labs/mcp-go/client/transport"
	"github.com/mark3labs/mcp-go/mcp"
	"github.com/mark3labs/mcp-go/server"

	"github.com/mlflowtrace/mlflowtrace-go/autoinstrument/mcpgo"
	"github.com/mlflowtrace/mlflowtrace-go/internal/spantest"
)

// benchServer is an mcp-go server with one tool answering a structured
// result, instrumented (mcpgo.ServerOption) or not.
func benchServer(traced bool) *server.MCPServer {
	var opts []server.ServerOption
	if traced {
		opts = append(opts, mcpgo.ServerOption())
	}
	s := server.NewMCPServer("weather", "v1", opts...)
	s.AddTool(mcp.NewTool("get_weather", mcp.WithDescription("Current weather of a city"), mcp.WithString("city")),
		func(ctx context.Context, req mcp.CallToolRequest) (*mcp.CallToolResult, error) {
			city := req.GetString("city", "")
			return mcp.NewToolResultStructured(map[string]any{"city": city, "temp_c": 18}, "18°C in "+city), nil
		})
	return s
}

// benchClient starts and initialises a client on tr (instrumented with
// mcpgo.Transport when traced), closed when the benchmark ends.
func benchClient(b *testing.B, tr transport.Interface, traced bool) *client.Client {
	if traced {
		tr = mcpgo.Transport(tr)
	}
	c := client.NewClient(tr)
	ctx := context.Background()
	if err := c.Start(ctx); err != nil {
		b.Fatal(err)
	}
	init := mcp.InitializeRequest{}
	init.Params.ProtocolVersion = mcp.LATEST_PROTOCOL_VERSION
	init.Params.ClientInfo = mcp.Implementation{Name: "agent", Version: "v1"}
	if _, err := c.Initialize(ctx, init); err != nil {
		b.Fatal(err)
	}
	b.Cleanup(func() { _ = c.Close() })
	return c
}

// pair is a bare and a traced client of the same transport kind.
type pair struct{ inProcess, http *client.Client }

// BenchmarkToolCall measures one tools/call from an mcp-go client to an
// mcp-go server, in process and over streamable HTTP on loopback: "bare" is
// neither side instrumented, "traced" both (mcpgo.Transport on the client,
// mcpgo.ServerOption on the server: a trace of two spans per call, the
// client's TOOL span and the server's under it, params._meta carrying the
// context, exported to a discarding destination).
func BenchmarkToolCall(b *testing.B) {
	spantest.StartDiscard(b)
	clients := map[bool]pair{}
	for _, traced := range []bool{false, true} {
		srv := httptest.NewServer(server.NewStreamableHTTPServer(benchServer(traced)))
		b.Cleanup(srv.Close)
		h, err := transport.NewStreamableHTTP(srv.URL)
		if err != nil {
			b.Fatal(err)
		}
		clients[traced] = pair{
			inProcess: benchClient(b, transport.NewInProcessTransport(benchServer(traced)), traced),
			http:      benchClient(b, h, traced),
		}
	}
	call := func(ctx context.Context, c *client.Client) error {
		req := mcp.CallToolRequest{}
		req.Params.Name, req.Params.Arguments = "get_weather", map[string]any{"city": "Paris"}
		res, err := c.CallTool(ctx, req)
		if err == nil && res.IsError {
			b.Fatal("get_weather: tool error")
		}
		return err
	}
	spantest.BenchModes(b, clients[false], clients[true], func() {},
		spantest.Mode[pair]{Name: "inprocess", Call: func(ctx context.Context, p pair) error { return call(ctx, p.inProcess) }},
		spantest.Mode[pair]{Name: "http", Call: func(ctx context.Context, p pair) error { return call(ctx, p.http) }},
	)
}
