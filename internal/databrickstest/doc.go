// Package databrickstest is a fake Databricks workspace for tests: no real
// workspace is reachable from this project's test machines. It is only as
// good as its fidelity, so it is strict (it rejects what a workspace
// rejects) and it is proven against the real clients: the conformance suite
// (conformance/test_databricks.py) runs MLflow 3.17.2's own Python SDK and
// databricks-sdk against the standalone fake (cmd/fakeworkspace) for every
// path this module uses, and the fake must accept all of it.
//
// What it serves:
//
//   - auth: a personal access token (Config.Token), OAuth client credentials
//     of one service principal (host metadata /.well-known/databricks-config,
//     the OIDC discovery document, POST /oidc/v1/token: grant_type
//     client_credentials, scope all-apis, Basic or form client auth), extra
//     bearer tokens (AddToken: a Model Serving token file's); every API call
//     needs a valid, unexpired bearer token (401 otherwise);
//   - MLflow REST: experiments get / get-by-name / create, StartTraceV3
//     (POST /api/3.0/mlflow/traces), GetTraceInfoV3 (GET
//     /api/3.0/mlflow/traces/{id}), credentials-for-data-upload. JSON bodies
//     are checked against the field lists of MLflow 3.17.2's protobuf
//     messages (protos_gen.go, generated from the installed package by
//     testdata/genprotos.py): unknown fields, wrong JSON types, bad enum
//     values, timestamps and durations are rejected, as protobuf's JSON
//     parser does; a trace info needs an id, a request time and a state, and
//     MLflow's size limits hold (metadata 250, tags 250/4096, previews 10000
//     characters); CAN_EDIT can be withheld (DenyEdit: 403);
//   - four object stores, one per credential type, each on its own host:
//     S3 presigned and GCS signed URLs (one PUT), Azure Blob SAS (Put Blob
//     with x-ms-blob-type, Put Block / Put Block List), ADLS Gen2 SAS (create,
//     append at the right position, flush). A store accepts only a URL the
//     workspace signed for that object, unexpired, with the headers the
//     credential listed, and without an Authorization header;
//   - the Files API for Unity Catalog volumes (PUT/GET
//     /api/2.0/fs/files/Volumes/..., overwrite) and GET /api/2.0/fs/endpoints
//     answering 404 (what MLflow's client was observed to meet);
//   - Unity Catalog tables: POST /api/2.0/otel/v1/traces (OTLP protobuf,
//     X-Databricks-UC-Table-Name of a registered schema's spans table) and
//     POST /api/4.0/mlflow/traces/{catalog.schema}/{hex}/info (the v4
//     TraceInfo, checked like StartTraceV3);
//   - reading and annotating traces (read.go): v3 trace info, SearchTracesV3
//     and the v4 long-running search with its operation (filters evaluated
//     with internal/tracefilter, the FileStore subset), signed download URLs
//     (credentials-for-data-download; GET only, on all four clouds), the
//     Files API download (and 404 for create-download-url, as workspaces
//     without presigned Files URLs answer), v4 trace info and batchGet with
//     OTLP spans, v3 and v4 assessments (overrides, update masks), v2 and v4
//     tags, delete-traces;
//   - Unity Catalog's prompt registry (prompts.go), the routes MLflow's
//     client uses with the registry URI "databricks-uc": create and get a
//     prompt, create and get a version (by number or alias), set an alias,
//     set a prompt tag, and the three link routes (prompt versions to
//     traces, models, runs). Names must be <catalog>.<schema>.<prompt> of a
//     registered schema; bodies are checked against MLflow's
//     unity_catalog_prompt_messages.proto, the query of a GET against its
//     request message (MLflow repeats the path's fields there); a missing
//     prompt, version or alias is 404 RESOURCE_DOES_NOT_EXIST, an existing
//     prompt 409 ALREADY_EXISTS (the code register_prompt tolerates); a link
//     needs existing versions (and traces). "latest" is an alias like any
//     other: nothing in MLflow says a workspace resolves it. Messages are
//     the fake's own (MLflow's client only reads the codes). Update,
//     delete and search are answered 501;
//   - LoggedModels (loggedmodels.go): GetLoggedModel and SetLoggedModelTags,
//     what linking a prompt version to the active model reads and writes;
//     models are created with CreateLoggedModel (the creation route is
//     answered 501);
//   - faults (Fail: status, Retry-After, delays, after the first N matching
//     requests, on the workspace or a store), token expiry (ExpireTokens),
//     revocation (RevokeToken), expired signed URLs (ExpireSignedURLs);
//   - SQL warehouses (warehouse.go): get and start a warehouse, the
//     model-id search GET /api/2.0/mlflow/unified-traces, and strict checks
//     of the sql_warehouse_id the v4 calls carry (query or search body;
//     only where MLflow's request messages have the field; a known, running
//     warehouse), each such call recorded (WarehouseCalls); online traces
//     (online.go: UUID ids, AddOnlineTrace) and their spans through
//     GetOnlineTraceDetails.
//
// Everything stored is recorded per trace (Traces, Trace) together with
// every request (Requests) and every rejection and its reason (Rejections).
//
// Known gaps, by construction: response bodies beyond the fields clients
// read are minimal; the error codes of a real workspace for a bad token may
// differ (some deployments answer 403 "Invalid access token"); signed URLs
// are random tokens, not real cloud signatures.
package databrickstest
