// Package mlflowtest starts a real `mlflow server` for tests: the project
// venv's MLflow (package internal/pyenv decides where it is, and whether a
// missing venv skips or fails the test), bound to a free 127.0.0.1 port,
// with a sqlite backend (or a FileStore) and served artifacts in a
// temporary directory.
//
// Start-up takes seconds, so share one server per test package:
//
//	func TestMain(m *testing.M) { os.Exit(mlflowtest.Main(m)) }
//	func TestX(t *testing.T) { srv := mlflowtest.Shared(t); ... srv.URL ... }
//
// StartServer gives a test its own server, stopped in t.Cleanup.
package mlflowtest

import (
	"bytes"
	"context"
	"errors"
	"fmt"
	"io"
	"net"
	"net/http"
	"os"
	"os/exec"
	"path/filepath"
	"strconv"
	"strings"
	"sync"
	"syscall"
	"testing"
	"time"

	"go.uber.org/goleak"

	"github.com/mlflowtrace/mlflowtrace-go/internal/pyenv"
)

// StartTimeout bounds how long a server may take to answer /health.
const StartTimeout = 3 * time.Minute

// Server is a running mlflow server.
type Server struct {
	// URL is the tracking URI, http://127.0.0.1:<port>.
	URL string
	// Python is the interpreter whose MLflow runs the server (use it to run
	// MlflowClient scripts against URL).
	Python string
	// Dir holds the backend store (mlflow.db or mlruns/) and artifacts/.
	Dir string
	// BackendURI and ArtifactsDir as passed to `mlflow server`.
	BackendURI   string
	ArtifactsDir string
	// Version is what GET /version answered.
	Version string

	cmd     *exec.Cmd
	done    chan struct{}
	logPath string
	rmDir   bool
	stopped sync.Once
}

type options struct {
	old       bool
	fileStore bool
	env       []string
	args      []string
}

// Option configures StartServer and Shared.
type Option func(*options)

// Old runs the old MLflow (3.3.2, pyenv.PythonOld): no OTLP /v1/traces route.
func Old() Option { return func(o *options) { o.old = true } }

// FileStore uses a FileStore backend (./mlruns layout) instead of sqlite:
// the server answers 501 on /v1/traces.
func FileStore() Option { return func(o *options) { o.fileStore = true } }

// Env adds KEY=VALUE entries to the server's environment.
func Env(kv ...string) Option { return func(o *options) { o.env = append(o.env, kv...) } }

// Args adds arguments to `mlflow server`.
func Args(a ...string) Option { return func(o *options) { o.args = append(o.args, a...) } }

func (o options) key() string {
	return fmt.Sprintf("old=%v fs=%v env=%q args=%q", o.old, o.fileStore, o.env, o.args)
}

// StartServer starts a server for this test; it is stopped in t.Cleanup.
func StartServer(t testing.TB, opts ...Option) *Server {
	t.Helper()
	var o options
	for _, opt := range opts {
		opt(&o)
	}
	py := interpreter(t, o)
	s, err := start(py, t.TempDir(), false, o)
	if err != nil {
		t.Fatalf("mlflowtest: %v", err)
	}
	t.Cleanup(s.Stop)
	return s
}

var (
	sharedMu sync.Mutex
	shared   = map[string]*sharedEntry{}
)

type sharedEntry struct {
	once sync.Once
	srv  *Server
	err  error
}

// Shared returns the package's server for these options, starting it on
// first use. Stop shared servers with StopShared (Main does it).
func Shared(t testing.TB, opts ...Option) *Server {
	t.Helper()
	var o options
	for _, opt := range opts {
		opt(&o)
	}
	py := interpreter(t, o)
	sharedMu.Lock()
	e := shared[o.key()]
	if e == nil {
		e = &sharedEntry{}
		shared[o.key()] = e
	}
	sharedMu.Unlock()
	e.once.Do(func() {
		dir, err := os.MkdirTemp("", "mlflowtest-")
		if err != nil {
			e.err = err
			return
		}
		e.srv, e.err = start(py, dir, true, o)
		if e.err != nil {
			_ = os.RemoveAll(dir)
		}
	})
	if e.err != nil {
		t.Fatalf("mlflowtest: %v", e.err)
	}
	return e.srv
}

