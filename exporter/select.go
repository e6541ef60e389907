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

// errDatabricks is returned for databricks, databricks-uc and uc: tracking
// URIs.
var errDatabricks = errors.New("exporter: databricks destination is not supported yet")

// defaultLocalRoot is where traces go when no tracking URI is set: the
// FileStore layout that `mlflow ui` / `mlflow server` read from ./mlruns.
const defaultLocalRoot = "mlruns"

type destKind int

const (
	destLocal destKind = iota
	destServer
)

// parseTrackingURI classifies a tracking URI. For a local store it returns
// the root directory. Errors never echo the URI (it may hold credentials).
func parseTrackingURI(uri string) (destKind, string, error) {
	uri = strings.TrimSpace(uri)
	if uri == "" {
		return destLocal, defaultLocalRoot, nil
	}
	lower := strings.ToLower(uri)
	if lower == "databricks" || lower == "databricks-uc" ||
		strings.HasPrefix(lower, "databricks://") || strings.HasPrefix(lower, "databricks-uc://") ||
		strings.HasPrefix(lower, "uc:") {
		return 0, "", errDatabricks
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
	return 0, "", fmt.Errorf("exporter: tracking URI scheme %q is not supported: use a directory, a file: URI or an http(s) MLflow tracking server", u.Scheme)
}

// newDestination selects the MLflow destination: WithDestination, else the
// tracking URI.
func (c *config) newDestination(ctx context.Context) (Destination, error) {
	if c.dest != nil {
		return c.dest, nil
	}
	kind, root, err := parseTrackingURI(c.trackingURI)
	if err != nil {
		return nil, err
	}
	switch kind {
	case destServer:
		return newServerDestination(ctx, c)
	default:
		st, err := localstore.New(root, localstore.Options{ExperimentID: c.experimentID, ExperimentName: c.experimentName})
		if err != nil {
			return nil, fmt.Errorf("exporter: local store: %w", err)
		}
		return st, nil
	}
}
