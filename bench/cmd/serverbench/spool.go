package main

import (
	"context"
	"errors"
	"fmt"
	"os"
	"path/filepath"
	"runtime"
	"sync/atomic"
	"time"

	"github.com/mlflowtrace/mlflowtrace-go/exporter"
	"github.com/mlflowtrace/mlflowtrace-go/tracing"
)

// -mode=spool: the cost of the durable spool, side by side in one run.
//
// For each variant — spool off, on with an fsync per batch (the default),
// on with an fsync every second — it records -n traces of the benchmark
// shape at -rate traces/s and reports the client CPU per trace (getrusage,
// from the first measured trace until everything is exported) and the
// root span's End() percentiles; variants run in -rounds interleaved rounds
// (order rotated). Then, per sync policy, it records -n traces while the
// destination hangs, stops (the traces stay in the spool), reports the
// bytes on disk per trace, starts again with the destination up and
// reports the replay rate. The destination is a real MLflow server with
// -server, else an in-process one that accepts every trace at once (which
// isolates the spool's own cost).

type spoolVariant struct {
	name string
	opts []exporter.Option
}

type spoolResult struct {
	Destination string                        `json:"destination"`
	Machine     map[string]any                `json:"machine"`
	Runs        []spoolRun                    `json:"runs"`
	Summary     map[string]map[string]float64 `json:"summary"` // variant -> median over rounds
	Replay      map[string]map[string]float64 `json:"replay"`  // sync policy -> figures
}

type spoolRun struct {
	Variant     string         `json:"variant"`
	Round       int            `json:"round"`
	CPUPerTrace float64        `json:"cpu_us_per_trace"`
	RootEnd     percentiles    `json:"root_end"`
	Stats       map[string]any `json:"stats"`
}

// instantDest accepts every trace at once; hang makes it block until its
// context ends (the destination is down).
type instantDest struct {
	hang     atomic.Bool
	accepted atomic.Int64
}

func (d *instantDest) ExportTraces(ctx context.Context, traces []*exporter.Trace) error {
	if d.hang.Load() {
		<-ctx.Done()
		return ctx.Err()
	}
	d.accepted.Add(int64(len(traces)))
	return nil
}

func (d *instantDest) Shutdown(context.Context) error { return nil }

func spoolBench(server string, n, rounds int, rate float64) (*spoolResult, error) {
	tmp, err := os.MkdirTemp("", "spoolbench-")
	if err != nil {
		return nil, err
	}
	defer os.RemoveAll(tmp)
	dest := func() []exporter.Option {
		if server != "" {
			return []exporter.Option{exporter.WithTrackingURI(server)}
		}
		return []exporter.Option{exporter.WithDestination(&instantDest{})}
	}
	res := &spoolResult{Destination: "in-process, accepts at once", Summary: map[string]map[string]float64{},
		Replay: map[string]map[string]float64{}, Machine: map[string]any{"cpus": runtime.NumCPU()}}
	if server != "" {
		res.Destination = "MLflow server " + server
	}
	if b, err := os.ReadFile("/proc/loadavg"); err == nil {
		res.Machine["loadavg_before"] = string(b)
	}
	variants := []spoolVariant{
		{"spool off", nil},
		{"spool, sync per batch", []exporter.Option{exporter.WithSpoolSync(exporter.SpoolSyncBatch, 0)}},
		{"spool, sync every 1 s", []exporter.Option{exporter.WithSpoolSync(exporter.SpoolSyncInterval, time.Second)}},
	}
	per := map[string]map[string][]float64{}
	for r := range rounds {
		for k := range variants {
			v := variants[(k+r)%len(variants)]
			opts := dest()
			if v.opts != nil {
				opts = append(opts, exporter.WithSpool(filepath.Join(tmp, fmt.Sprintf("run-%d-%d", r, k))))
				opts = append(opts, v.opts...)
			}
			run, err := spoolRunOnce(v.name, r, n, rate, opts)
			if err != nil {
				return nil, err
			}
			res.Runs = append(res.Runs, run)
			if per[v.name] == nil {
				per[v.name] = map[string][]float64{}
			}
			per[v.name]["cpu_us_per_trace"] = append(per[v.name]["cpu_us_per_trace"], run.CPUPerTrace)
			per[v.name]["root_end_p50_us"] = append(per[v.name]["root_end_p50_us"], run.RootEnd.P50)
			per[v.name]["root_end_p99_us"] = append(per[v.name]["root_end_p99_us"], run.RootEnd.P99)
		}
	}
	for name, m := range per {
		res.Summary[name] = map[string]float64{}
		for k, v := range m {
			res.Summary[name][k] = median(v)
		}
	}
	for _, v := range variants[1:] {
		rep, err := spoolReplay(filepath.Join(tmp, "replay-"+fmt.Sprint(len(res.Replay))), server, n, v.opts)
		if err != nil {
			return nil, err
		}
		res.Replay[v.name] = rep
	}
	return res, nil
}

