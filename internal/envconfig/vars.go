package envconfig

import (
	"math"
	"time"
)

// Package tracing.
var (
	EnableTracing = Bool{Var{Name: "ENABLE_MLFLOW_TRACING", Default: "true",
		Options: []string{"tracing.WithEnabled", "tracing.WithDisabled"}, Package: "tracing"}, true}
	ModelServing = Flag{Var{Name: "IS_IN_DB_MODEL_SERVING_ENV", Default: "false", Package: "tracing"}}
	// ModelServingAlt is the newer spelling the Databricks SDKs also read.
	ModelServingAlt = Flag{Var{Name: "IS_IN_DATABRICKS_MODEL_SERVING_ENV", Default: "false", Package: "exporter"}}
	SamplingRatio   = Float{Var{Name: "MLFLOW_TRACE_SAMPLING_RATIO", Default: "1.0",
		Options: []string{"tracing.WithSamplingRatio"}, Package: "tracing"}, 1, 0, 1}
	ServiceName = String{Var{Name: "OTEL_SERVICE_NAME", Default: "unknown_service:",
		Options: []string{"tracing.WithServiceName"}, Package: "tracing"}}
	ResourceAttributes = KeyValues{Var{Name: "OTEL_RESOURCE_ATTRIBUTES",
		Options: []string{"tracing.WithResource"}, Package: "tracing"}}
	CaptureContent = Bool{Var{Name: "MLFLOWTRACE_CAPTURE_CONTENT", Default: "true",
		Options: []string{"tracing.WithContentCapture"}, Package: "tracing"}, true}
)

// Destination selection (package exporter).
var (
	TrackingURI = String{Var{Name: "MLFLOW_TRACKING_URI", Default: "./mlruns",
		Options: []string{"exporter.WithTrackingURI", "exporter.WithDestination"}, Package: "exporter", Secret: true}}
	ExperimentID = String{Var{Name: "MLFLOW_EXPERIMENT_ID", Default: "0",
		Options: []string{"exporter.WithExperimentID"}, Package: "exporter"}}
	ExperimentName = String{Var{Name: "MLFLOW_EXPERIMENT_NAME",
		Options: []string{"exporter.WithExperimentName"}, Package: "exporter"}}
	TracingDestination = String{Var{Name: "MLFLOW_TRACING_DESTINATION",
		Options: []string{"exporter.WithTracingDestination"}, Package: "exporter"}}
	// ActiveModelID links every trace to a LoggedModel (metadata
	// mlflow.modelId), as MLflow's ActiveModelContext reads it;
	// ActiveModelIDLegacy is MLflow's older internal spelling, read when the
	// public one is unset (MLflow 3.17, mlflow/tracking/fluent.py).
	ActiveModelID = String{Var{Name: "MLFLOW_ACTIVE_MODEL_ID",
		Options: []string{"exporter.WithActiveModelID"}, Package: "exporter"}}
	ActiveModelIDLegacy = String{Var{Name: "_MLFLOW_ACTIVE_MODEL_ID", Package: "exporter"}}
)

// Databricks workspace and credentials, read as Databricks' SDKs read them
// (package internal/dbauth).
var (
	DatabricksHost = String{Var{Name: "DATABRICKS_HOST",
		Options: []string{"exporter.WithDatabricksHost"}, Package: "exporter"}}
	DatabricksToken = String{Var{Name: "DATABRICKS_TOKEN",
		Options: []string{"exporter.WithDatabricksCredentials"}, Package: "exporter", Secret: true}}
	DatabricksClientID = String{Var{Name: "DATABRICKS_CLIENT_ID",
		Options: []string{"exporter.WithDatabricksCredentials"}, Package: "exporter"}}
	DatabricksClientSecret = String{Var{Name: "DATABRICKS_CLIENT_SECRET",
		Options: []string{"exporter.WithDatabricksCredentials"}, Package: "exporter", Secret: true}}
	DatabricksUsername = String{Var{Name: "DATABRICKS_USERNAME",
		Options: []string{"exporter.WithDatabricksCredentials"}, Package: "exporter"}}
	DatabricksPassword = String{Var{Name: "DATABRICKS_PASSWORD",
		Options: []string{"exporter.WithDatabricksCredentials"}, Package: "exporter", Secret: true}}
	// DatabricksAuthType picks one of several configured methods (pat,
	// oauth-m2m, basic), as in Databricks' SDKs.
	DatabricksAuthType   = String{Var{Name: "DATABRICKS_AUTH_TYPE", Package: "exporter"}}
	DatabricksConfigFile = String{Var{Name: "DATABRICKS_CONFIG_FILE", Default: "~/.databrickscfg", Package: "exporter"}}
	DatabricksProfile    = String{Var{Name: "DATABRICKS_CONFIG_PROFILE", Default: "DEFAULT", Package: "exporter"}}
	ServingHost          = String{Var{Name: "DATABRICKS_MODEL_SERVING_HOST_URL", Package: "exporter"}}
	ServingHostLegacy    = String{Var{Name: "DB_MODEL_SERVING_HOST_URL", Package: "exporter"}}
	ServingCredsDir      = String{Var{Name: "SERVING_CREDENTIALS_DIR", Default: "/var/credentials-secret", Package: "exporter"}}
	// ModelCatalogURI is where MLflow reads its LLM prices from
	// (<uri>/<provider>.json); this SDK reads a file:// directory for the
	// Databricks destination's LLM cost and downloads nothing. Secret: a
	// catalog URL may carry a token.
	ModelCatalogURI = String{Var{Name: "MLFLOW_MODEL_CATALOG_URI",
		Options: []string{"exporter.WithModelCatalog"}, Package: "exporter", Secret: true}}
)

