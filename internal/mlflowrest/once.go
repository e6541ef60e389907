package mlflowrest

import (
	"sync"

	"github.com/mlflowtrace/mlflowtrace-go/internal/tracemodel"
)

// Reported remembers which configuration problems a destination has already
// returned, so that each is reported once, not once per trace. The zero
// value is ready; it is safe for concurrent use.
type Reported struct {
	mu   sync.Mutex
	seen map[string]bool
}

// Once returns err the first time key is seen, and afterwards err marked
// with tracemodel.ErrReportedBefore: the traces still fail (and count as
// failed), but the exporter does not report the same problem again.
func (r *Reported) Once(key string, err error) error {
	if r.first(key) {
		return err
	}
	return tracemodel.Repeated(err)
}

// Warn returns err the first time key is seen and nil afterwards: for a
// problem that does not keep the trace from being delivered.
func (r *Reported) Warn(key string, err error) error {
	if r.first(key) {
		return err
	}
	return nil
}

func (r *Reported) first(key string) bool {
	r.mu.Lock()
	defer r.mu.Unlock()
	if r.seen[key] {
		return false
	}
	if r.seen == nil {
		r.seen = map[string]bool{}
	}
	r.seen[key] = true
	return true
}
