package prompts

import (
	"errors"
	"fmt"
	"net/url"
	"strings"

	"github.com/mlflowtrace/mlflowtrace-go/exporter"
	"github.com/mlflowtrace/mlflowtrace-go/internal/settings"
)

// WithRegistryURI sets the registry NewClient loads prompts from, as
// MLflow's MlflowClient(registry_uri=...) and mlflow.set_registry_uri do;
// it wins over MLFLOW_REGISTRY_URI (the last one given wins). "" is
// MLflow's default: the tracking URI's registry ("databricks-uc" for a
// Databricks tracking URI). See the package documentation for the URIs
// accepted. Only NewClient reads it: exporter.New and tracing.Init ignore
// it.
func WithRegistryURI(uri string) exporter.Option {
	uri = strings.TrimSpace(uri)
	return settings.Func(func(s *settings.Settings) { s.RegistryURI = uri })
}

// registryKind is the registry a Client loads from.
type registryKind int

const (
	// registryDefault: MLflow's default registry URI for the tracking URI —
	// the tracking server's registry, or for a Databricks tracking URI
	// "databricks-uc" with its profile.
	registryDefault registryKind = iota
	// registryServer: an MLflow server's registry at uri (RestStore).
	registryServer
	// registryUC: Unity Catalog's prompt registry of the workspace of
	// profile ("" the default one): "databricks-uc[://<profile>]".
	registryUC
)

type registryRef struct {
	kind    registryKind
	uri     string // registryServer
	profile string // registryUC
}

// Errors for registries MLflow 3.17.2 cannot load prompts from, or this
// package does not.
const (
	// MLflow's require_prompt_registry refuses the workspace registry.
	msgWorkspaceRegistry = "The 'load_prompt' API is not supported with the current registry. Prompts are supported in OSS MLflow and Unity Catalog, but not in the legacy Databricks workspace registry."
	supportedSchemes     = "http, https, databricks-uc"
)

// parseRegistryURI classifies a registry URI as MLflow's
// ModelRegistryStoreRegistry.get_store_builder does: the exact words
// "databricks", "databricks-uc" and "uc", else the URI's scheme (any
// case). It refuses what this package cannot load from, with MLflow's
// message where MLflow refuses too. Errors never echo the URI (it may hold
// credentials), only its scheme.
func parseRegistryURI(uri string) (registryRef, error) {
	switch uri {
	case "":
		return registryRef{kind: registryDefault}, nil
	case "databricks-uc":
		return registryRef{kind: registryUC}, nil
	case "databricks":
		//lint:ignore ST1005 MLflow's message
		return registryRef{}, errors.New(msgWorkspaceRegistry)
	case "uc":
		return registryRef{}, errors.New("the registry URI \"uc\" names Unity Catalog OSS, which has no prompt registry (MLflow refuses it too)")
	}
	scheme, _, ok := strings.Cut(uri, ":")
	if !ok || len(scheme) <= 1 || !settings.ValidScheme(scheme) {
		// A path (a one-letter "scheme" is a Windows drive): MLflow's
		// FileStore, as a local ./mlruns tracking URI's registry.
		return registryRef{}, errors.New("the registry URI is a local path: its prompt registry (MLflow's FileStore) is not supported: set MLFLOW_REGISTRY_URI to an MLflow server (http(s)://...) or databricks-uc")
	}
	switch scheme = strings.ToLower(scheme); {
	case scheme == "databricks":
		//lint:ignore ST1005 MLflow's message
		return registryRef{}, errors.New(msgWorkspaceRegistry)
	case scheme == "uc":
		return registryRef{}, errors.New("the registry URI scheme \"uc\" names Unity Catalog OSS, which has no prompt registry (MLflow refuses it too)")
	case scheme == "databricks-uc":
		profile, err := settings.DatabricksProfile(uri, "registry")
		if err != nil {
			return registryRef{}, err
		}
		return registryRef{kind: registryUC, profile: profile}, nil
	case scheme == "http" || scheme == "https":
		u, err := url.Parse(uri)
		if err != nil {
			return registryRef{}, fmt.Errorf("the registry URI (MLFLOW_REGISTRY_URI, WithRegistryURI) is not a valid URL: %s", settings.URLProblem(err))
		}
		if u.Hostname() == "" {
			return registryRef{}, errors.New("the registry URI (MLFLOW_REGISTRY_URI, WithRegistryURI) has no host: want http(s)://<host>[:<port>]")
		}
		return registryRef{kind: registryServer, uri: uri}, nil
	case scheme == "file":
		return registryRef{}, errors.New("the registry URI is a file: URI: its prompt registry (MLflow's FileStore) is not supported: set MLFLOW_REGISTRY_URI to an MLflow server (http(s)://...) or databricks-uc")
	case isDatabase(scheme):
		return registryRef{}, fmt.Errorf("the registry URI is a %s database: this package loads prompts through an MLflow server's REST API: serve it with `mlflow server --backend-store-uri ...` and set MLFLOW_REGISTRY_URI to the server's http(s) URL", scheme)
	}
	//lint:ignore ST1005 MLflow's message
	return registryRef{}, fmt.Errorf("Model Registry features are not supported by the store with URI scheme %q; this package loads prompts from: %s", scheme, supportedSchemes)
}

// isDatabase reports whether scheme is one of MLflow's database engines
// (DATABASE_ENGINES, with a "+<driver>" or not): MLflow's SqlAlchemyStore.
func isDatabase(scheme string) bool {
	for _, db := range []string{"postgresql", "mysql", "sqlite", "mssql"} {
		if strings.HasPrefix(scheme, db) {
			return true
		}
	}
	return false
}
