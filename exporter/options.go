package exporter

import "time"

// Option configures an Exporter. Options override the environment; see the
// package documentation for the variable each one overrides.
type Option interface{ apply(config) config }

type optionFunc func(config) config

func (f optionFunc) apply(c config) config { return f(c) }

// WithGetenv sets the function used to read environment variables
// (default os.Getenv). Package tracing passes its own. nil is ignored.
func WithGetenv(getenv func(string) string) Option {
	return optionFunc(func(c config) config {
		if getenv != nil {
			c.getenv = getenv
		}
		return c
	})
}

// WithDestination sends traces to d instead of the destination selected by
// the tracking URI. The Exporter calls d.Shutdown from its own Shutdown.
// nil is ignored.
func WithDestination(d Destination) Option {
	return optionFunc(func(c config) config {
		if d != nil {
			c.dest = d
		}
		return c
	})
}

// WithTrackingURI selects the destination like MLFLOW_TRACKING_URI: a path or
// file: URI (local ./mlruns store), or an http(s):// MLflow tracking server.
func WithTrackingURI(uri string) Option {
	return optionFunc(func(c config) config { c.trackingURI = uri; return c })
}

// WithExperimentID sets the experiment traces are logged to
// (MLFLOW_EXPERIMENT_ID). An experiment name, when set, wins.
func WithExperimentID(id string) Option {
	return optionFunc(func(c config) config { c.experimentID = id; return c })
}

// WithExperimentName sets the experiment traces are logged to by name,
// created when missing (MLFLOW_EXPERIMENT_NAME).
func WithExperimentName(name string) Option {
	return optionFunc(func(c config) config { c.experimentName = name; return c })
}

// WithMaxQueueSize bounds each export queue (spans, finished traces); when a
// queue is full, new items are dropped and counted
// (MLFLOW_ASYNC_TRACE_LOGGING_MAX_QUEUE_SIZE).
func WithMaxQueueSize(n int) Option {
	return optionFunc(func(c config) config { c.maxQueueSize = n; return c })
}

// WithMaxWorkers sets how many exports may run at once per queue
// (MLFLOW_ASYNC_TRACE_LOGGING_MAX_WORKERS).
func WithMaxWorkers(n int) Option {
	return optionFunc(func(c config) config { c.maxWorkers = n; return c })
}

// WithBatchSize sets the largest number of items handed to the destination
// in one call (MLFLOW_ASYNC_TRACE_LOGGING_MAX_SPAN_BATCH_SIZE).
func WithBatchSize(n int) Option {
	return optionFunc(func(c config) config { c.batchSize = n; return c })
}

// WithBatchInterval sets how long streamed spans may wait for a batch to fill
// (MLFLOW_ASYNC_TRACE_LOGGING_MAX_INTERVAL_MILLIS). Finished traces never wait.
func WithBatchInterval(d time.Duration) Option {
	return optionFunc(func(c config) config { c.batchInterval = d; return c })
}

// WithExportTimeout bounds one call to the destination, retries included
// (MLFLOW_ASYNC_TRACE_LOGGING_RETRY_TIMEOUT).
func WithExportTimeout(d time.Duration) Option {
	return optionFunc(func(c config) config { c.exportTimeout = d; return c })
}

// WithTraceTimeout ends the root span of any trace still open after d with
// status ERROR, so it is exported with state ERROR (MLFLOW_TRACE_TIMEOUT_SECONDS).
// 0 turns it off.
func WithTraceTimeout(d time.Duration) Option {
	return optionFunc(func(c config) config { c.traceTimeout = d; return c })
}

// WithMaxOpenTraces bounds the number of traces kept in memory while their
// spans run (MLFLOW_TRACE_BUFFER_MAX_SIZE); the oldest is evicted beyond it.
func WithMaxOpenTraces(n int) Option {
	return optionFunc(func(c config) config { c.maxOpenTraces = n; return c })
}

// WithMaxSpansPerTrace bounds the spans kept for one trace; later spans of
// that trace are dropped and counted.
func WithMaxSpansPerTrace(n int) Option {
	return optionFunc(func(c config) config { c.maxSpansPerTrace = n; return c })
}

// WithErrorHandler sets the function background errors are reported to
// (default: slog.Default().Error). It may be called from several goroutines
// at once. nil restores the default.
func WithErrorHandler(h func(error)) Option {
	return optionFunc(func(c config) config { c.errorHandler = h; return c })
}

// WithPreviewMaxChars sets the length of the request/response previews
// (default 1000, MLflow's limit for open-source servers and local stores;
// 10000 for a Databricks workspace, as in MLflow).
func WithPreviewMaxChars(n int) Option {
	return optionFunc(func(c config) config {
		c.previewMaxChars = n
		c.previewSet = true
		return c
	})
}
