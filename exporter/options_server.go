package exporter

import (
	"context"
	"fmt"
	"net/http"
	"time"

	"github.com/mlflowtrace/mlflowtrace-go/internal/mlflowserver"
	"github.com/mlflowtrace/mlflowtrace-go/internal/transport"
)

// serverConfig holds the settings of the MLflow tracking server destination
// (an http(s) tracking URI). Environment values are loaded into its
// transport config by loadServerEnv; explicit options, applied afterwards,
// override them.
type serverConfig struct {
	transport        transport.Config
	disableStreaming bool
}

// loadServerEnv reads the server destination's environment variables
// (MLFLOW_TRACKING_TOKEN, MLFLOW_TRACKING_USERNAME/PASSWORD,
// MLFLOW_TRACKING_INSECURE_TLS, MLFLOW_HTTP_REQUEST_*,
// MLFLOW_ASYNC_TRACE_LOGGING_RETRY_TIMEOUT). Errors name the variable, never
// its value.
func (c *config) loadServerEnv(getenv func(string) string) error {
	if err := c.server.transport.LoadEnv(getenv); err != nil {
		return fmt.Errorf("exporter: invalid %w", err)
	}
	return nil
}

// newServerDestination builds the destination for an http(s) tracking URI.
// It does no I/O: server capabilities and the experiment are resolved on the
// first export, on a background worker.
func newServerDestination(ctx context.Context, c *config) (Destination, error) {
	tc := c.transportConfig()
	tc.URL = c.trackingURI
	d, err := mlflowserver.New(mlflowserver.Config{
		Transport:      tc,
		ExperimentID:   c.experimentID,
		ExperimentName: c.experimentName,
		Resource: map[string]any{
			"telemetry.sdk.language": "go",
			"telemetry.sdk.name":     "mlflowtrace-go",
		},
		DisableSpanStreaming: c.server.disableStreaming,
	})
	if err != nil {
		return nil, fmt.Errorf("exporter: tracking server: %w", err)
	}
	return serverDestination{d}, nil
}

// serverDestination adapts *mlflowserver.Destination to Destination and
// SpanStreamer (the model types are the same, re-exported).
type serverDestination struct{ *mlflowserver.Destination }

var (
	_ Destination  = serverDestination{}
	_ SpanStreamer = serverDestination{}
)

// WithHTTPClient sets the HTTP client used to reach an MLflow tracking
// server or a Databricks workspace (and the cloud storage its signed URLs
// point to). Its Transport is used as is, so WithInsecureTLS has no effect
// with it. nil is ignored.
func WithHTTPClient(hc *http.Client) Option {
	return optionFunc(func(c config) config {
		if hc != nil {
			c.server.transport.HTTPClient = hc
		}
		return c
	})
}

// WithHeaders adds headers to every request to an MLflow tracking server or
// a Databricks workspace (e.g. for an authenticating proxy; not to signed
// cloud-storage URLs). Values of headers that look like
// credentials (Authorization, Cookie, *token*, *key*, *secret*) are never
// shown in errors.
func WithHeaders(h map[string]string) Option {
	return optionFunc(func(c config) config {
		hdr := c.server.transport.Headers.Clone()
		if hdr == nil {
			hdr = http.Header{}
		}
		for k, v := range h {
			hdr.Set(k, v)
		}
		c.server.transport.Headers = hdr
		return c
	})
}

// WithBearerToken sends "Authorization: Bearer <token>"
// (MLFLOW_TRACKING_TOKEN). Basic auth, when also set, wins, as in MLflow.
func WithBearerToken(token string) Option {
	return optionFunc(func(c config) config {
		c.server.transport.Token = &token
		return c
	})
}

// WithBasicAuth sends HTTP basic auth
// (MLFLOW_TRACKING_USERNAME / MLFLOW_TRACKING_PASSWORD).
func WithBasicAuth(username, password string) Option {
	return optionFunc(func(c config) config {
		c.server.transport.Username = &username
		c.server.transport.Password = &password
		return c
	})
}

// WithInsecureTLS skips TLS certificate verification
// (MLFLOW_TRACKING_INSECURE_TLS). Ignored with WithHTTPClient.
func WithInsecureTLS(insecure bool) Option {
	return optionFunc(func(c config) config {
		c.server.transport.InsecureTLS = &insecure
		return c
	})
}

// WithRequestTimeout bounds each HTTP attempt (MLFLOW_HTTP_REQUEST_TIMEOUT,
// default 120 s). Non-positive values are ignored.
func WithRequestTimeout(d time.Duration) Option {
	return optionFunc(func(c config) config {
		if d > 0 {
			c.server.transport.RequestTimeout = &d
		}
		return c
	})
}

// WithRetryTimeout bounds one call to the server, retries and waits
// included (MLFLOW_ASYNC_TRACE_LOGGING_RETRY_TIMEOUT, default 500 s).
// Non-positive values are ignored.
func WithRetryTimeout(d time.Duration) Option {
	return optionFunc(func(c config) config {
		if d > 0 {
			c.server.transport.RetryTimeout = &d
		}
		return c
	})
}

// WithMaxRetries sets how many times a failed request is retried
// (MLFLOW_HTTP_REQUEST_MAX_RETRIES, default 7). Negative values are ignored.
func WithMaxRetries(n int) Option {
	return optionFunc(func(c config) config {
		if n >= 0 {
			c.server.transport.MaxRetries = &n
		}
		return c
	})
}

// WithRetryBackoff sets MLflow's exponential backoff: the first retry is
// immediate, retry n ≥ 2 waits factor·2^(n−1) plus a random jitter in
// [0, jitter), capped at 120 s (MLFLOW_HTTP_REQUEST_BACKOFF_FACTOR, default
// 2 s; MLFLOW_HTTP_REQUEST_BACKOFF_JITTER, default 1 s). A Retry-After
// header from the server wins. Negative values are ignored.
func WithRetryBackoff(factor, jitter time.Duration) Option {
	return optionFunc(func(c config) config {
		if factor >= 0 {
			f := factor.Seconds()
			c.server.transport.BackoffFactor = &f
		}
		if jitter >= 0 {
			j := jitter.Seconds()
			c.server.transport.BackoffJitter = &j
		}
		return c
	})
}

// WithoutSpanStreaming sends spans to the tracking server only with their
// finished trace (StartTraceV3 + traces.json), never through /v1/traces.
func WithoutSpanStreaming() Option {
	return optionFunc(func(c config) config {
		c.server.disableStreaming = true
		return c
	})
}
