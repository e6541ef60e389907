package exporter

import (
	"context"
	"fmt"
	"io/fs"
	"net/http"
	"net/url"
	"os"
	"strings"

	"github.com/mlflowtrace/mlflowtrace-go/internal/databricks"
	"github.com/mlflowtrace/mlflowtrace-go/internal/dbauth"
	"github.com/mlflowtrace/mlflowtrace-go/internal/keys"
	"github.com/mlflowtrace/mlflowtrace-go/internal/llmcost"
	"github.com/mlflowtrace/mlflowtrace-go/internal/transport"
)

// Environment variables of the Databricks destination read by the exporter
// itself; the workspace and its credentials (DATABRICKS_HOST,
// DATABRICKS_TOKEN, DATABRICKS_CLIENT_ID, ...) are read as Databricks' SDKs
// read them (see the package documentation).
const (
	envTracingDestination = "MLFLOW_TRACING_DESTINATION"
	envModelCatalogURI    = "MLFLOW_MODEL_CATALOG_URI"
	envDatabricksHost     = dbauth.EnvHost
	envDatabricksProfile  = dbauth.EnvConfigProfile
	envModelServing       = dbauth.EnvModelServing
)

// databricksConfig holds the settings of the Databricks destination.
type databricksConfig struct {
	host        string
	credentials func(*http.Request) error
	// tracingDestination is MLFLOW_TRACING_DESTINATION or
	// WithTracingDestination: "<catalog>.<schema>" or "<experiment id>".
	tracingDestination string
	// ucSchema is tracingDestination when it names a UC schema.
	ucSchema string
	// explicit: a Databricks option was given.
	explicit bool
	// modelCatalogURI is MLFLOW_MODEL_CATALOG_URI; modelCatalog the
	// directory of WithModelCatalog (wins).
	modelCatalogURI string
	modelCatalog    fs.FS
}

