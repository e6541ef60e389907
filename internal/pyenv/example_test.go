package pyenv_test

import (
	"fmt"
	"testing"

	"github.com/mlflowtrace/mlflowtrace-go/internal/pyenv"
)

func ExampleRun() {
	// In a test: find the interpreter (skips when not installed) and run a script.
	test := func(t *testing.T) {
		py := pyenv.Python(t)
		out := pyenv.Run(t, py, "import mlflow; print(mlflow.__version__)")
		fmt.Println(string(out))
	}
	_ = test
}
