// Command serverbench is the Go side of the side-by-side benchmark against a
// real MLflow tracking server (see BENCHMARKS.md and bench/run.sh). It is
// started by bench/python/sidebyside.py, which owns the server.
//
//	-mode=throughput  sends -n traces of the benchmark shape through package
//	                  tracing to MLFLOW_TRACKING_URI (after -warmup traces),
//	                  then Provider.Shutdown; prints its CPU time and wall time.
//	-mode=faults      measures Span.End latency with a healthy server (-server),
//	                  a server that is down (closed port) and a slow one (a proxy
//	                  adding -slow-delay), then the memory of a sustained burst
//	                  while the server is unreachable.
//	-mode=spool       the durable spool's cost: client CPU per trace and root
//	                  End() percentiles with the spool off, on with an fsync
//	                  per batch, on with an fsync every second; bytes on disk
//	                  per trace and the replay rate after a restart (see
//	                  spool.go; -server selects a real MLflow server, else an
//	                  in-process destination).
//
// Both print one JSON document on stdout.
package main

import (
	"context"
	"encoding/json"
	"flag"
	"fmt"
	"os"
	"runtime"
	"runtime/pprof"
	"time"

	"github.com/mlflowtrace/mlflowtrace-go/exporter"
	"github.com/mlflowtrace/mlflowtrace-go/tracing"
)

func main() {
	mode := flag.String("mode", "throughput", "throughput, faults or spool")
	n := flag.Int("n", 2000, "throughput: traces to send; faults: traces per latency scenario")
	warmup := flag.Int("warmup", 5, "throughput: traces sent and flushed before measuring")
	server := flag.String("server", "", "faults: URL of the healthy MLflow server")
	rate := flag.Float64("rate", 100, "faults: traces per second in the latency scenarios")
	rounds := flag.Int("rounds", 3, "faults: rounds of the three latency scenarios, interleaved")
	slowDelay := flag.Duration("slow-delay", 2*time.Second, "faults: latency the slow proxy adds to every request")
	burst := flag.Int("burst", 100000, "faults: traces in the memory burst (0 skips it)")
	pace := flag.Float64("pace", 0, "throughput: traces per second, evenly spaced (0: as fast as possible)")
	cpuProfile := flag.String("cpuprofile", "", "write a CPU profile of the run to this file")
	memProfile := flag.String("memprofile", "", "write an allocation profile of the run (every allocation sampled) to this file")
	flag.Parse()

	if *memProfile != "" {
		runtime.MemProfileRate = 1
	}

	if *cpuProfile != "" {
		f, err := os.Create(*cpuProfile)
		if err != nil {
			fmt.Fprintln(os.Stderr, "serverbench:", err)
			os.Exit(1)
		}
		if err := pprof.StartCPUProfile(f); err != nil {
			fmt.Fprintln(os.Stderr, "serverbench:", err)
			os.Exit(1)
		}
	}

	var out any
	var err error
	switch *mode {
	case "throughput":
		out, err = throughput(*n, *warmup, *pace)
	case "spool":
		out, err = spoolBench(*server, *n, *rounds, *rate)
	case "faults":
		out, err = faults(faultConfig{server: *server, n: *n, rate: *rate, rounds: *rounds, slowDelay: *slowDelay, burst: *burst})
	default:
		err = fmt.Errorf("unknown -mode %q", *mode)
	}
	if *cpuProfile != "" {
		pprof.StopCPUProfile()
	}
	if *memProfile != "" {
		if werr := writeAllocs(*memProfile); werr != nil {
			fmt.Fprintln(os.Stderr, "serverbench:", werr)
			os.Exit(1)
		}
	}
	if err != nil {
		fmt.Fprintln(os.Stderr, "serverbench:", err)
		os.Exit(1)
	}
	enc := json.NewEncoder(os.Stdout)
	if err := enc.Encode(out); err != nil {
		fmt.Fprintln(os.Stderr, "serverbench:", err)
		os.Exit(1)
	}
}

type throughputResult struct {
	Client   string  `json:"client"`
	N        int     `json:"n"`
	Pace     float64 `json:"pace"`
	Warmup   int     `json:"warmup"`
	GenS     float64 `json:"gen_s"`
	FlushS   float64 `json:"flush_s"`
	WallS    float64 `json:"wall_s"`
	CPUGenS  float64 `json:"cpu_gen_s"`
	CPUS     float64 `json:"cpu_s"`
	MaxRSSKB int64   `json:"maxrss_kb"`
	// CtxSwitches counts the process's context switches from the first
	// measured trace to the end of Shutdown.
	CtxSwitches int64          `json:"ctx_switches"`
	Stats       map[string]any `json:"stats,omitempty"`
	ErrorsLog   []string       `json:"errors,omitempty"`
}

// throughput: the configuration comes from the environment the harness
// sets (MLFLOW_TRACKING_URI, MLFLOW_EXPERIMENT_ID,
// MLFLOW_ASYNC_TRACE_LOGGING_MAX_QUEUE_SIZE), exactly as a user's would.
func throughput(n, warmup int, pace float64) (*throughputResult, error) {
	ctx := context.Background()
	errs := &errorLog{}
	p, err := tracing.Init(ctx, tracing.WithExporterOptions(exporter.WithErrorHandler(errs.handle)))
	if err != nil {
		return nil, err
	}
	for i := range warmup {
		oneTrace(ctx, -1-i, noTimer{})
	}
	if err := p.ForceFlush(ctx); err != nil {
		return nil, fmt.Errorf("warm-up flush: %w", err)
	}

	cpu0, t0, csw0 := cpuTime(), time.Now(), contextSwitches()
	for i := range n {
		if pace > 0 {
			// Paced: trace i starts at t0 + i/pace, as requests arriving
			// at a steady rate would.
			time.Sleep(time.Until(t0.Add(time.Duration(float64(i) / pace * float64(time.Second)))))
		}
		oneTrace(ctx, i, noTimer{})
	}
	cpu1, t1 := cpuTime(), time.Now()
	sctx, cancel := context.WithTimeout(ctx, 30*time.Minute)
	defer cancel()
	// Flush (everything delivered), read the counters, then shut down.
	if err := p.ForceFlush(sctx); err != nil {
		return nil, fmt.Errorf("flush: %w", err)
	}
	st, ok := exporterStats(p)
	if err := p.Shutdown(sctx); err != nil {
		return nil, fmt.Errorf("shutdown: %w", err)
	}
	cpu2, t2 := cpuTime(), time.Now()

	r := &throughputResult{
		Client: "go", N: n, Pace: pace, Warmup: warmup,
		GenS: t1.Sub(t0).Seconds(), FlushS: t2.Sub(t1).Seconds(), WallS: t2.Sub(t0).Seconds(),
		CPUGenS: (cpu1 - cpu0).Seconds(), CPUS: (cpu2 - cpu0).Seconds(),
		MaxRSSKB:    maxRSSBytes() / 1024,
		CtxSwitches: contextSwitches() - csw0,
		ErrorsLog:   errs.first(),
	}
	if ok {
		r.Stats = statsMap(st)
	}
	return r, nil
}

// writeAllocs writes the allocation profile of the run so far. The
// runtime publishes allocations at the end of a collection: without the
// collection first, the profile would stop at the run's last one, a
// different number of traces from run to run.
func writeAllocs(name string) error {
	runtime.GC()
	f, err := os.Create(name)
	if err != nil {
		return err
	}
	if err := pprof.Lookup("allocs").WriteTo(f, 0); err != nil {
		_ = f.Close()
		return err
	}
	return f.Close()
}
