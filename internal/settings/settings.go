// Package settings resolves the configuration shared by everything that
// talks to an MLflow backend: the exporter (package exporter) and the trace
// client (package traces). Both take the same options, exporter.Option, an
// alias of Option, and resolve them here, in one order: defaults, then the
// environment (through package envconfig, read once, through the getenv of
// WithGetenv), then the options, then validation and the selection of the
// backend (./mlruns, an MLflow tracking server, a Databricks workspace).
//
// Resolution does no network I/O. It reads the Databricks configuration file
// when the Databricks workspace is selected and the environment does not
// configure it.
package settings

import (
	"context"
	"errors"
	"fmt"
	"io/fs"
	"log/slog"
	"net/http"
	"net/url"
	"strings"
	"time"

	"github.com/mlflowtrace/mlflowtrace-go/internal/dbauth"
	"github.com/mlflowtrace/mlflowtrace-go/internal/envconfig"
	"github.com/mlflowtrace/mlflowtrace-go/internal/keys"
	"github.com/mlflowtrace/mlflowtrace-go/internal/tracemodel"
	"github.com/mlflowtrace/mlflowtrace-go/internal/transport"
)

// Option changes Settings. Options are sealed: they are made by Func (the
// exporter's With* functions) and Resolved.
type Option interface{ apply(*Settings) }

type funcOption func(*Settings)

func (f funcOption) apply(s *Settings) { f(s) }

// Func returns an Option that applies f. A nil f is ignored.
func Func(f func(*Settings)) Option {
	if f == nil {
		return nil
	}
	return funcOption(f)
}

// resolvedOption carries Settings resolved before: Resolve starts from a
// copy of them instead of defaults and the environment.
type resolvedOption struct{ s *Settings }

func (resolvedOption) apply(*Settings) {}

// Resolved returns an Option that makes Resolve start from s (a result of
// Resolve) without reading the environment again; options after it still
// apply. Package tracing resolves once and builds the exporter and the
// trace client from the same Settings this way.
func Resolved(s *Settings) Option { return resolvedOption{s} }

// TraceWriter is the method set of exporter.Destination (declared here so
// that Settings can carry one; the two interfaces are identical).
type TraceWriter interface {
	ExportTraces(ctx context.Context, traces []*tracemodel.Trace) error
	Shutdown(ctx context.Context) error
}

// SpanWriter is the method set of exporter.SpanStreamer.
type SpanWriter interface {
	ExportSpans(ctx context.Context, spans []*tracemodel.Span) error
}

// Kind is the selected backend.
type Kind int

const (
	// Local is MLflow's FileStore layout under LocalRoot.
	Local Kind = iota
	// Server is an MLflow tracking server at Transport.URL.
	Server
	// Databricks is the workspace of Workspace.
	Databricks
	// Custom is the destination given with exporter.WithDestination.
	Custom
)

func (k Kind) String() string {
	switch k {
	case Local:
		return "local store"
	case Server:
		return "MLflow tracking server"
	case Databricks:
		return "Databricks workspace"
	case Custom:
		return "custom destination"
	}
	return "unknown"
}

// DefaultLocalRoot is where traces go when no tracking URI is set.
const DefaultLocalRoot = "mlruns"

