// Command wakecost measures what the same small piece of work costs in CPU
// when a Go program does it back to back and when it does it once per
// interval, sleeping in between (a paced workload: requests arriving at a
// steady rate). It separates the machine's and the Go runtime's per-wake-up
// cost from the cost of the work itself, which is what the paced
// side-by-side benchmark in BENCHMARKS.md needs to be read correctly.
//
//	go run ./bench/cmd/wakecost
//
// Not a test and not part of the SDK.
package main

import (
	"encoding/json"
	"flag"
	"fmt"
	"os"
	"strconv"
	"strings"
	"syscall"
	"time"
)

func cpuTime() time.Duration {
	var r syscall.Rusage
	if err := syscall.Getrusage(syscall.RUSAGE_SELF, &r); err != nil {
		return 0
	}
	return time.Duration(r.Utime.Nano() + r.Stime.Nano())
}

//lint:ignore U1000 written so that the compiler keeps the work; never read.
var sink []byte

// work encodes about 12 KB of JSON, the size of one benchmark trace.
func work() {
	m := make(map[string]any, 12)
	for i := range 12 {
		m["k"+strconv.Itoa(i)] = strings.Repeat("The quick brown fox ", 50)
	}
	sink, _ = json.Marshal(m)
}

func main() {
	n := flag.Int("n", 2000, "back-to-back repetitions")
	paced := flag.Int("paced", 80, "paced repetitions")
	flag.Parse()
	for _, interval := range []time.Duration{0, 125 * time.Millisecond, 0, 10 * time.Millisecond} {
		reps := *n
		if interval > 0 {
			reps = *paced
		}
		cpu0, wall0 := cpuTime(), time.Now()
		var inWork time.Duration
		for range reps {
			if interval > 0 {
				time.Sleep(interval)
			}
			t := time.Now()
			work()
			inWork += time.Since(t)
		}
		label := "back to back"
		if interval > 0 {
			label = "once per " + interval.String()
		}
		fmt.Fprintf(os.Stdout, "%-20s CPU/op %8.1f µs   wall inside work/op %7.1f µs   (%d ops, %v)\n", label,
			float64((cpuTime()-cpu0).Nanoseconds())/float64(reps)/1e3,
			float64(inWork.Nanoseconds())/float64(reps)/1e3, reps, time.Since(wall0).Round(time.Millisecond))
	}
}
