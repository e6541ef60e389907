package exporter

import (
	"context"
	"strings"
	"testing"
	"time"

	"github.com/mlflowtrace/mlflowtrace-go/internal/localstore"
)

func envMap(m map[string]string) func(string) string {
	return func(k string) string { return m[k] }
}

func TestConfigFromEnv(t *testing.T) {
	tests := []struct {
		name  string
		env   map[string]string
		opts  []Option
		check func(t *testing.T, c config)
	}{
		{
			name: "defaults",
			check: func(t *testing.T, c config) {
				if c.maxWorkers != 10 || c.maxQueueSize != 1000 || c.batchSize != 5 ||
					c.batchInterval != 5*time.Second || c.exportTimeout != 500*time.Second ||
					c.traceTimeout != 0 || c.bufferTTL != time.Hour || c.maxOpenTraces != 1000 ||
					c.maxSpansPerTrace != 10000 || c.previewMaxChars != 1000 || !c.asyncLogging ||
					c.timeoutCheckInterval != time.Second {
					t.Errorf("defaults = %+v", c)
				}
			},
		},
		{
			name: "env",
			env: map[string]string{
				envTrackingURI: " http://127.0.0.1:5000 ", envExperimentID: "7", envExperimentName: "agents",
				envMaxWorkers: "3", envMaxQueueSize: "50", envMaxSpanBatchSize: "20", envMaxIntervalMillis: "250",
				envRetryTimeout: "9", envTraceTimeout: "30", envTimeoutCheckInterval: "2",
				envBufferTTL: "120", envBufferMaxSize: "64",
			},
			check: func(t *testing.T, c config) {
				if c.trackingURI != "http://127.0.0.1:5000" || c.experimentID != "7" || c.experimentName != "agents" ||
					c.maxWorkers != 3 || c.maxQueueSize != 50 || c.batchSize != 20 ||
					c.batchInterval != 250*time.Millisecond || c.exportTimeout != 9*time.Second ||
					c.traceTimeout != 30*time.Second || c.timeoutCheckInterval != 2*time.Second ||
					c.bufferTTL != 2*time.Minute || c.maxOpenTraces != 64 {
					t.Errorf("config = %+v", c)
				}
			},
		},
		{
			name: "options override env",
			env:  map[string]string{envMaxWorkers: "3", envMaxQueueSize: "50", envTrackingURI: "/tmp/a"},
			opts: []Option{WithMaxWorkers(4), WithTrackingURI("/tmp/b"), WithBatchInterval(time.Second),
				WithTraceTimeout(time.Minute), WithMaxOpenTraces(5), WithMaxSpansPerTrace(6), WithPreviewMaxChars(10000),
				WithExportTimeout(time.Second), WithBatchSize(2), WithExperimentID("1"), WithExperimentName("n")},
			check: func(t *testing.T, c config) {
				if c.maxWorkers != 4 || c.maxQueueSize != 50 || c.trackingURI != "/tmp/b" ||
					c.batchInterval != time.Second || c.traceTimeout != time.Minute || c.maxOpenTraces != 5 ||
					c.maxSpansPerTrace != 6 || c.previewMaxChars != 10000 || c.exportTimeout != time.Second ||
					c.batchSize != 2 || c.experimentID != "1" || c.experimentName != "n" {
					t.Errorf("config = %+v", c)
				}
			},
		},
		{
			name: "async off means one worker",
			env:  map[string]string{envAsyncLogging: "False", envMaxWorkers: "8"},
			check: func(t *testing.T, c config) {
				if c.asyncLogging || c.maxWorkers != 1 {
					t.Errorf("async %v workers %d", c.asyncLogging, c.maxWorkers)
				}
			},
		},
		{
			name: "async 1",
			env:  map[string]string{envAsyncLogging: "1"},
			check: func(t *testing.T, c config) {
				if !c.asyncLogging || c.maxWorkers != 10 {
					t.Errorf("async %v workers %d", c.asyncLogging, c.maxWorkers)
				}
			},
		},
		{
			name: "timeout 0 is off",
			env:  map[string]string{envTraceTimeout: "0"},
			check: func(t *testing.T, c config) {
				if c.traceTimeout != 0 {
					t.Errorf("traceTimeout = %v", c.traceTimeout)
				}
			},
		},
		{
			name: "nil options and nil handler ignored",
			opts: []Option{nil, WithErrorHandler(nil), WithGetenv(nil), WithDestination(nil)},
			check: func(t *testing.T, c config) {
				if c.errorHandler == nil || c.getenv == nil || c.dest != nil {
					t.Errorf("config = %+v", c)
				}
			},
		},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			c, err := newConfig(append([]Option{WithGetenv(envMap(tt.env))}, tt.opts...))
			if err != nil {
				t.Fatalf("newConfig: %v", err)
			}
			tt.check(t, c)
		})
	}
}