// Settings is the resolved configuration.
type Settings struct {
	Env envconfig.Env

	// Backend selection: the inputs, then what Resolve selected.
	TrackingURI        string
	ExperimentID       string
	ExperimentName     string
	TracingDestination string // "<catalog>.<schema>" or "<experiment id>"
	DatabricksHost     string
	// DatabricksCredentials authorises Databricks requests (auth type custom).
	DatabricksCredentials func(*http.Request) error
	databricksExplicit    bool
	// ModelCatalogURI (MLFLOW_MODEL_CATALOG_URI) and ModelCatalog (an
	// option, wins) name the LLM prices of the Databricks destination.
	ModelCatalogURI string
	ModelCatalog    fs.FS
	// NoContent drops the inputs and outputs of the spans the exporter
	// translates from Genkit (content capture off).
	NoContent bool
	// ActiveModelID is the LoggedModel every trace is linked to (metadata
	// mlflow.modelId): exporter.WithActiveModelID, else
	// MLFLOW_ACTIVE_MODEL_ID, else _MLFLOW_ACTIVE_MODEL_ID.
	ActiveModelID string

	selected  bool // Select has run
	Kind      Kind
	LocalRoot string         // Local
	Workspace *dbauth.Config // Databricks
	UCSchema  string         // Databricks: "<catalog>.<schema>" tables instead of an experiment
	// Transport is the HTTP configuration of Server and Databricks (URL set
	// for Server; the workspace sets its own).
	Transport transport.Config

	CustomTraces TraceWriter // Custom
	CustomSpans  SpanWriter  // Custom, may be nil

	DisableSpanStreaming bool

	// Reading traces from a Databricks workspace (package traces; read
	// from the environment only with ForReading): the SQL warehouse the v4
	// trace calls name ("" for none), and whether and how long it is
	// started first when it is not running.
	SQLWarehouseID           string
	SQLWarehouseAutoStart    bool
	SQLWarehouseStartTimeout time.Duration
	// RegistryURI is the prompt registry package prompts loads from
	// (MLFLOW_REGISTRY_URI, prompts.WithRegistryURI; read only with
	// ForReading): "" is MLflow's default, the tracking URI's registry.
	RegistryURI string
	// SQLWarehouseEnvErr is a malformed MLFLOW_SQL_WAREHOUSE_AUTO_START*
	// variable: package traces reports it (its options, which override
	// the variables, clear it); other readers (package prompts) do not
	// use them and are not stopped by it.
	SQLWarehouseEnvErr error

	// Pipeline.
	AsyncLogging     bool
	MaxQueueSize     int
	MaxWorkers       int
	BatchSize        int
	BatchInterval    time.Duration
	RetryTimeout     time.Duration // one export, retries included
	TraceTimeout     time.Duration // 0: off
	TimeoutCheck     time.Duration
	BufferTTL        time.Duration
	MaxOpenTraces    int
	MaxSpansPerTrace int
	PreviewMaxChars  int
	previewSet       bool

	// Durable spool (off when SpoolDir is empty).
	SpoolDir          string
	SpoolMaxBytes     int64
	SpoolSync         string        // "batch", "interval" or "none"
	SpoolSyncInterval time.Duration // for "interval"
	// SpoolRetryInterval is how often dead letters are retried while the
	// destination fails; SpoolAdoptInterval how often the spool directory
	// is polled for the slots of processes that are gone.
	SpoolRetryInterval time.Duration
	SpoolAdoptInterval time.Duration

	ErrorHandler func(error)
	Now          func() time.Time

	// OnRetry is called for every retried request with the failure that
	// caused it (the exporter counts them and remembers the cause); nil when
	// nobody listens.
	OnRetry func(cause error, wait time.Duration)
}

// DefaultMaxSpansPerTrace bounds one trace (ours: MLflow has no cap).
const DefaultMaxSpansPerTrace = 10000

