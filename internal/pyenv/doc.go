// Package pyenv finds the project's Python interpreters for tests that check
// our output against the real MLflow, and runs inline Python scripts.
//
// Lookup rule (shared by every test in the module):
//
//   - Python: $MLFLOWTRACE_PYTHON, else <module root>/.venv/bin/python
//     (mlflow 3.17.2, installed by scripts/setup-python.sh).
//   - PythonOld: $MLFLOWTRACE_PYTHON_OLD, else <module root>/.venv-mlflow33/bin/python
//     (mlflow 3.3.2, an old server without the OTLP route).
//
// When the interpreter is missing the test is skipped with a message that
// says how to install it, unless MLFLOWTRACE_REQUIRE_MLFLOW=1, in which case
// the test fails (that is how `make test` and CI run).
package pyenv