func TestMalformedEnvNamesTheVariable(t *testing.T) {
	tests := []struct{ name, value string }{
		{envAsyncLogging, "yes"},
		{envMaxWorkers, "ten"},
		{envMaxWorkers, "0"},
		{envMaxQueueSize, "-1"},
		{envMaxSpanBatchSize, "1.5"},
		{envMaxIntervalMillis, "5s"},
		{envMaxIntervalMillis, "-5"},
		{envRetryTimeout, "0"},
		{envTraceTimeout, "-3"},
		{envTraceTimeout, "1m"},
		{envTimeoutCheckInterval, "0"},
		{envBufferTTL, "forever"},
		{envBufferMaxSize, "0"},
	}
	for _, tt := range tests {
		t.Run(tt.name+"="+tt.value, func(t *testing.T) {
			_, err := New(context.Background(), WithGetenv(envMap(map[string]string{tt.name: tt.value})),
				WithTrackingURI(t.TempDir()))
			if err == nil || !strings.Contains(err.Error(), tt.name) {
				t.Fatalf("New error = %v, want one naming %s", err, tt.name)
			}
		})
	}
}

func TestInvalidOptions(t *testing.T) {
	for _, o := range []Option{WithMaxQueueSize(0), WithMaxWorkers(-1), WithBatchSize(0), WithBatchInterval(-time.Second),
		WithExportTimeout(0), WithTraceTimeout(-time.Second), WithMaxOpenTraces(0), WithMaxSpansPerTrace(0), WithPreviewMaxChars(3)} {
		if _, err := newConfig([]Option{WithGetenv(envMap(nil)), o}); err == nil {
			t.Errorf("option %T accepted an invalid value", o)
		}
	}
}

func TestParseTrackingURI(t *testing.T) {
	tests := []struct {
		uri      string
		kind     destKind
		root     string
		errMatch string
	}{
		{"", destLocal, "mlruns", ""},
		{"  ", destLocal, "mlruns", ""},
		{"./runs", destLocal, "./runs", ""},
		{"/var/mlruns", destLocal, "/var/mlruns", ""},
		{"file:///var/mlruns", destLocal, "/var/mlruns", ""},
		{"file://localhost/var/mlruns", destLocal, "/var/mlruns", ""},
		{"file:relative/dir", destLocal, "relative/dir", ""},
		{`C:\mlruns`, destLocal, `C:\mlruns`, ""},
		{"http://127.0.0.1:5000", destServer, "", ""},
		{"HTTPS://mlflow.example.com", destServer, "", ""},
		{"databricks", destDatabricks, "", ""},
		{"Databricks", destDatabricks, "", ""},
		{"databricks://profile", destDatabricks, "profile", ""},
		{"databricks-uc", destDatabricks, "", ""},
		{"databricks-uc://prod/", destDatabricks, "prod", ""},
		{"databricks://scope:secret-prefix", 0, "", "<scope>:<prefix> tracking URIs are not supported"},
		{"uc:catalog.schema", 0, "", "model registry URI"},
		{"sqlite:///mlflow.db", 0, "", `scheme "sqlite" is not supported`},
		{"file://host/share", 0, "", "remote host"},
		{"postgresql://user:secret@db/mlflow", 0, "", "postgresql"},
	}
	for _, tt := range tests {
		t.Run(tt.uri, func(t *testing.T) {
			kind, root, err := parseTrackingURI(tt.uri)
			if tt.errMatch != "" {
				if err == nil || !strings.Contains(err.Error(), tt.errMatch) {
					t.Fatalf("err = %v, want %q", err, tt.errMatch)
				}
				if strings.Contains(err.Error(), "secret") {
					t.Fatalf("error leaks the URI: %v", err)
				}
				return
			}
			if err != nil || kind != tt.kind || root != tt.root {
				t.Fatalf("= %v %q %v, want %v %q", kind, root, err, tt.kind, tt.root)
			}
		})
	}
}

func TestDestinationSelection(t *testing.T) {
	ctx := context.Background()
	dir := t.TempDir()
	e, err := New(ctx, WithGetenv(envMap(map[string]string{envTrackingURI: "file://" + dir})))
	if err != nil {
		t.Fatalf("New(file:): %v", err)
	}
	st, ok := e.dest.(*localstore.Store)
	if !ok || st.Root() != dir {
		t.Errorf("dest = %T root %v, want local store at %s", e.dest, e.dest, dir)
	}
	if err := e.Shutdown(ctx); err != nil {
		t.Fatal(err)
	}

	_, err = New(ctx, WithGetenv(envMap(map[string]string{envTrackingURI: "databricks", "DATABRICKS_CONFIG_FILE": dir + "/none"})))
	if err == nil || !strings.Contains(err.Error(), "DATABRICKS_HOST") {
		t.Errorf("New(databricks) without a workspace = %v", err)
	}
}