func defaults(env envconfig.Env) *Settings {
	return &Settings{
		Env:              env,
		AsyncLogging:     true,
		MaxQueueSize:     envconfig.MaxQueueSize.Def,
		MaxWorkers:       envconfig.MaxWorkers.Def,
		BatchSize:        envconfig.MaxSpanBatchSize.Def,
		BatchInterval:    envconfig.MaxInterval.Def,
		RetryTimeout:     envconfig.RetryTimeout.Def,
		TimeoutCheck:     envconfig.TimeoutCheckInterval.Def,
		BufferTTL:        envconfig.BufferTTL.Def,
		MaxOpenTraces:    envconfig.BufferMaxSize.Def,
		MaxSpansPerTrace: DefaultMaxSpansPerTrace,
		PreviewMaxChars:  keys.PreviewLenOSS,
		Now:              time.Now,

		SpoolMaxBytes:      envconfig.SpoolMaxBytes.Def,
		SpoolSync:          envconfig.SpoolSync.Default,
		SpoolSyncInterval:  envconfig.SpoolSyncInterval.Def,
		SpoolRetryInterval: DefaultSpoolRetryInterval,
		SpoolAdoptInterval: DefaultSpoolAdoptInterval,

		SQLWarehouseAutoStart:    envconfig.SQLWarehouseAutoStart.Def,
		SQLWarehouseStartTimeout: envconfig.SQLWarehouseStartTimeout.Def,
	}
}

// Dead letters are retried every DefaultSpoolRetryInterval while the
// destination fails (and at once when it answers again); the spool
// directory is polled every DefaultSpoolAdoptInterval for the slots of
// processes that are gone.
const (
	DefaultSpoolRetryInterval = 5 * time.Minute
	DefaultSpoolAdoptInterval = 10 * time.Second
)

// DefaultErrorHandler logs err with slog.Default: at level Warn when err
// is only a notice — nothing has failed yet (an error in its chain with a
// method Notice() bool answering true: exporter.WaitNotice while the
// destination has simply not answered) —, else at level Error.
func DefaultErrorHandler(err error) {
	var n interface{ Notice() bool }
	if errors.As(err, &n) && n.Notice() {
		slog.Default().Warn("mlflowtrace", "error", err)
		return
	}
	slog.Default().Error("mlflowtrace", "error", err)
}

// WithGetenv sets the function the environment is read with.
func WithGetenv(getenv func(string) string) Option {
	if getenv == nil {
		return nil
	}
	return getenvOption{getenv}
}

type getenvOption struct{ getenv func(string) string }

func (o getenvOption) apply(s *Settings) { s.Env = envconfig.New(o.getenv) }

// ForReading returns an Option for a program that only reads traces
// (package traces): Load then reads and validates only what reading uses —
// the tracking URI, experiment and tracing destination, credentials,
// Databricks settings and the HTTP request settings (MLFLOW_HTTP_REQUEST_*,
// MLFLOW_TRACKING_INSECURE_TLS), and the Databricks SQL warehouse of package
// traces (MLFLOW_TRACING_SQL_WAREHOUSE_ID, MLFLOW_SQL_WAREHOUSE_AUTO_START*)
// — and neither reads nor validates the
// export pipeline's variables (MLFLOW_ENABLE_ASYNC_TRACE_LOGGING,
// MLFLOW_ASYNC_TRACE_LOGGING_*, MLFLOW_TRACE_TIMEOUT_*, MLFLOW_TRACE_BUFFER_*,
// MLFLOWTRACE_SPOOL_*), which keep their defaults, nor the pipeline options
// given with it: a malformed value there is the writer's concern. Its
// place among the options does not matter.
func ForReading() Option { return readingOption{} }

type readingOption struct{}

func (readingOption) apply(*Settings) {}

// Resolve resolves opts: defaults, the environment, opts in order, then
// validation and backend selection (Load, then Select). Nil options are
// ignored.
func Resolve(opts ...Option) (*Settings, error) {
	s, err := Load(opts...)
	if err != nil {
		return nil, err
	}
	if err := s.Select(); err != nil {
		return nil, err
	}
	return s, nil
}

