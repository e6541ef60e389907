// Package bedrock traces calls of Amazon Bedrock Runtime made with the AWS
// SDK for Go v2 (github.com/aws/aws-sdk-go-v2/service/bedrockruntime) as
// MLflow spans, the way MLflow's Python autolog (mlflow.bedrock.autolog)
// records boto3's bedrock-runtime client. Add one option where the client
// is built:
//
//	import (
//		"github.com/aws/aws-sdk-go-v2/config"
//		"github.com/aws/aws-sdk-go-v2/service/bedrockruntime"
//		mlflowbedrock "github.com/mlflowtrace/mlflowtrace-go/autoinstrument/bedrock"
//	)
//
//	cfg, err := config.LoadDefaultConfig(ctx)
//	client := bedrockruntime.NewFromConfig(cfg, mlflowbedrock.ClientOption())
//
// (or append Middleware() to cfg.APIOptions to instrument every Bedrock
// Runtime client made from cfg). The option adds middleware to the SDK's
// own middleware stack: the span starts in its Initialize step, once per
// call, around the SDK's retry loop; each HTTP attempt passes its
// Deserialize step. So one span covers a call and its retries, which are
// "retry" events of the span (retry.attempt, and the HTTP status or error
// of the attempt that failed).
//
// Every call of these operations becomes one span, a child of the span in
// the call's context:
//
//   - Converse: "BedrockRuntime.converse", CHAT_MODEL; ConverseStream:
//     "BedrockRuntime.converse_stream", CHAT_MODEL. Inputs: the call's
//     arguments — modelId and the members of the request body the SDK
//     sends; mlflow.message.format "bedrock" (the MLflow UI's chat view
//     reads Converse messages); mlflow.chat.tools: toolConfig's tools in
//     MLflow's ChatTool form. Outputs: the answer with botocore's
//     ResponseMetadata (request id, HTTP status, headers, retries); for a
//     stream, the answer its events add up to, and every event as a span
//     event named after it with its JSON (Bedrock's "p" padding dropped).
//   - InvokeModel: "BedrockRuntime.invoke_model", LLM, or EMBEDDING when the
//     answer has an "embedding" (Titan embeddings); InvokeModelWithResponseStream:
//     "BedrockRuntime.invoke_model_with_response_stream", LLM. Inputs: the
//     arguments (modelId, body as text, contentType, accept, …); outputs:
//     ResponseMetadata, contentType and the body parsed (for a stream the
//     body is "EventStream", and every chunk a span event named by its
//     "type" or "chunk"). The model bodies of Anthropic, Nova, Llama, Titan
//     and Cohere are all recorded this way.
//   - mlflow.llm.model: the modelId; mlflow.llm.provider: the part of it
//     before the first "." ("anthropic" for
//     "anthropic.claude-3-haiku-20240307-v1:0"; for an inference profile
//     such as "us.anthropic.…" MLflow takes "us", and so does this package).
//   - mlflow.chat.tokenUsage: input, output and total tokens, and the cache
//     read and write tokens where reported, found under the names MLflow
//     looks for (Converse's inputTokens…, Anthropic's input_tokens…, Nova's
//     cacheReadInputTokenCount…, Llama's prompt_token_count…), with cache
//     tokens added to input and total tokens as MLflow does.
//
// A failed call's span has an "exception" event and status ERROR, named and
// worded as MLflow records boto3's exceptions: an error the service
// answered has the type of botocore's class for its code
// (ValidationException, ThrottlingException, … — the exceptions Bedrock
// Runtime's API model defines — or ClientError for any other code) and
// botocore's message ("An error occurred (ValidationException) when calling
// the Converse operation: <message>", with " (reached max retries: <n>)"
// when the SDK gave up after its retries); an exception inside a stream is
// an EventStreamError worded the same way with the event's type as its
// code; a stream the caller closes, or that is cut, before its final event
// an IncompleteStreamError; another error of the SDK (a connection error,
// a cancelled context) keeps its Go type. A stream's span ends at its final event, when it
// is closed, or when it fails. With content capture off
// (tracing.WithContentCapture(false), MLFLOWTRACE_CAPTURE_CONTENT=false)
// inputs, outputs and stream events are left out and the metadata kept.
//
// # Differences from MLflow's Bedrock autolog (3.17.2)
//
//   - Streams: MLflow keeps one text block and only the last toolUse block
//     of a ConverseStream, its input the streamed JSON text; this package
//     keeps every content block, each toolUse input parsed, as Converse
//     answers. MLflow ends a stream's span only when the caller iterates
//     the stream to its end (an exception inside the stream, or a stream
//     left unread, leaves the span open); this package ends it as described
//     above and records the error.
//   - Token usage MLflow does not find: an InvokeModel answer without usage
//     members (Titan, Cohere) gets the counts Bedrock sends in its
//     X-Amzn-Bedrock-Input-Token-Count / -Output-Token-Count headers; a
//     streamed invocation whose chunks carry no top-level usage (Nova,
//     Llama, Titan, Cohere) the amazon-bedrock-invocationMetrics of its
//     final chunk.
//   - The retry count in "(reached max retries: <n>)" is the Go SDK's
//     (3 attempts by default; botocore's legacy mode makes 5); errors that
//     are not the service's (connection errors, timeouts) keep the Go SDK's
//     types and messages.
//   - botocore retries inside the call MLflow patches, unrecorded; this
//     package records retries as events.
//   - Converse inputs list the body's members in the order the Go SDK
//     writes them (alphabetical); MLflow records boto3's keyword arguments
//     in the order the caller passed them.
//
// Like boto3 under MLflow's autolog, requests carry no traceparent header.
package bedrock
