// Command mlflowtrace is `mlflow traces …` of MLflow 3.17.2 without Python:
// it searches, reads, tags and deletes traces and logs, reads, updates and
// deletes assessments on the destination MLflow's tracking URI names
// (./mlruns, an MLflow tracking server, a Databricks workspace), configured
// by the same environment as the SDK (MLFLOW_TRACKING_URI,
// MLFLOW_EXPERIMENT_ID, MLFLOW_TRACKING_TOKEN, DATABRICKS_HOST, ...).
//
//	mlflowtrace traces search --experiment-id 1 --filter-string "status = 'OK'" --output json
//	mlflowtrace traces get --trace-id tr-… --extract-fields "info.trace_id,data.spans.*.name"
//	mlflowtrace traces log-feedback --trace-id tr-… --name relevance --value 0.9 --source-type HUMAN --source-id me
//	mlflowtrace traces log-expectation | get-assessment | update-assessment | delete-assessment
//	mlflowtrace traces set-tag | delete-tag | delete
//
// The flags, the JSON output (json.dumps(..., indent=2) of the same
// dictionaries) and the messages are mlflow's, so a script written for one
// works with the other. Differences: on ./mlruns a search's next page token
// is printed as a string (mlflow's FileStore token is bytes, which mlflow's
// JSON output cannot print), update-assessment on an expectation updates the
// expectation (mlflow 3.17.2 builds a feedback and the backend refuses it),
// --span-id in the base64 form get prints ("moV45MTpUjA=") is stored as its
// 16 hex digits, the form the UI links to the span (mlflow stores the base64
// text, which links to no span), and -h is --help (mlflow's subcommands refuse
// it). search --sql-warehouse-id is mlflow's deprecated flag: it warns on
// stderr and overrides MLFLOW_TRACING_SQL_WAREHOUSE_ID, the Databricks SQL
// warehouse package traces passes with the v4 calls.
package main

import (
	"context"
	"errors"
	"fmt"
	"io"
	"os"
	"os/signal"
	"strings"
	"syscall"
)

func main() {
	ctx, stop := signal.NotifyContext(context.Background(), os.Interrupt, syscall.SIGTERM)
	code := run(ctx, os.Args[1:], os.Stdout, os.Stderr, os.Getenv)
	stop()
	os.Exit(code)
}

// run executes one command line and returns the exit status.
func run(ctx context.Context, args []string, stdout, stderr io.Writer, getenv func(string) string) int {
	if len(args) == 0 || args[0] == "-h" || args[0] == "--help" {
		fmt.Fprintln(stdout, "Usage: mlflowtrace traces COMMAND [OPTIONS]\n\nCommands: "+commandList())
		return 0
	}
	if args[0] != "traces" {
		fmt.Fprintf(stderr, "Error: No such command '%s'.\n", args[0])
		return 2
	}
	err := runTraces(ctx, args[1:], stdout, stderr, getenv)
	var (
		help helpError
		bare bareUsageError
		ue   usageError
		uc   *usageContext
	)
	switch {
	case err == nil:
		return 0
	case errors.As(err, &help):
		fmt.Fprint(stderr, string(help))
		return 2
	case errors.As(err, &bare):
		fmt.Fprintf(stderr, "Error: %s\n", bare)
		return 2
	case errors.As(err, &ue):
		if errors.As(err, &uc) {
			fmt.Fprint(stderr, usageLines(uc.path))
		}
		fmt.Fprintf(stderr, "Error: %s\n", ue)
		return 2
	default:
		// Package traces' errors start with its name, which says nothing
		// on a command line.
		fmt.Fprintf(stderr, "Error: %s\n", strings.TrimPrefix(err.Error(), "traces: "))
		return 1
	}
}