// Reading traces back (package traces).
var (
	// SearchTracesMaxThreads bounds the span downloads a search runs at
	// once (MLflow's default: max(32, 4 × CPUs); here 32).
	SearchTracesMaxThreads = Int{Var{Name: "MLFLOW_SEARCH_TRACES_MAX_THREADS", Default: "32", Package: "traces"}, 32, 1}
	// SQLWarehouseID is the Databricks SQL warehouse the v4 trace calls
	// name (sql_warehouse_id); SQLWarehouseAutoStart and
	// SQLWarehouseStartTimeout: whether it is checked, and started when it
	// is not RUNNING, before them, and how long the start may take (MLflow
	// 3.17.2, mlflow/utils/databricks_sql_warehouse.py).
	SQLWarehouseID = String{Var{Name: "MLFLOW_TRACING_SQL_WAREHOUSE_ID",
		Options: []string{"traces.WithSQLWarehouseID"}, Package: "traces"}}
	SQLWarehouseAutoStart = Bool{Var{Name: "MLFLOW_SQL_WAREHOUSE_AUTO_START", Default: "true",
		Options: []string{"traces.WithSQLWarehouseAutoStart"}, Package: "traces"}, true}
	SQLWarehouseStartTimeout = Duration{Var{Name: "MLFLOW_SQL_WAREHOUSE_AUTO_START_TIMEOUT_SECONDS", Default: "1200",
		Options: []string{"traces.WithSQLWarehouseAutoStart"}, Package: "traces"}, 1200 * time.Second, time.Second, 0}
)

// Loading prompts (package prompts; MLflow 3.17.2's names and defaults,
// mlflow/environment_variables.py).
var (
	// AliasPromptCacheTTL and VersionPromptCacheTTL are how long a prompt
	// loaded by alias ("prompts:/qa@production", a bare name: "@latest") or
	// by version stays cached, in seconds (0: not cached; "inf": for good).
	AliasPromptCacheTTL = Float{Var{Name: "MLFLOW_ALIAS_PROMPT_CACHE_TTL_SECONDS", Default: "60",
		Options: []string{"prompts.WithCacheTTL"}, Package: "prompts"}, 60, 0, math.Inf(1)}
	VersionPromptCacheTTL = Float{Var{Name: "MLFLOW_VERSION_PROMPT_CACHE_TTL_SECONDS", Default: "inf",
		Options: []string{"prompts.WithCacheTTL"}, Package: "prompts"}, math.Inf(1), 0, math.Inf(1)}
	// PromptCacheMaxSize bounds the cache (MLflow declares it and leaves its
	// cache unbounded).
	PromptCacheMaxSize = Int{Var{Name: "MLFLOW_PROMPT_CACHE_MAX_SIZE", Default: "128", Package: "prompts"}, 128, 1}
	// RegistryURI is the registry prompts are loaded from (MLflow's
	// get_registry_uri): unset, the tracking URI's ("databricks-uc" for
	// "databricks"). It may hold credentials, as a tracking URI may.
	RegistryURI = String{Var{Name: "MLFLOW_REGISTRY_URI",
		Options: []string{"prompts.WithRegistryURI"}, Package: "prompts", Secret: true}}
)

