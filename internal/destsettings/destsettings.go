// Package destsettings carries the resolved destination settings of an
// exporter configuration (tracking URI, experiment, HTTP and Databricks
// settings) to code that reads from the same destination, package traces.
//
// It is a temporary bridge: package exporter, which owns the options and the
// environment reading, sets Resolve; it goes away when the shared settings
// resolver (internal/settings) takes over.
package destsettings

import (
	"net/http"

	"github.com/mlflowtrace/mlflowtrace-go/internal/transport"
)

// Kind is the kind of destination a configuration selects.
type Kind int

// The destination kinds.
const (
	Local      Kind = iota // an MLflow FileStore folder (./mlruns)
	Server                 // an MLflow tracking server
	Databricks             // a Databricks workspace
)

// Settings is a resolved destination.
type Settings struct {
	Getenv func(string) string
	Kind   Kind
	// LocalRoot is the FileStore folder (Local).
	LocalRoot string
	// Transport is the HTTP configuration; its URL is the tracking server
	// (Server).
	Transport transport.Config
	// ExperimentID and ExperimentName are the configured experiment (the
	// name wins when set).
	ExperimentID, ExperimentName string
	// UCSchema is "<catalog>.<schema>" of a Unity Catalog destination.
	UCSchema string
	// DatabricksHost, DatabricksProfile and DatabricksCredentials are the
	// explicit Databricks settings (the rest comes from the environment
	// through dbauth.Resolve).
	DatabricksHost        string
	DatabricksProfile     string
	DatabricksCredentials func(*http.Request) error
}

// Resolve resolves exporter options (each an exporter.Option) with the
// environment, as exporter.New does. Package exporter sets it at init.
var Resolve func(opts []any) (Settings, error)
