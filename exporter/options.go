package exporter

import (
	"net/http"
	"time"

	"github.com/mlflowtrace/mlflowtrace-go/internal/settings"
)

// Option configures an Exporter; the trace client of package traces takes
// the same options. Options override the environment; see the package
// documentation for the variable each one overrides. A nil Option is
// ignored.
type Option = settings.Option

func option(f func(*settings.Settings)) Option { return settings.Func(f) }

// WithGetenv sets the function used to read environment variables
// (default os.Getenv). Package tracing passes its own. nil is ignored.
func WithGetenv(getenv func(string) string) Option { return settings.WithGetenv(getenv) }

// WithDestination sends finished traces to d instead of the destination
// selected by the tracking URI. The Exporter calls d.Shutdown from its own
// Shutdown. nil is ignored.
func WithDestination(d Destination) Option {
	return option(func(s *settings.Settings) {
		if d != nil {
			s.CustomTraces = d
		}
	})
}

// WithSpanStreamer also sends the spans of traces to st as they end, before
// their trace is finished, in batches (WithBatchSize, WithBatchInterval),
// off the caller's path — as MLflow's exporter streams spans to a tracking
// server. It applies to the destination given with WithDestination (often
// the same value implements both interfaces). nil is ignored.
func WithSpanStreamer(st SpanStreamer) Option {
	return option(func(s *settings.Settings) {
		if st != nil {
			s.CustomSpans = st
		}
	})
}

// WithTrackingURI selects the destination like MLFLOW_TRACKING_URI: a path or
// file: URI (local ./mlruns store), an http(s):// MLflow tracking server, or
// databricks / databricks://<profile>.
func WithTrackingURI(uri string) Option {
	return option(func(s *settings.Settings) { s.TrackingURI = uri })
}

// WithExperimentID sets the experiment traces are logged to
// (MLFLOW_EXPERIMENT_ID). An experiment name, when set, wins.
func WithExperimentID(id string) Option {
	return option(func(s *settings.Settings) { s.ExperimentID = id })
}

// WithExperimentName sets the experiment traces are logged to by name,
// created when missing (MLFLOW_EXPERIMENT_NAME).
func WithExperimentName(name string) Option {
	return option(func(s *settings.Settings) { s.ExperimentName = name })
}

// WithContentCapture(false) exports the spans the exporter translates from
// Genkit's conventions without their inputs and outputs (genkit:input,
// genkit:output), as the integrations of package autoinstrument record
// none with content capture off; their model, token usage, tools and
// status stay. tracing.Init passes tracing.WithContentCapture and
// MLFLOWTRACE_CAPTURE_CONTENT here. Default true.
func WithContentCapture(on bool) Option {
	return option(func(s *settings.Settings) { s.NoContent = !on })
}

// WithActiveModelID links every trace to the LoggedModel id (metadata
// mlflow.modelId), as mlflow.set_active_model(model_id=id) does for MLflow's
// Python SDK; MLFLOW_ACTIVE_MODEL_ID (else _MLFLOW_ACTIVE_MODEL_ID) sets it
// from the environment. A trace's own tracing.WithModelID wins. MLflow's
// search_traces(model_id=...) and traces.SearchQuery.ModelID find the
// traces.
func WithActiveModelID(id string) Option {
	return option(func(s *settings.Settings) { s.ActiveModelID = id })
}

// WithMaxQueueSize bounds the queue of finished traces waiting for export;
// when it is full, new traces are dropped and counted
// (MLFLOW_ASYNC_TRACE_LOGGING_MAX_QUEUE_SIZE).
func WithMaxQueueSize(n int) Option {
	return option(func(s *settings.Settings) { s.MaxQueueSize = n })
}

// WithMaxWorkers sets how many trace exports may run at once
// (MLFLOW_ASYNC_TRACE_LOGGING_MAX_WORKERS).
func WithMaxWorkers(n int) Option {
	return option(func(s *settings.Settings) { s.MaxWorkers = n })
}

// WithBatchSize sets the largest number of traces handed to the destination
// in one call (MLFLOW_ASYNC_TRACE_LOGGING_MAX_SPAN_BATCH_SIZE).
func WithBatchSize(n int) Option {
	return option(func(s *settings.Settings) { s.BatchSize = n })
}

