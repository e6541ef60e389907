package exporter

import (
	"context"
	"strings"
	"testing"
	"time"

	"github.com/mlflowtrace/mlflowtrace-go/internal/envconfig"
	"github.com/mlflowtrace/mlflowtrace-go/internal/localstore"
	"github.com/mlflowtrace/mlflowtrace-go/internal/settings"
)

// Variable names, for the tests' tables.
var (
	envTrackingURI          = envconfig.TrackingURI.Name
	envExperimentID         = envconfig.ExperimentID.Name
	envExperimentName       = envconfig.ExperimentName.Name
	envTracingDestination   = envconfig.TracingDestination.Name
	envAsyncLogging         = envconfig.AsyncLogging.Name
	envMaxWorkers           = envconfig.MaxWorkers.Name
	envMaxQueueSize         = envconfig.MaxQueueSize.Name
	envMaxSpanBatchSize     = envconfig.MaxSpanBatchSize.Name
	envMaxIntervalMillis    = envconfig.MaxInterval.Name
	envRetryTimeout         = envconfig.RetryTimeout.Name
	envTraceTimeout         = envconfig.TraceTimeout.Name
	envTimeoutCheckInterval = envconfig.TimeoutCheckInterval.Name
	envBufferTTL            = envconfig.BufferTTL.Name
	envBufferMaxSize        = envconfig.BufferMaxSize.Name
)

// newConfig resolves opts as New does.
func newConfig(opts []Option) (settings.Settings, error) {
	s, err := settings.Resolve(opts...)
	if err != nil {
		return settings.Settings{}, err
	}
	return *s, nil
}