// Load is Resolve without the backend selection: defaults, the environment
// (or the Settings of a Resolved option), opts in order, validation.
func Load(opts ...Option) (*Settings, error) {
	var base *Settings
	env := envconfig.Env{}
	start := 0
	reading := false
	for i, o := range opts {
		switch o := o.(type) {
		case resolvedOption:
			base, start = o.s, i+1
		case getenvOption:
			env = envconfig.New(o.getenv)
		case readingOption:
			reading = true
		}
	}
	var s *Settings
	if base != nil {
		c := *base
		s = &c
		if start < len(opts) {
			s.selected = false // options after it may change the backend
		}
	} else {
		s = defaults(env)
		if err := s.loadEnv(reading); err != nil {
			return nil, err
		}
	}
	for _, o := range opts[start:] {
		if o != nil {
			o.apply(s)
		}
	}
	if err := s.validate(reading); err != nil {
		return nil, err
	}
	return s, nil
}

// Select selects the backend, once (see package exporter's documentation
// for the rules). It does no network I/O.
func (s *Settings) Select() error {
	if s.selected {
		return nil
	}
	if err := s.selectBackend(); err != nil {
		return err
	}
	s.selected = true
	return nil
}

// loadEnv reads the variables of the destination and the transport and,
// unless reading (ForReading), those of the export pipeline.
func (s *Settings) loadEnv(reading bool) error {
	e := s.Env
	s.TrackingURI = envconfig.TrackingURI.Get(e)
	s.ExperimentID = envconfig.ExperimentID.Get(e)
	s.ExperimentName = envconfig.ExperimentName.Get(e)
	s.TracingDestination = envconfig.TracingDestination.Get(e)
	s.ModelCatalogURI = envconfig.ModelCatalogURI.Get(e)
	s.ActiveModelID = envconfig.ActiveModelID.Get(e)
	if s.ActiveModelID == "" {
		s.ActiveModelID = envconfig.ActiveModelIDLegacy.Get(e)
	}

	var errs []error
	check := func(err error) { errs = append(errs, err) }
	if !reading {
		check(s.loadPipelineEnv())
	} else {
		s.SQLWarehouseEnvErr = s.loadReadingEnv()
	}

	t := &s.Transport
	if v := envconfig.TrackingToken.Get(e); v != "" {
		t.Token = &v
	}
	if v := envconfig.TrackingUsername.Get(e); v != "" {
		t.Username = &v
	}
	if v := envconfig.TrackingPassword.Get(e); v != "" {
		t.Password = &v
	}
	if b, set, err := envconfig.InsecureTLS.Lookup(e); err != nil {
		check(err)
	} else if set {
		t.InsecureTLS = &b
	}
	if n, set, err := envconfig.MaxRetries.Lookup(e); err != nil {
		check(err)
	} else if set {
		t.MaxRetries = &n
	}
	if d, set, err := envconfig.BackoffFactor.Lookup(e); err != nil {
		check(err)
	} else if set {
		f := d.Seconds()
		t.BackoffFactor = &f
	}
	if f, set, err := envconfig.BackoffJitter.Lookup(e); err != nil {
		check(err)
	} else if set {
		t.BackoffJitter = &f
	}
	if d, set, err := envconfig.RequestTimeout.Lookup(e); err != nil {
		check(err)
	} else if set {
		t.RequestTimeout = &d
	}
	return errors.Join(errs...)
}

// loadReadingEnv reads the variables only a reader uses (ForReading): the
// Databricks SQL warehouse of package traces.
func (s *Settings) loadReadingEnv() error {
	e := s.Env
	s.SQLWarehouseID = envconfig.SQLWarehouseID.Get(e)
	s.RegistryURI = envconfig.RegistryURI.Get(e)
	var errs []error
	var err error
	s.SQLWarehouseAutoStart, err = envconfig.SQLWarehouseAutoStart.Get(e)
	errs = append(errs, err)
	s.SQLWarehouseStartTimeout, err = envconfig.SQLWarehouseStartTimeout.Get(e)
	errs = append(errs, err)
	return errors.Join(errs...)
}

