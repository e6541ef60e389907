package exporter

import (
	"fmt"
	"log/slog"
	"os"
	"strconv"
	"strings"
	"time"

	"github.com/mlflowtrace/mlflowtrace-go/internal/keys"
)

// Environment variables read by New (MLflow's names). See doc.go for the
// table of defaults and the options that override them.
const (
	envTrackingURI          = "MLFLOW_TRACKING_URI"
	envExperimentID         = "MLFLOW_EXPERIMENT_ID"
	envExperimentName       = "MLFLOW_EXPERIMENT_NAME"
	envAsyncLogging         = "MLFLOW_ENABLE_ASYNC_TRACE_LOGGING"
	envMaxWorkers           = "MLFLOW_ASYNC_TRACE_LOGGING_MAX_WORKERS"
	envMaxQueueSize         = "MLFLOW_ASYNC_TRACE_LOGGING_MAX_QUEUE_SIZE"
	envMaxSpanBatchSize     = "MLFLOW_ASYNC_TRACE_LOGGING_MAX_SPAN_BATCH_SIZE"
	envMaxIntervalMillis    = "MLFLOW_ASYNC_TRACE_LOGGING_MAX_INTERVAL_MILLIS"
	envRetryTimeout         = "MLFLOW_ASYNC_TRACE_LOGGING_RETRY_TIMEOUT"
	envTraceTimeout         = "MLFLOW_TRACE_TIMEOUT_SECONDS"
	envTimeoutCheckInterval = "MLFLOW_TRACE_TIMEOUT_CHECK_INTERVAL_SECONDS"
	envBufferTTL            = "MLFLOW_TRACE_BUFFER_TTL_SECONDS"
	envBufferMaxSize        = "MLFLOW_TRACE_BUFFER_MAX_SIZE"
)

// Defaults, as in MLflow's Python SDK 3.17 (mlflow/environment_variables.py)
// unless noted.
const (
	defaultMaxWorkers           = 10
	defaultMaxQueueSize         = 1000
	defaultBatchSize            = 5 // MLflow 3.17: 5 ("based on internal benchmarking")
	defaultBatchInterval        = 5000 * time.Millisecond
	defaultExportTimeout        = 500 * time.Second // MLFLOW_ASYNC_TRACE_LOGGING_RETRY_TIMEOUT
	defaultTimeoutCheckInterval = time.Second
	defaultBufferTTL            = 3600 * time.Second
	defaultMaxOpenTraces        = 1000
	defaultMaxSpansPerTrace     = 10000 // ours; MLflow has no per-trace cap
)

// config is the resolved configuration of an Exporter: defaults, then the
// environment (through getenv), then explicit options, then validate.
type config struct {
	getenv func(string) string

	// Destination selection.
	dest           Destination // WithDestination: overrides the tracking URI
	trackingURI    string
	experimentID   string
	experimentName string

	// Pipeline.
	asyncLogging  bool
	maxQueueSize  int
	maxWorkers    int
	batchSize     int
	batchInterval time.Duration
	exportTimeout time.Duration

	// Open-trace buffer.
	traceTimeout         time.Duration // 0: off
	timeoutCheckInterval time.Duration
	bufferTTL            time.Duration
	maxOpenTraces        int
	maxSpansPerTrace     int

	previewMaxChars int
	previewSet      bool // WithPreviewMaxChars given: the destination keeps it
	errorHandler    func(error)

	// databricks holds the settings of the Databricks destination
	// (options_databricks.go).
	databricks databricksConfig

	// server holds the settings of the MLflow tracking server destination;
	// its type and loader live in options_server.go (server engineer).
	server serverConfig

	// counters is shared with destinations built by New so the transport can
	// count retries (counters.addRetried). Set by New, never nil there.
	counters *counters

	// now is the clock (tests inject one).
	now func() time.Time
}

func defaultConfig() config {
	return config{
		getenv:               os.Getenv,
		asyncLogging:         true,
		maxQueueSize:         defaultMaxQueueSize,
		maxWorkers:           defaultMaxWorkers,
		batchSize:            defaultBatchSize,
		batchInterval:        defaultBatchInterval,
		exportTimeout:        defaultExportTimeout,
		timeoutCheckInterval: defaultTimeoutCheckInterval,
		bufferTTL:            defaultBufferTTL,
		maxOpenTraces:        defaultMaxOpenTraces,
		maxSpansPerTrace:     defaultMaxSpansPerTrace,
		previewMaxChars:      keys.PreviewLenOSS,
		errorHandler:         defaultErrorHandler,
		now:                  time.Now,
	}
}

func defaultErrorHandler(err error) {
	slog.Default().Error("mlflowtrace: export error", "error", err)
}

