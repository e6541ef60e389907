package exporter

import (
	"fmt"
	"io/fs"
	"net/url"
	"os"
	"strings"

	"github.com/mlflowtrace/mlflowtrace-go/internal/envconfig"
	"github.com/mlflowtrace/mlflowtrace-go/internal/llmcost"
	"github.com/mlflowtrace/mlflowtrace-go/internal/settings"
)

// WithModelCatalog sets the prices of LLM calls on a Databricks workspace,
// where this SDK computes each LLM span's mlflow.llm.cost and the trace's
// mlflow.trace.cost as MLflow's client does: fsys holds <provider>.json
// files in MLflow's model catalog format (those
// MLFLOW_MODEL_CATALOG_URI=file://<dir> names); a call whose provider has a
// file is priced from it, every other call from MLflow 3.17.2's bundled
// catalog. Other destinations are priced by the MLflow server, or not at
// all (./mlruns). It wins over MLFLOW_MODEL_CATALOG_URI; nil is ignored.
func WithModelCatalog(fsys fs.FS) Option {
	return option(func(s *settings.Settings) {
		if fsys != nil {
			s.ModelCatalog = fsys
		}
	})
}

// modelCatalog returns the prices of the Databricks destination: the
// bundled catalog with WithModelCatalog's directory, else the one a
// file:// MLFLOW_MODEL_CATALOG_URI names. MLflow downloads http(s) catalogs
// (its default is the latest catalog on GitHub); this SDK downloads none: an
// http(s) or other URI is reported once and the bundled prices are used.
func modelCatalog(s *settings.Settings) *llmcost.Catalog {
	report := func(err error) {
		if s.ErrorHandler != nil {
			s.ErrorHandler(fmt.Errorf("exporter: %w", err))
		}
	}
	opt := llmcost.WithErrorHandler(report)
	if s.ModelCatalog != nil {
		return llmcost.New(llmcost.WithDirectory(s.ModelCatalog), opt)
	}
	uri := s.ModelCatalogURI
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
		report(fmt.Errorf("%s has scheme %q: this SDK reads only a file://<directory> of model catalog files and downloads none; LLM costs use MLflow %s's bundled prices",
			envconfig.ModelCatalogURI.Name, scheme, llmcost.MLflowVersion))
		return llmcost.Bundled()
	}
	return llmcost.New(llmcost.WithDirectory(os.DirFS(u.Path)), opt)
}
