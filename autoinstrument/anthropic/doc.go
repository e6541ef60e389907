// Package anthropic traces calls of the Anthropic Go SDK
// (github.com/anthropics/anthropic-sdk-go/v2) as MLflow spans, the way
// MLflow's Python autolog (mlflow.anthropic.autolog) records the Python
// SDK's Messages.create. Add one client option:
//
//	import (
//		"github.com/anthropics/anthropic-sdk-go/v2"
//		mlflowanthropic "github.com/mlflowtrace/mlflowtrace-go/autoinstrument/anthropic"
//	)
//
//	client := anthropic.NewClient(mlflowanthropic.RequestOption())
//
// Every Messages call (New, NewStreaming, and the beta Messages) becomes one
// span "Messages.create" of type CHAT_MODEL, a child of the span in the
// call's context, with:
//
//   - inputs: the request's JSON body; outputs: the Message the API answered
//     (for a stream: the Message its events add up to — text and thinking
//     joined, tool_use input assembled from its input_json_delta parts,
//     stop reason and usage from message_delta);
//   - mlflow.message.format "anthropic" (the MLflow UI's chat view reads
//     Anthropic messages), mlflow.chat.tools (the tools in MLflow's ChatTool
//     form), mlflow.llm.model (the request's model), mlflow.llm.provider
//     "anthropic";
//   - mlflow.chat.tokenUsage: input, output and total tokens, cache read and
//     cache creation tokens (and the 1-hour part of the latter), with the
//     cache tokens added to input and total tokens as MLflow does (Anthropic
//     reports input tokens without them).
//
// Retries of a call are "retry" events of its one span; its final error is
// an "exception" event (exception type anthropic.APIError,
// anthropic.StreamError, anthropic.IncompleteStreamError, or the transport
// error's Go type) with status ERROR. The outgoing request carries the
// span's W3C traceparent. With content capture off
// (tracing.WithContentCapture(false), MLFLOWTRACE_CAPTURE_CONTENT=false)
// inputs and outputs are left out and the metadata kept.
//
// Which HTTP attempts make up one call, and when the call ends, is what the
// SDK says through its public tracing hook: anthropic-sdk-go v2 starts an
// OpenTelemetry span of its own for every API call, with the
// TracerProvider of option.WithTracerProvider, before the first attempt,
// sends every attempt (retries) in that span's context, and ends it when
// the call is over. RequestOption gives the SDK a TracerProvider of its own
// for that: the SDK's spans are not exported (WithSDKSpans keeps them,
// recorded by the global TracerProvider, with the MLflow span as their
// child), so a call is not recorded twice, and nothing of the SDK's retry
// policy is re-implemented. A per-call option that turns the SDK's spans
// off (option.WithoutOpenTelemetry after RequestOption) makes each attempt
// a span of its own.
//
// # Differences from MLflow's Anthropic autolog (3.17.2)
//
// MLflow does not record streams ("Streaming is not recorded"): its span's
// outputs are the Python stream object's repr and it has no token usage.
// This package records a streamed call like a plain one, with the
// aggregated Message. Inputs are the request body the Go SDK sends; Python
// records the arguments of create() (the same members for the same call).
package anthropic
