package tracing

import (
	"fmt"
	"math"
	"os"
	"path/filepath"

	"go.opentelemetry.io/otel/attribute"
	"go.opentelemetry.io/otel/sdk"
	sdkresource "go.opentelemetry.io/otel/sdk/resource"
	sdktrace "go.opentelemetry.io/otel/sdk/trace"

	"github.com/mlflowtrace/mlflowtrace-go/exporter"
	"github.com/mlflowtrace/mlflowtrace-go/internal/envconfig"
)

// Defaults (the environment variables Init reads are declared in package
// envconfig; see doc.go for their defaults and overriding options).
const (
	defaultMaxValueSize  = 1 << 20 // characters per JSON-encoded attribute value
	attrServiceName      = "service.name"
	unknownServicePrefix = "unknown_service:"
)

// Option configures Init. Options are applied after the environment, so an
// explicit option always wins over the corresponding variable.
type Option interface{ apply(config) config }

type optionFunc func(config) config

func (f optionFunc) apply(c config) config { return f(c) }

type config struct {
	getenv           func(string) string
	disabled         bool
	samplingRatio    float64
	samplingExplicit bool
	serviceName      string
	resource         *sdkresource.Resource
	userTP           *sdktrace.TracerProvider
	exporterOpts     []exporter.Option
	processors       []sdktrace.SpanProcessor
	filters          []func(*Span)
	maxValueSize     int
	noContent        bool // integrations record metadata only
	noGlobal         bool
	noExporter       bool // tests: run without an exporter
}

// WithDisabled turns tracing off (as ENABLE_MLFLOW_TRACING=false does): Init
// returns a Provider that records nothing and every span function is a no-op
// that allocates nothing.
func WithDisabled() Option {
	return optionFunc(func(c config) config { c.disabled = true; return c })
}

// WithEnabled turns tracing on even where the environment turns it off
// (ENABLE_MLFLOW_TRACING=false, or Databricks Model Serving without
// ENABLE_MLFLOW_TRACING=true).
func WithEnabled() Option {
	return optionFunc(func(c config) config { c.disabled = false; return c })
}

// WithSamplingRatio sets the fraction of traces recorded, in [0, 1]
// (MLFLOW_TRACE_SAMPLING_RATIO; default 1). The decision is taken once per
// trace, at its root span: children follow their parent. It cannot be combined
// with WithTracerProvider (the caller's provider has its own sampler).
func WithSamplingRatio(ratio float64) Option {
	return optionFunc(func(c config) config {
		c.samplingRatio = ratio
		c.samplingExplicit = true
		return c
	})
}

// WithServiceName sets the resource attribute service.name (OTEL_SERVICE_NAME).
func WithServiceName(name string) Option {
	return optionFunc(func(c config) config { c.serviceName = name; return c })
}

// WithResource merges r into the resource built from the environment; r's
// attributes win. Ignored with WithTracerProvider (the caller's provider has
// its own resource).
func WithResource(r *sdkresource.Resource) Option {
	return optionFunc(func(c config) config { c.resource = r; return c })
}

// WithTracerProvider adds the MLflow span processor (and any WithSpanProcessor
// processors) to the caller's provider instead of creating one. The caller
// keeps ownership of tp: Provider.Shutdown then shuts down and detaches only
// the processors Init added, and tp's sampler and resource apply. A nil tp is
// ignored.
func WithTracerProvider(tp *sdktrace.TracerProvider) Option {
	return optionFunc(func(c config) config {
		if tp != nil {
			c.userTP = tp
		}
		return c
	})
}

// WithExporterOptions passes options to exporter.New (after WithGetenv, so
// they win over the environment the exporter reads).
func WithExporterOptions(opts ...exporter.Option) Option {
	return optionFunc(func(c config) config {
		c.exporterOpts = append(c.exporterOpts[:len(c.exporterOpts):len(c.exporterOpts)], opts...)
		return c
	})
}

// WithSpanProcessor registers an additional OpenTelemetry span processor on
// the provider, ahead of the MLflow exporter (so its OnStart runs first). The
// Provider owns it: Shutdown shuts it down. A nil processor is ignored.
//
// OpenTelemetry processors see finished spans read-only; to edit or mask a span
// before it is exported, use WithSpanFilter. A span of this package writes the
// MLflow attributes it starts with (type, function name, inputs) with its
// first change or at End, so a processor's OnStart does not see them; OnEnd
// does.
func WithSpanProcessor(sp sdktrace.SpanProcessor) Option {
	return optionFunc(func(c config) config {
		if sp != nil {
			c.processors = append(c.processors[:len(c.processors):len(c.processors)], sp)
		}
		return c
	})
}

// WithSpanFilter registers a function run on every span created by this
// package just before it ends, in registration order: the Go form of MLflow's
// mlflow.tracing.configure(span_processors=[...]). It may read the span
// (Inputs, Outputs, Attribute) and overwrite anything (SetInputs,
// SetOutputs, SetAttribute) — e.g. to mask secrets. A panic in a filter is
// recovered and reported to the OpenTelemetry error handler; the span is
// still exported. Spans made by other OpenTelemetry instrumentations are not
// passed to filters. A nil function is ignored.
func WithSpanFilter(fn func(*Span)) Option {
	return optionFunc(func(c config) config {
		if fn != nil {
			c.filters = append(c.filters[:len(c.filters):len(c.filters)], fn)
		}
		return c
	})
}

// WithGetenv sets the function used to read environment variables (default
// os.Getenv). It is also passed to the exporter.
func WithGetenv(getenv func(string) string) Option {
	return optionFunc(func(c config) config {
		if getenv != nil {
			c.getenv = getenv
		}
		return c
	})
}

