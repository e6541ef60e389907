package exporter

import (
	"context"
	"net/http"
	"os"
	"path/filepath"
	"strings"
	"testing"

	"github.com/mlflowtrace/mlflowtrace-go/internal/databricks"
	"github.com/mlflowtrace/mlflowtrace-go/internal/databrickstest"
	"github.com/mlflowtrace/mlflowtrace-go/internal/localstore"
	"github.com/mlflowtrace/mlflowtrace-go/internal/mlflowserver"
)

func merge(ms ...map[string]string) map[string]string {
	out := map[string]string{}
	for _, m := range ms {
		for k, v := range m {
			out[k] = v
		}
	}
	return out
}

// TestDatabricksSelection pins which destination the environment selects,
// and that building the Databricks one does no network I/O but the lookup
// of the experiment's Unity Catalog link.
func TestDatabricksSelection(t *testing.T) {
	t.Chdir(t.TempDir()) // the ./mlruns case writes there, not into the source tree
	ws := databrickstest.New(t)
	dir := t.TempDir()
	cfgFile := filepath.Join(dir, "databrickscfg")
	if err := os.WriteFile(cfgFile, []byte("[prod]\nhost = "+ws.URL+"\ntoken = "+ws.Token+"\n"), 0o600); err != nil {
		t.Fatal(err)
	}
	pat := merge(ws.PATEnv(), map[string]string{"DATABRICKS_CONFIG_FILE": filepath.Join(dir, "none")})
	exp := map[string]string{envExperimentID: "1001"}
	for _, tc := range []struct {
		name     string
		env      map[string]string
		opts     []Option
		want     string // "local", "server", "databricks", "uc"
		preview  int
		idPrefix string
	}{
		{"no environment: ./mlruns", map[string]string{}, nil, "local", 1000, ""},
		{"MLFLOW_TRACKING_URI=databricks", merge(pat, exp, map[string]string{envTrackingURI: "databricks"}), nil, "databricks", 10000, ""},
		{"databricks-uc is the same workspace", merge(pat, exp, map[string]string{envTrackingURI: "databricks-uc"}), nil, "databricks", 10000, ""},
		{"DATABRICKS_HOST alone selects the workspace", merge(pat, exp), nil, "databricks", 10000, ""},
		{"an explicit tracking URI wins over DATABRICKS_HOST", merge(pat, exp, map[string]string{envTrackingURI: "http://127.0.0.1:1"}), nil, "server", 1000, ""},
		{"an explicit path wins over DATABRICKS_HOST", merge(pat, map[string]string{envTrackingURI: dir}), nil, "local", 1000, ""},
		{"DATABRICKS_CONFIG_PROFILE selects the workspace", merge(exp, map[string]string{"DATABRICKS_CONFIG_FILE": cfgFile, "DATABRICKS_CONFIG_PROFILE": "prod"}), nil, "databricks", 10000, ""},
		{"databricks://<profile>", merge(exp, map[string]string{"DATABRICKS_CONFIG_FILE": cfgFile, envTrackingURI: "databricks://prod"}), nil, "databricks", 10000, ""},
		{"UC tracing destination forces the workspace, as in MLflow", merge(pat, map[string]string{envTrackingURI: dir, envTracingDestination: "main.agents"}), nil, "uc", 10000, "trace:/main.agents/"},
		{"WithTracingDestination", pat, []Option{WithTracingDestination("main.agents")}, "uc", 10000, "trace:/main.agents/"},
		{"WithPreviewMaxChars is kept", merge(pat, exp), []Option{WithPreviewMaxChars(500)}, "databricks", 500, ""},
		{"Databricks options with no tracking URI", merge(exp, map[string]string{"DATABRICKS_CONFIG_FILE": filepath.Join(dir, "none")}),
			[]Option{WithDatabricksHost(ws.URL), WithDatabricksCredentials(func(r *http.Request) error { return nil })}, "databricks", 10000, ""},
		{"WithDestination wins over everything", merge(pat, exp, map[string]string{envTrackingURI: "databricks"}), []Option{WithDestination(nopDest{})}, "custom", 1000, ""},
	} {
		t.Run(tc.name, func(t *testing.T) {
			before := len(ws.Requests())
			opts := append([]Option{WithGetenv(envMap(tc.env)), WithHTTPClient(ws.HTTPClient())}, tc.opts...)
			e, err := New(context.Background(), opts...)
			if err != nil {
				t.Fatal(err)
			}
			defer e.Shutdown(context.Background())
			var got string
			switch d := e.route.dest.(type) {
			case *localstore.Store:
				got = "local"
			case *mlflowserver.Destination:
				got = "server"
			case *databricks.Destination:
				got = "databricks"
				if d.UCSchema() != "" {
					got = "uc"
				}
			case nopDest:
				got = "custom"
			}
			if got != tc.want {
				t.Fatalf("destination %T (%s), want %s", e.route.dest, got, tc.want)
			}
			if e.s.PreviewMaxChars != tc.preview {
				t.Errorf("preview %d, want %d", e.s.PreviewMaxChars, tc.preview)
			}
			if p, _ := e.traceIDPrefix(); p != tc.idPrefix {
				t.Errorf("trace id prefix %q, want %q", p, tc.idPrefix)
			}
			// New's only I/O is the (bounded) lookup of the experiment's
			// Unity Catalog link, with what authenticating it takes.
			for _, r := range ws.Requests()[before:] {
				if !strings.HasPrefix(r.Path, "/api/2.0/mlflow/experiments/") && !strings.HasPrefix(r.Path, "/oidc/") && !strings.HasPrefix(r.Path, "/.well-known/") {
					t.Errorf("New sent %s %s to the workspace", r.Method, r.Path)
				}
			}
		})
	}
}