// The export pipeline (package exporter).
var (
	AsyncLogging = Bool{Var{Name: "MLFLOW_ENABLE_ASYNC_TRACE_LOGGING", Default: "true", Package: "exporter"}, true}
	MaxWorkers   = Int{Var{Name: "MLFLOW_ASYNC_TRACE_LOGGING_MAX_WORKERS", Default: "10",
		Options: []string{"exporter.WithMaxWorkers"}, Package: "exporter"}, 10, 1}
	MaxQueueSize = Int{Var{Name: "MLFLOW_ASYNC_TRACE_LOGGING_MAX_QUEUE_SIZE", Default: "1000",
		Options: []string{"exporter.WithMaxQueueSize"}, Package: "exporter"}, 1000, 1}
	// MaxSpanBatchSize is 5 in MLflow 3.17 ("based on internal benchmarking").
	MaxSpanBatchSize = Int{Var{Name: "MLFLOW_ASYNC_TRACE_LOGGING_MAX_SPAN_BATCH_SIZE", Default: "5",
		Options: []string{"exporter.WithBatchSize"}, Package: "exporter"}, 5, 1}
	MaxInterval = Duration{Var{Name: "MLFLOW_ASYNC_TRACE_LOGGING_MAX_INTERVAL_MILLIS", Default: "5000",
		Options: []string{"exporter.WithBatchInterval"}, Package: "exporter"}, 5 * time.Second, time.Millisecond, 0}
	// RetryTimeout bounds one export, retries and their waits included.
	RetryTimeout = Duration{Var{Name: "MLFLOW_ASYNC_TRACE_LOGGING_RETRY_TIMEOUT", Default: "500",
		Options: []string{"exporter.WithRetryTimeout"}, Package: "exporter"}, 500 * time.Second, time.Second, 1}
	TraceTimeout = Duration{Var{Name: "MLFLOW_TRACE_TIMEOUT_SECONDS", Default: "off",
		Options: []string{"exporter.WithTraceTimeout"}, Package: "exporter"}, 0, time.Second, 0}
	TimeoutCheckInterval = Duration{Var{Name: "MLFLOW_TRACE_TIMEOUT_CHECK_INTERVAL_SECONDS", Default: "1",
		Package: "exporter"}, time.Second, time.Second, 1}
	BufferTTL = Duration{Var{Name: "MLFLOW_TRACE_BUFFER_TTL_SECONDS", Default: "3600",
		Package: "exporter"}, 3600 * time.Second, time.Second, 1}
	BufferMaxSize = Int{Var{Name: "MLFLOW_TRACE_BUFFER_MAX_SIZE", Default: "1000",
		Options: []string{"exporter.WithMaxOpenTraces"}, Package: "exporter"}, 1000, 1}
)

// The durable spool (package exporter; this SDK's own variables).
var (
	SpoolDir = String{Var{Name: "MLFLOWTRACE_SPOOL_DIR", Default: "off",
		Options: []string{"exporter.WithSpool"}, Package: "exporter"}}
	SpoolMaxBytes = Bytes{Var{Name: "MLFLOWTRACE_SPOOL_MAX_BYTES", Default: "256MiB",
		Options: []string{"exporter.WithSpoolMaxBytes"}, Package: "exporter"}, 256 << 20, 1 << 20}
	SpoolSync = Enum{Var{Name: "MLFLOWTRACE_SPOOL_SYNC", Default: "batch",
		Options: []string{"exporter.WithSpoolSync"}, Package: "exporter"}, []string{"batch", "interval", "none"}}
	SpoolSyncInterval = Duration{Var{Name: "MLFLOWTRACE_SPOOL_SYNC_INTERVAL_MILLIS", Default: "1000",
		Options: []string{"exporter.WithSpoolSync"}, Package: "exporter"}, time.Second, time.Millisecond, 1}
)

// MLflow tracking server HTTP (package exporter; also used for Databricks
// where noted in exporter's documentation).
var (
	TrackingToken = String{Var{Name: "MLFLOW_TRACKING_TOKEN",
		Options: []string{"exporter.WithBearerToken"}, Package: "exporter", Secret: true}}
	TrackingUsername = String{Var{Name: "MLFLOW_TRACKING_USERNAME",
		Options: []string{"exporter.WithBasicAuth"}, Package: "exporter"}}
	TrackingPassword = String{Var{Name: "MLFLOW_TRACKING_PASSWORD",
		Options: []string{"exporter.WithBasicAuth"}, Package: "exporter", Secret: true}}
	InsecureTLS = Bool{Var{Name: "MLFLOW_TRACKING_INSECURE_TLS", Default: "false",
		Options: []string{"exporter.WithInsecureTLS"}, Package: "exporter"}, false}
	MaxRetries = Int{Var{Name: "MLFLOW_HTTP_REQUEST_MAX_RETRIES", Default: "7",
		Options: []string{"exporter.WithMaxRetries"}, Package: "exporter"}, 7, 0}
	// BackoffFactor is an integer number of seconds in MLflow.
	BackoffFactor = Duration{Var{Name: "MLFLOW_HTTP_REQUEST_BACKOFF_FACTOR", Default: "2",
		Options: []string{"exporter.WithRetryBackoff"}, Package: "exporter"}, 2 * time.Second, time.Second, 0}
	// BackoffJitter is a float number of seconds in MLflow.
	BackoffJitter = Float{Var{Name: "MLFLOW_HTTP_REQUEST_BACKOFF_JITTER", Default: "1",
		Options: []string{"exporter.WithRetryBackoff"}, Package: "exporter"}, 1, 0, math.Inf(1)}
	RequestTimeout = Duration{Var{Name: "MLFLOW_HTTP_REQUEST_TIMEOUT", Default: "120",
		Options: []string{"exporter.WithRequestTimeout"}, Package: "exporter"}, 120 * time.Second, time.Second, 1}
)

