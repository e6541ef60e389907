// Package llmspan holds what the LLM client integrations of package
// autoinstrument share: the life cycle of one span per logical SDK call
// across its HTTP attempts (Call); how an SDK's attempts are grouped into
// calls — through the SDK's own span of each API call where the SDK starts
// one (CallTracer: anthropic-sdk-go's option.WithTracerProvider; the SDK
// then also says when the call ends), through the SDK's own call boundary
// where its middleware stack has one (Operation: aws-sdk-go-v2, whose
// Initialize step runs once per call and its Deserialize step once per
// attempt), through an HTTP client's transport (Transport:
// google.golang.org/genai), else through a client option the SDK applies
// once per call (PerCall: openai-go, whose retries are then predicted);
// "retry" events (AddRetryEvent); the watching of response bodies (kept
// JSON, or a stream fed to a StreamDecoder: server-sent events, or an
// integration's own, like AWS event streams); the per-call middleware
// (CallMiddleware: the SDK-specific part is only an Endpoint — span name
// and type, and how the request and result are recorded), reading request
// and response JSON in document order (ObjectFields), and MLflow's forms of
// chat tools (ChatTools) and token usage (Usage).
//
// Spans are tracing spans: every value is set through package tracing, which
// encodes it (one encoding path).
package llmspan
