package prompts

import (
	"context"
	"errors"
	"fmt"
	"math"
	"sync"
	"sync/atomic"
	"time"

	"github.com/mlflowtrace/mlflowtrace-go/exporter"
	"github.com/mlflowtrace/mlflowtrace-go/internal/envconfig"
	"github.com/mlflowtrace/mlflowtrace-go/internal/mlflowrest"
	"github.com/mlflowtrace/mlflowtrace-go/internal/settings"
	"github.com/mlflowtrace/mlflowtrace-go/internal/transport"
	"github.com/mlflowtrace/mlflowtrace-go/tracing"
)

const (
	userAgent = "mlflowtrace-go-prompts"
	// maxResponseBytes bounds an answer: a prompt version is small, but a
	// registered model's answer lists its latest versions with their
	// templates.
	maxResponseBytes = 16 << 20
	// linkQueue bounds the links waiting to be made.
	linkQueue = 64
)

// forever is the TTL of an entry that does not expire ("inf").
const forever = time.Duration(math.MaxInt64)

// Client loads prompt versions from the prompt registry of an MLflow
// server or of a Databricks workspace (Unity Catalog). Create it with
// NewClient; it is safe for concurrent use. Shutdown stops its background
// work (linking loaded prompts to the experiment and the active
// LoggedModel) and releases its connections.
type Client struct {
	c          *transport.Client    // the tracking server or workspace: experiment, LoggedModel
	reg        *transport.Client    // the registry: prompts (c itself when it is the tracking URI's)
	uc         bool                 // the registry is a Databricks workspace's Unity Catalog
	exp        *mlflowrest.Resolver // nil: no experiment to link to
	now        func() time.Time
	report     func(error) // exporter.WithErrorHandler's, else tracing.ReportError
	aliasTTL   time.Duration
	versionTTL time.Duration
	modelID    string // the active LoggedModel (MLFLOW_ACTIVE_MODEL_ID)
	cache      cache

	// The versions loaded are linked to the experiment (MLflow's
	// _link_prompt_to_experiment) and the active LoggedModel by one
	// goroutine, from a bounded queue; linked remembers the links made or
	// queued.
	jobs   chan link
	linkMu sync.Mutex
	linked map[link]bool
	closed atomic.Bool
	stop   context.CancelFunc
	done   chan struct{}
}

// NewClient returns a Client for the tracking server or Databricks
// workspace the same options and environment select for tracing.Init and
// exporter.New (MLFLOW_TRACKING_URI, its credentials,
// MLFLOW_HTTP_REQUEST_*, ...; see the package documentation for the prompt
// cache's variables), loading from the registry MLflow's get_registry_uri
// names: WithRegistryURI, else MLFLOW_REGISTRY_URI, else the tracking
// URI's — a tracking server's prompt registry, or a workspace's Unity
// Catalog prompt registry (MLflow's default registry "databricks-uc" for
// the tracking URI "databricks"). A registry URI may name another MLflow
// server (http(s)://...) or a workspace's Unity Catalog
// ("databricks-uc://<profile>"); the experiment and LoggedModel the
// versions are linked to stay the tracking URI's, as in MLflow.
// exporter.WithErrorHandler receives what fails in the background (default:
// tracing.ReportError, the SDK's error path). A local ./mlruns store, as
// tracking URI or registry URI, is an error: its prompt registry is not
// supported; so is a registry MLflow refuses prompts on (the workspace
// registry "databricks") and a malformed registry URI. It does no network
// I/O; it starts the goroutine Shutdown stops.
func NewClient(ctx context.Context, opts ...exporter.Option) (*Client, error) {
	s, err := settings.Resolve(append([]exporter.Option{settings.ForReading()}, opts...)...)
	if err != nil {
		return nil, fmt.Errorf("prompts: %w", err)
	}
	reg, err := parseRegistryURI(s.RegistryURI)
	if err != nil {
		return nil, fmt.Errorf("prompts: %w", err)
	}
	switch s.Kind {
	case settings.Server, settings.Databricks:
	case settings.Local:
		if reg.kind != registryDefault {
			return nil, fmt.Errorf("prompts: the local store %s as tracking URI is not supported (the experiment and LoggedModel links are made there): set MLFLOW_TRACKING_URI to an MLflow tracking server or databricks", s.LocalRoot)
		}
		return nil, fmt.Errorf("prompts: the local store %s has no prompt registry this package reads: set MLFLOW_TRACKING_URI to an MLflow tracking server", s.LocalRoot)
	default:
		return nil, errors.New("prompts: exporter.WithDestination names no prompt registry: use WithTrackingURI")
	}
	c := &Client{now: s.Now, report: s.ErrorHandler, modelID: s.ActiveModelID, jobs: make(chan link, linkQueue), linked: map[link]bool{}, done: make(chan struct{})}
	if c.now == nil {
		c.now = time.Now
	}
	if c.report == nil {
		c.report = tracing.ReportError
	}
	if c.aliasTTL, err = ttl(envconfig.AliasPromptCacheTTL, s.Env); err != nil {
		return nil, fmt.Errorf("prompts: %w", err)
	}
	if c.versionTTL, err = ttl(envconfig.VersionPromptCacheTTL, s.Env); err != nil {
		return nil, fmt.Errorf("prompts: %w", err)
	}
	if c.cache.max, err = envconfig.PromptCacheMaxSize.Get(s.Env); err != nil {
		return nil, fmt.Errorf("prompts: %w", err)
	}
	if c.c, err = s.RESTClient(userAgent, maxResponseBytes); err != nil {
		return nil, fmt.Errorf("prompts: tracking server: %w", err)
	}
	if c.reg, c.uc, err = registryClient(s, reg, c.c); err != nil {
		c.c.CloseIdleConnections()
		return nil, fmt.Errorf("prompts: registry: %w", err)
	}
	if s.Kind != settings.Databricks || s.ExperimentID != "" || s.ExperimentName != "" {
		// MLflow's default experiment "0" is a tracking server's: with a
		// Databricks tracking URI (outside a notebook) a prompt is linked
		// to the experiment the environment names, or to none, whatever
		// the registry.
		c.exp = mlflowrest.NewResolver(c.c, s.ExperimentID, s.ExperimentName, "0")
	}
	bg, stop := context.WithCancel(context.WithoutCancel(ctx))
	c.stop = stop
	go c.linker(bg)
	return c, nil
}

