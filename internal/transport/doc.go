// Package transport is the one HTTP client every HTTP destination of the
// exporter uses (the MLflow tracking server, Databricks).
//
// It does what MLflow's Python client does through requests/urllib3, made safe
// for a background exporter:
//
//   - retries network errors and the statuses 408, 429 and 5xx except 501,
//     with MLflow's exponential backoff (backoff factor × 2^(n−1) from the
//     second retry on, the first retry is immediate, plus a random jitter,
//     capped at 120 s), honouring Retry-After;
//   - the request body is rebuilt for every attempt; Request.AppendBody
//     writes it into a buffer from the Client's pool (DoPipelined: one
//     buffer for the bodies of the requests it sends together), which goes
//     back once no attempt reads it any more (lease.go: when Do returns on
//     the package's own connections; when net/http's Transport closes the
//     body, which it may do later);
//   - each attempt has its own timeout (MLFLOW_HTTP_REQUEST_TIMEOUT) and the
//     whole call a retry budget (MLFLOW_ASYNC_TRACE_LOGGING_RETRY_TIMEOUT);
//     waits watch the context, and nothing is retried once it is done;
//   - response bodies are read up to a bound, unread bodies are drained up to
//     a bound so connections are reused;
//   - auth: bearer token (MLFLOW_TRACKING_TOKEN) or basic auth
//     (MLFLOW_TRACKING_USERNAME / MLFLOW_TRACKING_PASSWORD, or user info in
//     the tracking URI), MLFLOW_TRACKING_INSECURE_TLS, extra headers, a
//     caller's *http.Client;
//   - Credentials (Config.Credentials): a per-attempt authoriser for
//     credentials that rotate (Databricks OAuth, the Model Serving token
//     file, databricks-sdk-go's Authenticate). A 401 makes a Refresher drop
//     its cached token and the call is sent once more; 401 and 403 are
//     otherwise never retried;
//   - absolute URLs (Request.URL): signed cloud-storage URLs and token
//     endpoints on other hosts, sent with the same retries and bounds but
//     without the Client's headers or credentials; their query (where a
//     signed URL keeps its signature) never appears in an error, and
//     HTTPClient adapts the same machinery to libraries that take an
//     *http.Client (golang.org/x/oauth2);
//   - failures are *Error values carrying the HTTP status and MLflow's
//     error_code; their messages never contain tokens, passwords or
//     Authorization headers.
//
// Requests go out through the package's own RoundTripper (direct.go):
// HTTP/1.1 on pooled keep-alive connections, each request written and its
// response read on the calling goroutine, cancelled through the
// connection's deadline (context.AfterFunc, no goroutine). net/http's
// Transport passes each request through two goroutines of the connection,
// and each hand-off can wake an OS thread: measured on the 2-core VM of
// BENCHMARKS.md, a request from idle costs about 0.6× the CPU this way. On
// Linux (amd64, arm64) its TCP connections also read and write with raw
// non-blocking system calls (quietconn.go), which do not wake the runtime's
// monitor thread the way package syscall's calls do: 0.89× the client CPU
// per paced trace (BENCHMARKS.md, section 1a-0). A request a proxy from the
// environment applies to, and every request of a caller's own
// Config.HTTPClient, goes through net/http.
//
// DoPipelined sends several requests to the base URL as Do would, written
// back to back on one of those connections (HTTP/1.1 pipelining) and their
// answers read in order after, mostly, one sleep with the socket's
// low-water mark raised, so that the TCP segments of the answers wake
// nobody (pipeline.go); a request that fails there is retried on its own.
// DoInTurn sends several requests one after the other, each once the
// answer to the one before arrived.
// The MLflow server destination sends a batch's StartTraceV3 calls and its
// /v1/traces this way: 0.76–0.88× the client CPU per paced trace of one request
// at a time (BENCHMARKS.md, section 1a).
//
// The package reads no environment variable: package settings fills Config
// from MLflow's (MLFLOW_TRACKING_TOKEN, MLFLOW_HTTP_REQUEST_*, ...) through
// package envconfig, the one reader.
package transport