// WithBatchInterval sets how long an ended span of a trace still open may
// wait before it is streamed (MLFLOW_ASYNC_TRACE_LOGGING_MAX_INTERVAL_MILLIS;
// see "Streaming" in the package documentation). A finished trace waits for
// its batch to fill no longer than this, and never more than a second.
func WithBatchInterval(d time.Duration) Option {
	return option(func(s *settings.Settings) { s.BatchInterval = d })
}

// WithRetryTimeout bounds one export — every request it makes, their
// retries and the waits between them — to an MLflow server or a Databricks
// workspace, and one call to a custom Destination
// (MLFLOW_ASYNC_TRACE_LOGGING_RETRY_TIMEOUT, default 500 s).
func WithRetryTimeout(d time.Duration) Option {
	return option(func(s *settings.Settings) { s.RetryTimeout = d })
}

// WithTraceTimeout ends the root span of any trace still open after d with
// status ERROR, so it is exported with state ERROR (MLFLOW_TRACE_TIMEOUT_SECONDS).
// 0 turns it off.
func WithTraceTimeout(d time.Duration) Option {
	return option(func(s *settings.Settings) { s.TraceTimeout = d })
}

// WithMaxOpenTraces bounds the number of traces kept in memory while their
// spans run (MLFLOW_TRACE_BUFFER_MAX_SIZE); the oldest is evicted beyond it.
func WithMaxOpenTraces(n int) Option {
	return option(func(s *settings.Settings) { s.MaxOpenTraces = n })
}

// WithMaxSpansPerTrace bounds the spans kept for one trace; later spans of
// that trace are dropped and counted.
func WithMaxSpansPerTrace(n int) Option {
	return option(func(s *settings.Settings) { s.MaxSpansPerTrace = n })
}

// WithErrorHandler sets the function background errors are reported to
// (default: slog.Default().Error; Warn for a WaitNotice without a cause).
// It may be called from several goroutines at once. nil restores the
// default.
func WithErrorHandler(h func(error)) Option {
	return option(func(s *settings.Settings) { s.ErrorHandler = h })
}

// WithPreviewMaxChars sets the length of the request/response previews
// (default 1000, MLflow's limit for open-source servers and local stores;
// 10000 for a Databricks workspace, as in MLflow).
func WithPreviewMaxChars(n int) Option {
	return option(func(s *settings.Settings) { s.SetPreviewMaxChars(n) })
}

// --- HTTP: MLflow tracking server and Databricks workspace ---------------

// WithHTTPClient sets the HTTP client used to reach an MLflow tracking
// server or a Databricks workspace (and the cloud storage its signed URLs
// point to). Its Transport is used as is, so WithInsecureTLS has no effect
// with it. nil is ignored.
func WithHTTPClient(hc *http.Client) Option {
	return option(func(s *settings.Settings) {
		if hc != nil {
			s.Transport.HTTPClient = hc
		}
	})
}

// WithHeaders adds headers to every request to an MLflow tracking server or
// a Databricks workspace (e.g. for an authenticating proxy; not to signed
// cloud-storage URLs, nor to the OAuth discovery and token requests of
// DATABRICKS_CLIENT_ID / DATABRICKS_CLIENT_SECRET). Values of headers that
// look like credentials (Authorization, Cookie, *token*, *key*, *secret*)
// are never shown in errors.
func WithHeaders(h map[string]string) Option {
	return option(func(s *settings.Settings) {
		hdr := s.Transport.Headers.Clone()
		if hdr == nil {
			hdr = http.Header{}
		}
		for k, v := range h {
			hdr.Set(k, v)
		}
		s.Transport.Headers = hdr
	})
}

// WithBearerToken sends "Authorization: Bearer <token>"
// (MLFLOW_TRACKING_TOKEN). Basic auth, when also set, wins, as in MLflow.
func WithBearerToken(token string) Option {
	return option(func(s *settings.Settings) { s.Transport.Token = &token })
}