// loadPipelineEnv reads the variables of the export pipeline.
func (s *Settings) loadPipelineEnv() error {
	e := s.Env
	var errs []error
	check := func(err error) { errs = append(errs, err) }
	var err error
	s.AsyncLogging, err = envconfig.AsyncLogging.Get(e)
	check(err)
	s.MaxWorkers, err = envconfig.MaxWorkers.Get(e)
	check(err)
	s.MaxQueueSize, err = envconfig.MaxQueueSize.Get(e)
	check(err)
	s.BatchSize, err = envconfig.MaxSpanBatchSize.Get(e)
	check(err)
	s.MaxOpenTraces, err = envconfig.BufferMaxSize.Get(e)
	check(err)
	s.BatchInterval, err = envconfig.MaxInterval.Get(e)
	check(err)
	s.RetryTimeout, err = envconfig.RetryTimeout.Get(e)
	check(err)
	s.TraceTimeout, err = envconfig.TraceTimeout.Get(e)
	check(err)
	s.TimeoutCheck, err = envconfig.TimeoutCheckInterval.Get(e)
	check(err)
	s.BufferTTL, err = envconfig.BufferTTL.Get(e)
	check(err)
	s.SpoolDir = envconfig.SpoolDir.Get(e)
	s.SpoolMaxBytes, err = envconfig.SpoolMaxBytes.Get(e)
	check(err)
	s.SpoolSync, err = envconfig.SpoolSync.Get(e)
	check(err)
	s.SpoolSyncInterval, err = envconfig.SpoolSyncInterval.Get(e)
	check(err)
	return errors.Join(errs...)
}

// validatePipeline checks the settings of the export pipeline.
func (s *Settings) validatePipeline() error {
	switch {
	case s.MaxQueueSize < 1:
		return fmt.Errorf("max queue size must be positive, got %d", s.MaxQueueSize)
	case s.MaxWorkers < 1:
		return fmt.Errorf("max workers must be positive, got %d", s.MaxWorkers)
	case s.BatchSize < 1:
		return fmt.Errorf("batch size must be positive, got %d", s.BatchSize)
	case s.BatchInterval < 0:
		return fmt.Errorf("batch interval must not be negative, got %v", s.BatchInterval)
	case s.RetryTimeout <= 0:
		return fmt.Errorf("retry timeout must be positive, got %v", s.RetryTimeout)
	case s.TraceTimeout < 0:
		return fmt.Errorf("trace timeout must not be negative, got %v", s.TraceTimeout)
	case s.TimeoutCheck <= 0:
		return fmt.Errorf("timeout check interval must be positive, got %v", s.TimeoutCheck)
	case s.BufferTTL <= 0:
		return fmt.Errorf("trace buffer TTL must be positive, got %v", s.BufferTTL)
	case s.MaxOpenTraces < 1:
		return fmt.Errorf("max open traces must be positive, got %d", s.MaxOpenTraces)
	case s.MaxSpansPerTrace < 1:
		return fmt.Errorf("max spans per trace must be positive, got %d", s.MaxSpansPerTrace)
	case s.PreviewMaxChars < 4:
		return fmt.Errorf("preview max chars must be at least 4, got %d", s.PreviewMaxChars)
	case s.SpoolDir != "" && s.SpoolMaxBytes < 1<<20:
		return fmt.Errorf("spool max bytes must be at least 1 MiB, got %d", s.SpoolMaxBytes)
	case s.SpoolSync != "batch" && s.SpoolSync != "interval" && s.SpoolSync != "none":
		return fmt.Errorf("spool sync must be batch, interval or none, got %q", s.SpoolSync)
	case s.SpoolSync == "interval" && s.SpoolSyncInterval <= 0:
		return fmt.Errorf("spool sync interval must be positive, got %v", s.SpoolSyncInterval)
	case s.SpoolRetryInterval <= 0 || s.SpoolAdoptInterval <= 0:
		return errors.New("spool retry and adopt intervals must be positive")
	}
	return nil
}

