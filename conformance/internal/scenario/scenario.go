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