func TestDatabricksConfigErrors(t *testing.T) {
	none := map[string]string{"DATABRICKS_CONFIG_FILE": "/nonexistent/databrickscfg"}
	for _, tc := range []struct {
		name string
		env  map[string]string
		want []string
	}{
		{"no workspace", merge(none, map[string]string{envTrackingURI: "databricks", envExperimentID: "1"}),
			[]string{"DATABRICKS_HOST", "DATABRICKS_TOKEN", "DATABRICKS_CLIENT_ID"}},
		{"no experiment", merge(none, map[string]string{envTrackingURI: "databricks", "DATABRICKS_HOST": "h", "DATABRICKS_TOKEN": "dapi-s3cr3t-value"}),
			[]string{"MLFLOW_EXPERIMENT_ID", "MLFLOW_EXPERIMENT_NAME", "MLFLOW_TRACING_DESTINATION"}},
		{"half-set OAuth", merge(none, map[string]string{"DATABRICKS_HOST": "h", "DATABRICKS_CLIENT_SECRET": "dose-s3cr3t-value", envExperimentID: "1"}),
			[]string{"DATABRICKS_CLIENT_ID", "DATABRICKS_CLIENT_SECRET"}},
		{"table-prefix destination", map[string]string{envTracingDestination: "main.agents.prefix"},
			[]string{envTracingDestination, "<catalog>.<schema>"}},
		{"malformed destination", map[string]string{envTracingDestination: "a..b"},
			[]string{envTracingDestination}},
		{"secret-scope URI", map[string]string{envTrackingURI: "databricks://scope:prefix"},
			[]string{"databricks://<profile>"}},
	} {
		t.Run(tc.name, func(t *testing.T) {
			_, err := New(context.Background(), WithGetenv(envMap(tc.env)))
			if err == nil {
				t.Fatal("want an error")
			}
			for _, w := range tc.want {
				if !strings.Contains(err.Error(), w) {
					t.Errorf("error %q does not mention %q", err, w)
				}
			}
			if strings.Contains(err.Error(), "s3cr3t") {
				t.Errorf("error leaks a secret: %v", err)
			}
		})
	}
}

func TestTracingDestinationExperimentID(t *testing.T) {
	c, err := newConfig([]Option{WithGetenv(envMap(map[string]string{envTracingDestination: "42", envExperimentID: "7", envExperimentName: "n"}))})
	if err != nil {
		t.Fatal(err)
	}
	if c.ExperimentID != "42" || c.ExperimentName != "" || c.UCSchema != "" {
		t.Errorf("experiment %q name %q uc %q", c.ExperimentID, c.ExperimentName, c.UCSchema)
	}
}

type nopDest struct{}

func (nopDest) ExportTraces(context.Context, []*Trace) error { return nil }
func (nopDest) Shutdown(context.Context) error               { return nil }