// newConfig resolves defaults → environment → options → validation.
func newConfig(opts []Option) (config, error) {
	c := defaultConfig()
	// Options are pure functions of the config; apply them once to learn the
	// getenv to read the environment with.
	probe := c
	for _, o := range opts {
		if o != nil {
			probe = o.apply(probe)
		}
	}
	if probe.getenv != nil {
		c.getenv = probe.getenv
	}
	if err := c.loadEnv(c.getenv); err != nil {
		return config{}, err
	}
	if err := c.loadServerEnv(c.getenv); err != nil {
		return config{}, err
	}
	c.loadDatabricksEnv(c.getenv)
	for _, o := range opts {
		if o != nil {
			c = o.apply(c)
		}
	}
	if c.getenv == nil {
		c.getenv = os.Getenv
	}
	if err := c.validate(); err != nil {
		return config{}, err
	}
	if err := c.resolveTracingDestination(); err != nil {
		return config{}, err
	}
	if !c.asyncLogging {
		// MLFLOW_ENABLE_ASYNC_TRACE_LOGGING=false: Python exports on the
		// caller's thread; we never do I/O there, so we keep the background
		// pipeline but export strictly one batch at a time, in order.
		c.maxWorkers = 1
	}
	return c, nil
}

func (c *config) loadEnv(getenv func(string) string) error {
	if v := strings.TrimSpace(getenv(envTrackingURI)); v != "" {
		c.trackingURI = v
	}
	if v := strings.TrimSpace(getenv(envExperimentID)); v != "" {
		c.experimentID = v
	}
	if v := strings.TrimSpace(getenv(envExperimentName)); v != "" {
		c.experimentName = v
	}
	var err error
	if c.asyncLogging, err = envBool(getenv, envAsyncLogging, c.asyncLogging); err != nil {
		return err
	}
	ints := []struct {
		name string
		dst  *int
	}{
		{envMaxWorkers, &c.maxWorkers},
		{envMaxQueueSize, &c.maxQueueSize},
		{envMaxSpanBatchSize, &c.batchSize},
		{envBufferMaxSize, &c.maxOpenTraces},
	}
	for _, it := range ints {
		if *it.dst, err = envInt(getenv, it.name, *it.dst, 1); err != nil {
			return err
		}
	}
	durs := []struct {
		name string
		unit time.Duration
		min  int
		dst  *time.Duration
	}{
		{envMaxIntervalMillis, time.Millisecond, 0, &c.batchInterval},
		{envRetryTimeout, time.Second, 1, &c.exportTimeout},
		{envTraceTimeout, time.Second, 0, &c.traceTimeout},
		{envTimeoutCheckInterval, time.Second, 1, &c.timeoutCheckInterval},
		{envBufferTTL, time.Second, 1, &c.bufferTTL},
	}
	for _, d := range durs {
		n, err := envInt(getenv, d.name, -1, d.min)
		if err != nil {
			return err
		}
		if n >= 0 {
			*d.dst = time.Duration(n) * d.unit
		}
	}
	return nil
}

// envInt parses an integer variable; def is returned when it is unset or
// empty. Values below min are an error naming the variable.
func envInt(getenv func(string) string, name string, def, min int) (int, error) {
	v := strings.TrimSpace(getenv(name))
	if v == "" {
		return def, nil
	}
	n, err := strconv.Atoi(v)
	if err != nil {
		return 0, fmt.Errorf("exporter: invalid %s=%q: not an integer", name, v)
	}
	if n < min {
		return 0, fmt.Errorf("exporter: invalid %s=%q: must be at least %d", name, v, min)
	}
	return n, nil
}

// envBool parses a boolean variable the way MLflow does: true, false, 1 or 0,
// case-insensitive.
func envBool(getenv func(string) string, name string, def bool) (bool, error) {
	v := strings.TrimSpace(getenv(name))
	switch strings.ToLower(v) {
	case "":
		return def, nil
	case "true", "1":
		return true, nil
	case "false", "0":
		return false, nil
	}
	return false, fmt.Errorf("exporter: invalid %s=%q: must be one of true, false, 1, 0", name, v)
}

func (c *config) validate() error {
	switch {
	case c.maxQueueSize < 1:
		return fmt.Errorf("exporter: max queue size must be positive, got %d", c.maxQueueSize)
	case c.maxWorkers < 1:
		return fmt.Errorf("exporter: max workers must be positive, got %d", c.maxWorkers)
	case c.batchSize < 1:
		return fmt.Errorf("exporter: batch size must be positive, got %d", c.batchSize)
	case c.batchInterval < 0:
		return fmt.Errorf("exporter: batch interval must not be negative, got %v", c.batchInterval)
	case c.exportTimeout <= 0:
		return fmt.Errorf("exporter: export timeout must be positive, got %v", c.exportTimeout)
	case c.traceTimeout < 0:
		return fmt.Errorf("exporter: trace timeout must not be negative, got %v", c.traceTimeout)
	case c.timeoutCheckInterval <= 0:
		return fmt.Errorf("exporter: timeout check interval must be positive, got %v", c.timeoutCheckInterval)
	case c.bufferTTL <= 0:
		return fmt.Errorf("exporter: trace buffer TTL must be positive, got %v", c.bufferTTL)
	case c.maxOpenTraces < 1:
		return fmt.Errorf("exporter: max open traces must be positive, got %d", c.maxOpenTraces)
	case c.maxSpansPerTrace < 1:
		return fmt.Errorf("exporter: max spans per trace must be positive, got %d", c.maxSpansPerTrace)
	case c.previewMaxChars < 4:
		return fmt.Errorf("exporter: preview max chars must be at least 4, got %d", c.previewMaxChars)
	}
	if c.errorHandler == nil {
		c.errorHandler = defaultErrorHandler
	}
	if c.now == nil {
		c.now = time.Now
	}
	return nil
}
