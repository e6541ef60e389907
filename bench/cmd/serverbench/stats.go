package main

import (
	"fmt"
	"sync"

	"github.com/mlflowtrace/mlflowtrace-go/exporter"
	"github.com/mlflowtrace/mlflowtrace-go/tracing"
)

// exporterStats returns the counters of the exporter behind p (ok false
// when p is nil).
func exporterStats(p *tracing.Provider) (exporter.Stats, bool) {
	if p == nil {
		return exporter.Stats{}, false
	}
	return p.Stats(), true
}

func statsMap(s exporter.Stats) map[string]any {
	return map[string]any{
		"traces_exported":      s.TracesExported,
		"spans_exported":       s.SpansExported,
		"spans_streamed":       s.SpansStreamed,
		"traces_dropped":       s.TracesDropped,
		"spans_dropped":        s.SpansDropped,
		"spans_stream_dropped": s.SpansStreamDropped,
		"export_failures":      s.ExportFailures,
		"retried":              s.Retried,
	}
}

// errorLog keeps the first few errors reported by the exporter and counts
// the rest; the benchmark must not spend its time logging.
type errorLog struct {
	mu    sync.Mutex
	errs  []string
	total int
}

func (l *errorLog) handle(err error) {
	l.mu.Lock()
	defer l.mu.Unlock()
	l.total++
	if len(l.errs) < 3 {
		l.errs = append(l.errs, err.Error())
	}
}

func (l *errorLog) first() []string {
	l.mu.Lock()
	defer l.mu.Unlock()
	out := append([]string(nil), l.errs...)
	if l.total > len(out) {
		out = append(out, fmt.Sprintf("... %d errors in all", l.total))
	}
	return out
}

func (l *errorLog) count() int {
	l.mu.Lock()
	defer l.mu.Unlock()
	return l.total
}