// OTLP export (set up by package tracing; names and semantics of MLflow
// 3.17, mlflow/tracing/utils/otlp.py).
var (
	OTLPTracesEndpoint = String{Var{Name: "OTEL_EXPORTER_OTLP_TRACES_ENDPOINT", Package: "tracing"}}
	OTLPEndpoint       = String{Var{Name: "OTEL_EXPORTER_OTLP_ENDPOINT", Package: "tracing"}}
	OTLPTracesProtocol = String{Var{Name: "OTEL_EXPORTER_OTLP_TRACES_PROTOCOL", Default: "grpc", Package: "tracing"}}
	OTLPProtocol       = String{Var{Name: "OTEL_EXPORTER_OTLP_PROTOCOL", Default: "grpc", Package: "tracing"}}
	OTLPTracesHeaders  = KeyValues{Var{Name: "OTEL_EXPORTER_OTLP_TRACES_HEADERS", Package: "tracing", Secret: true}}
	OTLPHeaders        = KeyValues{Var{Name: "OTEL_EXPORTER_OTLP_HEADERS", Package: "tracing", Secret: true}}
	EnableOTLP         = Bool{Var{Name: "MLFLOW_ENABLE_OTLP_EXPORTER", Default: "true", Package: "tracing"}, true}
	OTLPDualExport     = Bool{Var{Name: "MLFLOW_TRACE_ENABLE_OTLP_DUAL_EXPORT", Default: "false", Package: "tracing"}, false}
)

// Serving an agent (package responsesagent).
var (
	// AppName is the name GET /agent/info reports; a Databricks App has it
	// set, as MLflow's agent server reads it.
	AppName = String{Var{Name: "DATABRICKS_APP_NAME", Default: "mlflow_agent_server",
		Options: []string{"responsesagent.WithName"}, Package: "responsesagent"}}
)

// All returns the description of every variable the SDK reads.
func All() []Var {
	return []Var{
		EnableTracing.Var, ModelServing.Var, ModelServingAlt.Var, SamplingRatio.Var, ServiceName.Var,
		ResourceAttributes.Var, CaptureContent.Var,
		TrackingURI.Var, ExperimentID.Var, ExperimentName.Var, TracingDestination.Var,
		ActiveModelID.Var, ActiveModelIDLegacy.Var,
		DatabricksHost.Var, DatabricksToken.Var, DatabricksClientID.Var, DatabricksClientSecret.Var,
		DatabricksUsername.Var, DatabricksPassword.Var, DatabricksAuthType.Var, DatabricksConfigFile.Var, DatabricksProfile.Var,
		ServingHost.Var, ServingHostLegacy.Var, ServingCredsDir.Var, ModelCatalogURI.Var,
		SearchTracesMaxThreads.Var, SQLWarehouseID.Var, SQLWarehouseAutoStart.Var, SQLWarehouseStartTimeout.Var,
		AliasPromptCacheTTL.Var, VersionPromptCacheTTL.Var, PromptCacheMaxSize.Var, RegistryURI.Var,
		AsyncLogging.Var, MaxWorkers.Var, MaxQueueSize.Var, MaxSpanBatchSize.Var, MaxInterval.Var,
		RetryTimeout.Var, TraceTimeout.Var, TimeoutCheckInterval.Var, BufferTTL.Var, BufferMaxSize.Var,
		SpoolDir.Var, SpoolMaxBytes.Var, SpoolSync.Var, SpoolSyncInterval.Var,
		TrackingToken.Var, TrackingUsername.Var, TrackingPassword.Var, InsecureTLS.Var, MaxRetries.Var,
		BackoffFactor.Var, BackoffJitter.Var, RequestTimeout.Var,
		OTLPTracesEndpoint.Var, OTLPEndpoint.Var, OTLPTracesProtocol.Var, OTLPProtocol.Var,
		OTLPTracesHeaders.Var, OTLPHeaders.Var, EnableOTLP.Var, OTLPDualExport.Var,
		AppName.Var,
	}
}
