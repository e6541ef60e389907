// Package scenario runs the named scenarios of a conformance program
// (conformance/cmd/llmtraces, langchaintraces) and reports the trace each
// one made, in the form the Python suite reads (parity/harness.py
// scenario_ids): one JSON line {"scenario", "trace_id"} per scenario.
package scenario

import (
	"context"
	"encoding/json"
	"fmt"
	"io"
	"os"
	"time"

	"github.com/mlflowtrace/mlflowtrace-go/tracing"
)

// Scenario is one workflow; it makes one trace.
type Scenario[E any] struct {
	Name string
	Run  func(context.Context, E) error
}

// Run runs the scenarios named in names (all when names is empty) with env,
// shuts p down so every trace is written, then prints each scenario's trace
// id to out.
func Run[E any](ctx context.Context, p *tracing.Provider, list []Scenario[E], env E, names []string, out io.Writer) error {
	want := map[string]bool{}
	for _, n := range names {
		want[n] = true
	}
	type line struct {
		Scenario string `json:"scenario"`
		TraceID  string `json:"trace_id"`
	}
	var lines []line
	for _, s := range list {
		if len(want) > 0 && !want[s.Name] {
			continue
		}
		if err := s.Run(ctx, env); err != nil {
			return fmt.Errorf("%s: %w", s.Name, err)
		}
		lines = append(lines, line{s.Name, tracing.LastTraceID()})
	}
	sctx, cancel := context.WithTimeout(ctx, 60*time.Second)
	defer cancel()
	if err := p.Shutdown(sctx); err != nil {
		return err
	}
	for _, l := range lines {
		b, _ := json.Marshal(l)
		fmt.Fprintln(out, string(b))
	}
	return nil
}

// Main is the main function of a scenario program against the fake LLM
// APIs: it reads the fake's base URL from LLMTEST_URL, initialises tracing
// from the environment, builds the scenarios' environment with newEnv(ctx,
// base URL), runs the scenarios named on the command line (all when none)
// and prints their trace ids; on an error it prints "<name>: <error>" and
// exits with status 1.
func Main[E any](name string, list []Scenario[E], newEnv func(ctx context.Context, baseURL string) (E, error)) {
	if err := run(list, newEnv); err != nil {
		fmt.Fprintln(os.Stderr, name+":", err)
		os.Exit(1)
	}
}

func run[E any](list []Scenario[E], newEnv func(context.Context, string) (E, error)) error {
	ctx := context.Background()
	base := os.Getenv("LLMTEST_URL")
	if base == "" {
		return fmt.Errorf("LLMTEST_URL is not set")
	}
	p, err := tracing.Init(ctx)
	if err != nil {
		return err
	}
	env, err := newEnv(ctx, base)
	if err != nil {
		_ = p.Shutdown(ctx)
		return err
	}
	return Run(ctx, p, list, env, os.Args[1:], os.Stdout)
}