// StopShared stops every server started by Shared.
func StopShared() {
	sharedMu.Lock()
	defer sharedMu.Unlock()
	for k, e := range shared {
		if e.srv != nil {
			e.srv.Stop()
		}
		delete(shared, k)
	}
}

// Main runs the tests, stops the shared servers and, when the tests
// passed, fails if a goroutine is left (goleak):
// func TestMain(m *testing.M) { os.Exit(mlflowtest.Main(m)) }.
func Main(m *testing.M) int {
	code := m.Run()
	StopShared()
	if code == 0 {
		if err := goleak.Find(); err != nil {
			fmt.Fprintln(os.Stderr, "goleak:", err)
			return 1
		}
	}
	return code
}

func interpreter(t testing.TB, o options) string {
	t.Helper()
	if o.old {
		return pyenv.PythonOld(t)
	}
	return pyenv.Python(t)
}

func freePort() (int, error) {
	l, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		return 0, err
	}
	defer l.Close()
	return l.Addr().(*net.TCPAddr).Port, nil
}

func start(py, dir string, rmDir bool, o options) (*Server, error) {
	var lastErr error
	for range 3 { // the free port may be taken between Listen and bind
		s, err := startOnce(py, dir, rmDir, o)
		if err == nil {
			return s, nil
		}
		lastErr = err
		if !errors.Is(err, errExited) {
			break
		}
	}
	if rmDir {
		_ = os.RemoveAll(dir)
	}
	return nil, lastErr
}

var errExited = errors.New("mlflow server exited")

func startOnce(py, dir string, rmDir bool, o options) (*Server, error) {
	port, err := freePort()
	if err != nil {
		return nil, err
	}
	s := &Server{
		URL:          "http://127.0.0.1:" + strconv.Itoa(port),
		Python:       py,
		Dir:          dir,
		ArtifactsDir: filepath.Join(dir, "artifacts"),
		logPath:      filepath.Join(dir, fmt.Sprintf("server-%d.log", port)),
		rmDir:        rmDir,
		done:         make(chan struct{}),
	}
	if o.fileStore {
		s.BackendURI = "file://" + filepath.Join(dir, "mlruns")
	} else {
		s.BackendURI = "sqlite:///" + filepath.Join(dir, "mlflow.db")
	}
	logf, err := os.Create(s.logPath)
	if err != nil {
		return nil, err
	}
	args := []string{"-m", "mlflow", "server",
		"--host", "127.0.0.1", "--port", strconv.Itoa(port),
		"--backend-store-uri", s.BackendURI,
		"--artifacts-destination", s.ArtifactsDir,
		"--workers", "1",
	}
	args = append(args, o.args...)
	cmd := exec.Command(py, args...)
	cmd.Dir = dir
	cmd.Env = append(os.Environ(),
		"MLFLOW_ALLOW_FILE_STORE=true",
		"MLFLOW_DISABLE_TELEMETRY=true", "DO_NOT_TRACK=true",
		"PYTHONUNBUFFERED=1",
		// The job runner (a huey consumer per job queue: online scoring,
		// archival, evaluation) plays no part in what these tests check and
		// is five more Python processes per server.
		"MLFLOW_SERVER_ENABLE_JOB_EXECUTION=false",
	)
	cmd.Env = append(cmd.Env, o.env...)
	cmd.Stdout, cmd.Stderr = logf, logf
	// Own process group, so Stop reaches uvicorn/gunicorn workers too; the
	// kernel kills the server if the test binary dies.
	cmd.SysProcAttr = &syscall.SysProcAttr{Setpgid: true, Pdeathsig: syscall.SIGKILL}
	if err := cmd.Start(); err != nil {
		logf.Close()
		return nil, err
	}
	s.cmd = cmd
	go func() {
		_ = cmd.Wait()
		logf.Close()
		close(s.done)
	}()
	if err := s.waitHealthy(); err != nil {
		s.rmDir = false // start may retry in the same dir; it removes it on final failure
		s.Stop()
		return nil, fmt.Errorf("%w\n--- server log (tail) ---\n%s", err, s.LogTail(4000))
	}
	return s, nil
}