// WithMaxValueSize sets the largest JSON-encoded attribute value (inputs,
// outputs, any attribute) a span keeps, in characters (default 1,048,576).
// A longer value is cut MLflow's way — its first n-3 characters followed by
// "..." — and stored as a JSON string, so it still loads. n <= 0 removes the
// limit (MLflow's Python SDK has none).
func WithMaxValueSize(n int) Option {
	return optionFunc(func(c config) config { c.maxValueSize = n; return c })
}

// WithContentCapture says whether instrumentation of LLM and tool libraries
// (package autoinstrument and its sub-packages) records the content of the
// calls it traces — prompts, completions, messages, tool arguments and
// results — as span inputs and outputs (MLFLOWTRACE_CAPTURE_CONTENT; default
// true, as MLflow's autologging does). With false those spans keep only
// metadata: span type, model, provider, token usage, tool definitions, status
// and errors, and so do the Genkit spans the exporter translates
// (exporter.WithContentCapture). Spans a program records itself (StartSpan,
// Func, Do, Wrap) are not affected, nor spans of other OpenTelemetry
// instrumentations, which follow their own content settings. To mask parts
// of the content instead, use WithSpanFilter.
func WithContentCapture(on bool) Option {
	return optionFunc(func(c config) config { c.noContent = !on; return c })
}

// WithoutGlobalTracerProvider keeps Init from installing its tracer provider
// as OpenTelemetry's global (otel.SetTracerProvider) and from setting the
// global propagator. Spans from other OpenTelemetry instrumentations then do
// not join MLflow traces unless they use Provider.TracerProvider.
func WithoutGlobalTracerProvider() Option {
	return optionFunc(func(c config) config { c.noGlobal = true; return c })
}

func defaultConfig() config {
	return config{
		getenv:        os.Getenv,
		samplingRatio: 1,
		maxValueSize:  defaultMaxValueSize,
	}
}

// newConfig builds the configuration: defaults, then the environment (read
// through the getenv option, if any), then explicit options, then validation.
func newConfig(opts []Option) (config, []attribute.KeyValue, error) {
	c := defaultConfig()
	// A first pass finds the getenv option; the environment must be read
	// through it before the explicit options are applied over it.
	probe := defaultConfig()
	for _, o := range opts {
		if o != nil {
			probe = o.apply(probe)
		}
	}
	c.getenv = probe.getenv

	envAttrs, err := c.readEnv()
	if err != nil {
		return c, nil, err
	}
	for _, o := range opts {
		if o != nil {
			c = o.apply(c)
		}
	}
	if math.IsNaN(c.samplingRatio) || c.samplingRatio < 0 || c.samplingRatio > 1 {
		return c, nil, fmt.Errorf("tracing: sampling ratio %v out of range [0, 1]", c.samplingRatio)
	}
	if c.userTP != nil && c.samplingExplicit {
		return c, nil, fmt.Errorf("tracing: WithSamplingRatio cannot be combined with WithTracerProvider: configure the sampler of that provider")
	}
	return c, envAttrs, nil
}

// readEnv applies the environment to c and returns the resource attributes
// from OTEL_RESOURCE_ATTRIBUTES. Every variable is read through package
// envconfig, the one reader.
func (c *config) readEnv() ([]attribute.KeyValue, error) {
	env := envconfig.New(c.getenv)
	on, set, err := envconfig.EnableTracing.Lookup(env)
	if err != nil {
		return nil, fmt.Errorf("tracing: %w", err)
	}
	switch {
	case set:
		c.disabled = !on
	case envconfig.ModelServing.Get(env):
		// MLflow only traces inside Databricks Model Serving when
		// ENABLE_MLFLOW_TRACING=true.
		c.disabled = true
	}
	if c.samplingRatio, err = envconfig.SamplingRatio.Get(env); err != nil {
		return nil, fmt.Errorf("tracing: %w", err)
	}
	kvs, err := envconfig.ResourceAttributes.Get(env)
	if err != nil {
		return nil, fmt.Errorf("tracing: %w", err)
	}
	attrs := make([]attribute.KeyValue, 0, len(kvs))
	for _, kv := range kvs {
		attrs = append(attrs, attribute.String(kv.Key, kv.Value))
	}
	if v := envconfig.ServiceName.Get(env); v != "" {
		c.serviceName = v
	}
	capture, err := envconfig.CaptureContent.Get(env)
	if err != nil {
		return nil, fmt.Errorf("tracing: %w", err)
	}
	c.noContent = !capture
	return attrs, nil
}

// buildResource makes the resource of a provider Init creates: telemetry SDK
// attributes, then OTEL_RESOURCE_ATTRIBUTES, then service.name, then the
// WithResource resource.
func (c *config) buildResource(envAttrs []attribute.KeyValue) (*sdkresource.Resource, error) {
	attrs := make([]attribute.KeyValue, 0, 3+len(envAttrs)+1)
	attrs = append(attrs,
		attribute.String("telemetry.sdk.name", "opentelemetry"),
		attribute.String("telemetry.sdk.language", "go"),
		attribute.String("telemetry.sdk.version", sdk.Version()),
		attribute.String(attrServiceName, unknownServicePrefix+filepath.Base(os.Args[0])),
	)
	attrs = append(attrs, envAttrs...) // later values win in NewSchemaless
	if c.serviceName != "" {
		attrs = append(attrs, attribute.String(attrServiceName, c.serviceName))
	}
	r := sdkresource.NewSchemaless(attrs...)
	if c.resource != nil {
		var err error
		if r, err = sdkresource.Merge(r, c.resource); err != nil {
			return nil, fmt.Errorf("tracing: resource: %w", err)
		}
	}
	return r, nil
}
