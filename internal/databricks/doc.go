// Package databricks is the exporter destination for a Databricks workspace,
// following what MLflow 3.17.2's Python SDK sends with
// MLFLOW_TRACKING_URI=databricks (mlflow/tracing/export/mlflow_v3.py,
// mlflow/tracing/export/uc_table.py, mlflow/store/tracking/databricks_rest_store.py,
// mlflow/store/artifact/databricks_artifact_repo.py, mlflow/azure/client.py).
// Every request goes through package internal/transport (retries, backoff,
// Retry-After, budgets, bounded reads, redacted errors) with the workspace
// credentials of package internal/dbauth.
//
// # Experiment traces (schema v3)
//
// For each finished trace:
//
//  1. StartTraceV3: POST /api/3.0/mlflow/traces {"trace":{"trace_info":{…}}}.
//     The workspace answers with the trace info and its tag
//     mlflow.artifactLocation. Databricks experiments have no span store: no
//     span goes over OTLP (MLflow's exporter skips span logging for
//     databricks URIs too).
//  2. traces.json ({"spans":[…]}) is uploaded where mlflow.artifactLocation
//     says:
//     - dbfs:/databricks/mlflow-tracking/…: GET
//     /api/2.0/mlflow/traces/{trace_id}/credentials-for-data-upload gives a
//     signed URL and headers, then, without the workspace credentials:
//     AWS_PRESIGNED_URL and GCP_SIGNED_URL: one PUT; AZURE_SAS_URI: Put Blob
//     (x-ms-blob-type: BlockBlob) up to 10 MiB, Put Block + Put Block List
//     beyond (MLflow always uses blocks); AZURE_ADLS_GEN2_SAS_URI: PUT
//     ?resource=file, then PATCH ?action=append&position=0&flush=true (MLflow's
//     sequence; larger files append in 10 MiB chunks and flush). The returned
//     headers are filtered per operation with MLflow's allow-lists. A signed
//     URL the store rejects as expired (401/403, GCS ExpiredToken) is replaced
//     once by fresh credentials.
//     - dbfs:/Volumes/<catalog>/<schema>/<volume>/…: the Files API,
//     PUT /api/2.0/fs/files/Volumes/…/traces.json?overwrite=true. (MLflow,
//     through databricks-sdk, first asks GET /api/2.0/fs/endpoints for
//     presigned Files API endpoints and uses this PUT when the workspace has
//     none; this package always uses the PUT, which every workspace serves.)
//  3. A trace whose tag mlflow.linkedPrompts lists prompt versions
//     (tracing.LinkPromptVersion, package prompts) is linked to them in Unity
//     Catalog's prompt registry, the default registry of a workspace: POST
//     /api/2.0/mlflow/unity-catalog/prompt-versions/links-to-traces
//     {"prompt_versions": [{"name", "version"}…], "trace_ids": [id]}, 25
//     versions a request, after the upload whatever its outcome (MLflow's
//     exporter and UcModelRegistryStore.link_prompts_to_trace). MLflow
//     ignores a failure; here it goes to Config.ErrorHandler, once per
//     error code, and the trace is not failed. Traces in Unity Catalog
//     tables are linked the same way once their trace info is stored, by
//     their id "trace:/<location>/<hex>".
//
// The experiment is MLFLOW_EXPERIMENT_NAME (looked up, created when missing,
// race-safe: package internal/mlflowrest), else MLFLOW_EXPERIMENT_ID; one of
// them is required (a workspace has no default experiment "0").
//
// # Unity Catalog tables (schema v4)
//
// With a UC schema location ("<catalog>.<schema>", MLFLOW_TRACING_DESTINATION)
// the trace ids are "trace:/<catalog>.<schema>/<32 hex>" and
// mlflow.trace_schema.version is "4" (set by the exporter). For each batch of
// finished traces:
//
//  1. every span, as OTLP protobuf: POST /api/2.0/otel/v1/traces with
//     Content-Type application/x-protobuf and X-Databricks-UC-Table-Name
//     <catalog>.<schema>.mlflow_experiment_trace_otel_spans; the root span
//     carries user.id / session.id from the trace's user and session, as
//     MLflow's UC span processor sets them;
//  2. each trace info: POST /api/4.0/mlflow/traces/<catalog>.<schema>/<hex>/info
//     with the TraceInfo (trace_id the bare hex, trace_location UC_SCHEMA).
//
// The span rows go in requests of at most 500 spans that split no trace but
// a larger one, which is sent a request at a time. A trace info is sent
// only once all of its trace's rows are stored: a failed span request ends
// the batch's span requests, the infos of the traces whose rows are stored
// are still sent, and every failure is reported.
//
// The span ingestion appends rows, so a row sent twice is stored twice.
// With the exporter's spool, ExportTracesProgress and Redeliver take its
// Progress: how many rows of each trace are stored already, counted in the
// order of the trace's spans (which is the order they are sent in), and
// send only the rest; each confirmed request is reported back (OnSpanRows
// for part of a trace larger than a request, OnSpans once all of a trace's
// rows are stored), so that the spool can note it before the next request.
// Redeliver first looks each trace up (the v4 GetTraceInfo) and skips
// those whose info is stored: they are complete.
//
// # Experiments linked to Unity Catalog tables
//
// An experiment can be linked to a Unity Catalog table-prefix location: its
// tags mlflow.experiment.databricksTraceDestinationPath
// ("<catalog>.<schema>.<prefix>") and ...SpanStorageTable (the fully
// qualified spans table) name it. MLflow's tracer reads the experiment
// (GET /api/2.0/mlflow/experiments/get) when it starts and, when linked,
// sends the experiment's traces there instead of StartTraceV3; so does this
// destination: Start looks the tags up (the exporter waits for it a few
// seconds at most), and the traces get "trace:/<catalog>.<schema>.<prefix>/<hex>"
// ids and schema version 4, their spans go to the linked spans table and
// their infos to POST /api/4.0/mlflow/traces/<catalog>.<schema>.<prefix>/<hex>/info
// with trace_location UC_TABLE_PREFIX. A trace started before the answer
// (a slow workspace) has a "tr-" id and is converted when exported. When the
// tags cannot be read, traces go to the experiment, as in MLflow, and the
// tags are read again 30 seconds later.
//
// # LLM cost
//
// A Databricks workspace stores the cost MLflow's client computes and
// computes none itself (MLflow's should_compute_cost_client_side is true for
// Databricks tracking URIs). So, before a trace is sent, Priced
// (llmcost.Catalog.PriceTrace, Config.Prices) gives every span with
// mlflow.llm.model and mlflow.chat.tokenUsage and no mlflow.llm.cost the
// span attribute mlflow.llm.cost, and the trace the metadata
// mlflow.trace.cost (the sum over the top-most priced spans), with MLflow's
// catalog and arithmetic, on both the experiment and the Unity Catalog
// paths. The size statistics are measured again on the priced trace.
//
// # Errors
//
// 401 and 403 are not retried (a 401 with a refreshable token is retried once
// with a new token, by the transport) and are reported with a hint: an
// expired or revoked token, or a missing permission (CAN_EDIT on the
// experiment, write access to the volume or the UC schema).
package databricks
