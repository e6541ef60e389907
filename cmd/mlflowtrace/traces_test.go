package main

import (
	"bytes"
	"context"
	"strings"
	"testing"
)

// TestExperimentIDFromEnvironment: --experiment-id (or -x) defaults to
// MLFLOW_EXPERIMENT_ID, as click's envvar makes it for mlflow's command, and
// a flag wins over it. The variable is read through envconfig as the SDK
// reads it (trimmed, blank is unset; click takes it as is).
func TestExperimentIDFromEnvironment(t *testing.T) {
	for _, tc := range []struct {
		name    string
		env     map[string]string
		args    []string
		want    string
		wantErr string
	}{
		{"environment", map[string]string{"MLFLOW_EXPERIMENT_ID": "7"}, nil, "7", ""},
		{"environment trimmed", map[string]string{"MLFLOW_EXPERIMENT_ID": " 7 "}, nil, "7", ""},
		{"flag wins", map[string]string{"MLFLOW_EXPERIMENT_ID": "7"}, []string{"--experiment-id", "3"}, "3", ""},
		{"short flag wins", map[string]string{"MLFLOW_EXPERIMENT_ID": "7"}, []string{"-x", "4"}, "4", ""},
		{"neither", map[string]string{}, nil, "", "Missing option '--experiment-id'."},
		{"blank is unset", map[string]string{"MLFLOW_EXPERIMENT_ID": "  "}, nil, "", "Missing option '--experiment-id'."},
	} {
		t.Run(tc.name, func(t *testing.T) {
			f := newFlags("search", func(k string) string { return tc.env[k] })
			f.experimentID()
			err := f.parse(tc.args)
			if tc.wantErr != "" {
				if err == nil || err.Error() != tc.wantErr {
					t.Fatalf("err = %v, want %q", err, tc.wantErr)
				}
				return
			}
			if err != nil {
				t.Fatal(err)
			}
			if got := f.get("experiment-id"); got != tc.want {
				t.Errorf("experiment id %q, want %q", got, tc.want)
			}
		})
	}
}

// TestRunMissingExperimentID: the usage error reaches the command line
// before any destination is opened.
func TestRunMissingExperimentID(t *testing.T) {
	var stdout, stderr bytes.Buffer
	code := run(context.Background(), []string{"traces", "search"}, &stdout, &stderr, func(string) string { return "" })
	if code != 2 || !strings.Contains(stderr.String(), "Missing option '--experiment-id'.") {
		t.Errorf("exit %d, stderr %q", code, stderr.String())
	}
}
