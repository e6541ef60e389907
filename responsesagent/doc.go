// Package responsesagent is MLflow's ResponsesAgent for Go: the request,
// response and stream event types of MLflow's ResponsesAgent interface
// (OpenAI Responses API shapes, JSON-compatible with mlflow.types.responses
// in both directions), the helpers MLflow offers to build them, an Agent
// interface with traced Predict / PredictStream, and an HTTP handler that
// serves an agent the way MLflow's agent server does, so Databricks Apps,
// mlflow.genai.evaluate and OpenAI clients can call it.
//
//	agent := responsesagent.FromStream(func(ctx context.Context, req *responsesagent.Request) iter.Seq2[responsesagent.StreamEvent, error] {
//		return func(yield func(responsesagent.StreamEvent, error) bool) {
//			_ = yield(responsesagent.TextDelta("Hello", "msg_1"), nil) &&
//				yield(responsesagent.ItemDone(responsesagent.TextItem("Hello", "msg_1")), nil)
//		}
//	})
//	provider, _ := tracing.Init(ctx)           // traces go where MLFLOW_TRACKING_URI says
//	defer provider.Shutdown(shutdownCtx)       // a context with a deadline
//	http.ListenAndServe(":8000", responsesagent.NewHandler(agent))
//
// # Types and JSON
//
// Request, Response, Item and StreamEvent follow MLflow 3.17's pydantic
// models field for field. The JSON objects of the Responses API are open:
// every struct keeps the members it does not model in Extra (raw JSON) and
// remembers the order of the members it was decoded from, so a payload
// round-trips member for member and pass-through item and event types
// (web_search_call, response.created, ...) lose nothing. Items built in Go
// with the helpers (TextItem, FunctionCallItem, ...) are written in the
// member order of MLflow's create_* helpers. custom_inputs and
// custom_outputs are Go maps: their keys are written sorted.
//
// Validate (and DecodeRequest) apply MLflow's checks — what its models
// reject is rejected, what they only warn about is accepted — and return a
// *FieldError naming the field ("input[2].call_id: required"). Integer,
// number and boolean members are decoded as MLflow's pydantic models read
// them in lax mode, so what MLflow's server accepts is accepted and the
// agent sees the value converted: "5", 5.0 and 1e2 are integers (5, 5,
// 100; 1.5 and "5.5" are rejected), "0.7" and true are numbers, "yes",
// "off", 1 and 0 are booleans (2 and " yes" are rejected). "stream" is read
// as MLflow's server reads it, with Python's truth rules before validation:
// any value is accepted and all but null, false, 0, "", [] and {} ask for a
// stream (the string "false" too).
//
// # Tracing
//
// Trace wraps an Agent so each call is an AGENT span recorded exactly as
// MLflow's Python ResponsesAgent records it (inputs {"request": ...}, the
// response, or the stream reduced to its output items; chunk events), with
// the request's context.conversation_id and context.user_id as the trace's
// session and user. NewHandler traces every call itself and marks the root
// span with mlflow.message.format "openai", as MLflow's server does.
//
// # Serving
//
// NewHandler serves POST /invocations, POST /responses, GET /agent/info and
// GET /health. Streams are Server-Sent Events in MLflow's framing: one
// "data: <event JSON>" per event, flushed at once, then "data: [DONE]"; no
// "event:" lines and no sequence_number are added — the OpenAI clients
// (openai-go, openai-python) read the event type from the JSON and need
// neither. A request with "databricks_options": {"return_trace": true} gets
// the finished trace in databricks_output.trace (exporter.Exporter.Watch).
//
// The name GET /agent/info reports is read from the environment once, by
// NewHandler, through package internal/envconfig (the SDK's one reader of
// the environment) and the getenv of WithGetenv (default os.Getenv); the
// option in the last column wins over it:
//
//	variable               default                option
//	DATABRICKS_APP_NAME    mlflow_agent_server    WithName
//
// # Panics and errors
//
// The SDK has one rule for a panic in the code it observes: record it on the
// span (status ERROR, an "exception" event with the stack), end the span,
// and hand the panic back to whoever owns the program's behaviour at that
// point. In a traced function (Trace's Predict and PredictStream,
// tracing.Func, tracing.Wrap) that is the caller: the panic is re-raised.
// NewHandler is itself the HTTP server's boundary, the owner of the
// client's answer: like MLflow's agent server (FastAPI answers an unhandled
// exception with 500), it answers the panic with a 500 (a mid-stream error
// event once a stream has started) instead of letting net/http drop the
// connection, and reports it. Agent errors and panics go to the SDK's one
// error path, tracing.ReportError (the exporter's error handler), unless
// WithErrorHandler says otherwise; an agent that ends with ctx.Err() after
// its client left is not reported (its span records the cancellation).
//
// # Differences from MLflow 3.17
//
//   - MLflow's agent server records two spans per call: its own root span
//     (type UNKNOWN, named after the registered function, with
//     mlflow.message.format) around the ResponsesAgent's AGENT span. The
//     handler records one AGENT root span carrying both.
//   - MLflow does not map context.conversation_id / user_id to the trace's
//     session and user; this package does.
//   - MLflow's agent server ignores databricks_options (Databricks Model
//     Serving handles it); NewHandler implements it.
//   - MLflow drops request and response members it does not model; this
//     package keeps them (they still do not appear in the trace, as in
//     MLflow).
//   - A stream whose consumer stops early (client disconnect) ends its span
//     with the output so far and the context's error; MLflow's Python
//     generator span is left unfinished.
//   - An agent panic during a stream is reported as a mid-stream error event
//     (the 200 status is already sent); before it, as a 500.
//   - An integer member is a Go int: one beyond its range, which Python
//     keeps, is rejected (400). A nested member MLflow validates but keeps
//     raw (an mcp_approval_response's "approve": "yes", a tool's "strict")
//     is converted here (true), and recorded on the trace converted.
package responsesagent
