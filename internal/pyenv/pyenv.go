package pyenv

import (
	"bytes"
	"context"
	"errors"
	"os"
	"os/exec"
	"path/filepath"
	"strings"
	"sync"
	"testing"
	"time"
)

// Environment variables read by this package.
const (
	EnvPython        = "MLFLOWTRACE_PYTHON"
	EnvPythonOld     = "MLFLOWTRACE_PYTHON_OLD"
	EnvRequireMLflow = "MLFLOWTRACE_REQUIRE_MLFLOW"
)

// RunTimeout bounds one Run call.
const RunTimeout = 5 * time.Minute

// Python returns the interpreter that has mlflow 3.17.2, or skips (fails
// when MLFLOWTRACE_REQUIRE_MLFLOW=1) when it is not installed.
func Python(t testing.TB) string {
	t.Helper()
	return lookup(t, EnvPython, ".venv")
}

// PythonOld returns the interpreter that has mlflow 3.3.2, or skips (fails
// when MLFLOWTRACE_REQUIRE_MLFLOW=1) when it is not installed.
func PythonOld(t testing.TB) string {
	t.Helper()
	return lookup(t, EnvPythonOld, ".venv-mlflow33")
}

// Required reports whether MLFLOWTRACE_REQUIRE_MLFLOW asks tests to fail
// instead of skipping when MLflow is unavailable.
func Required() bool {
	v := os.Getenv(EnvRequireMLflow)
	return v != "" && v != "0" && v != "false"
}

func lookup(t testing.TB, env, venv string) string {
	t.Helper()
	var py, where string
	if v := os.Getenv(env); v != "" {
		py, where = v, "$"+env
	} else {
		root, err := ModuleRoot()
		if err != nil {
			unavailable(t, "cannot find the module root: "+err.Error())
			return ""
		}
		py, where = filepath.Join(root, venv, "bin", "python"), "default path"
	}
	if _, err := os.Stat(py); err != nil {
		unavailable(t, "python interpreter "+py+" ("+where+") not found; run scripts/setup-python.sh or set "+env)
		return ""
	}
	return py
}

func unavailable(t testing.TB, msg string) {
	t.Helper()
	if Required() {
		t.Fatalf("pyenv: %s (%s=1 makes this a failure)", msg, EnvRequireMLflow)
	}
	t.Skipf("pyenv: %s", msg)
}

var (
	rootOnce sync.Once
	root     string
	rootErr  error
)

// ModuleRoot returns the directory holding the go.mod of mlflowtrace-go's
// root module, found by walking up from the working directory (past the
// go.mod of a nested module such as autoinstrument/genkit).
func ModuleRoot() (string, error) {
	rootOnce.Do(func() {
		dir, err := os.Getwd()
		if err != nil {
			rootErr = err
			return
		}
		for {
			if b, err := os.ReadFile(filepath.Join(dir, "go.mod")); err == nil && isRootModule(b) {
				root = dir
				return
			}
			parent := filepath.Dir(dir)
			if parent == dir {
				rootErr = errors.New("no go.mod above the working directory")
				return
			}
			dir = parent
		}
	})
	return root, rootErr
}

// rootModule is the module path of the repository's root module.
const rootModule = "github.com/mlflowtrace/mlflowtrace-go"

// isRootModule reports whether the go.mod text b declares rootModule.
func isRootModule(b []byte) bool {
	for _, line := range strings.Split(string(b), "\n") {
		if f := strings.Fields(line); len(f) == 2 && f[0] == "module" {
			return f[1] == rootModule
		}
	}
	return false
}

// Run runs script (Python source) with python, passing args as sys.argv[1:],
// and returns its stdout. The test fails with the script's stderr when it
// exits non-zero or runs longer than RunTimeout. MLFLOW_ALLOW_FILE_STORE=true
// is set so scripts may open a file store with MLflow ≥ 3.13.
func Run(t testing.TB, python string, script string, args ...string) []byte {
	t.Helper()
	out, stderr, err := run(python, script, args...)
	if err != nil {
		t.Fatalf("pyenv: python script failed: %v\nstderr:\n%s\nstdout:\n%s", err, stderr, out)
	}
	return out
}

// RunErr is Run that returns the error (with stderr in its message) instead
// of failing the test.
func RunErr(python string, script string, args ...string) ([]byte, error) {
	out, stderr, err := run(python, script, args...)
	if err != nil {
		return out, &ScriptError{Err: err, Stderr: string(stderr)}
	}
	return out, nil
}

// ScriptError is returned by RunErr when the script fails.
type ScriptError struct {
	Err    error
	Stderr string
}

func (e *ScriptError) Error() string {
	return "python script failed: " + e.Err.Error() + "\n" + e.Stderr
}
func (e *ScriptError) Unwrap() error { return e.Err }

func run(python, script string, args ...string) ([]byte, []byte, error) {
	ctx, cancel := context.WithTimeout(context.Background(), RunTimeout)
	defer cancel()
	cmd := exec.CommandContext(ctx, python, append([]string{"-c", script}, args...)...)
	cmd.Env = append(os.Environ(), "MLFLOW_ALLOW_FILE_STORE=true", "PYTHONUNBUFFERED=1", "PYTHONIOENCODING=utf-8")
	var stdout, stderr bytes.Buffer
	cmd.Stdout, cmd.Stderr = &stdout, &stderr
	err := cmd.Run()
	return stdout.Bytes(), stderr.Bytes(), err
}
