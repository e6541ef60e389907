package main

import (
	"bytes"
	"context"
	"errors"
	"fmt"
	"io"
	"log"
	"net"
	"net/http"
	"net/http/httptest"
	"net/http/httputil"
	"net/url"
	"runtime"
	"slices"
	"sync"
	"time"

	"github.com/mlflowtrace/mlflowtrace-go/exporter"
	"github.com/mlflowtrace/mlflowtrace-go/tracing"
)

type faultConfig struct {
	server    string
	n         int
	rate      float64
	rounds    int
	slowDelay time.Duration
	burst     int
}

type faultResult struct {
	Config struct {
		TracesPerScenario int     `json:"traces_per_scenario"`
		Rate              float64 `json:"rate_traces_per_s"`
		Rounds            int     `json:"rounds"`
		SlowDelayS        float64 `json:"slow_delay_s"`
		Burst             int     `json:"burst"`
	} `json:"config"`
	Latency []latencyResult `json:"latency"`
	// Summary: per scenario, the median over rounds of each percentile.
	Summary map[string]map[string]float64 `json:"summary"`
	// Pooled: per scenario, percentiles over every End call of every round.
	Pooled map[string]pooled `json:"pooled"`
	Memory []memoryResult    `json:"memory"`
}

// percentiles of End() durations, in microseconds.
type percentiles struct {
	N     int     `json:"n"`
	P50   float64 `json:"p50_us"`
	P90   float64 `json:"p90_us"`
	P99   float64 `json:"p99_us"`
	P999  float64 `json:"p999_us"`
	Max   float64 `json:"max_us"`
	Total float64 `json:"total_ms"`
}

func summarize(d []time.Duration) percentiles {
	if len(d) == 0 {
		return percentiles{}
	}
	s := slices.Clone(d)
	slices.Sort(s)
	at := func(q float64) float64 {
		i := int(q * float64(len(s)-1))
		return float64(s[i].Nanoseconds()) / 1e3
	}
	var tot time.Duration
	for _, x := range s {
		tot += x
	}
	return percentiles{N: len(s), P50: at(0.50), P90: at(0.90), P99: at(0.99), P999: at(0.999),
		Max: float64(s[len(s)-1].Nanoseconds()) / 1e3, Total: float64(tot.Nanoseconds()) / 1e6}
}

type pooled struct {
	RootEnd  percentiles `json:"root_end"`
	ChildEnd percentiles `json:"child_end"`
	AllEnd   percentiles `json:"all_end"`
}

type latencyResult struct {
	Scenario         string         `json:"scenario"`
	Round            int            `json:"round"`
	RootEnd          percentiles    `json:"root_end"`
	ChildEnd         percentiles    `json:"child_end"`
	TraceUs          percentiles    `json:"whole_trace"` // building one trace, End calls included
	Stats            map[string]any `json:"stats,omitempty"`
	Errors           int            `json:"errors_reported"`
	FirstErrors      []string       `json:"first_errors,omitempty"`
	ShutdownS        float64        `json:"shutdown_s"`
	ShutErr          string         `json:"shutdown_error,omitempty"`
	GoroutinesBefore int            `json:"goroutines_before"`
	Goroutines       int            `json:"goroutines_after_shutdown"`
	SDKGoroutines    int            `json:"sdk_goroutines_after_shutdown"`

	roots, children []time.Duration
}

type memoryResult struct {
	Scenario         string         `json:"scenario"`
	Traces           int            `json:"traces"`
	GenS             float64        `json:"gen_s"`
	PerTraceUs       float64        `json:"per_trace_us"`
	HeapBaseMB       float64        `json:"heap_inuse_before_mb"`
	HeapPeakMB       float64        `json:"heap_inuse_peak_mb"`
	HeapAllocPeak    float64        `json:"heap_alloc_peak_mb"`
	HeapAfterMB      float64        `json:"heap_inuse_after_shutdown_gc_mb"`
	MaxRSSMB         float64        `json:"process_max_rss_mb"`
	Stats            map[string]any `json:"stats,omitempty"`
	ShutdownS        float64        `json:"shutdown_s"`
	ShutdownErr      string         `json:"shutdown_error,omitempty"`
	ErrorsReported   int            `json:"errors_reported"`
	FirstErrors      []string       `json:"first_errors,omitempty"`
	GoroutinesBefore int            `json:"goroutines_before"`
	Goroutines       int            `json:"goroutines_after_shutdown"`
	SDKGoroutines    int            `json:"sdk_goroutines_after_shutdown"`
}

// recorder times every End call.
type recorder struct {
	roots, children []time.Duration
}

func (r *recorder) root(f func()) {
	t := time.Now()
	f()
	r.roots = append(r.roots, time.Since(t))
}

func (r *recorder) child(f func()) {
	t := time.Now()
	f()
	r.children = append(r.children, time.Since(t))
}

