// Package envconfig is the one reader of the environment variables of
// mlflowtrace-go.
//
// Every variable the SDK reads is declared once, in vars.go, as a typed
// handle (String, Bool, Int, Duration, Float, Flag) that carries its name,
// its parsing rule, its default and the options that override it. Code reads
// a variable only through its handle and an Env (a getenv function, os.Getenv
// by default), so one variable has one rule everywhere: the rule of MLflow's
// mlflow/environment_variables.py (3.17.2) for MLflow's variables — integers
// are integers ("1.5" is an error, as int("1.5") is in Python), booleans are
// true/false/1/0 in any case, surrounding spaces are ignored — and the
// OpenTelemetry specification's for OTEL_* variables.
//
// A malformed value is an *Error naming the variable and what it wants,
// never the value itself (values are often credentials).
//
// All lists every handle; a test checks that the variable tables of the
// packages' doc.go files and of the README agree with it.
package envconfig
