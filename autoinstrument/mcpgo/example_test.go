package mcpgo_test

import (
	"context"
	"fmt"
	"log"

	"github.com/mark3labs/mcp-go/client"
	"github.com/mark3labs/mcp-go/client/transport"
	"github.com/mark3labs/mcp-go/mcp"
	"github.com/mark3labs/mcp-go/server"

	"github.com/mlflowtrace/mlflowtrace-go/autoinstrument/mcpgo"
	"github.com/mlflowtrace/mlflowtrace-go/exporter"
	"github.com/mlflowtrace/mlflowtrace-go/exporter/exportertest"
	"github.com/mlflowtrace/mlflowtrace-go/tracing"
)

func Example() {
	ctx := context.Background()
	dest := exportertest.NewRecorder() // instead of ./mlruns
	p, err := tracing.Init(ctx, tracing.WithExporterOptions(exporter.WithDestination(dest)))
	if err != nil {
		log.Fatal(err)
	}

	s := server.NewMCPServer("weather", "1.0.0", mcpgo.ServerOption())
	s.AddTool(mcp.NewTool("get_weather", mcp.WithString("city")),
		func(ctx context.Context, req mcp.CallToolRequest) (*mcp.CallToolResult, error) {
			return mcp.NewToolResultText("18°C in " + req.GetString("city", "")), nil
		})

	c := client.NewClient(mcpgo.Transport(transport.NewInProcessTransport(s)))
	if err := c.Start(ctx); err != nil {
		log.Fatal(err)
	}
	defer c.Close()
	init := mcp.InitializeRequest{}
	init.Params.ProtocolVersion = mcp.LATEST_PROTOCOL_VERSION
	if _, err := c.Initialize(ctx, init); err != nil {
		log.Fatal(err)
	}
	call := mcp.CallToolRequest{}
	call.Params.Name, call.Params.Arguments = "get_weather", map[string]any{"city": "Paris"}
	res, err := c.CallTool(ctx, call)
	if err != nil {
		log.Fatal(err)
	}
	fmt.Println(res.Content[0].(mcp.TextContent).Text)

	if err := p.Shutdown(ctx); err != nil {
		log.Fatal(err)
	}
	for _, sp := range dest.Traces()[0].Spans { // the client's span, the server's under it
		fmt.Println(sp.Name, sp.Attributes["mlflow.spanType"], sp.Attributes["mlflow.spanInputs"])
	}
	// Output:
	// 18°C in Paris
	// tools/call get_weather "TOOL" {"city": "Paris"}
	// tools/call get_weather "TOOL" {"city": "Paris"}
}
