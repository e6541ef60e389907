package mcp_test

import (
	"context"
	"fmt"
	"strings"

	sdkmcp "github.com/modelcontextprotocol/go-sdk/mcp"

	"github.com/mlflowtrace/mlflowtrace-go/autoinstrument/mcp"
	"github.com/mlflowtrace/mlflowtrace-go/exporter"
	"github.com/mlflowtrace/mlflowtrace-go/exporter/exportertest"
	"github.com/mlflowtrace/mlflowtrace-go/tracing"
)

// An agent calls a tool of an MCP server; both sides are instrumented, so the
// call is one trace: the agent's span, the client's TOOL span, and the
// server's TOOL span under it.
func Example() {
	ctx := context.Background()
	rec := exportertest.NewRecorder() // by default tracing.Init writes ./mlruns
	p, err := tracing.Init(ctx, tracing.WithExporterOptions(exporter.WithDestination(rec)),
		tracing.WithoutGlobalTracerProvider())
	if err != nil {
		panic(err)
	}

	server := sdkmcp.NewServer(&sdkmcp.Implementation{Name: "weather", Version: "v1"}, nil)
	mcp.InstrumentServer(server)
	sdkmcp.AddTool(server, &sdkmcp.Tool{Name: "get_weather", Description: "Current weather of a city"},
		func(ctx context.Context, _ *sdkmcp.CallToolRequest, in struct {
			City string `json:"city"`
		}) (*sdkmcp.CallToolResult, map[string]any, error) {
			return nil, map[string]any{"city": in.City, "temp_c": 18}, nil
		})
	client := sdkmcp.NewClient(&sdkmcp.Implementation{Name: "agent", Version: "v1"}, nil)
	mcp.InstrumentClient(client)

	ct, st := sdkmcp.NewInMemoryTransports() // or stdio, streamable HTTP, …
	ss, err := server.Connect(ctx, st, nil)
	if err != nil {
		panic(err)
	}
	cs, err := client.Connect(ctx, ct, nil)
	if err != nil {
		panic(err)
	}

	_ = tracing.Run(ctx, "agent", func(ctx context.Context) error {
		_, err := cs.CallTool(ctx, &sdkmcp.CallToolParams{Name: "get_weather", Arguments: map[string]any{"city": "Paris"}})
		return err
	}, tracing.WithSpanType(tracing.SpanTypeAgent))

	_ = cs.Close()
	_ = ss.Wait()
	if err := p.Shutdown(ctx); err != nil {
		panic(err)
	}
	tr := rec.Traces()[0]
	depth := map[string]int{}
	for _, s := range tr.Spans {
		d := 0
		if s.ParentSpanID.IsValid() {
			d = depth[s.ParentSpanID.String()] + 1
		}
		depth[s.SpanID.String()] = d
		fmt.Println(strings.TrimRight(fmt.Sprintf("%*s%s %s %s", 2*d, "", s.Name, s.Attributes["mlflow.spanType"], s.Attributes["mlflow.spanInputs"]), " "))
	}
	// Output:
	// agent "AGENT"
	//   tools/call get_weather "TOOL" {"city": "Paris"}
	//     tools/call get_weather "TOOL" {"city": "Paris"}
}
