// Package genai traces calls of Google's Go SDK for the Gemini API and
// Vertex AI (google.golang.org/genai) as MLflow spans, the way MLflow's
// Python autolog (mlflow.gemini.autolog, MLflow 3.17.2) records the same
// calls of Google's Python SDK (google-genai). Build the client with
// NewClient instead of genai.NewClient:
//
//	import (
//		"google.golang.org/genai"
//		mlflowgenai "github.com/mlflowtrace/mlflowtrace-go/autoinstrument/genai"
//	)
//
//	client, err := mlflowgenai.NewClient(ctx, &genai.ClientConfig{APIKey: key})
//
// Both backends (BackendGeminiAPI, BackendVertexAI with Application Default
// Credentials, an API key in express mode, or an HTTPClient of your own)
// work as with genai.NewClient. Every call below becomes a span, a child of
// the span in the call's context, named after the Python SDK's method that
// MLflow patches:
//
//	Go SDK                                  span                              type
//	Models.GenerateContent                  Models.generate_content           LLM
//	Models.GenerateContentStream            Models.generate_content_stream    LLM
//	Models.CountTokens                      Models.count_tokens               LLM
//	Models.EmbedContent                     Models.embed_content              EMBEDDING
//	Chat.SendMessage, Chat.Send             Chat.send_message                 CHAT_MODEL
//	Chat.SendMessageStream, Chat.SendStream Chat.send_message_stream          CHAT_MODEL
//
// A chat turn is a Chat.send_message span around the model call's
// Models.generate_content span, as in MLflow. Each span records:
//
//   - inputs: the method's arguments as MLflow records the Python SDK's —
//     {"model", "contents", "config"} (a chat turn: {"message"}), the
//     contents and configuration as the Python SDK's pydantic objects
//     dump them (snake_case fields in the model's order, absent ones null);
//     outputs: the response object in the same form, with sdk_http_response
//     (the response headers). The conversion from the REST JSON the Go SDK
//     sends and receives uses the field lists of google-genai's models
//     (pyschema.json, generated from google-genai 2.25.0 by gen_pyschema.py);
//   - mlflow.message.format "gemini" (the MLflow UI's chat view reads the
//     contents, function calls and function responses), mlflow.chat.tools
//     (every function declaration, in MLflow's ChatTool form: a Gemini
//     Schema's property types in lower case), mlflow.llm.model (the model of
//     the call, without "models/"), mlflow.llm.provider "gemini";
//   - mlflow.chat.tokenUsage (generate calls): input (prompt), output
//     (candidates) and total tokens, and cache_read_input_tokens when
//     Gemini reports cached content tokens — MLflow's mapping: thinking
//     tokens are in the total only;
//   - an error answer as an "exception" event with status ERROR, of type
//     ClientError (4xx) or ServerError (5xx) and worded as the Python SDK's
//     errors.
//
// A stream's span stays open until the stream ends (drained, or closed
// early: an IncompleteStreamError); its outputs are the response its chunks
// add up to (text parts joined, function calls kept, the last finish reason
// and usage). The outgoing request carries the span's W3C traceparent, as
// MLflow's autolog injects it.
//
// # One span per call, retries
//
// The Go SDK has no per-call middleware; NewClient puts a transport in front
// of the client's HTTP transport. It groups the attempts of one call (the
// SDK sends every attempt of a call with the same header map) into one
// span: with HTTPOptions.RetryOptions, a retried 429/5xx or connection error
// is a "retry" event of the call's span, not a span of its own. An error
// answer the SDK closes unread is being retried (the SDK reads a final one);
// a connection error is predicted from the client's RetryOptions. A call
// waiting for a retry that never comes ends with its last failure after
// the options' MaxDelay (plus a second), or when its context ends.
//
// With content capture off (tracing.WithContentCapture(false),
// MLFLOWTRACE_CAPTURE_CONTENT=false) inputs and outputs are left out and
// the metadata kept.
//
// # Differences from MLflow's Gemini autolog (3.17.2)
//
//   - MLflow does not patch generate_content_stream nor send_message_stream:
//     Python records no span for a stream. This package records one, named
//     after the Python method, with the aggregated response.
//   - MLflow also patches the Python SDK's internal Models._generate_content,
//     which generate_content calls once per round of its automatic function
//     calling: every Python generate_content span has such a child with the
//     same outputs. The Go SDK has no automatic function calling; this
//     package records the call once.
//   - A Python generate_content without configuration sets the response's
//     automatic_function_calling_history to [] (the Go SDK's response has
//     none: null); the Python Chat passes its model call a copy of its
//     configuration with usage headers and automatic function calling
//     disabled, the Go Chat its configuration as given.
//   - The Go SDK gives a system instruction without a role the role "user";
//     it is recorded so.
//   - The Go SDK continues a response that stops before the model finishes
//     (automatic continuation); each continuation request is a span.
//
// conformance/test_gemini_parity.py compares the traces of both SDKs for the
// same calls field by field (local store and MLflow server).
package genai
