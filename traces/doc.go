// Package traces reads MLflow traces back and closes MLflow's production
// loop from Go: GetTrace, SearchTraces (and the AllTraces iterator),
// SearchSessions, assessments (LogFeedback, LogExpectation, GetAssessment,
// UpdateAssessment, DeleteAssessment, OverrideFeedback), SetTraceTag,
// DeleteTraceTag and DeleteTraces — MLflow 3.17.2's mlflow.get_trace,
// search_traces, search_sessions, log_feedback, log_expectation, ... for Go.
//
// # Why a package of its own
//
// Writing traces (package exporter) is a background pipeline that must never
// block the program it observes; reading and annotating traces is ordinary
// request/response I/O that a caller waits for. Keeping them apart keeps
// the exporter's contract simple and lets a program that only reads (a
// review tool, the mlflowtrace CLI, a batch job) import no tracing at all.
// What they share is the configuration: NewClient takes the exporter's
// options (exporter.Option) and reads the same environment, so a program
// configures it exactly like tracing.Init — MLFLOW_TRACKING_URI (./mlruns,
// an http(s) tracking server, databricks), MLFLOW_EXPERIMENT_ID/NAME,
// MLFLOW_TRACING_DESTINATION, MLFLOW_TRACKING_TOKEN, DATABRICKS_HOST and
// its credentials, MLFLOW_HTTP_REQUEST_*, ... — and requests go through the
// exporter's HTTP client (internal/transport: retries, timeouts, secret
// redaction) and Databricks credentials (internal/dbauth). Pipeline options
// (queue sizes, batching) are accepted and ignored, and the pipeline's
// variables (async logging, queue, batch and worker sizes, trace timeout
// and buffer, spool) are not read: a value only the writer would refuse
// does not stop a reader. The name says what it handles: MLflow traces as
// data.
//
// The common case of an agent — a thumbs-up for a trace this process just
// produced — is one call in package tracing (tracing.LogFeedback), which
// waits for the trace's export first.
//
// # Where traces are read from
//
//   - a local ./mlruns folder (MLflow's FileStore layout, written by this
//     SDK or by MLflow): trace infos, tags and metadata from the trace's
//     directory, spans from traces.json, assessments from
//     <trace>/assessments/<id>.yaml as MLflow's FileStore keeps them.
//     SearchTraces evaluates the filters MLflow's FileStore evaluates
//     (attributes, tags, metadata, LIKE/ILIKE, IN, IS NULL, order_by,
//     page tokens); span, assessment, RLIKE and end_time filters need a
//     database and are an ErrInvalid error naming the part;
//   - an MLflow tracking server (≥ 3.0): the REST API of MLflow 3.17.2
//     (GetTraceInfoV3, SearchTracesV3 — the server evaluates the filter —,
//     assessments, tags, DeleteTraces); spans from the tracking store
//     (GET /api/3.0/mlflow/traces/get) or the traces.json artifact
//     (mlflow-artifacts: through the server, or a local path);
//   - a Databricks workspace: experiments (spans from traces.json through
//     the signed URLs of credentials-for-data-download — AWS, GCP, Azure Blob,
//     ADLS Gen2 — or the Files API of a Unity Catalog volume), and Unity
//     Catalog tables (trace ids "trace:/<catalog>.<schema>/<hex>": v4
//     BatchGetTraces, assessments and tags; search with the long-running
//     v4 search, as MLflow's client does).
//
// # Searching
//
// SearchTraces follows the backend's pages until it has MaxResults traces
// and, unless WithoutSpans, loads each trace's spans as MLflow's client
// does: the traces an MLflow server keeps in its tracking store ten at a
// time from traces/batchGet, Unity Catalog traces ten at a time from their
// location's v4 batchGet, the others one by one, the requests of a page
// in flight together (MLflow's thread pool). A batch that fails is loaded
// again one trace at a time:
//
//	MLFLOW_SEARCH_TRACES_MAX_THREADS  32  span downloads in flight at once (MLflow's default: max(32, 4 × CPUs))
//
// A trace whose spans cannot be loaded is left out, as MLflow leaves it out.
//
// # SQL warehouses
//
// Traces in Unity Catalog tables are read through a Databricks SQL
// warehouse. As MLflow 3.17.2's DatabricksTracingRestStore, the client
// passes the warehouse's id as sql_warehouse_id with the v4 calls —
// in the body of the long-running search (for every Databricks search,
// experiments included), in the query of GET trace info (with trace_id and
// location), batchGet, the assessment calls (create, get, update — next to
// update_mask — and delete) and the tag deletion; SetTraceTag carries none,
// nor do the v3 routes —, and before the first of them checks the
// warehouse (GET /api/2.0/sql/warehouses/{id}) and, unless it is RUNNING,
// starts it (POST …/start), saying so once, and polls until it runs (the
// Databricks SDK's waits: 1 s, 2 s, … up to 10 s); a RUNNING answer is
// trusted for a minute:
//
//	MLFLOW_TRACING_SQL_WAREHOUSE_ID                  —     the warehouse (WithSQLWarehouseID wins; "" is none)
//	MLFLOW_SQL_WAREHOUSE_AUTO_START                  true  check and start it first (WithSQLWarehouseAutoStart, WithoutSQLWarehouseAutoStart)
//	MLFLOW_SQL_WAREHOUSE_AUTO_START_TIMEOUT_SECONDS  1200  how long a start may take (WithSQLWarehouseAutoStart)
//
// A SearchQuery.ModelID is searched through the warehouse on Databricks,
// as MLflow's client searches it: GET /api/2.0/mlflow/unified-traces with
// model_id, sql_warehouse_id, the locations as experiment_ids, the filter
// a RunID makes, max_results, order_by and page_token (the warehouse is
// not checked first for it, in MLflow neither); without a warehouse it is
// the metadata filter request_metadata.`mlflow.modelId` = '<id>'. With a
// warehouse set, a tracking server refuses a model id (ErrInvalid, MLflow's
// RestStore: "searching traces by model_id is not supported on the current
// tracking server"), and ./mlruns keeps the metadata filter where MLflow's
// FileStore ignores the model id and returns every trace. SearchSessions
// always uses the metadata filter.
//
// An online trace — a model serving endpoint's, from its inference table,
// with a UUID as id — gets its spans in a search as MLflow's client gets
// them: GET /api/2.0/mlflow/get-online-trace-details with trace_id, the
// warehouse's id when one is set (not checked first, in MLflow neither),
// and the trace's mlflow.sourceTable and mlflow.databricksRequestId
// metadata as source_inference_table and source_databricks_request_id.
//
// Without a warehouse nothing is passed and nothing is checked, as in
// MLflow; a workspace that then cannot pick one answers "Could not resolve
// a SQL warehouse ID", returned as an error matching
// ErrSQLWarehouseRequired that says how to set one (MLflow rewrites that
// answer the same way).
//
// # Errors
//
// A trace, assessment, tag, experiment or run that does not exist is a
// *NotFoundError (errors.Is(err, ErrNotFound)). A request MLflow would
// reject — an empty name, an unknown source type, a value JSON cannot carry,
// an expectation without a value — is an ErrInvalid error, returned before
// any request. A filter the server rejects comes back with the server's
// message. Errors never contain tokens or passwords.
//
// What MLflow's Python client does that this package does not: the v2
// trace routes of MLflow 2.x servers, and traces whose spans live in
// archive repositories.
package traces
