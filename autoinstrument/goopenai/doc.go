// Package goopenai traces calls of github.com/sashabaranov/go-openai as
// MLflow spans, the way MLflow's Python autolog (mlflow.openai.autolog)
// records the same calls of the Python SDK. Wrap the client's HTTP client
// where the client is built:
//
//	import (
//		openai "github.com/sashabaranov/go-openai"
//		"github.com/mlflowtrace/mlflowtrace-go/autoinstrument/goopenai"
//	)
//
//	cfg := openai.DefaultConfig(apiKey)
//	cfg.HTTPClient = goopenai.Wrap(cfg.HTTPClient)
//	client := openai.NewClientWithConfig(cfg)
//
// (The package is goopenai, after the module's name, so that it does not
// collide with autoinstrument/openai, which instruments the official
// openai-go SDK, nor with go-openai's own package name openai.)
//
// Every call of Chat Completions (CreateChatCompletion,
// CreateChatCompletionStream), Responses (CreateResponse,
// CreateResponseStream), Embeddings (CreateEmbeddings) and the legacy
// Completions API (CreateCompletion, CreateCompletionStream) becomes one
// span, a child of the span in the call's context (or the root of a new
// trace), recorded exactly as autoinstrument/openai records openai-go's
// calls (one implementation, internal/openaispan):
//
//	API                      span name     type        mlflow.message.format
//	Chat Completions         Completions   CHAT_MODEL  openai
//	Responses                Responses     CHAT_MODEL  openai
//	Completions (legacy)     Completions   LLM         openai
//	Embeddings               Embeddings    EMBEDDING   —
//
// The inputs are the request's JSON body; every request member other than
// messages/input is also an attribute of its own (model, temperature,
// tools, stream, ...); the outputs are the response's JSON body;
// mlflow.llm.model is the model the response names (else the request's);
// mlflow.chat.tools holds the request's tools in MLflow's ChatTool form;
// mlflow.chat.tokenUsage holds input, output, total and cached input tokens
// (Chat Completions and Responses). No mlflow.llm.provider is recorded, as
// MLflow's OpenAI autolog records none (MLflow's server infers "openai"
// from the model when it prices the span); WithProvider sets one (for
// example "azure" for go-openai's Azure configurations). The outgoing
// request carries the span's W3C traceparent.
//
// A streamed call's span ends at the stream's final event ([DONE]: go-openai
// stops reading there), when the stream is closed, or when it breaks. Each
// chunk is an event mlflow.chunk.item.<n>, and the outputs are the
// aggregated result (for Chat Completions a chat.completion object with the
// text joined and the tool-call deltas merged; send StreamOptions
// IncludeUsage to get token usage). A stream closed or cut before its final
// event, or carrying an error event, is recorded as an error with what
// arrived so far as outputs.
//
// Errors are recorded as MLflow records an exception: an "exception" event
// and status ERROR, with exception type openai.APIError for an error answer
// of the API (openai.StreamError, openai.IncompleteStreamError for
// streams), else the transport error's Go type. go-openai does not retry: a
// retrying http.RoundTripper inside the wrapped client makes every attempt
// part of the call's one span.
//
// With content capture off (tracing.WithContentCapture(false) or
// MLFLOWTRACE_CAPTURE_CONTENT=false) the span keeps the metadata — model,
// token usage, tools, request parameters, status, errors — and leaves out
// inputs, outputs, chunk events and the request members prompt,
// instructions, suffix and prediction.
//
// # Differences from MLflow's OpenAI autolog (3.17.2)
//
// Those of autoinstrument/openai: the inputs are the request body go-openai
// sends (it always sends "stream", false for a plain call; Python records
// the keyword arguments given), a streamed chat completion's outputs keep
// the merged tool calls, the service tier, every choice and the real finish
// reason, and the exception type of an error answer is openai.APIError where
// the Python SDK raises a class per status (NotFoundError, ...). The parity
// test (conformance/test_llm_parity.py, scenarios goopenai_*) lists them.
package goopenai
