// Package openaispan records one call of the OpenAI API — Chat Completions,
// Responses, Embeddings, legacy Completions; plain or streamed — as MLflow's
// OpenAI autolog records it: span name and type, the request members as
// attributes, the outputs (a stream aggregated), model, provider, tools,
// token usage and errors. It works on the HTTP request and response, so
// every Go client of the API shares it: autoinstrument/openai (openai-go)
// and autoinstrument/goopenai (github.com/sashabaranov/go-openai) differ
// only in how their calls reach llmspan's per-call middleware.
package openaispan