func spoolProvider(opts []exporter.Option) (*tracing.Provider, *errorLog, error) {
	errs := &errorLog{}
	opts = append(opts, exporter.WithErrorHandler(errs.handle))
	p, err := tracing.Init(context.Background(), tracing.WithoutGlobalTracerProvider(), tracing.WithExporterOptions(opts...))
	return p, errs, err
}

func spoolRunOnce(name string, round, n int, rate float64, opts []exporter.Option) (spoolRun, error) {
	ctx := context.Background()
	p, _, err := spoolProvider(opts)
	if err != nil {
		return spoolRun{}, err
	}
	for i := range 20 {
		oneTrace(ctx, -1-i, noTimer{})
	}
	if err := p.ForceFlush(ctx); err != nil {
		return spoolRun{}, err
	}
	rec := &recorder{roots: make([]time.Duration, 0, n), children: make([]time.Duration, 0, 5*n)}
	interval := time.Duration(float64(time.Second) / rate)
	cpu0 := cpuTime()
	start := time.Now()
	for i := range n {
		if d := time.Until(start.Add(time.Duration(i) * interval)); d > 0 {
			time.Sleep(d)
		}
		oneTrace(ctx, i, rec)
	}
	if err := p.ForceFlush(ctx); err != nil {
		return spoolRun{}, err
	}
	cpu := cpuTime() - cpu0
	st, _ := exporterStats(p)
	if err := shutdown(p); err != nil {
		return spoolRun{}, err
	}
	return spoolRun{Variant: name, Round: round, CPUPerTrace: float64(cpu.Microseconds()) / float64(n),
		RootEnd: summarize(rec.roots), Stats: statsMap(st)}, nil
}

// spoolReplay records n traces while the destination is down, stops,
// measures the spool on disk, restarts with the destination up and
// measures the replay.
func spoolReplay(dir, server string, n int, sync []exporter.Option) (map[string]float64, error) {
	ctx := context.Background()
	down := &instantDest{}
	down.hang.Store(true)
	opts := append([]exporter.Option{exporter.WithDestination(down), exporter.WithSpool(dir)}, sync...)
	p, _, err := spoolProvider(opts)
	if err != nil {
		return nil, err
	}
	for i := range n {
		oneTrace(ctx, i, noTimer{})
	}
	for {
		st, _ := exporterStats(p)
		if st.TracesSpooled >= int64(n) {
			break
		}
		time.Sleep(5 * time.Millisecond)
	}
	sctx, cancel := context.WithTimeout(ctx, 200*time.Millisecond)
	_ = p.Shutdown(sctx) // gives up: the traces stay in the spool
	cancel()
	_ = p.Shutdown(ctx)
	size := dirSize(dir)

	var up []exporter.Option
	if server != "" {
		up = []exporter.Option{exporter.WithTrackingURI(server)}
	} else {
		up = []exporter.Option{exporter.WithDestination(&instantDest{})}
	}
	up = append(up, exporter.WithSpool(dir))
	up = append(up, sync...)
	cpu0 := cpuTime()
	start := time.Now()
	p2, _, err := spoolProvider(up)
	if err != nil {
		return nil, err
	}
	deadline := start.Add(10 * time.Minute)
	for {
		st, _ := exporterStats(p2)
		if st.TracesReplayed >= int64(n) {
			break
		}
		if time.Now().After(deadline) {
			_ = shutdown(p2)
			return nil, errors.New("spool bench: the replay did not finish in 10 minutes")
		}
		time.Sleep(2 * time.Millisecond)
	}
	elapsed := time.Since(start)
	cpu := cpuTime() - cpu0
	if err := shutdown(p2); err != nil {
		return nil, err
	}
	return map[string]float64{
		"traces":                  float64(n),
		"bytes_on_disk_per_trace": float64(size) / float64(n),
		"replay_traces_per_s":     float64(n) / elapsed.Seconds(),
		"replay_cpu_us_per_trace": float64(cpu.Microseconds()) / float64(n),
	}, nil
}

func dirSize(dir string) int64 {
	var n int64
	_ = filepath.Walk(dir, func(_ string, info os.FileInfo, err error) error {
		if err == nil && !info.IsDir() {
			n += info.Size()
		}
		return nil
	})
	return n
}
