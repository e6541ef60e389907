// Package mcp records MLflow spans of Model Context Protocol calls made and
// served with github.com/modelcontextprotocol/go-sdk, and carries the trace
// across the hop so that a Go agent and a Go MCP server produce one trace.
//
//	client := sdkmcp.NewClient(impl, nil)
//	mcp.InstrumentClient(client)
//	server := sdkmcp.NewServer(impl, nil)
//	mcp.InstrumentServer(server)
//
// InstrumentClient and InstrumentServer add SendingMiddleware (a span per
// request sent; the trace context written into the request's params._meta)
// and ReceivingMiddleware (the trace context read from params._meta; a span
// per request handled, current in the handler's context) on both directions,
// so requests the server sends the client (sampling, elicitation) are traced
// too. Spans go wherever package tracing sends them (tracing.Init).
//
// # Spans
//
// Names and attributes follow OpenTelemetry's MCP semantic conventions: the
// span name is "{method} {target}" ("tools/call get_weather",
// "prompts/get summarize", "resources/read"), with mcp.method.name,
// gen_ai.tool.name, gen_ai.prompt.name, mcp.resource.uri, mcp.session.id,
// gen_ai.operation.name "execute_tool" for tool calls, and error.type /
// rpc.response.status_code on failures. MLflow span types and content:
//
//	tools/call              TOOL        inputs: the arguments; outputs: the CallToolResult
//	resources/read          RETRIEVER   inputs: {"uri"}; outputs: the contents as MLflow documents
//	                                    ({page_content, metadata: {uri, mimeType}})
//	prompts/get             UNKNOWN     inputs: {"name", "arguments"}; outputs: the GetPromptResult
//	sampling/createMessage  CHAT_MODEL  inputs: the request params; outputs: the result; model
//	other requests          UNKNOWN     inputs: the params (without _meta); outputs: the result
//
// A tool result with isError true is an error of the span (an "exception"
// event of type tool_error, status ERROR, error.type tool_error) that keeps
// its outputs; a JSON-RPC error response is recorded with its code. Tool
// calls, resource reads, prompt gets, sampling and elicitation requests are
// always recorded (a call outside a trace starts one); other requests
// (initialize, list, ping, …) only inside a trace, so connecting does not
// make traces of its own. Notifications are not recorded.
//
// With content capture off (tracing.WithContentCapture(false) or
// MLFLOWTRACE_CAPTURE_CONTENT=false) no inputs or outputs are recorded, and a
// tool error keeps only its type.
//
// # Trace context across the hop
//
// The W3C traceparent, tracestate and baggage keys go into params._meta of
// every request and notification, as the MCP specification (SEP-414) and
// OpenTelemetry's MCP conventions describe; the receiving side continues the
// trace from them. The trace context of the transport (an HTTP request's
// traceparent header) is used only when params._meta carries none. A request
// the SDK sends without params (tools/list, ping, …) gets empty params to
// carry them.
//
// In one process (in-memory transports, or streamable HTTP between
// goroutines) the client's and the server's spans are exported as one trace.
// In two processes exporting to the same MLflow tracking server (MLflow >=
// 3.4, SQL backend), the server process sends only its spans, which the
// tracking server adds to the client's trace, and the client process writes
// the trace info — what MLflow's Python SDK does for distributed traces. The
// local store (./mlruns) cannot merge a trace written by two processes: give
// each process its own store, where the server's part is a trace of its own.
//
// Server-initiated requests (sampling/createMessage, elicitation/create) are
// traced like the others, but go-sdk v1.8.0 refuses to send them on protocol
// version 2026-07-28, which it negotiates by default (SEP-2322 replaces them
// with input requests inside results); they are not covered by this
// package's tests.
package mcp