func faults(c faultConfig) (*faultResult, error) {
	if c.server == "" {
		return nil, errors.New("-server is required in -mode=faults")
	}
	down, err := closedPortURL()
	if err != nil {
		return nil, err
	}
	slow, err := newSlowProxy(c.server, c.slowDelay)
	if err != nil {
		return nil, err
	}
	defer slow.Close()

	res := &faultResult{Summary: map[string]map[string]float64{}, Pooled: map[string]pooled{}}
	res.Config.TracesPerScenario, res.Config.Rate, res.Config.Rounds = c.n, c.rate, c.rounds
	res.Config.SlowDelayS, res.Config.Burst = c.slowDelay.Seconds(), c.burst

	// Memory first, so the process's max RSS is the burst's.
	if c.burst > 0 {
		for _, sc := range []struct {
			name, url string
			n         int
			settle    time.Duration
		}{
			{"down", down, c.burst / 10, 0},
			{"down", down, c.burst, 0},
			{"slow", slow.URL, c.burst, c.slowDelay + 500*time.Millisecond},
		} {
			m, err := memoryBurst(sc.name, sc.url, sc.n, sc.settle)
			if err != nil {
				return nil, err
			}
			res.Memory = append(res.Memory, m)
		}
	}

	scenarios := []struct{ name, url string }{{"healthy", c.server}, {"down", down}, {"slow", slow.URL}}
	for r := range c.rounds {
		for k := range scenarios {
			// Rotate the order each round so no scenario always runs first.
			sc := scenarios[(k+r)%len(scenarios)]
			settle := time.Duration(0)
			if sc.name == "slow" {
				settle = c.slowDelay + 500*time.Millisecond
			}
			l, err := latencyScenario(sc.name, sc.url, c.n, c.rate, settle)
			if err != nil {
				return nil, err
			}
			l.Round = r
			res.Latency = append(res.Latency, l)
		}
	}
	for _, sc := range scenarios {
		var p50, p99, p999, cp50, cp99 []float64
		var roots, children []time.Duration
		for _, l := range res.Latency {
			if l.Scenario == sc.name {
				roots, children = append(roots, l.roots...), append(children, l.children...)
				p50, p99, p999 = append(p50, l.RootEnd.P50), append(p99, l.RootEnd.P99), append(p999, l.RootEnd.P999)
				cp50, cp99 = append(cp50, l.ChildEnd.P50), append(cp99, l.ChildEnd.P99)
			}
		}
		res.Pooled[sc.name] = pooled{RootEnd: summarize(roots), ChildEnd: summarize(children),
			AllEnd: summarize(append(slices.Clone(roots), children...))}
		res.Summary[sc.name] = map[string]float64{
			"root_end_p50_us": median(p50), "root_end_p99_us": median(p99), "root_end_p999_us": median(p999),
			"child_end_p50_us": median(cp50), "child_end_p99_us": median(cp99),
		}
	}
	return res, nil
}

func median(v []float64) float64 {
	if len(v) == 0 {
		return 0
	}
	s := slices.Clone(v)
	slices.Sort(s)
	if len(s)%2 == 1 {
		return s[len(s)/2]
	}
	return (s[len(s)/2-1] + s[len(s)/2]) / 2
}

func initProvider(url string, errs *errorLog) (*tracing.Provider, error) {
	return tracing.Init(context.Background(),
		tracing.WithoutGlobalTracerProvider(),
		tracing.WithExporterOptions(exporter.WithTrackingURI(url), exporter.WithErrorHandler(errs.handle)))
}

func latencyScenario(name, url string, n int, rate float64, settle time.Duration) (latencyResult, error) {
	ctx := context.Background()
	g0 := runtime.NumGoroutine()
	errs := &errorLog{}
	p, err := initProvider(url, errs)
	if err != nil {
		return latencyResult{}, err
	}
	for i := range 20 { // warm-up, not measured
		oneTrace(ctx, -1-i, noTimer{})
	}
	rec := &recorder{roots: make([]time.Duration, 0, n), children: make([]time.Duration, 0, 5*n)}
	whole := make([]time.Duration, 0, n)
	interval := time.Duration(float64(time.Second) / rate)
	start := time.Now()
	for i := range n {
		if d := time.Until(start.Add(time.Duration(i) * interval)); d > 0 {
			time.Sleep(d)
		}
		t := time.Now()
		oneTrace(ctx, i, rec)
		whole = append(whole, time.Since(t))
	}
	t := time.Now()
	serr := shutdown(p)
	shut := time.Since(t)
	st, _ := exporterStats(p)
	time.Sleep(settle) // let the slow proxy's handlers (not ours) finish
	l := latencyResult{
		Scenario: name, RootEnd: summarize(rec.roots), ChildEnd: summarize(rec.children), TraceUs: summarize(whole),
		Stats: statsMap(st), Errors: errs.count(), FirstErrors: errs.first(), ShutdownS: shut.Seconds(),
		GoroutinesBefore: g0, Goroutines: runtime.NumGoroutine(), SDKGoroutines: sdkGoroutines(),
		roots: rec.roots, children: rec.children,
	}
	if serr != nil {
		l.ShutErr = serr.Error()
	}
	return l, nil
}

