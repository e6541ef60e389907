package bufpool

import "sync"

// Pool hands out scratch byte buffers that are filled, used and dropped
// within one call, and takes them back unless they grew beyond a limit.
// It is safe for concurrent use.
//
// It is a free list, not a sync.Pool: the exporter's worker takes a buffer
// a few times a second and may run on another P each time, and a sync.Pool
// misses a buffer left in another P's private slot or dropped by the last
// two collections. Against a real server 11 of 101 request batches found
// the sync.Pool empty and grew a fresh 16 KB buffer to their ~100 KB again
// (BENCHMARKS.md section 4).
type Pool struct {
	initial, max int

	mu   sync.Mutex
	free []*[]byte
	held int // capacity of the buffers in free, at most 2*max
}

// New returns a Pool whose new buffers have capacity initial and which keeps
// returned buffers of capacity up to max, and at most 2*max bytes of them
// in all.
func New(initial, max int) *Pool {
	return &Pool{initial: initial, max: max}
}

// Get returns an empty buffer: the one returned last, or a new one. Append
// to (*bp)[:0] and hand the result to Put.
func (p *Pool) Get() *[]byte {
	p.mu.Lock()
	if n := len(p.free); n > 0 {
		bp := p.free[n-1]
		p.free[n-1] = nil
		p.free = p.free[:n-1]
		p.held -= cap(*bp)
		p.mu.Unlock()
		*bp = (*bp)[:0]
		return bp
	}
	p.mu.Unlock()
	b := make([]byte, 0, p.initial)
	return &b
}

// Put returns bp, which now holds b (the buffer as grown from *bp), to the
// pool. A buffer grown beyond the pool's max is left to the garbage
// collector, so that one huge payload does not stay pinned, and so is one
// that would take the pool's buffers beyond 2*max bytes. b must not be used
// after Put.
func (p *Pool) Put(bp *[]byte, b []byte) {
	c := cap(b)
	if c > p.max {
		return
	}
	*bp = b[:0]
	p.mu.Lock()
	if p.held+c <= 2*p.max {
		p.free = append(p.free, bp)
		p.held += c
	}
	p.mu.Unlock()
}
