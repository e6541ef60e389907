// Package mcpspan is what the Model Context Protocol integrations share
// (autoinstrument/mcp for the official go-sdk, autoinstrument/mcpgo for
// github.com/mark3labs/mcp-go): the span of one MCP request — its name,
// type and attributes (Describe), its start with the inputs (Start), its
// end with the result, a tool error or a JSON-RPC error (Finish) — and the
// W3C trace context carried in params._meta (Inject, Extract). An SDK's
// integration only turns its request and result types into these calls, so
// both SDKs record a request the same way.
package mcpspan