// WithBasicAuth sends HTTP basic auth
// (MLFLOW_TRACKING_USERNAME / MLFLOW_TRACKING_PASSWORD).
func WithBasicAuth(username, password string) Option {
	return option(func(s *settings.Settings) {
		s.Transport.Username, s.Transport.Password = &username, &password
	})
}

// WithInsecureTLS skips TLS certificate verification
// (MLFLOW_TRACKING_INSECURE_TLS). Ignored with WithHTTPClient.
func WithInsecureTLS(insecure bool) Option {
	return option(func(s *settings.Settings) { s.Transport.InsecureTLS = &insecure })
}

// WithRequestTimeout bounds each HTTP attempt (MLFLOW_HTTP_REQUEST_TIMEOUT,
// default 120 s). Non-positive values are ignored.
func WithRequestTimeout(d time.Duration) Option {
	return option(func(s *settings.Settings) {
		if d > 0 {
			s.Transport.RequestTimeout = &d
		}
	})
}

// WithMaxRetries sets how many times a failed request is retried
// (MLFLOW_HTTP_REQUEST_MAX_RETRIES, default 7). Negative values are ignored.
func WithMaxRetries(n int) Option {
	return option(func(s *settings.Settings) {
		if n >= 0 {
			s.Transport.MaxRetries = &n
		}
	})
}

// WithRetryBackoff sets MLflow's exponential backoff: the first retry is
// immediate, retry n ≥ 2 waits factor·2^(n−1) plus a random jitter in
// [0, jitter), capped at 120 s (MLFLOW_HTTP_REQUEST_BACKOFF_FACTOR, default
// 2 s; MLFLOW_HTTP_REQUEST_BACKOFF_JITTER, default 1 s). A Retry-After
// header from the server wins. Negative values are ignored.
func WithRetryBackoff(factor, jitter time.Duration) Option {
	return option(func(s *settings.Settings) {
		if factor >= 0 {
			f := factor.Seconds()
			s.Transport.BackoffFactor = &f
		}
		if jitter >= 0 {
			j := jitter.Seconds()
			s.Transport.BackoffJitter = &j
		}
	})
}

// WithoutSpanStreaming sends spans to the tracking server only with their
// finished trace (StartTraceV3 + traces.json), never through /v1/traces.
func WithoutSpanStreaming() Option {
	return option(func(s *settings.Settings) { s.DisableSpanStreaming = true })
}

// --- Databricks ------------------------------------------------------------

// WithDatabricksHost sets the Databricks workspace URL (DATABRICKS_HOST);
// https:// is assumed without a scheme, http:// is accepted for local
// testing. Giving it selects the Databricks destination when no tracking URI
// is set.
func WithDatabricksHost(host string) Option {
	return option(func(s *settings.Settings) { s.SetDatabricksHost(host) })
}

// WithDatabricksCredentials authenticates every request to the Databricks
// workspace with fn, which sets the request's Authorization header (auth
// type "custom"; it wins over DATABRICKS_TOKEN and the other providers). fn is
// called once per attempt, from several goroutines at once; after a 401 the
// call is sent once more and fn asked again (it owns its token cache). It fits the
// Authenticate method of databricks-sdk-go's config.Config, so a program
// that already configures that SDK reuses its credentials:
//
//	cfg := &config.Config{}                         // github.com/databricks/databricks-sdk-go/config
//	if err := cfg.EnsureResolved(); err != nil { ... } // fills cfg.Host
//	exporter.WithDatabricksHost(cfg.Host), exporter.WithDatabricksCredentials(cfg.Authenticate)
//
// A nil fn is ignored. Giving it selects the Databricks destination when no
// tracking URI is set.
func WithDatabricksCredentials(fn func(*http.Request) error) Option {
	return option(func(s *settings.Settings) { s.SetDatabricksCredentials(fn) })
}

// WithTracingDestination sets where traces go, like
// MLFLOW_TRACING_DESTINATION: "<catalog>.<schema>" sends them to that
// Unity Catalog schema's trace tables in the Databricks workspace (trace ids
// "trace:/<catalog>.<schema>/<hex>", schema version 4); "<experiment id>"
// logs them to that experiment, winning over the experiment id and name.
func WithTracingDestination(dest string) Option {
	return option(func(s *settings.Settings) { s.TracingDestination = dest })
}