// registryClient returns the client of the registry reg for the tracking
// settings s (whose client is tracking), and whether it is Unity
// Catalog's, as MLflow's _resolve_registry_uri and
// _get_default_registry_uri_for_tracking_uri choose it. Credentials are
// the tracking URI's (MLflow's get_default_host_creds reads the same
// MLFLOW_TRACKING_* variables for any http(s) URI); a Unity Catalog
// registry has its profile's workspace credentials, as MLflow's
// UcModelRegistryStore has.
func registryClient(s *settings.Settings, reg registryRef, tracking *transport.Client) (*transport.Client, bool, error) {
	switch reg.kind {
	case registryDefault:
		// "databricks-uc" with the tracking URI's profile, or the tracking
		// server's own registry.
		return tracking, s.Kind == settings.Databricks, nil
	case registryServer:
		if s.Kind == settings.Server && reg.uri == s.Transport.URL {
			return tracking, false, nil
		}
		rs := *s
		rs.Kind = settings.Server
		rs.Transport.URL = reg.uri
		c, err := rs.RESTClient(userAgent, maxResponseBytes)
		return c, false, err
	}
	// Unity Catalog: the tracking workspace's when the profile is its own
	// (MLflow's default registry for "databricks://<profile>" is
	// "databricks-uc://<profile>").
	if s.Kind == settings.Databricks {
		kind, profile, err := settings.ParseTrackingURI(s.TrackingURI)
		if err == nil && kind != settings.Databricks {
			profile = "" // the workspace of DATABRICKS_HOST or the default profile
		}
		if err == nil && profile == reg.profile {
			return tracking, true, nil
		}
	}
	uri := "databricks"
	if reg.profile != "" {
		uri = "databricks://" + reg.profile
	}
	rs, err := settings.Resolve(settings.Resolved(s), settings.ForReading(), settings.Func(func(r *settings.Settings) {
		r.TrackingURI = uri
		r.TracingDestination, r.UCSchema = "", "" // a tracing setting, not the registry's
	}))
	if err != nil {
		return nil, false, err
	}
	c, err := rs.RESTClient(userAgent, maxResponseBytes)
	return c, true, err
}

func ttl(v envconfig.Float, e envconfig.Env) (time.Duration, error) {
	f, err := v.Get(e)
	if err != nil {
		return 0, err
	}
	return seconds(f), nil
}

// seconds converts a TTL in seconds (+Inf: forever).
func seconds(f float64) time.Duration {
	if f >= float64(forever)/float64(time.Second) {
		return forever
	}
	return time.Duration(f * float64(time.Second))
}

// LoadOption configures one Load.
type LoadOption interface{ applyLoad(*loadConfig) }

type loadConfig struct {
	version    int
	hasVersion bool
	ttl        time.Duration
	hasTTL     bool
	model      *string
}

type loadOptionFunc func(*loadConfig)

func (f loadOptionFunc) applyLoad(c *loadConfig) { f(c) }

// WithVersion loads version v of the prompt Load names by its name
// (MLflow's load_prompt(name, version=v)); with a prompt URI it is an
// ErrInvalid error, as in MLflow.
func WithVersion(v int) LoadOption {
	return loadOptionFunc(func(c *loadConfig) { c.version, c.hasVersion = v, true })
}