type config = settings.Settings

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
				if c.MaxWorkers != 10 || c.MaxQueueSize != 1000 || c.BatchSize != 5 ||
					c.BatchInterval != 5*time.Second || c.RetryTimeout != 500*time.Second ||
					c.TraceTimeout != 0 || c.BufferTTL != time.Hour || c.MaxOpenTraces != 1000 ||
					c.MaxSpansPerTrace != 10000 || c.PreviewMaxChars != 1000 || !c.AsyncLogging ||
					c.TimeoutCheck != time.Second {
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
				if c.TrackingURI != "http://127.0.0.1:5000" || c.ExperimentID != "7" || c.ExperimentName != "agents" ||
					c.MaxWorkers != 3 || c.MaxQueueSize != 50 || c.BatchSize != 20 ||
					c.BatchInterval != 250*time.Millisecond || c.RetryTimeout != 9*time.Second ||
					c.TraceTimeout != 30*time.Second || c.TimeoutCheck != 2*time.Second ||
					c.BufferTTL != 2*time.Minute || c.MaxOpenTraces != 64 {
					t.Errorf("config = %+v", c)
				}
			},
		},
		{
			name: "options override env",
			env:  map[string]string{envMaxWorkers: "3", envMaxQueueSize: "50", envTrackingURI: "/tmp/a"},
			opts: []Option{WithMaxWorkers(4), WithTrackingURI("/tmp/b"), WithBatchInterval(time.Second),
				WithTraceTimeout(time.Minute), WithMaxOpenTraces(5), WithMaxSpansPerTrace(6), WithPreviewMaxChars(10000),
				WithRetryTimeout(time.Second), WithBatchSize(2), WithExperimentID("1"), WithExperimentName("n")},
			check: func(t *testing.T, c config) {
				if c.MaxWorkers != 4 || c.MaxQueueSize != 50 || c.TrackingURI != "/tmp/b" ||
					c.BatchInterval != time.Second || c.TraceTimeout != time.Minute || c.MaxOpenTraces != 5 ||
					c.MaxSpansPerTrace != 6 || c.PreviewMaxChars != 10000 || c.RetryTimeout != time.Second ||
					c.BatchSize != 2 || c.ExperimentID != "1" || c.ExperimentName != "n" {
					t.Errorf("config = %+v", c)
				}
			},
		},
		{
			name: "async off means one worker",
			env:  map[string]string{envAsyncLogging: "False", envMaxWorkers: "8"},
			check: func(t *testing.T, c config) {
				if c.AsyncLogging || c.MaxWorkers != 1 {
					t.Errorf("async %v workers %d", c.AsyncLogging, c.MaxWorkers)
				}
			},
		},
		{
			name: "async 1",
			env:  map[string]string{envAsyncLogging: "1"},
			check: func(t *testing.T, c config) {
				if !c.AsyncLogging || c.MaxWorkers != 10 {
					t.Errorf("async %v workers %d", c.AsyncLogging, c.MaxWorkers)
				}
			},
		},
		{
			name: "timeout 0 is off",
			env:  map[string]string{envTraceTimeout: "0"},
			check: func(t *testing.T, c config) {
				if c.TraceTimeout != 0 {
					t.Errorf("traceTimeout = %v", c.TraceTimeout)
				}
			},
		},
		{
			name: "nil options and nil handler ignored",
			opts: []Option{nil, WithErrorHandler(nil), WithGetenv(nil), WithDestination(nil)},
			check: func(t *testing.T, c config) {
				if c.ErrorHandler == nil || c.Env.Getenv() == nil || c.CustomTraces != nil {
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
		{"MLFLOW_HTTP_REQUEST_BACKOFF_FACTOR", "0.5"}, // an int in MLflow
		{"MLFLOW_HTTP_REQUEST_TIMEOUT", "1.5"},
		{"MLFLOW_TRACKING_INSECURE_TLS", "yes"},
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
		WithRetryTimeout(0), WithTraceTimeout(-time.Second), WithMaxOpenTraces(0), WithMaxSpansPerTrace(0), WithPreviewMaxChars(3)} {
		if _, err := newConfig([]Option{WithGetenv(envMap(nil)), o}); err == nil {
			t.Errorf("option %T accepted an invalid value", o)
		}
	}
}

func TestParseTrackingURI(t *testing.T) {
	tests := []struct {
		uri      string
		kind     settings.Kind
		root     string
		errMatch string
	}{
		{"", settings.Local, "mlruns", ""},
		{"  ", settings.Local, "mlruns", ""},
		{"./runs", settings.Local, "./runs", ""},
		{"/var/mlruns", settings.Local, "/var/mlruns", ""},
		{"file:///var/mlruns", settings.Local, "/var/mlruns", ""},
		{"file://localhost/var/mlruns", settings.Local, "/var/mlruns", ""},
		{"file:relative/dir", settings.Local, "relative/dir", ""},
		{`C:\mlruns`, settings.Local, `C:\mlruns`, ""},
		{"http://127.0.0.1:5000", settings.Server, "", ""},
		{"HTTPS://mlflow.example.com", settings.Server, "", ""},
		{"databricks", settings.Databricks, "", ""},
		{"Databricks", settings.Databricks, "", ""},
		{"databricks://profile", settings.Databricks, "profile", ""},
		{"databricks-uc", settings.Databricks, "", ""},
		{"databricks-uc://prod/", settings.Databricks, "prod", ""},
		{"databricks://scope:secret-prefix", 0, "", "<scope>:<prefix> tracking URIs are not supported"},
		// MLflow's get_db_info_from_uri: the profile is the host part.
		{"databricks://prof/experiments/1?o=2", settings.Databricks, "prof", ""},
		{"DATABRICKS://Prof", settings.Databricks, "Prof", ""},
		{"databricks://", 0, "", "no netloc in URI"},
		{"databricks:prof", 0, "", "no netloc in URI"},
		{"databricks://my prof", 0, "", "Profile names cannot contain ' '"},
		{"uc:catalog.schema", 0, "", "model registry URI"},
		{"sqlite:///mlflow.db", 0, "", `scheme "sqlite" is not supported`},
		{"file://host/share", 0, "", "remote host"},
		{"postgresql://user:secret@db/mlflow", 0, "", "postgresql"},
		// An http(s) URI with a typo is a server URI that does not parse
		// (MLflow picks the store by scheme), never a directory "http:".
		{"http://127.0.0.1:50OO", 0, "", `not a valid URL: invalid port ":50OO" after host`},
		{"https://user:secret@example.com:44x3/", 0, "", "not a valid URL: invalid port"},
		{"http://user:secret@bad host/", 0, "", "not a valid URL: invalid character"},
		{"a1+b.c-d://x:9x", 0, "", "not a valid URL"},
		{`C://mlruns`, settings.Local, `C://mlruns`, ""},
		{"not a url ://", settings.Local, "not a url ://", ""},
	}
	for _, tt := range tests {
		t.Run(tt.uri, func(t *testing.T) {
			kind, root, err := settings.ParseTrackingURI(tt.uri)
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
	st, ok := e.route.dest.(*localstore.Store)
	if !ok || st.Root() != dir {
		t.Errorf("dest = %T root %v, want local store at %s", e.route.dest, e.route.dest, dir)
	}
	if err := e.Shutdown(ctx); err != nil {
		t.Fatal(err)
	}

	_, err = New(ctx, WithGetenv(envMap(map[string]string{envTrackingURI: "databricks", "DATABRICKS_CONFIG_FILE": dir + "/none"})))
	if err == nil || !strings.Contains(err.Error(), "DATABRICKS_HOST") {
		t.Errorf("New(databricks) without a workspace = %v", err)
	}
}
