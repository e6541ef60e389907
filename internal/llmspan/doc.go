// Package llmspan holds what the LLM client integrations of package
// autoinstrument share: the life cycle of one span per logical SDK call
// across its HTTP attempts (Call, for SDKs whose middleware runs once per
// attempt; Operation, for SDKs that say where a call starts and ends, like
// aws-sdk-go-v2's middleware stack), "retry" events (AddRetryEvent), the
// watching of response bodies (kept JSON, or a stream fed to a
// StreamDecoder: server-sent events, or an integration's own), the client
// option that gives every logical call of openai-go and anthropic-sdk-go
// its own middleware (PerCall), that middleware (CallMiddleware: the
// SDK-specific part is only an Endpoint — span name and type, and how the
// request and result are recorded), reading request and response JSON in
// document order (ObjectFields), and MLflow's forms of chat tools
// (ChatTools) and token usage (Usage).
//
// Spans are tracing spans: every value is set through package tracing, which
// encodes it (one encoding path).
package llmspan