// validate checks the settings (the pipeline's unless reading) and fills
// in what follows from them.
func (s *Settings) validate(reading bool) error {
	if !reading {
		if err := s.validatePipeline(); err != nil {
			return err
		}
	}
	if s.ErrorHandler == nil {
		s.ErrorHandler = DefaultErrorHandler
	}
	if s.Now == nil {
		s.Now = time.Now
	}
	if !s.AsyncLogging {
		// MLFLOW_ENABLE_ASYNC_TRACE_LOGGING=false: Python exports on the
		// caller's thread; we never do I/O there, so we keep the background
		// pipeline but export strictly one batch at a time, in order.
		s.MaxWorkers = 1
	}
	// One retry budget: it bounds a whole export and every request in it.
	rt := s.RetryTimeout
	s.Transport.RetryTimeout = &rt
	return nil
}

// SetPreviewMaxChars sets the preview length and remembers it was chosen
// (a Databricks workspace otherwise gets 10000).
func (s *Settings) SetPreviewMaxChars(n int) { s.PreviewMaxChars, s.previewSet = n, true }

// SetDatabricksHost sets the workspace URL and selects the workspace when
// no tracking URI is set.
func (s *Settings) SetDatabricksHost(h string) { s.DatabricksHost, s.databricksExplicit = h, true }

// SetDatabricksCredentials sets custom credentials and selects the
// workspace when no tracking URI is set. A nil fn is ignored.
func (s *Settings) SetDatabricksCredentials(fn func(*http.Request) error) {
	if fn != nil {
		s.DatabricksCredentials, s.databricksExplicit = fn, true
	}
}

// selectBackend picks the backend: a custom destination, else the tracking
// URI, with MLflow's two Databricks rules (see package exporter's
// documentation).
func (s *Settings) selectBackend() error {
	if err := s.resolveTracingDestination(); err != nil {
		return err
	}
	if s.CustomTraces != nil {
		s.Kind = Custom
		return nil
	}
	kind, root, err := ParseTrackingURI(s.TrackingURI)
	if err != nil {
		return err
	}
	if kind != Databricks && (s.UCSchema != "" || (strings.TrimSpace(s.TrackingURI) == "" && s.wantsDatabricks())) {
		kind, root = Databricks, ""
	}
	s.Kind = kind
	switch kind {
	case Local:
		s.LocalRoot = root
	case Server:
		s.Transport.URL = s.TrackingURI
	case Databricks:
		ws, err := dbauth.Resolve(dbauth.Options{
			Getenv:      s.Env.Getenv(),
			Host:        s.DatabricksHost,
			Profile:     root,
			Credentials: s.DatabricksCredentials,
			HTTP:        s.HTTP(), // OAuth token requests count their retries too
		})
		if err != nil {
			return err
		}
		s.Workspace = ws
		if !s.previewSet {
			s.PreviewMaxChars = keys.PreviewLenDatabricks
		}
	}
	return nil
}

// resolveTracingDestination interprets MLFLOW_TRACING_DESTINATION the way
// MLflow does: "<catalog>.<schema>" (Unity Catalog), "<experiment id>";
// anything else is an error naming the variable.
func (s *Settings) resolveTracingDestination() error {
	d := strings.TrimSpace(s.TracingDestination)
	if d == "" {
		return nil
	}
	name := envconfig.TracingDestination.Name
	switch parts := strings.Split(d, "."); len(parts) {
	case 1:
		s.ExperimentID, s.ExperimentName = d, ""
		return nil
	case 2:
		if parts[0] != "" && parts[1] != "" {
			s.UCSchema = d
			return nil
		}
	case 3:
		return fmt.Errorf("invalid %s=%q: Unity Catalog table-prefix destinations (<catalog>.<schema>.<table_prefix>) are not supported, as in MLflow; use <catalog>.<schema>", name, d)
	}
	return fmt.Errorf("invalid %s=%q: want <catalog>.<schema> (Unity Catalog tables) or <experiment id>", name, d)
}

