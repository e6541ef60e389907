package transport

import (
	"fmt"
	"net/http"
	"strconv"
	"strings"
	"time"
)

// Environment variables read by LoadEnv (MLflow's names).
const (
	EnvTrackingToken    = "MLFLOW_TRACKING_TOKEN"
	EnvTrackingUsername = "MLFLOW_TRACKING_USERNAME"
	EnvTrackingPassword = "MLFLOW_TRACKING_PASSWORD"
	EnvInsecureTLS      = "MLFLOW_TRACKING_INSECURE_TLS"
	EnvMaxRetries       = "MLFLOW_HTTP_REQUEST_MAX_RETRIES"
	EnvBackoffFactor    = "MLFLOW_HTTP_REQUEST_BACKOFF_FACTOR"
	EnvBackoffJitter    = "MLFLOW_HTTP_REQUEST_BACKOFF_JITTER"
	EnvRequestTimeout   = "MLFLOW_HTTP_REQUEST_TIMEOUT"
	EnvRetryTimeout     = "MLFLOW_ASYNC_TRACE_LOGGING_RETRY_TIMEOUT"
)

// Defaults (MLflow's).
const (
	DefaultMaxRetries       = 7
	DefaultBackoffFactor    = 2.0
	DefaultBackoffJitter    = 1.0
	DefaultBackoffMax       = 120 * time.Second // urllib3's DEFAULT_BACKOFF_MAX
	DefaultRequestTimeout   = 120 * time.Second
	DefaultRetryTimeout     = 500 * time.Second
	DefaultMaxResponseBytes = 4 << 20
	drainLimit              = 64 << 10
)

// Config configures a Client. Pointer fields are "unset" when nil: LoadEnv
// fills only those, so explicit settings win over the environment whatever
// the order of calls. The zero Config is valid (all defaults).
type Config struct {
	// URL is the base URL (the tracking URI), e.g. http://127.0.0.1:5000.
	// User info in it is used as basic auth and removed from every request URL.
	URL string

	// HTTPClient is used as is when set (InsecureTLS is then ignored).
	HTTPClient *http.Client
	// Headers are added to every request.
	Headers http.Header

	// Secrets are scrubbed from every error message (e.g. an OAuth client
	// secret the Client never sends itself).
	Secrets []string

	// Credentials, when set, authorise every attempt to the base URL
	// (after Headers and the static Token/Username/Password, so they win).
	Credentials Credentials

	Token       *string // bearer token
	Username    *string // basic auth
	Password    *string
	InsecureTLS *bool

	MaxRetries     *int
	BackoffFactor  *float64 // seconds
	BackoffJitter  *float64 // seconds
	BackoffMax     time.Duration
	RequestTimeout *time.Duration // per attempt
	RetryTimeout   *time.Duration // whole call, retries included

	// MaxResponseBytes bounds how much of a response body is read
	// (default 4 MiB).
	MaxResponseBytes int64

	// OnRetry is called before every retry (for counters). It must be cheap
	// and safe for concurrent use.
	OnRetry func()

	// rand returns a float in [0,1) for jitter; tests replace it.
	rand func() float64
}

// LoadEnv fills the fields that are still unset from the environment read
// through getenv (os.Getenv when nil). It returns an error naming the
// variable (never its value) when a value is malformed.
func (c *Config) LoadEnv(getenv func(string) string) error {
	if getenv == nil {
		return nil
	}
	str := func(dst **string, name string) {
		if *dst == nil {
			if v := getenv(name); v != "" {
				*dst = &v
			}
		}
	}
	str(&c.Token, EnvTrackingToken)
	str(&c.Username, EnvTrackingUsername)
	str(&c.Password, EnvTrackingPassword)

	if c.InsecureTLS == nil {
		if v := getenv(EnvInsecureTLS); v != "" {
			b, err := ParseBool(v)
			if err != nil {
				return fmt.Errorf("%s: %w", EnvInsecureTLS, err)
			}
			c.InsecureTLS = &b
		}
	}
	if c.MaxRetries == nil {
		if v := strings.TrimSpace(getenv(EnvMaxRetries)); v != "" {
			n, err := strconv.Atoi(v)
			if err != nil || n < 0 {
				return fmt.Errorf("%s: want a non-negative integer", EnvMaxRetries)
			}
			c.MaxRetries = &n
		}
	}
	flt := func(dst **float64, name string) error {
		if *dst != nil {
			return nil
		}
		v := strings.TrimSpace(getenv(name))
		if v == "" {
			return nil
		}
		f, err := strconv.ParseFloat(v, 64)
		if err != nil || f < 0 || f != f {
			return fmt.Errorf("%s: want a non-negative number", name)
		}
		*dst = &f
		return nil
	}
	if err := flt(&c.BackoffFactor, EnvBackoffFactor); err != nil {
		return err
	}
	if err := flt(&c.BackoffJitter, EnvBackoffJitter); err != nil {
		return err
	}
	dur := func(dst **time.Duration, name string) error {
		if *dst != nil {
			return nil
		}
		v := strings.TrimSpace(getenv(name))
		if v == "" {
			return nil
		}
		f, err := strconv.ParseFloat(v, 64)
		if err != nil || f <= 0 || f != f || f > 1e9 {
			return fmt.Errorf("%s: want a positive number of seconds", name)
		}
		d := time.Duration(f * float64(time.Second))
		*dst = &d
		return nil
	}
	if err := dur(&c.RequestTimeout, EnvRequestTimeout); err != nil {
		return err
	}
	return dur(&c.RetryTimeout, EnvRetryTimeout)
}

// ParseBool parses a boolean environment value the way MLflow does:
// true/false/1/0, case-insensitive.
func ParseBool(v string) (bool, error) {
	switch strings.ToLower(strings.TrimSpace(v)) {
	case "true", "1":
		return true, nil
	case "false", "0":
		return false, nil
	}
	return false, fmt.Errorf("want one of true, false, 1, 0")
}

// Ptr returns a pointer to v (for Config fields).
func Ptr[T any](v T) *T { return &v }
