// Package mlflowserver is the exporter destination for an MLflow tracking
// server (spec §4), following the flow of MLflow 3.17's Python client
// (mlflow/tracing/export/mlflow_v3.py, mlflow/store/tracking/rest_store.py):
//
//  1. Capability detection, once per Destination and cached: GET /version
//     (3 s, no retries, like RestStore._get_server_version). Servers ≥ 3.4
//     get spans over OTLP; older servers, servers that answer /v1/traces with
//     501 (FileStore backend) or 404 (no OTLP route) get steps 3–4 only. A
//     server that does not answer (down, starting, a 5xx) is not taken for
//     an old one: ExportTraces asks again with the transport's retries, as
//     its own requests would wait, so a trace exported while the server was
//     down still reaches it over OTLP, where the server computes its cost.
//  2. ExportSpans: spans as they end, POST /v1/traces (OTLP protobuf built by
//     package otlpconv, uncompressed as MLflow's client sends it, header x-mlflow-experiment-id). The exporter
//     streams only spans of traces still open (SendsUnstreamedSpans): the
//     spans of a finished trace are sent in step 3.
//  3. ExportTraces: StartTraceV3 (POST /api/3.0/mlflow/traces) with the full
//     TraceInfo for each trace of the batch, then the spans the stream has
//     not delivered (left to the trace, dropped from the span queue, or
//     failed) in one POST /v1/traces per experiment — all pipelined on one
//     keep-alive connection (transport's DoPipelined: one write, the answers
//     read after one wait), which the server takes in that order. Only to a
//     server that ingests spans (a SQL store, where a repeated StartTraceV3
//     merges into the stored trace, so a request a broken connection left
//     unanswered can be sent again); to others one request at a time. Trace info
//     first is the server's cheap path (one insert; the spans then find the
//     trace and it is complete in the SQL store, num_spans in
//     mlflow.trace.sizeStats equal to the span rows); MLflow's Python client
//     sends the spans first and its StartTraceV3 merges into the trace they
//     created, which the server does too when a StartTraceV3 is retried after
//     the spans. Spans of a trace that was already exported are not streamed
//     again.
//  4. Unless the returned tag mlflow.trace.spansLocation is TRACKING_STORE,
//     traces.json is uploaded to the returned mlflow.artifactLocation:
//     mlflow-artifacts:/… through PUT /api/2.0/mlflow-artifacts/artifacts/…,
//     file:// written on this host, any other scheme reported once as an
//     error. This is also the fallback when streaming the spans failed and no
//     span of the trace reached the SQL store.
//  5. A stored trace whose tag mlflow.linkedPrompts lists prompt versions
//     (tracing.LinkPromptVersion) is linked to them: LinkPromptsToTrace (POST
//     /api/2.0/mlflow/traces/link-prompts), as MLflow's exporter does once it
//     has logged the trace. A failure goes to Config.ErrorHandler and does
//     not fail the trace.
//
// Ordering safety: a failed span POST never prevents StartTraceV3 (the trace
// info is not lost), and a refused StartTraceV3 does not hold back the
// spans (the server creates the trace from them, as from the Python
// client's). A trace is complete on the server once both calls succeed
// within the transport's retry budget.
//
// MLflow 2.x servers (ENDPOINT_NOT_FOUND on StartTraceV3) are not supported:
// every export fails with one clear error asking for MLflow ≥ 3.0. MLflow's
// Python client falls back to the v2 StartTrace/EndTrace pair, which gives
// the trace a server-generated id; we do not emulate that.
//
// The experiment is MLFLOW_EXPERIMENT_NAME (looked up with
// GET /api/2.0/mlflow/experiments/get-by-name and created when missing;
// RESOURCE_ALREADY_EXISTS from a concurrent creator means look up again),
// else MLFLOW_EXPERIMENT_ID, else "0". It is resolved on the first export,
// off the caller's path, and cached.
package mlflowserver
