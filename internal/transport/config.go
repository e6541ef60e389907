package transport

import (
	"net/http"
	"time"
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

// Config configures a Client. Pointer fields are "unset" (the default) when
// nil. The zero Config is valid (all defaults). Package settings fills it
// from the environment and the options.
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

	// OnRetry is called before every retry with the error of the attempt
	// that failed (secrets scrubbed) and the wait before the next attempt
	// (0 for an immediate one), for counters and for telling what a wait is
	// about. It must be cheap and safe for concurrent use.
	OnRetry func(cause error, wait time.Duration)

	// rand returns a float in [0,1) for jitter; tests replace it.
	rand func() float64
}

// Ptr returns a pointer to v (for Config fields).
func Ptr[T any](v T) *T { return &v }
