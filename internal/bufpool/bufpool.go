package bufpool

import "sync"

// Pool hands out scratch byte buffers that are filled, used and dropped
// within one call, and takes them back unless they grew beyond a limit.
// It is safe for concurrent use.
type Pool struct {
	pool sync.Pool
	max  int
}

// New returns a Pool whose new buffers have capacity initial and which keeps
// returned buffers of capacity up to max.
func New(initial, max int) *Pool {
	p := &Pool{max: max}
	p.pool.New = func() any { b := make([]byte, 0, initial); return &b }
	return p
}

// Get returns an empty buffer. Append to (*bp)[:0] and hand the result to
// Put.
func (p *Pool) Get() *[]byte {
	bp := p.pool.Get().(*[]byte)
	*bp = (*bp)[:0]
	return bp
}

// Put returns bp, which now holds b (the buffer as grown from *bp), to the
// pool; a buffer grown beyond the pool's max is left to the garbage
// collector so that one huge payload does not stay pinned. b must not be
// used after Put.
func (p *Pool) Put(bp *[]byte, b []byte) {
	if cap(b) > p.max {
		return
	}
	*bp = b[:0]
	p.pool.Put(bp)
}