// wantsDatabricks reports whether, with no tracking URI, the configuration
// asks for a Databricks workspace.
func (s *Settings) wantsDatabricks() bool {
	return s.databricksExplicit || s.UCSchema != "" ||
		envconfig.DatabricksHost.Get(s.Env) != "" ||
		envconfig.DatabricksProfile.Get(s.Env) != "" ||
		envconfig.ModelServing.Get(s.Env)
}

// ParseTrackingURI classifies a tracking URI. For a local store it returns
// the root directory, for Databricks the profile of databricks://<profile>.
// Errors never echo the URI (it may hold credentials).
func ParseTrackingURI(uri string) (Kind, string, error) {
	uri = strings.TrimSpace(uri)
	if uri == "" {
		return Local, DefaultLocalRoot, nil
	}
	lower := strings.ToLower(uri)
	if lower == "databricks" || lower == "databricks-uc" {
		return Databricks, "", nil
	}
	if scheme, _, ok := strings.Cut(lower, ":"); ok && (scheme == "databricks" || scheme == "databricks-uc") {
		profile, err := DatabricksProfile(uri, "tracking")
		if err != nil {
			return 0, "", err
		}
		return Databricks, profile, nil
	}
	if strings.HasPrefix(lower, "uc:") {
		return 0, "", errors.New("uc: is a model registry URI, not a tracking URI: use MLFLOW_TRACKING_URI=databricks")
	}
	u, err := url.Parse(uri)
	if err != nil && hasURLScheme(uri) {
		// MLflow picks the store by scheme (urlparse never fails on
		// this): an http(s) URI with a typo is a server it cannot reach,
		// not a directory named "http:".
		return 0, "", fmt.Errorf("the tracking URI (MLFLOW_TRACKING_URI, WithTrackingURI) is not a valid URL: %s", URLProblem(err))
	}
	if err != nil || len(u.Scheme) <= 1 {
		// A plain path (a one-letter "scheme" is a Windows drive).
		return Local, uri, nil
	}
	switch strings.ToLower(u.Scheme) {
	case "file":
		if u.Host != "" && u.Host != "localhost" {
			return 0, "", errors.New("file: tracking URI with a remote host is not supported")
		}
		p := u.Path
		if p == "" {
			p = u.Opaque // file:relative/path
		}
		if p == "" {
			p = DefaultLocalRoot
		}
		return Local, p, nil
	case "http", "https":
		return Server, "", nil
	}
	return 0, "", fmt.Errorf("tracking URI scheme %q is not supported: use a directory, a file: URI, an http(s) MLflow tracking server or databricks", u.Scheme)
}

// DatabricksProfile returns the profile a databricks:… or databricks-uc:…
// URI names, as MLflow's get_db_info_from_uri reads it: the URI's host part (urlparse's
// netloc; a path, query or fragment after it is ignored), which must not be
// empty nor hold a space (that error names the profile, as MLflow's does;
// no error echoes the URI). A "<scope>:<prefix>" one (MLflow's secret-scope
// credentials) is refused: this SDK reads profiles. what names the URI in
// errors ("tracking", "registry"). Both tracking and registry URIs are read
// here, so the two follow one rule.
func DatabricksProfile(uri, what string) (string, error) {
	scheme, rest, _ := strings.Cut(uri, ":")
	scheme = strings.ToLower(scheme)
	netloc, ok := strings.CutPrefix(rest, "//")
	if !ok {
		netloc = ""
	}
	if i := strings.IndexAny(netloc, "/?#"); i >= 0 {
		netloc = netloc[:i]
	}
	switch {
	case netloc == "":
		// MLflow's message, without the URI (errors never echo one).
		//lint:ignore ST1005 MLflow's message
		return "", fmt.Errorf("URI is formatted incorrectly: no netloc in URI (the %s URI names no profile after %s://). This may be the case if there is only one slash in the URI.", what, scheme)
	case strings.Contains(netloc, ":"):
		return "", fmt.Errorf("%s://<scope>:<prefix> %s URIs are not supported: use %s://<profile> or DATABRICKS_HOST with DATABRICKS_TOKEN", scheme, what, scheme)
	case strings.Contains(netloc, " "):
		//lint:ignore ST1005 MLflow's message
		return "", fmt.Errorf("Unsupported Databricks profile name: %s. Profile names cannot contain ' '.", netloc)
	}
	return netloc, nil
}