func (s *Server) waitHealthy() error {
	deadline := time.Now().Add(StartTimeout)
	hc := &http.Client{Timeout: 2 * time.Second}
	defer hc.CloseIdleConnections()
	for time.Now().Before(deadline) {
		select {
		case <-s.done:
			return errExited
		default:
		}
		if resp, err := hc.Get(s.URL + "/version"); err == nil {
			b, _ := io.ReadAll(io.LimitReader(resp.Body, 1024))
			resp.Body.Close()
			if resp.StatusCode == 200 {
				s.Version = strings.TrimSpace(string(b))
				return nil
			}
		}
		time.Sleep(100 * time.Millisecond)
	}
	return errors.New("mlflow server did not become healthy in time")
}

// LogTail returns the last n bytes of the server's log.
func (s *Server) LogTail(n int) string {
	b, err := os.ReadFile(s.logPath)
	if err != nil {
		return ""
	}
	if len(b) > n {
		b = b[len(b)-n:]
	}
	return string(b)
}

// Stop terminates the server's process group (SIGTERM, then SIGKILL after
// 10 s) and waits for it. It is idempotent.
func (s *Server) Stop() {
	s.stopped.Do(func() {
		if s.cmd != nil && s.cmd.Process != nil {
			pgid := s.cmd.Process.Pid
			_ = syscall.Kill(-pgid, syscall.SIGTERM)
			select {
			case <-s.done:
			case <-time.After(10 * time.Second):
				_ = syscall.Kill(-pgid, syscall.SIGKILL)
				<-s.done
			}
			// Workers that outlived the leader.
			_ = syscall.Kill(-pgid, syscall.SIGKILL)
		}
		if s.rmDir {
			_ = os.RemoveAll(s.Dir)
		}
	})
}

// RunPython runs script with the server's interpreter, MLFLOW_TRACKING_URI
// set to the server, and returns stdout (the test fails on error).
func (s *Server) RunPython(t testing.TB, script string, args ...string) []byte {
	t.Helper()
	ctx, cancel := context.WithTimeout(context.Background(), pyenv.RunTimeout)
	defer cancel()
	cmd := exec.CommandContext(ctx, s.Python, append([]string{"-c", script}, args...)...)
	cmd.Env = append(os.Environ(), "MLFLOW_TRACKING_URI="+s.URL, "PYTHONUNBUFFERED=1", "PYTHONIOENCODING=utf-8",
		"MLFLOW_DISABLE_TELEMETRY=true", "DO_NOT_TRACK=true")
	var stdout, stderr bytes.Buffer
	cmd.Stdout, cmd.Stderr = &stdout, &stderr
	if err := cmd.Run(); err != nil {
		t.Fatalf("mlflowtest: python failed: %v\nstderr:\n%s\nstdout:\n%s", err, stderr.Bytes(), stdout.Bytes())
	}
	return stdout.Bytes()
}

// ExperimentID returns the id of the experiment named name, as MLflow's
// client finds it.
func (s *Server) ExperimentID(t testing.TB, name string) string {
	t.Helper()
	return strings.TrimSpace(string(s.RunPython(t,
		`import sys, mlflow; print(mlflow.MlflowClient().get_experiment_by_name(sys.argv[1]).experiment_id)`, name)))
}

// PID returns the server's process id (its process group id too).
func (s *Server) PID() int {
	if s.cmd == nil || s.cmd.Process == nil {
		return 0
	}
	return s.cmd.Process.Pid
}
