// Package tracing is the API a Go program imports to record MLflow traces:
// spans that MLflow stores, searches and displays exactly like the traces of
// MLflow's own Python SDK. It is built on OpenTelemetry.
//
// # Set up
//
// Init reads the environment (MLflow's own variable names), applies options
// over it, creates an OpenTelemetry tracer provider with the MLflow exporter
// (package exporter) registered on it, and installs the result as the default
// the package-level functions use. Shut it down before the program exits so
// buffered traces are written, with a deadline (Shutdown waits for the
// traces to reach their destination, retrying up to the retry budget):
//
//	p, err := tracing.Init(ctx)
//	if err != nil { ... }
//	defer func() {
//		ctx, cancel := context.WithTimeout(context.Background(), 30*time.Second)
//		defer cancel()
//		if err := p.Shutdown(ctx); err != nil {
//			log.Print(err) // says how many traces were not delivered, and why
//		}
//	}()
//
// Without MLFLOW_TRACKING_URI traces go to ./mlruns (MLflow's file store);
// with it, to that MLflow tracking server; with MLFLOW_TRACKING_URI=databricks
// (or DATABRICKS_HOST and no tracking URI) to an experiment of a Databricks
// workspace, and with MLFLOW_TRACING_DESTINATION=<catalog>.<schema> to Unity
// Catalog tables, whose trace ids Span.TraceID and LastTraceID return as
// "trace:/<catalog>.<schema>/<hex>". See package exporter.
//
// # Record
//
//   - Manual spans: StartSpan returns a context holding the new span and a
//     *Span (SetInputs, SetOutputs, SetAttribute, RecordError, End, chat
//     helpers such as SetTokenUsage). A nil *Span is valid: every method is a
//     no-op.
//   - Function wrappers, Go's form of the @mlflow.trace decorator: Func wraps
//     a func(context.Context, In) (Out, error); Do and Run trace an inline
//     block. They record inputs, outputs, the function name, returned errors
//     and panics (recorded, then re-raised).
//   - Trace-level data: UpdateCurrentTrace sets tags, metadata, user, session,
//     client request id, previews and state of the current trace.
//     ContextWithTraceOptions gives the same options to every trace that
//     starts in a context, whoever starts its root span (an instrumented
//     client, too), and ContextWithTracingEnabled(ctx, false) leaves the code
//     run with ctx untraced: MLflow's mlflow.tracing.context.
//     LinkPromptVersion records a prompt version of MLflow's registry used in
//     the current span and trace (package prompts calls it for every prompt
//     it loads).
//   - HTTP: Wrap records one span per request of an http.Handler (SSE
//     streaming keeps working); InjectHTTPHeaders and ContextFromHTTPHeaders
//     carry the trace across services in W3C traceparent headers, so a
//     distributed agent is one trace.
//
// Panics and errors: a panic in traced code is recorded on its span (status
// ERROR, an "exception" event with the stack), the span ends, and the panic
// is re-raised with its original value — the SDK never swallows a panic of
// the program it observes (the one place a panic ends is the HTTP server
// package responsesagent provides, which answers it with a 500 as MLflow's
// agent server does; see its documentation). The SDK's own background errors
// (an export that failed, a drop, a panicking span filter, an integration's
// trouble) all go to one place, the exporter's error handler
// (exporter.WithErrorHandler, default slog.Default().Error), never on the
// caller's path; ReportError is that path for code built on this package.
//
// Values (inputs, outputs, attributes) can be any Go value: they are stored as
// MLflow does, JSON-encoded (json.Marshaler respected; values JSON cannot
// represent degrade to a readable string, never a panic), and cut to
// WithMaxValueSize characters.
//
// # OpenTelemetry
//
// Spans are OpenTelemetry spans of the instrumentation scope
// "github.com/mlflowtrace/mlflowtrace-go/tracing". Unless
// WithoutGlobalTracerProvider is given, Init installs its tracer provider as
// OpenTelemetry's global one, so spans of any OpenTelemetry instrumentation
// started in a traced context become child spans of the MLflow trace, and it
// sets the W3C trace-context + baggage propagator as the global propagator
// when none is set (a propagator the program set before Init is kept).
// WithTracerProvider adds the MLflow exporter to a tracer provider the program
// already has instead of creating one.
//
// # Disabled tracing
//
// With ENABLE_MLFLOW_TRACING=false, WithDisabled, or before Init is called,
// StartSpan returns its ctx unchanged and a nil *Span, and the wrappers call
// the wrapped function directly: no allocation (see the benchmarks). The same
// holds for children of a trace the sampler dropped.
//
// # Configuration
//
// Each variable is read once by Init, through package internal/envconfig
// (the one reader of the SDK's environment) and the getenv of WithGetenv
// (default os.Getenv), never at import; the option in the last column wins
// over it. A malformed value fails Init with an error naming the variable
// (never its value). Booleans are true/false/1/0 in any case and integers are
// integers, as in MLflow's mlflow/environment_variables.py.
//
//	variable                                default                      option
//	ENABLE_MLFLOW_TRACING                   true (see below)             WithDisabled, WithEnabled
//	IS_IN_DB_MODEL_SERVING_ENV              false                        —
//	MLFLOW_TRACE_SAMPLING_RATIO             1.0                          WithSamplingRatio
//	OTEL_SERVICE_NAME                       unknown_service:<program>    WithServiceName
//	OTEL_RESOURCE_ATTRIBUTES                (none)                       WithResource (merged, wins per key)
//	—                                       1,048,576 characters         WithMaxValueSize
//	MLFLOWTRACE_CAPTURE_CONTENT             true                         WithContentCapture
//	OTEL_EXPORTER_OTLP_TRACES_ENDPOINT      (none)                       —
//	OTEL_EXPORTER_OTLP_ENDPOINT             (none; + /v1/traces)         —
//	OTEL_EXPORTER_OTLP_TRACES_PROTOCOL      grpc                         —
//	OTEL_EXPORTER_OTLP_PROTOCOL             grpc                         —
//	OTEL_EXPORTER_OTLP_TRACES_HEADERS       (none)                       —
//	OTEL_EXPORTER_OTLP_HEADERS              (none)                       —
//	MLFLOW_ENABLE_OTLP_EXPORTER             true                         —
//	MLFLOW_TRACE_ENABLE_OTLP_DUAL_EXPORT    false                        —
//
// MLFLOWTRACE_CAPTURE_CONTENT (this SDK's own variable) is the one switch for
// every integration of package autoinstrument, Genkit's included: with false
// they record metadata (model, token usage, tools, status) but not prompts,
// completions or tool arguments and results (Span.CapturesContent).
//
// ENABLE_MLFLOW_TRACING unset means on, except inside Databricks Model
// Serving (IS_IN_DB_MODEL_SERVING_ENV true or 1), where tracing is on only
// with ENABLE_MLFLOW_TRACING=true, as in MLflow. MLFLOW_TRACE_SAMPLING_RATIO
// must be a number in [0, 1]; the decision is taken once per trace at its
// root (ParentBased(TraceIDRatioBased)) and children follow it.
// OTEL_RESOURCE_ATTRIBUTES is key=value pairs separated by commas,
// percent-encoded; OTEL_SERVICE_NAME wins over a service.name in it. The
// resource and sampler only apply to the provider Init creates.
//
// OTLP: with an OTLP endpoint set, Init adds a plain OpenTelemetry batch span
// processor exporting to it (OTLP/gRPC by default, as MLflow; http/protobuf
// on request). As in MLflow it replaces the MLflow exporter unless
// MLFLOW_TRACE_ENABLE_OTLP_DUAL_EXPORT=true (then both export); an explicit
// destination (exporter.WithDestination) wins over the endpoint, which is
// then used only with dual export on; MLFLOW_ENABLE_OTLP_EXPORTER=false
// ignores the endpoint. Spans still carry mlflow.traceRequestId. A failed
// OTLP export goes to the exporter's error handler, as every background
// error does. OpenTelemetry Go's OTLP exporter reads its other variables
// itself, from the process environment and not through WithGetenv:
// OTEL_EXPORTER_OTLP_(TRACES_)INSECURE (a gRPC endpoint without a scheme is
// TLS unless it is true), _TIMEOUT, _COMPRESSION, _CERTIFICATE,
// _CLIENT_CERTIFICATE and _CLIENT_KEY.
//
// Every variable of package exporter — MLFLOW_TRACKING_URI,
// MLFLOW_EXPERIMENT_ID, MLFLOW_EXPERIMENT_NAME, MLFLOW_TRACING_DESTINATION,
// the DATABRICKS_* workspace credentials, MLFLOW_TRACKING_TOKEN,
// MLFLOW_TRACKING_USERNAME/PASSWORD, the MLFLOW_ASYNC_TRACE_LOGGING_* queue
// settings, MLFLOW_TRACE_TIMEOUT_SECONDS and the rest; see its package
// documentation for the full table — is read through the same getenv
// (exporter.WithGetenv) and overridden with WithExporterOptions.
//
// # Editing spans before export
//
// MLflow's Python SDK lets a program register functions that edit a span
// before it is exported (mlflow.tracing.configure(span_processors=[...]), e.g.
// to mask secrets). WithSpanFilter is the Go form: the function gets the live
// *Span just before it ends and can read (Inputs, Outputs, Attribute) and
// overwrite anything. WithSpanProcessor adds plain OpenTelemetry span
// processors, which see finished spans read-only.
//
// # Differences from MLflow's Python SDK
//
//   - Inputs: Python records a function's arguments as an object keyed by
//     parameter name. Go has no parameter names at run time, so Func records
//     its single input value as is (a struct is a JSON object already);
//     WithInputName("query") records {"query": value} instead.
//   - mlflow.spanFunctionName is the Go function's bare name, like Python's
//     __name__ ("plan" for agent.plan, "Run" for agent.(*Agent).Run and
//     agent.Agent.Run); for an anonymous function, which has no name, it is
//     the span name given to Func.
//   - A recorded Go error's exception.type is its dynamic type without the
//     pointer star ("errors.errorString", "net.OpError"), and the status
//     message is "<type>: <message>" as in MLflow. A recovered panic has type
//     "panic", so the status reads "panic: <value>" like Go's crash report.
//   - Outside Databricks Model Serving, MLflow 3.17's Python SDK does not read
//     ENABLE_MLFLOW_TRACING (it uses mlflow.tracing.disable()); this package
//     honours ENABLE_MLFLOW_TRACING=false everywhere. Inside serving MLflow
//     enables tracing only for the exact value "true"; this package also
//     accepts "1".
//   - MLflow ignores an out-of-range MLFLOW_TRACE_SAMPLING_RATIO with a
//     warning; Init fails instead.
//   - MLflow keeps attribute values of any size; this package cuts each
//     JSON-encoded value at WithMaxValueSize characters (first n-3 + "...",
//     stored as a JSON string) to bound memory. WithMaxValueSize(0) removes
//     the limit.
package tracing
