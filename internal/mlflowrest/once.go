package mlflowrest

import "sync"

// Reported remembers which configuration problems a destination has already
// returned, so that each is reported once, not once per trace. The zero
// value is ready; it is safe for concurrent use.
type Reported struct {
	mu   sync.Mutex
	seen map[string]bool
}

// Once returns err the first time key is seen and nil afterwards.
func (r *Reported) Once(key string, err error) error {
	r.mu.Lock()
	defer r.mu.Unlock()
	if r.seen[key] {
		return nil
	}
	if r.seen == nil {
		r.seen = map[string]bool{}
	}
	r.seen[key] = true
	return err
}