// WithCacheTTL sets how long the version loaded stays cached (MLflow's
// cache_ttl_seconds): 0 asks the registry, bypassing the cache; a negative
// TTL is an ErrInvalid error. Without it, MLFLOW_ALIAS_PROMPT_CACHE_TTL_SECONDS
// (a load by alias) or MLFLOW_VERSION_PROMPT_CACHE_TTL_SECONDS (by version)
// applies.
func WithCacheTTL(d time.Duration) LoadOption {
	return loadOptionFunc(func(c *loadConfig) { c.ttl, c.hasTTL = d, true })
}

// WithModelID links the version loaded to the LoggedModel id instead of
// the active one (MLflow's model_id); "" links it to none (MLflow's
// link_to_model=False).
func WithModelID(id string) LoadOption {
	return loadOptionFunc(func(c *loadConfig) { c.model = &id })
}

// Load returns a prompt version from the registry — by URI,
// "prompts:/<name>/<version>" or "prompts:/<name>@<alias>" ("@latest": the
// highest version), or by name: its latest version, or WithVersion's — as
// MLflow 3.17.2's mlflow.genai.load_prompt does:
//
//   - a version loaded within its cache TTL comes from the Client's cache
//     (by default a version for good, an alias for 60 s); otherwise it is
//     asked for (two GET requests sent at once: the registered model, the
//     version; on Databricks one: the version, from Unity Catalog);
//   - a version the registry answered with is linked, in the background,
//     to the experiment (the prompt's tag _mlflow_experiment_ids), as
//     MLflow does, so the experiment lists the prompt;
//   - with an active LoggedModel (MLFLOW_ACTIVE_MODEL_ID,
//     exporter.WithActiveModelID) or WithModelID, the version is linked to
//     it in the background (the model's tag mlflow.linkedPrompts), as
//     MLflow's load_prompt(link_to_model=True) does;
//   - when ctx holds a span of an open trace, the version is linked to the
//     span and the trace (tracing.LinkPromptVersion: trace tag and span
//     attribute mlflow.linkedPrompts, and LinkPromptsToTrace when the trace
//     reaches a tracking server).
//
// A prompt, version or alias that does not exist is an *Error matching
// ErrNotFound, with MLflow's code and message ("RESOURCE_DOES_NOT_EXIST:
// Prompt with name=qa not found", "INVALID_PARAMETER_VALUE: Prompt alias
// production not found."); a malformed URI an *Error matching ErrInvalid.
// Load waits for the registry (honouring ctx, with the transport's retries);
// linking does no I/O on the caller's path.
func (c *Client) Load(ctx context.Context, nameOrURI string, opts ...LoadOption) (*PromptVersion, error) {
	if c.closed.Load() {
		return nil, errors.New("prompts: Load after Shutdown")
	}
	var cfg loadConfig
	for _, o := range opts {
		if o != nil {
			o.applyLoad(&cfg)
		}
	}
	r, err := parseRef(nameOrURI, cfg.version, cfg.hasVersion)
	if err != nil {
		return nil, err
	}
	ttl := c.versionTTL
	if r.byAlias() {
		ttl = c.aliasTTL
	}
	if cfg.hasTTL {
		if cfg.ttl < 0 {
			return nil, invalid("INVALID_PARAMETER_VALUE", "`cache_ttl_seconds` argument must be greater than or equal to 0.")
		}
		ttl = cfg.ttl
	}
	key := r.key()
	p := c.cache.get(key, c.now())
	if ttl <= 0 || p == nil {
		if p, err = c.fetch(ctx, r); err != nil {
			var e *Error
			if !errors.As(err, &e) {
				err = fmt.Errorf("prompts: load %s: %w", r.uri, err)
			}
			return nil, err
		}
		if c.exp != nil {
			c.queue(link{name: p.Name})
		}
		if ttl > 0 {
			c.cache.put(key, p, c.now(), ttl)
		}
	}
	model := c.modelID
	if cfg.model != nil {
		model = *cfg.model
	}
	if model != "" {
		c.queue(link{name: p.Name, version: p.Version, model: model})
	}
	if err := tracing.LinkPromptVersion(ctx, p.Name, p.Version); err != nil && !errors.Is(err, tracing.ErrNoActiveTrace) {
		c.report(fmt.Errorf("prompts: %s: %w", p.URI(), err))
	}
	return p, nil
}

// Shutdown stops the Client: Load fails afterwards; the links waiting to be
// made (to the experiment, to a LoggedModel) are made, until ctx ends (then
// the rest is dropped and ctx's error returned); idle connections are
// closed. Later calls return nil at once.
func (c *Client) Shutdown(ctx context.Context) error {
	if !c.closed.CompareAndSwap(false, true) {
		return nil
	}
	c.linkMu.Lock()
	close(c.jobs) // under linkMu: no send after it
	c.linkMu.Unlock()
	var err error
	select {
	case <-c.done:
	case <-ctx.Done():
		c.stop()
		<-c.done
		err = fmt.Errorf("prompts: shutdown: links not made: %w", ctx.Err())
	}
	c.stop()
	c.c.CloseIdleConnections()
	if c.reg != c.c {
		c.reg.CloseIdleConnections()
	}
	return err
}
