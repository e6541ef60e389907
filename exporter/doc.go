// Package exporter is the MLflow span processor of mlflowtrace-go and the one
// background pipeline that sends traces to every destination.
//
// An Exporter is an sdktrace.SpanProcessor. Register it on a TracerProvider
// (package tracing does this for you):
//
//	exp, err := exporter.New(ctx)                    // destination from MLFLOW_TRACKING_URI
//	tp := sdktrace.NewTracerProvider(sdktrace.WithSpanProcessor(exp))
//	defer func() {
//		ctx, cancel := context.WithTimeout(context.Background(), 30*time.Second)
//		defer cancel()
//		if err := tp.Shutdown(ctx); err != nil { // also shuts exp down
//			log.Print(err) // how many traces were not delivered, and why
//		}
//	}()
//
// # What it does
//
// OnStart (on the caller's path: one short lock, no I/O) sets the attribute
// mlflow.traceRequestId to the JSON string "tr-<trace id hex>" on every span,
// as MLflow's Python SDK does, and registers the span in its trace. The root
// of a trace is the span with no local parent (no parent, or a remote one:
// a request continuing a distributed trace starts a local trace). A span
// whose local parent's trace is not open here (already finished, timed out,
// evicted or unsampled) is ignored, as MLflow does; unsampled spans are
// ignored.
//
// OnEnd records the span's snapshot in its trace and, when the destination
// streams spans, queues the span for streaming. When the root has
// ended and no span of the trace is open any more, the trace is detached and
// queued; span conversion and trace assembly (previews, token usage, size
// stats, environment metadata, TraceUpdate) run on the export workers.
//
// Spans still open when the root ends: MLflow 3.17's exporter defers the
// trace until those spans have ended (they are written with their real end
// times), and so does this package. If they never end, the trace leaves the
// buffer in one of three ways, and is then exported with the open spans
// included, their end time set to the root's end time (MLflow would lose
// such a trace): the trace timeout (below), eviction from the full buffer or
// its TTL, or Shutdown. A later End of such a span does nothing: it never
// starts a new trace.
//
// Open-trace buffer: at most MaxOpenTraces traces are kept while their spans
// run; a new trace evicts the oldest. When no trace timeout is set, traces
// older than the buffer TTL are removed when a new trace starts (MLflow's
// TTLCache; with a timeout set MLflow applies the timeout instead of the
// TTL, and so does this package). A removed trace whose root has not ended
// is dropped and counted (TracesDropped, and its spans in SpansDropped); one
// whose root has ended is exported. Each trace keeps at most
// MaxSpansPerTrace spans; later ones are dropped and counted.
//
// Trace timeout (MLFLOW_TRACE_TIMEOUT_SECONDS, off by default): a janitor
// goroutine owned by the Exporter checks every
// MLFLOW_TRACE_TIMEOUT_CHECK_INTERVAL_SECONDS and halts every trace open for
// longer, as MLflow's MlflowTraceTimeoutCache does: the root span gets status
// ERROR, an "exception" event whose exception.message is MLflow's text
// ("Trace tr-… is timed out after N seconds. The operation may be stuck or
// taking too long to complete. To increase the timeout, set the environment
// variable MLFLOW_TRACE_TIMEOUT_SECONDS to a larger value."), exception.type
// MlflowTracingException, and is ended, so the trace is exported with state
// ERROR. A trace whose root had already ended (waiting for open children) is
// exported as it is.
//
// # Architecture
//
// An Exporter has three parts, each with one job:
//
//   - the trace assembler (OnStart, OnEnd): groups spans per trace on the
//     caller's path with one short lock, no I/O and no goroutine;
//   - the pipeline: owns every goroutine of the Exporter — the trace export
//     queue and the span stream queue (bounded queues, a fixed pool of
//     workers each), the trace-timeout ticker, the reporter that hands
//     errors to the error handler, and the destination's background work
//     (the Databricks experiment's Unity Catalog link) — and stops all of
//     them in Shutdown;
//   - the route: the destination, built by an explicit constructor that
//     states what it can do (stream spans, carry unstreamed spans with the
//     trace, know its experiment, change trace ids, have background work).
//     Nothing is discovered by inspecting a destination's methods at run
//     time: a custom destination streams spans only when it is given with
//     WithSpanStreamer.
//
// # Pipeline
//
// Finished traces go through a bounded queue (MaxQueueSize traces) served
// by MaxWorkers export goroutines that take batches of up to BatchSize
// traces from it themselves (no dispatcher in between: a trace handed to an
// idle pipeline wakes one goroutine); each export is bounded by the retry
// timeout. A finished trace waits at most a second (never longer than
// BatchInterval) for others to share its export — one worker wake-up and
// one request for the spans of the batch instead of one each — and goes as
// soon as BatchSize traces wait; MLflow's Python SDK exports each trace at
// once and its spans up to 5 s later. ForceFlush and Shutdown never wait
// for a batch to fill. Enqueueing never blocks: when the queue is full the trace is
// dropped and counted. A slow or blocked destination therefore never slows
// End(); it costs dropped traces, visible in Stats and reported
// (rate-limited) to the error handler.
//
// Streaming: for a destination that takes spans as they end (an MLflow
// server's OTLP route, or WithSpanStreamer), the spans of traces still open
// are streamed in rounds: a round starts BatchInterval after a span ended
// with none scheduled (default 5 s, MLflow's
// MLFLOW_ASYNC_TRACE_LOGGING_MAX_INTERVAL_MILLIS) and on ForceFlush, and
// takes every ended, unstreamed span of the open traces. Scheduling a round
// arms a timer on the caller's path; no goroutine wakes until it fires. A
// trace that finishes before its round costs the stream nothing: its spans
// go with the trace — in one request per trace batch for the MLflow server
// destination, which sends a trace's unstreamed spans itself; for other
// streaming destinations the trace's worker streams them first, so every
// span of a trace is streamed before the trace is exported, the order
// MLflow's exporter uses. Streaming is for traces in progress: for a
// finished trace it would only add requests and wake-ups (measured in
// BENCHMARKS.md). MLflow's Python SDK also starts a span batch every 5
// spans; this package does not (a round takes any number of spans).
//
// MLFLOW_ENABLE_ASYNC_TRACE_LOGGING=false makes MLflow's Python SDK export on
// the caller's thread. This package never does I/O on the caller's path: with
// false it keeps the background pipeline but uses a single worker, so exports
// happen one at a time and in order. Call ForceFlush (or Shutdown) where a
// program needs its traces written before it continues.
//
// # Flush, Shutdown and errors
//
// ForceFlush returns when every span and trace queued before the call has
// been exported or has failed (or ctx ends). Shutdown stops the trace-timeout
// ticker, exports the traces whose root has ended, drops the others, exports
// what is queued, stops every goroutine and shuts the destination down.
//
// Shutdown never waits in silence: when the destination's last answer was a
// failure, or it has confirmed nothing for 2 seconds while traces wait,
// the error handler receives one *WaitNotice ("Shutdown is waiting for 3
// traces to reach http://…: connection refused"). Shutdown honours ctx: when
// ctx ends first, the exports in flight and the destination's background
// work are cancelled, the finished traces still queued or in flight are
// dropped, counted in TracesDropped/SpansDropped and reported once (a
// cancelled export is not reported again as a failure), and the error returned
// wraps ctx's error and says how many traces were waiting, where to, and the
// last failure; calling Shutdown again waits, with its own ctx, for the
// goroutines to stop and then shuts the destination down. A Shutdown that
// completes returns an *UndeliveredError when any trace recorded since New
// was not delivered (dropped, or its export failed), nil otherwise; later
// calls return the same. Give Shutdown a context with a deadline: with the
// default retry timeout (500 s, MLflow's) an unreachable server is retried
// for minutes.
//
// AwaitExport waits until a given trace, if this Exporter has it open or
// queued, has reached the destination (or failed, or was dropped): package
// traces uses it to write a user's feedback only after the trace exists.
//
// Watch takes a handle on an open trace whose Wait returns the finished
// trace, assembled as it is handed to the destination, without waiting for
// the export (the trace is assembled once, by whichever of the waiter and
// the export worker comes first). It costs nothing to other traces; the
// wait is bounded by the caller's ctx; a trace dropped unfinished (evicted,
// Shutdown) ends the wait with ErrTraceDropped. Package responsesagent uses
// it for databricks_options.return_trace; tracing.WatchTrace is the
// package-level form.
//
// Every background error — a destination's failure (an *ExportError naming
// the trace ids, once per failed call), a drop (rate-limited), a
// WaitNotice — goes to one place: the error handler (WithErrorHandler;
// default slog.Default().Error, and Warn for a WaitNotice while nothing has
// failed yet: WaitNotice.Notice), called from the pipeline's reporter
// goroutine, never on the caller's path. Stats returns the counters; they
// are also published as OpenTelemetry metrics through the global
// MeterProvider (meter keys.ScopeName): mlflowtrace.traces.exported,
// mlflowtrace.spans.exported, mlflowtrace.spans.streamed,
// mlflowtrace.traces.dropped, mlflowtrace.traces.failed,
// mlflowtrace.spans.dropped, mlflowtrace.spans.stream_dropped,
// mlflowtrace.export.failures and mlflowtrace.export.retries; with a spool
// also mlflowtrace.traces.spooled, mlflowtrace.traces.not_spooled,
// mlflowtrace.traces.replayed and mlflowtrace.traces.dead_lettered.
//
// # Durable spool
//
// Without a spool a finished trace waits in memory until the destination
// confirms it, so a crash, an OOM kill, a SIGKILL after the grace period or
// a destination down for longer than the retry budget loses it — as with
// MLflow's Python SDK. With MLFLOWTRACE_SPOOL_DIR (or WithSpool) set, the
// pipeline keeps every finished trace on disk until the destination has
// confirmed it, for every destination:
//
//   - End() never touches the disk. The trace queue's workers assemble the
//     trace, write it to the spool (the trace's MLflow JSON, CRC-framed, in
//     segment files of package internal/spool), fsync per
//     MLFLOWTRACE_SPOOL_SYNC, and only then count it accepted
//     (Stats.TracesSpooled). A send queue then exports it from memory and
//     acknowledges it in the spool when the destination confirmed it.
//     The window that remains: a trace whose root ended but that is not yet
//     written — in the trace queue, normally for well under a millisecond,
//     longer only when the queue is backed up — and traces still open (root
//     not ended) are lost in a crash, as without a spool.
//   - Sync policy: batch (default) fsyncs each batch before its traces count
//     as accepted, so an accepted trace survives a power loss; interval
//     fsyncs every MLFLOWTRACE_SPOOL_SYNC_INTERVAL_MILLIS (a power loss or
//     kernel crash loses at most that interval); none leaves it to the
//     operating system. A crash of the process itself loses no accepted
//     trace under any policy (the data is in the page cache). A failed
//     fsync goes to the error handler (at most every 30 s); the traces stay
//     spooled and are delivered. New directories are fsynced into their
//     parents at start unless the policy is none.
//   - Replay: at start, what an earlier process left unconfirmed is
//     exported in the background by replay workers of the pipeline (New
//     does not wait); new traces take their own path and never wait behind
//     a replay. Traces spooled while the send queue
//     was full go the same way.
//   - Replay never stores a trace twice. An MLflow server with a SQL
//     backend upserts both the spans (OTLP) and the trace info
//     (StartTraceV3 merges into an existing trace); a FileStore-backed
//     server fails a repeated StartTraceV3 (500), so a replayed trace is
//     looked up first (GetTraceInfoV3) and, if stored, only its traces.json
//     is uploaded again (a PUT replaces it). A Databricks experiment trace
//     is looked up too (the workspace's answer to a repeat is not
//     documented), then only traces.json is written again (signed-URL PUT,
//     volume write with overwrite). Unity Catalog tables: the span
//     ingestion appends rows and cannot be asked which are stored, so the
//     spool notes a trace's rows stored as soon as the workspace confirms
//     them — request by request for a trace of more than 500 spans, which
//     takes several: a replay sends only its rows not yet confirmed — the
//     trace info (written only after all its rows) is looked up, and a
//     replay sends neither twice — except the rows of a request in flight
//     when the process died (stored, not yet confirmed), which it sends
//     again. The local store rewrites the same trace directory. A custom
//     Destination receives a replayed trace again through ExportTraces and
//     should treat a known trace id as an update.
//   - Bounded: at MLFLOWTRACE_SPOOL_MAX_BYTES the spool refuses new traces
//     (the oldest, already accepted, are kept): they are counted in
//     Stats.TracesNotSpooled, reported once per 30 s, and still exported
//     from memory. (A trace that becomes a dead letter is on disk twice
//     until the segment holding its record can be deleted: during an
//     outage the spool can pass the bound for a while by a segment or two,
//     a segment being a sixteenth of the bound, at most 8 MiB.) The same
//     holds when the disk is full or the directory cannot be written; a
//     directory that cannot be opened at all is reported once and the
//     Exporter runs without a spool. A torn tail, a bad checksum or an
//     unreadable record is skipped and counted (Stats.SpoolRecordsSkipped);
//     the rest is delivered. A slot directory that vanishes is recreated.
//   - Several processes: a process owns one slot of the directory
//     (<dir>/slot-N, flock'd); a second process on the same directory takes
//     the next slot. The slot of a process that is gone is adopted by the
//     next process to open or poll the directory (every 10 s), its traces
//     replayed and the slot removed.
//   - Dead letters: with a spool, a trace whose export failed after the
//     retry budget (MLFLOW_ASYNC_TRACE_LOGGING_RETRY_TIMEOUT), or that the
//     destination refused, is kept as <dir>/slot-N/dead/<32-hex trace
//     id>.json (the record's JSON; jq reads it) and counted in
//     Stats.TracesDeadLettered and Stats.SpoolDeadLetters, not in
//     TracesFailed. Dead letters are retried at start, as soon as an
//     export succeeds again after failures (a dead letter's own failed
//     retry does not count: a trace the destination keeps refusing is
//     retried every 5 minutes, not after every success), and every 5
//     minutes otherwise. Deleting the files clears them.
//   - Shutdown exports what is in memory, then lets the replay deliver the
//     backlog (records and due dead letters), so that a short-lived program
//     empties the spool it found; it stops waiting for the backlog when the
//     destination fails, or with a tenth of its ctx's remaining time (at
//     most a second) left for stopping. What is left stays in the spool, is
//     not counted as lost, and is reported once with the directory the next
//     process will deliver it from. ForceFlush does not wait for the replay
//     of the backlog. Stats.SpoolPending,
//     SpoolDeadLetters and SpoolBytes show the spool now.
//
// Put the spool on storage that outlives the process (and the container:
// a volume), local to the host: flock is needed.
//
// # Destination
//
// WithDestination (your own Destination; add WithSpanStreamer to also
// stream spans to it) wins. Otherwise the tracking URI (MLFLOW_TRACKING_URI or
// WithTrackingURI) selects it:
//
//	unset, a path, file:<path>        local MLflow FileStore under that directory (default ./mlruns)
//	http://…, https://…               an MLflow tracking server
//	databricks, databricks-uc         the Databricks workspace of DATABRICKS_HOST / the default profile
//	databricks://<profile>            the workspace of that ~/.databrickscfg profile
//	uc:…, databricks://<scope>:<key>  error (a registry URI; secret-scope credentials)
//	anything else (sqlite:, …)        error
//
// An explicit tracking URI wins over the Databricks variables, with one
// exception taken from MLflow: MLFLOW_TRACING_DESTINATION=<catalog>.<schema>
// always means the Databricks workspace (MLflow switches the tracking URI to
// databricks for it). With no tracking URI, DATABRICKS_HOST,
// DATABRICKS_CONFIG_PROFILE, IS_IN_DB_MODEL_SERVING_ENV=true or a Databricks
// option (WithDatabricksHost, WithDatabricksCredentials) select the
// workspace instead of ./mlruns (MLflow's Python SDK needs
// MLFLOW_TRACKING_URI=databricks for that).
//
// # Databricks
//
// The workspace and its credentials are found as Databricks' SDKs find them
// (package internal/dbauth), without network I/O: WithDatabricksHost
// and WithDatabricksCredentials (a func(*http.Request) error such as
// databricks-sdk-go's Config.Authenticate) first, then DATABRICKS_HOST with
// DATABRICKS_TOKEN (personal access token), DATABRICKS_USERNAME /
// DATABRICKS_PASSWORD, or DATABRICKS_CLIENT_ID / DATABRICKS_CLIENT_SECRET
// (OAuth machine-to-machine: the token endpoint is discovered, the token is
// cached and refreshed a minute before it expires, one refresh shared by
// all workers), then a profile of DATABRICKS_CONFIG_FILE (~/.databrickscfg:
// host, token, client_id, client_secret) named by databricks://<profile>,
// DATABRICKS_CONFIG_PROFILE, the [__settings__] default_profile or DEFAULT,
// then Databricks Model Serving
// (IS_IN_DB_MODEL_SERVING_ENV=true: host from DATABRICKS_HOST, else
// DATABRICKS_MODEL_SERVING_HOST_URL or DB_MODEL_SERVING_HOST_URL, token re-read from the rotating file in SERVING_CREDENTIALS_DIR or
// /var/credentials-secret). A missing or half-set configuration makes New
// fail with an error naming the variables to set; credentials never appear in
// errors.
//
// Traces go to MLFLOW_EXPERIMENT_NAME (looked up, created when missing) or
// MLFLOW_EXPERIMENT_ID, one of which is required, or to Unity Catalog tables
// with MLFLOW_TRACING_DESTINATION=<catalog>.<schema> (trace ids
// "trace:/<catalog>.<schema>/<hex>", mlflow.trace_schema.version 4;
// Exporter.TraceID formats them). An experiment linked to Unity Catalog
// tables (its tags name a <catalog>.<schema>.<prefix> location) gets its
// traces written there, as MLflow does: New reads the experiment (on a
// goroutine of the pipeline, waiting for the answer 3 seconds at most, the
// one network call New makes; Shutdown cancels it) and trace ids become
// "trace:/<catalog>.<schema>.<prefix>/<hex>". Previews are 10000 characters there unless
// WithPreviewMaxChars says otherwise. The REST flow (StartTraceV3 and
// traces.json on signed cloud-storage URLs or a Unity Catalog volume; OTLP
// spans and v4 trace info for UC tables) is MLflow 3.17.2's; see package
// internal/databricks. HTTP settings (WithHTTPClient, WithRequestTimeout,
// WithMaxRetries, WithRetryBackoff, WithRetryTimeout, WithHeaders) apply
// to the workspace as to an MLflow server; MLflow server credentials
// (MLFLOW_TRACKING_TOKEN, ...) do not. A 401 with an OAuth or Model Serving
// token is retried once with a fresh token; 401 and 403 are otherwise
// reported (once per failed export) with a hint, never retried.
//
// LLM cost: a Databricks workspace stores the cost MLflow's client computes
// and computes none itself, so for Databricks destinations each LLM span
// (mlflow.llm.model and mlflow.chat.tokenUsage, provider if known) gets
// mlflow.llm.cost and the trace mlflow.trace.cost, as MLflow's client
// computes them, from MLflow 3.17.2's bundled model catalog (package
// internal/llmcost has the matching rules). WithModelCatalog or
// MLFLOW_MODEL_CATALOG_URI=file://<dir> (MLflow's variable) adds a directory
// of <provider>.json catalog files; MLflow's default, downloading the latest
// catalog from GitHub, is not followed: this SDK downloads nothing. An MLflow
// tracking server computes cost itself from the same span attributes; the
// local ./mlruns store has none, as with MLflow.
//
// OTLP export (OTEL_EXPORTER_OTLP_*) is not this package's: package tracing
// adds a plain OpenTelemetry batch span processor for it next to the
// Exporter (see its documentation).
//
// # Configuration
//
// Precedence: defaults, then environment variables (read once, in New,
// through package internal/envconfig — the SDK's one reader — and
// WithGetenv's function, default os.Getenv), then options. A malformed
// variable makes New fail with an error naming it (never its value).
// Booleans are true/false/1/0 in any case; integers are integers (an int in
// MLflow's mlflow/environment_variables.py is an int here: "1.5" is an
// error); durations are whole seconds or milliseconds as the name says. The
// trace client of package traces takes the same options and reads the same
// variables.
//
//	variable                                         default      option
//	MLFLOW_TRACKING_URI                              ./mlruns     WithTrackingURI, WithDestination
//	MLFLOW_EXPERIMENT_ID                             0            WithExperimentID
//	MLFLOW_EXPERIMENT_NAME                           (none)       WithExperimentName (wins over the id)
//	MLFLOW_TRACING_DESTINATION                       (none)       WithTracingDestination (<catalog>.<schema> or an experiment id)
//	MLFLOW_ACTIVE_MODEL_ID                           (none)       WithActiveModelID (metadata mlflow.modelId on every trace)
//	_MLFLOW_ACTIVE_MODEL_ID                          (none)       WithActiveModelID (MLflow's older spelling, when the above is unset)
//	DATABRICKS_HOST                                  (none)       WithDatabricksHost
//	DATABRICKS_TOKEN                                 (none)       WithDatabricksCredentials
//	DATABRICKS_CLIENT_ID                             (none)       WithDatabricksCredentials
//	DATABRICKS_CLIENT_SECRET                         (none)       WithDatabricksCredentials
//	DATABRICKS_USERNAME                              (none)       WithDatabricksCredentials
//	DATABRICKS_PASSWORD                              (none)       WithDatabricksCredentials
//	DATABRICKS_AUTH_TYPE                             (none)       picks pat, oauth-m2m or basic when several are set
//	DATABRICKS_CONFIG_FILE                           ~/.databrickscfg
//	DATABRICKS_CONFIG_PROFILE                        DEFAULT
//	DATABRICKS_MODEL_SERVING_HOST_URL                (none)       Model Serving's workspace URL
//	DB_MODEL_SERVING_HOST_URL                        (none)       Model Serving's workspace URL (older name)
//	SERVING_CREDENTIALS_DIR                          /var/credentials-secret
//	IS_IN_DATABRICKS_MODEL_SERVING_ENV               false        (Model Serving credentials only)
//	MLFLOW_MODEL_CATALOG_URI                         (bundled)    WithModelCatalog (Databricks LLM prices: file://<dir> only)
//	MLFLOW_ENABLE_ASYNC_TRACE_LOGGING                true         (false → one worker)
//	MLFLOW_ASYNC_TRACE_LOGGING_MAX_WORKERS           10           WithMaxWorkers
//	MLFLOW_ASYNC_TRACE_LOGGING_MAX_QUEUE_SIZE        1000         WithMaxQueueSize
//	MLFLOW_ASYNC_TRACE_LOGGING_MAX_SPAN_BATCH_SIZE   5            WithBatchSize
//	MLFLOW_ASYNC_TRACE_LOGGING_MAX_INTERVAL_MILLIS   5000         WithBatchInterval
//	MLFLOW_ASYNC_TRACE_LOGGING_RETRY_TIMEOUT         500 (s)      WithRetryTimeout
//	MLFLOW_TRACE_TIMEOUT_SECONDS                     off          WithTraceTimeout
//	MLFLOW_TRACE_TIMEOUT_CHECK_INTERVAL_SECONDS      1            —
//	MLFLOW_TRACE_BUFFER_TTL_SECONDS                  3600         —
//	MLFLOW_TRACE_BUFFER_MAX_SIZE                     1000         WithMaxOpenTraces
//	MLFLOWTRACE_SPOOL_DIR                            off          WithSpool (this SDK's own; see Durable spool)
//	MLFLOWTRACE_SPOOL_MAX_BYTES                      256MiB       WithSpoolMaxBytes (≥ 1MiB; an integer, or with KiB, MiB, GiB)
//	MLFLOWTRACE_SPOOL_SYNC                           batch        WithSpoolSync (batch, interval or none)
//	MLFLOWTRACE_SPOOL_SYNC_INTERVAL_MILLIS           1000         WithSpoolSync (for interval)
//	MLFLOW_TRACKING_TOKEN                            (none)       WithBearerToken
//	MLFLOW_TRACKING_USERNAME                         (none)       WithBasicAuth
//	MLFLOW_TRACKING_PASSWORD                         (none)       WithBasicAuth
//	MLFLOW_TRACKING_INSECURE_TLS                     false        WithInsecureTLS
//	MLFLOW_HTTP_REQUEST_MAX_RETRIES                  7            WithMaxRetries
//	MLFLOW_HTTP_REQUEST_BACKOFF_FACTOR               2 (s)        WithRetryBackoff
//	MLFLOW_HTTP_REQUEST_BACKOFF_JITTER               1 (s)        WithRetryBackoff
//	MLFLOW_HTTP_REQUEST_TIMEOUT                      120 (s)      WithRequestTimeout
//	—                                                10000        WithMaxSpansPerTrace
//	—                                                1000         WithPreviewMaxChars (Databricks: 10000)
//	—                                                slog         WithErrorHandler
//	—                                                —            WithHeaders, WithHTTPClient, WithoutSpanStreaming, WithSpanStreamer
//
// The defaults are those of MLflow 3.17.2 (mlflow/environment_variables.py):
// note MAX_SPAN_BATCH_SIZE is 5 there. The retry timeout bounds one export —
// every request in it, their retries and the waits between them — as
// MLflow's retry timeout bounds an async logging task. MLflow server
// credentials (MLFLOW_TRACKING_TOKEN, ...) are not sent to a Databricks
// workspace; the HTTP settings are.
//
// Package exporter/exportertest provides an in-memory Destination for tests.
package exporter
