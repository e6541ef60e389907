package exporter

import (
	"context"
	"errors"
	"fmt"
	"net/url"
	"strings"

	"github.com/mlflowtrace/mlflowtrace-go/internal/localstore"
)

var _ Destination = (*localstore.Store)(nil)

// defaultLocalRoot is where traces go when no tracking URI is set: the
// FileStore layout that `mlflow ui` / `mlflow server` read from ./mlruns.
const defaultLocalRoot = "mlruns"

type destKind int

const (
	destLocal destKind = iota
	destServer
	destDatabricks
)

// parseTrackingURI classifies a tracking URI. For a local store it returns
// the root directory, for Databricks the profile of databricks://<profile>
// ("" for the default). Errors never echo the URI (it may hold credentials).
func parseTrackingURI(uri string) (destKind, string, error) {
	uri = strings.TrimSpace(uri)
	if uri == "" {
		return destLocal, defaultLocalRoot, nil
	}
	lower := strings.ToLower(uri)
	if lower == "databricks" || lower == "databricks-uc" {
		return destDatabricks, "", nil
	}
	for _, scheme := range []string{"databricks://", "databricks-uc://"} {
		if strings.HasPrefix(lower, scheme) {
			profile := strings.TrimRight(uri[len(scheme):], "/")
			if strings.Contains(profile, ":") {
				return 0, "", errors.New("exporter: databricks://<scope>:<prefix> tracking URIs are not supported: use databricks://<profile> or DATABRICKS_HOST with DATABRICKS_TOKEN")
			}
			return destDatabricks, profile, nil
		}
	}
	if strings.HasPrefix(lower, "uc:") {
		return 0, "", errors.New("exporter: uc: is a model registry URI, not a tracking URI: use MLFLOW_TRACKING_URI=databricks")
	}
	u, err := url.Parse(uri)
	if err != nil || len(u.Scheme) <= 1 {
		// A plain path (a one-letter "scheme" is a Windows drive).
		return destLocal, uri, nil
	}
	switch strings.ToLower(u.Scheme) {
	case "file":
		if u.Host != "" && u.Host != "localhost" {
			return 0, "", errors.New("exporter: file: tracking URI with a remote host is not supported")
		}
		p := u.Path
		if p == "" {
			p = u.Opaque // file:relative/path
		}
		if p == "" {
			p = defaultLocalRoot
		}
		return destLocal, p, nil
	case "http", "https":
		return destServer, "", nil
	}
	return 0, "", fmt.Errorf("exporter: tracking URI scheme %q is not supported: use a directory, a file: URI, an http(s) MLflow tracking server or databricks", u.Scheme)
}

// newDestination selects the MLflow destination: WithDestination, else the
// tracking URI (MLFLOW_TRACKING_URI or WithTrackingURI), with two Databricks
// rules:
//   - a Unity Catalog tracing destination (MLFLOW_TRACING_DESTINATION=
//     <catalog>.<schema>) always means the Databricks workspace, as in
//     MLflow, which switches the tracking URI to databricks for it;
//   - with no tracking URI, DATABRICKS_HOST, DATABRICKS_CONFIG_PROFILE,
//     IS_IN_DB_MODEL_SERVING_ENV=true or a Databricks option select the
//     Databricks workspace instead of ./mlruns. An explicit tracking URI
//     always wins over them.
func (c *config) newDestination(ctx context.Context) (Destination, error) {
	if c.dest != nil {
		return c.dest, nil
	}
	kind, root, err := parseTrackingURI(c.trackingURI)
	if err != nil {
		return nil, err
	}
	if kind != destDatabricks && (c.databricks.ucSchema != "" || (strings.TrimSpace(c.trackingURI) == "" && c.wantsDatabricks())) {
		kind, root = destDatabricks, ""
	}
	switch kind {
	case destServer:
		return newServerDestination(ctx, c)
	case destDatabricks:
		return newDatabricksDestination(ctx, c, root)
	default:
		st, err := localstore.New(root, localstore.Options{ExperimentID: c.experimentID, ExperimentName: c.experimentName})
		if err != nil {
			return nil, fmt.Errorf("exporter: local store: %w", err)
		}
		return st, nil
	}
}