func memoryBurst(name, url string, n int, settle time.Duration) (memoryResult, error) {
	ctx := context.Background()
	g0 := runtime.NumGoroutine()
	runtime.GC()
	var ms runtime.MemStats
	runtime.ReadMemStats(&ms)
	base := ms.HeapInuse

	errs := &errorLog{}
	p, err := initProvider(url, errs)
	if err != nil {
		return memoryResult{}, err
	}
	var mu sync.Mutex
	var peakInuse, peakAlloc uint64
	stop := make(chan struct{})
	done := make(chan struct{})
	go func() { // sampler, owned and stopped below
		defer close(done)
		tick := time.NewTicker(20 * time.Millisecond)
		defer tick.Stop()
		var m runtime.MemStats
		for {
			runtime.ReadMemStats(&m)
			mu.Lock()
			peakInuse, peakAlloc = max(peakInuse, m.HeapInuse), max(peakAlloc, m.HeapAlloc)
			mu.Unlock()
			select {
			case <-stop:
				return
			case <-tick.C:
			}
		}
	}()
	t0 := time.Now()
	for i := range n {
		oneTrace(ctx, i, noTimer{})
	}
	gen := time.Since(t0)
	time.Sleep(time.Second) // keep sampling while the workers hold what they hold
	ts := time.Now()
	serr := shutdown(p)
	shut := time.Since(ts)
	st, _ := exporterStats(p)
	close(stop)
	<-done
	time.Sleep(settle)
	runtime.GC()
	runtime.GC()
	runtime.ReadMemStats(&ms)
	mb := func(b uint64) float64 { return float64(b) / (1 << 20) }
	mu.Lock()
	defer mu.Unlock()
	m := memoryResult{
		Scenario: name, Traces: n, GenS: gen.Seconds(), PerTraceUs: float64(gen.Microseconds()) / float64(n),
		HeapBaseMB: mb(base), HeapPeakMB: mb(peakInuse), HeapAllocPeak: mb(peakAlloc), HeapAfterMB: mb(ms.HeapInuse),
		MaxRSSMB: float64(maxRSSBytes()) / (1 << 20), Stats: statsMap(st), ShutdownS: shut.Seconds(),
		ErrorsReported: errs.count(), FirstErrors: errs.first(), GoroutinesBefore: g0, Goroutines: runtime.NumGoroutine(),
		SDKGoroutines: sdkGoroutines(),
	}
	if serr != nil {
		m.ShutdownErr = serr.Error()
	}
	return m, nil
}

// shutdown gives the Provider 10 s to flush, as a program exiting would;
// when that deadline passes (server down or slow) the exports in flight are
// cancelled, and a second call finishes stopping the goroutines.
func shutdown(p *tracing.Provider) error {
	ctx, cancel := context.WithTimeout(context.Background(), 10*time.Second)
	defer cancel()
	err := p.Shutdown(ctx)
	if err != nil {
		ctx2, cancel2 := context.WithTimeout(context.Background(), 30*time.Second)
		defer cancel2()
		if err2 := p.Shutdown(ctx2); err2 != nil {
			err = fmt.Errorf("%w; second call: %w", err, err2)
		}
	}
	return err
}

// closedPortURL returns an http URL on 127.0.0.1 where nothing listens.
func closedPortURL() (string, error) {
	l, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		return "", err
	}
	addr := l.Addr().String()
	if err := l.Close(); err != nil {
		return "", err
	}
	return "http://" + addr, nil
}

// sdkGoroutines counts the goroutines, other than the caller, running a
// function of the SDK. goroutines_after_shutdown also counts the slow
// proxy's: a request the exporter pipelined before it gave up is still
// delayed and forwarded by the proxy after Shutdown returned (a server
// cannot notice that the client left while pipelined requests wait in its
// buffer), and net/http's connections to the real server idle on.
func sdkGoroutines() int {
	buf := make([]byte, 1<<20)
	for {
		n := runtime.Stack(buf, true)
		if n < len(buf) {
			buf = buf[:n]
			break
		}
		buf = make([]byte, 2*len(buf))
	}
	count := 0
	for i, g := range bytes.Split(buf, []byte("\n\n")) {
		if i > 0 && bytes.Contains(g, []byte("github.com/mlflowtrace/mlflowtrace-go/")) {
			count++
		}
	}
	return count
}

// slowProxy forwards every request to the real server after a delay.
type slowProxy struct {
	*httptest.Server
}

func newSlowProxy(target string, delay time.Duration) (*slowProxy, error) {
	u, err := url.Parse(target)
	if err != nil {
		return nil, fmt.Errorf("-server: %w", err)
	}
	rp := httputil.NewSingleHostReverseProxy(u)
	rp.ErrorLog = log.New(io.Discard, "", 0) // cancelled requests are expected here
	h := http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		t := time.NewTimer(delay)
		defer t.Stop()
		select {
		case <-t.C:
		case <-r.Context().Done():
			return
		}
		rp.ServeHTTP(w, r)
	})
	return &slowProxy{httptest.NewServer(h)}, nil
}

func (s *slowProxy) Close() {
	s.CloseClientConnections()
	s.Server.Close()
}