// WithDatabricksHost sets the Databricks workspace URL (DATABRICKS_HOST);
// https:// is assumed without a scheme, http:// is accepted for local
// testing. Giving it selects the Databricks destination when no tracking URI
// is set.
func WithDatabricksHost(host string) Option {
	return optionFunc(func(c config) config {
		c.databricks.host = host
		c.databricks.explicit = true
		return c
	})
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
//	exporter.WithDatabricksHost(cfg.Host), exporter.WithDatabricksCredentials(cfg.Authenticate)
//
// A nil fn is ignored. Giving it selects the Databricks destination when no
// tracking URI is set.
func WithDatabricksCredentials(fn func(*http.Request) error) Option {
	return optionFunc(func(c config) config {
		if fn != nil {
			c.databricks.credentials = fn
			c.databricks.explicit = true
		}
		return c
	})
}

// WithTracingDestination sets where traces go, like
// MLFLOW_TRACING_DESTINATION: "<catalog>.<schema>" sends them to that
// Unity Catalog schema's trace tables in the Databricks workspace (trace ids
// "trace:/<catalog>.<schema>/<hex>", schema version 4); "<experiment id>"
// logs them to that experiment, winning over the experiment id and name.
func WithTracingDestination(dest string) Option {
	return optionFunc(func(c config) config {
		c.databricks.tracingDestination = dest
		return c
	})
}

// WithModelCatalog sets the prices of LLM calls on a Databricks
// workspace, where this SDK computes each LLM span's mlflow.llm.cost and the
// trace's mlflow.trace.cost as MLflow's client does: fsys holds
// <provider>.json files in MLflow's model catalog format (those
// MLFLOW_MODEL_CATALOG_URI=file://<dir> names); a call whose provider has a
// file is priced from it, every other call from MLflow 3.17.2's bundled
// catalog. Other destinations are priced by the MLflow server, or not at
// all (./mlruns). It wins over MLFLOW_MODEL_CATALOG_URI; nil is ignored.
func WithModelCatalog(fsys fs.FS) Option {
	return optionFunc(func(c config) config {
		if fsys != nil {
			c.databricks.modelCatalog = fsys
		}
		return c
	})
}

// loadDatabricksEnv reads MLFLOW_TRACING_DESTINATION and
// MLFLOW_MODEL_CATALOG_URI.
func (c *config) loadDatabricksEnv(getenv func(string) string) {
	if v := strings.TrimSpace(getenv(envTracingDestination)); v != "" {
		c.databricks.tracingDestination = v
	}
	c.databricks.modelCatalogURI = strings.TrimSpace(getenv(envModelCatalogURI))
}

// modelCatalog returns the prices of the Databricks destination: the
// bundled catalog with WithModelCatalog's directory, else the one a
// file:// MLFLOW_MODEL_CATALOG_URI names. MLflow downloads http(s) catalogs
// (its default is the latest catalog on GitHub); this SDK downloads none: an
// http(s) or other URI is reported once and the bundled prices are used.
func (c *config) modelCatalog() *llmcost.Catalog {
	report := llmcost.WithErrorHandler(func(err error) { c.errorHandler(fmt.Errorf("exporter: %w", err)) })
	if c.databricks.modelCatalog != nil {
		return llmcost.New(llmcost.WithDirectory(c.databricks.modelCatalog), report)
	}
	uri := c.databricks.modelCatalogURI
	if uri == "" {
		return llmcost.Bundled()
	}
	u, err := url.Parse(uri)
	if err != nil || !strings.EqualFold(u.Scheme, "file") || u.Path == "" {
		scheme := "none"
		if err == nil && u.Scheme != "" {
			scheme = u.Scheme
		}
		// The value itself is not repeated: a catalog URL may carry a token.
		c.errorHandler(fmt.Errorf("exporter: %s has scheme %q: this SDK reads only a file://<directory> of model catalog files and downloads none; LLM costs use MLflow %s's bundled prices",
			envModelCatalogURI, scheme, llmcost.MLflowVersion))
		return llmcost.Bundled()
	}
	return llmcost.New(llmcost.WithDirectory(os.DirFS(u.Path)), report)
}

// resolveTracingDestination interprets the tracing destination the way
// MLflow does: "<catalog>.<schema>" (Unity Catalog), "<experiment id>",
// anything else is an error naming the variable.
func (c *config) resolveTracingDestination() error {
	d := strings.TrimSpace(c.databricks.tracingDestination)
	if d == "" {
		return nil
	}
	switch parts := strings.Split(d, "."); len(parts) {
	case 1:
		c.experimentID, c.experimentName = d, ""
		return nil
	case 2:
		if _, _, ok := databricks.ParseUCSchema(d); ok {
			c.databricks.ucSchema = d
			return nil
		}
	case 3:
		return fmt.Errorf("exporter: invalid %s=%q: Unity Catalog table-prefix destinations (<catalog>.<schema>.<table_prefix>) are not supported, as in MLflow; use <catalog>.<schema>", envTracingDestination, d)
	}
	return fmt.Errorf("exporter: invalid %s=%q: want <catalog>.<schema> (Unity Catalog tables) or <experiment id>", envTracingDestination, d)
}

// wantsDatabricks reports whether, with no tracking URI, the configuration
// asks for a Databricks workspace: a Databricks option, DATABRICKS_HOST,
// DATABRICKS_CONFIG_PROFILE, a Unity Catalog tracing destination, or Model
// Serving.
func (c *config) wantsDatabricks() bool {
	return c.databricks.explicit || c.databricks.ucSchema != "" ||
		strings.TrimSpace(c.getenv(envDatabricksHost)) != "" ||
		strings.TrimSpace(c.getenv(envDatabricksProfile)) != "" ||
		strings.EqualFold(strings.TrimSpace(c.getenv(envModelServing)), "true")
}

// transportConfig returns the HTTP settings shared by the HTTP destinations,
// with the retry counter hooked in.
func (c *config) transportConfig() transport.Config {
	tc := c.server.transport
	if ctrs := c.counters; ctrs != nil {
		user := tc.OnRetry
		tc.OnRetry = func() {
			ctrs.addRetried(1)
			if user != nil {
				user()
			}
		}
	}
	return tc
}

// newDatabricksDestination builds the Databricks destination. It reads the
// environment and the configuration file (~/.databrickscfg) but does no
// network I/O; New then calls its Start (the experiment's Unity Catalog
// link, see package internal/databricks).
// It also sets 10000-character previews (unless WithPreviewMaxChars); the
// trace-id prefix of Unity Catalog traces ("trace:/<location>/", schema
// version 4) the exporter asks the destination for (TraceIDPrefix).
func newDatabricksDestination(ctx context.Context, c *config, profile string) (Destination, error) {
	tc := c.transportConfig()
	ws, err := dbauth.Resolve(dbauth.Options{
		Getenv:      c.getenv,
		Host:        c.databricks.host,
		Profile:     profile,
		Credentials: c.databricks.credentials,
		HTTP:        tc,
	})
	if err != nil {
		return nil, fmt.Errorf("exporter: %w", err)
	}
	d, err := databricks.New(databricks.Config{
		Workspace:      ws,
		Transport:      tc,
		ExperimentID:   c.experimentID,
		ExperimentName: c.experimentName,
		UCSchema:       c.databricks.ucSchema,
		Prices:         c.modelCatalog(),
		Resource: map[string]any{
			"telemetry.sdk.language": "go",
			"telemetry.sdk.name":     "mlflowtrace-go",
		},
	})
	if err != nil {
		return nil, fmt.Errorf("exporter: %w", err)
	}
	if !c.previewSet {
		c.previewMaxChars = keys.PreviewLenDatabricks
	}
	return d, nil
}

var _ Destination = (*databricks.Destination)(nil)
