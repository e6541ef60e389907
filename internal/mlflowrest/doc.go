// Package mlflowrest holds the MLflow tracking REST calls that every HTTP
// destination makes the same way (an MLflow tracking server, a Databricks
// workspace), all through package internal/transport:
//
//   - experiments: an experiment name is looked up with
//     GET /api/2.0/mlflow/experiments/get-by-name and created with
//     POST /api/2.0/mlflow/experiments/create when missing, race-safely (a
//     RESOURCE_ALREADY_EXISTS answer, another process created it first, means
//     look it up again); Resolver resolves once, on first use (off the
//     caller's path), and caches;
//   - StartTraceV3: POST /api/3.0/mlflow/traces {"trace":{"trace_info":…}}
//     with the trace info, returning the tags the backend added
//     (mlflow.artifactLocation, mlflow.trace.spansLocation);
//   - LinkPromptsToTrace: POST /api/2.0/mlflow/traces/link-prompts, the
//     prompt versions a stored trace used (LinkPromptsRequest), and its Unity
//     Catalog counterpart on Databricks, POST
//     /api/2.0/mlflow/unity-catalog/prompt-versions/links-to-traces
//     (UCLinkPromptsRequests).
package mlflowrest
