// Package openai traces calls of the OpenAI Go SDK
// (github.com/openai/openai-go/v3) as MLflow spans, the way MLflow's Python
// autolog (mlflow.openai.autolog) records the Python SDK's calls. Add one
// client option:
//
//	import (
//		"github.com/openai/openai-go/v3"
//		mlflowopenai "github.com/mlflowtrace/mlflowtrace-go/autoinstrument/openai"
//	)
//
//	client := openai.NewClient(mlflowopenai.RequestOption())
//
// Every call of Chat Completions, Responses, Embeddings and the legacy
// Completions API becomes one span, a child of the span in the call's
// context (or the root of a new trace):
//
//	API                      span name     type        mlflow.message.format
//	Chat Completions         Completions   CHAT_MODEL  openai
//	Responses                Responses     CHAT_MODEL  openai
//	Completions (legacy)     Completions   LLM         openai
//	Embeddings               Embeddings    EMBEDDING   —
//
// As in MLflow: the inputs are the request's JSON body; every request member
// other than messages/input is also an attribute of its own (model,
// temperature, tools, stream, ...); the outputs are the response's JSON
// body; mlflow.llm.model is the model the response names (else the
// request's); mlflow.chat.tools holds the request's tools in MLflow's
// ChatTool form; mlflow.chat.tokenUsage holds input, output and total tokens
// and cached input tokens (Chat Completions and Responses). The outgoing
// request carries the span's W3C traceparent (the global propagator).
//
// # Streaming
//
// A streamed call's span stays open until the stream is read to its end or
// closed. Each chunk is an event mlflow.chunk.item.<n> (value in
// mlflow.chunk.value), as in MLflow, and the outputs are the aggregated
// result: for Chat Completions a chat.completion object with the text
// joined, tool-call deltas merged into complete tool calls, the finish
// reason, and the usage of the final chunk (send
// stream_options.include_usage to get usage); for Responses the final
// response.completed event's response; for legacy Completions the text. A
// stream closed or cut before its final event, or carrying an error event,
// is recorded as an error (exception type openai.IncompleteStreamError or
// openai.StreamError) with what arrived so far as outputs.
//
// # Retries and errors
//
// The SDK's middleware runs once per HTTP attempt; RequestOption gives each
// logical call its own middleware (the SDK applies a client's options,
// option.RequestOption's Apply, once per call), so the attempts of one call
// — retries after 429, 5xx or connection errors — are one span, each retry
// an event "retry" (retry.attempt, http.response.status_code,
// error.message).
//
// openai-go v3 has no public hook that says when a call ends, so which
// attempt is the last is predicted from the SDK's retry policy and the
// call's retry budget, read from the SDK's request configuration
// (MaxRetries and the caller's context). That is verified for openai-go
// v3.102.0, the version this module requires; the package's tests fail on
// any other version until it is checked again, and when the configuration
// can no longer be read. The call's final error is
// recorded as MLflow records an exception: an "exception" event and status
// ERROR (exception type openai.APIError for an error answer, the transport
// error's Go type otherwise: timeouts, cancelled contexts).
//
// # Content
//
// With content capture off (tracing.WithContentCapture(false) or
// MLFLOWTRACE_CAPTURE_CONTENT=false) the span keeps the metadata — model,
// token usage, tools, request parameters, status, errors — and leaves out
// inputs, outputs, chunk events and the request members prompt,
// instructions, suffix and prediction. Redact or edit anything else with
// tracing.WithSpanFilter.
//
// # Differences from MLflow's OpenAI autolog (3.17.2)
//
//   - Inputs are the request body the Go SDK sends; Python records the
//     keyword arguments of create() (the same members for the same call).
//   - A streamed chat completion's outputs keep the merged tool calls, a
//     refusal, the service tier, every choice and the real finish reason;
//     MLflow's reconstruction keeps only the first choice's text, and its
//     finish reason is the last chunk's ("stop" when, with include_usage,
//     the last chunk has no choices).
//   - MLflow records no mlflow.llm.provider for OpenAI; WithProvider sets
//     one.
package openai
