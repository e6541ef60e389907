package mlflowtest_test

import (
	"net/http"
	"os"
	"strings"
	"syscall"
	"testing"

	"github.com/mlflowtrace/mlflowtrace-go/internal/mlflowtest"
)

func TestMain(m *testing.M) { os.Exit(mlflowtest.Main(m)) }

func TestServers(t *testing.T) {
	for _, tc := range []struct {
		name    string
		opts    []mlflowtest.Option
		version string
		otlp    int // status of POST /v1/traces without a body
	}{
		{"new", nil, "3.17", 400},
		{"old", []mlflowtest.Option{mlflowtest.Old()}, "3.3", 404},
	} {
		t.Run(tc.name, func(t *testing.T) {
			t.Parallel()
			srv := mlflowtest.Shared(t, tc.opts...)
			if !strings.HasPrefix(srv.Version, tc.version) {
				t.Errorf("version %q, want %s.x", srv.Version, tc.version)
			}
			req, _ := http.NewRequest("POST", srv.URL+"/v1/traces", nil)
			req.Header.Set("Content-Type", "application/x-protobuf")
			req.Header.Set("x-mlflow-experiment-id", "0")
			resp, err := http.DefaultClient.Do(req)
			if err != nil {
				t.Fatal(err)
			}
			resp.Body.Close()
			if resp.StatusCode != tc.otlp {
				t.Errorf("POST /v1/traces = %d, want %d", resp.StatusCode, tc.otlp)
			}
			out := srv.RunPython(t, `import mlflow; print(mlflow.MlflowClient().get_experiment("0").name)`)
			if strings.TrimSpace(string(out)) != "Default" {
				t.Errorf("default experiment = %q", out)
			}
		})
	}
}

func TestStartServerStops(t *testing.T) {
	var srv *mlflowtest.Server
	t.Run("run", func(t *testing.T) {
		srv = mlflowtest.StartServer(t, mlflowtest.FileStore())
		if !strings.HasPrefix(srv.BackendURI, "file://") {
			t.Errorf("backend %q", srv.BackendURI)
		}
	})
	if srv == nil {
		return
	}
	if _, err := http.Get(srv.URL + "/health"); err == nil {
		t.Error("server still answers after cleanup")
	}
	if err := syscall.Kill(-srv.PID(), 0); err == nil {
		t.Error("process group still alive")
	}
}
