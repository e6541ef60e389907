// Command readbench times package traces against an MLflow server
// (MLFLOW_TRACKING_URI): -n rounds of GetTrace(-trace) and of a 3-page
// SearchTraces (-page traces per page, spans included) in -experiment. It
// prints one JSON line: wall and CPU seconds (user+system of this process)
// per operation. bench/python/readbench.py runs it next to MLflow's Python
// client on the same server (BENCHMARKS.md section 9).
package main

import (
	"context"
	"encoding/json"
	"flag"
	"fmt"
	"os"
	"syscall"
	"time"

	"github.com/mlflowtrace/mlflowtrace-go/traces"
)

func cpu() time.Duration {
	var ru syscall.Rusage
	_ = syscall.Getrusage(syscall.RUSAGE_SELF, &ru)
	return time.Duration(ru.Utime.Nano() + ru.Stime.Nano())
}

func main() {
	n := flag.Int("n", 20, "rounds")
	id := flag.String("trace", "", "trace id to get")
	exp := flag.String("experiment", "0", "experiment to search")
	page := flag.Int("page", 10, "traces per page")
	flag.Parse()
	ctx := context.Background()
	c, err := traces.NewClient(ctx)
	if err != nil {
		fmt.Fprintln(os.Stderr, err)
		os.Exit(1)
	}
	defer c.Close()
	// One warm-up of each (connections, experiment lookups), as the Python
	// side has.
	if _, err := c.GetTrace(ctx, *id); err != nil {
		fmt.Fprintln(os.Stderr, err)
		os.Exit(1)
	}
	search := func() int {
		q := traces.SearchQuery{Locations: []string{*exp}, MaxResults: *page}
		total := 0
		for range 3 {
			p, err := c.SearchTraces(ctx, q)
			if err != nil {
				fmt.Fprintln(os.Stderr, err)
				os.Exit(1)
			}
			total += len(p.Traces)
			q.PageToken = p.NextPageToken
		}
		return total
	}
	search()
	out := map[string]any{}
	time1 := func(name string, f func()) {
		w0, c0 := time.Now(), cpu()
		for range *n {
			f()
		}
		out[name] = map[string]float64{"wall_s": time.Since(w0).Seconds() / float64(*n), "cpu_s": (cpu() - c0).Seconds() / float64(*n)}
	}
	time1("get_trace", func() {
		if _, err := c.GetTrace(ctx, *id); err != nil {
			fmt.Fprintln(os.Stderr, err)
			os.Exit(1)
		}
	})
	got := 0
	time1("search_3_pages", func() { got = search() })
	out["traces_per_search"] = got
	_ = json.NewEncoder(os.Stdout).Encode(out)
}