// hasURLScheme reports whether uri starts with scheme:// for a scheme of
// two or more characters (ValidScheme); a one-letter scheme is a Windows
// drive.
func hasURLScheme(uri string) bool {
	i := strings.Index(uri, "://")
	return i >= 2 && ValidScheme(uri[:i])
}

// ValidScheme reports whether s is an RFC 3986 URI scheme: a letter, then
// letters, digits, "+", "-" or ".".
func ValidScheme(s string) bool {
	for i := 0; i < len(s); i++ {
		c := s[i]
		switch {
		case 'a' <= c && c <= 'z', 'A' <= c && c <= 'Z':
		case i > 0 && ('0' <= c && c <= '9' || c == '+' || c == '-' || c == '.'):
		default:
			return false
		}
	}
	return s != ""
}

// URLProblem is what url.Parse found wrong, without the URI itself (it may
// hold credentials): url.Error's inner error names only the bad part
// (invalid port ":50OO" after host).
func URLProblem(err error) string {
	var ue *url.Error
	if errors.As(err, &ue) {
		return ue.Err.Error()
	}
	return "it does not parse"
}

// Where describes the backend for messages, without credentials: the
// directory, the server's scheme://host[:port], or the workspace URL.
func (s *Settings) Where() string {
	switch s.Kind {
	case Local:
		return s.LocalRoot
	case Server:
		if u, err := url.Parse(s.Transport.URL); err == nil && u.Host != "" {
			return u.Scheme + "://" + u.Host
		}
		return "the tracking server"
	case Databricks:
		if s.Workspace != nil {
			return s.Workspace.Host
		}
		return "the Databricks workspace"
	}
	return "the custom destination"
}

// HTTP returns the transport configuration with the retry counter hooked in.
func (s *Settings) HTTP() transport.Config {
	tc := s.Transport
	if on := s.OnRetry; on != nil {
		user := tc.OnRetry
		tc.OnRetry = func(cause error, wait time.Duration) {
			on(cause, wait)
			if user != nil {
				user(cause, wait)
			}
		}
	}
	return tc
}

// RESTClient returns an HTTP client for the MLflow REST API of the selected
// tracking server or Databricks workspace, for a package that calls it on
// its caller's behalf (traces, prompts): the transport settings (HTTP()),
// for Databricks the workspace's host and credentials, userAgent unless the
// headers set one, and answers read up to maxResponseBytes. It does no I/O.
func (s *Settings) RESTClient(userAgent string, maxResponseBytes int64) (*transport.Client, error) {
	tc := s.HTTP()
	switch s.Kind {
	case Server:
	case Databricks:
		if s.Workspace == nil {
			return nil, errors.New("no Databricks workspace configured")
		}
		tc.URL = s.Workspace.Host
		tc.Credentials = s.Workspace.Credentials
		tc.Token, tc.Username, tc.Password = nil, nil, nil
	default:
		return nil, fmt.Errorf("the %s has no REST API", s.Kind)
	}
	tc.Headers = tc.Headers.Clone()
	if tc.Headers == nil {
		tc.Headers = http.Header{}
	}
	if tc.Headers.Get("User-Agent") == "" {
		tc.Headers.Set("User-Agent", userAgent)
	}
	tc.MaxResponseBytes = maxResponseBytes
	return transport.New(tc)
}
