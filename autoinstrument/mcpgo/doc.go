// Package mcpgo records MLflow spans of Model Context Protocol calls made
// and served with github.com/mark3labs/mcp-go, and carries the trace across
// the hop in params._meta, exactly as autoinstrument/mcp does for the
// official go-sdk (one implementation, internal/mcpspan): a Go agent and a
// Go MCP server make one trace, whichever of the two SDKs each side uses.
// (The package is mcpgo, after the module, as autoinstrument/mcp is the
// go-sdk's.) One line where the client is built, one where the server is:
//
//	c := client.NewClient(mcpgo.Transport(t))           // t: stdio, streamable HTTP, SSE, in-process
//	s := server.NewMCPServer("weather", "1.0.0", mcpgo.ServerOption())
//
// Transport wraps the client's transport: each request the client sends is
// a span, its params._meta carries the span's W3C trace context (notifications
// carry the caller's), and requests the server sends the client (sampling,
// elicitation, roots) continue the server's trace in a span current in the
// handler's context. The wrapped transport keeps what the transport can do
// (an HTTP connection stays one); Unwrap returns it.
//
// ServerOption installs mcp-go's own hooks — server.WithMetaPropagator,
// server.WithTracer and server.Hooks — so that each request the server
// handles continues the trace of its params._meta in a span that is current
// in the handler's context. It adds to the server's Hooks: pass
// server.WithHooks (which replaces them) before it. mcp-go has one tracer
// and one meta propagator per server: ServerOption takes both, so a
// server.WithTracer or server.WithMetaPropagator given after it turns the
// recording off.
//
// # Spans
//
// As autoinstrument/mcp records them (see its documentation): names and
// attributes after OpenTelemetry's MCP semantic conventions ("tools/call
// get_weather", "prompts/get summarize", "resources/read"; mcp.method.name,
// gen_ai.tool.name, gen_ai.prompt.name, mcp.resource.uri, mcp.session.id,
// gen_ai.operation.name, error.type, rpc.response.status_code), and:
//
//	tools/call              TOOL        inputs: the arguments; outputs: the CallToolResult
//	resources/read          RETRIEVER   inputs: {"uri"}; outputs: the contents as MLflow documents
//	prompts/get             UNKNOWN     inputs: {"name", "arguments"}; outputs: the GetPromptResult
//	sampling/createMessage  CHAT_MODEL  inputs: the request params; outputs: the result; model
//	other requests          UNKNOWN     inputs: the params (without _meta); outputs: the result
//
// A tool result with isError true is an error of the span (an "exception"
// event of type tool_error, status ERROR) that keeps its outputs; a JSON-RPC
// error is recorded with its code. Tool calls, resource reads, prompt gets,
// sampling and elicitation are always recorded (outside a trace they start
// one); other requests (initialize, list, ping, …) only inside a trace.
// Notifications are not recorded. With content capture off
// (tracing.WithContentCapture(false), MLFLOWTRACE_CAPTURE_CONTENT=false) no
// inputs or outputs are recorded, and a tool error keeps only its type.
//
// # Differences from autoinstrument/mcp
//
//   - mcp-go hands requests and results over as its own Go values; they are
//     recorded as the JSON they are sent as (the same members).
//   - A server handler's panic is not recorded with its value: mcp-go
//     recovers it only with server.WithRecovery, which turns it into an
//     error response (recorded as such); without it the span ends, as the
//     panic passes, with status ERROR ("panic: the request's handler did not
//     return") and no outputs.
//   - Requests an mcp-go server sends its client (RequestSampling,
//     RequestElicitation) have no server-side span: mcp-go has no hook for
//     them. The client side (Transport) records and continues them.
//   - The exception type of a JSON-RPC error is mcp-go's Go error type
//     (error.type and rpc.response.status_code hold the code, as for the
//     go-sdk).
package mcpgo
