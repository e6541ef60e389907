package exporter

import "time"

// Test hooks, visible to package exporter_test only.

// WithClock sets the exporter's clock.
func WithClock(now func() time.Time) Option {
	return optionFunc(func(c config) config { c.now = now; return c })
}

// WithTimeoutCheckInterval sets how often the timeout janitor runs.
func WithTimeoutCheckInterval(d time.Duration) Option {
	return optionFunc(func(c config) config { c.timeoutCheckInterval = d; return c })
}

// Expire runs one janitor pass at time now.
func (e *Exporter) Expire(now time.Time) { e.expire(now) }

// OpenTraces reports how many traces are buffered.
func (e *Exporter) OpenTraces() int {
	e.mu.Lock()
	defer e.mu.Unlock()
	return len(e.traces)
}
