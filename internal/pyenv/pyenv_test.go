package pyenv_test

import (
	"os"
	"path/filepath"
	"strings"
	"testing"

	"github.com/mlflowtrace/mlflowtrace-go/internal/pyenv"
)

func TestModuleRoot(t *testing.T) {
	root, err := pyenv.ModuleRoot()
	if err != nil {
		t.Fatal(err)
	}
	if _, err := os.Stat(filepath.Join(root, "go.mod")); err != nil {
		t.Fatalf("no go.mod in %s", root)
	}
}

func TestMissingInterpreterSkips(t *testing.T) {
	t.Setenv(pyenv.EnvPython, filepath.Join(t.TempDir(), "nope"))
	t.Setenv(pyenv.EnvRequireMLflow, "")
	skipped := false
	t.Run("inner", func(t *testing.T) {
		defer func() { skipped = t.Skipped() }()
		pyenv.Python(t)
	})
	if !skipped {
		t.Fatal("expected the subtest to be skipped")
	}
}

func TestRun(t *testing.T) {
	py := pyenv.Python(t)
	out := pyenv.Run(t, py, "import sys; print('|'.join(sys.argv[1:]))", "a", "b c")
	if got := strings.TrimSpace(string(out)); got != "a|b c" {
		t.Fatalf("got %q", got)
	}
	if _, err := pyenv.RunErr(py, "import sys; sys.stderr.write('boom'); sys.exit(3)"); err == nil || !strings.Contains(err.Error(), "boom") {
		t.Fatalf("want error with stderr, got %v", err)
	}
}

func TestMLflowVersion(t *testing.T) {
	for _, c := range []struct {
		name string
		py   func(testing.TB) string
		want string
	}{
		{"current", pyenv.Python, "3.17.2"},
		{"old", pyenv.PythonOld, "3.3.2"},
	} {
		t.Run(c.name, func(t *testing.T) {
			py := c.py(t)
			// importlib.metadata answers without importing mlflow (seconds faster).
			out := pyenv.Run(t, py, "import importlib.metadata as m; print(m.version('mlflow'))")
			if got := strings.TrimSpace(string(out)); got != c.want {
				t.Fatalf("mlflow version %q, want %q", got, c.want)
			}
		})
	}
}
