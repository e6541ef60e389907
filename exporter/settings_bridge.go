package exporter

import (
	"errors"
	"fmt"
	"strings"

	"github.com/mlflowtrace/mlflowtrace-go/internal/destsettings"
)

// Until the shared settings resolver lands, package traces resolves its
// options through this bridge: the same options, environment and
// destination selection as New, no destination built.
func init() { destsettings.Resolve = resolveSettings }

func resolveSettings(opts []any) (destsettings.Settings, error) {
	eopts := make([]Option, 0, len(opts))
	for _, o := range opts {
		switch x := o.(type) {
		case nil:
		case Option:
			eopts = append(eopts, x)
		default:
			return destsettings.Settings{}, fmt.Errorf("exporter: %T is not an exporter.Option", o)
		}
	}
	c, err := newConfig(eopts)
	if err != nil {
		return destsettings.Settings{}, err
	}
	if c.dest != nil {
		return destsettings.Settings{}, errors.New("exporter: WithDestination names no store to read traces from: use WithTrackingURI")
	}
	kind, root, err := parseTrackingURI(c.trackingURI)
	if err != nil {
		return destsettings.Settings{}, err
	}
	if kind != destDatabricks && (c.databricks.ucSchema != "" || (strings.TrimSpace(c.trackingURI) == "" && c.wantsDatabricks())) {
		kind, root = destDatabricks, ""
	}
	s := destsettings.Settings{
		Getenv:                c.getenv,
		Transport:             c.server.transport,
		ExperimentID:          c.experimentID,
		ExperimentName:        c.experimentName,
		UCSchema:              c.databricks.ucSchema,
		DatabricksHost:        c.databricks.host,
		DatabricksCredentials: c.databricks.credentials,
	}
	switch kind {
	case destServer:
		s.Kind = destsettings.Server
		s.Transport.URL = c.trackingURI
	case destDatabricks:
		s.Kind = destsettings.Databricks
		s.DatabricksProfile = root
	default:
		s.Kind = destsettings.Local
		s.LocalRoot = root
	}
	return s, nil
}
