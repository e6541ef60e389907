package transport

import (
	"bytes"
	"sync"
	"sync/atomic"
	"time"

	"github.com/mlflowtrace/mlflowtrace-go/internal/bufpool"
)

// bodyBufs holds the buffers Request.AppendBody writes bodies into.
var bodyBufs = bufpool.New(16<<10, 1<<20)

// putBody returns a body's buffer to bodyBufs (a variable for the tests).
var putBody = bodyBufs.Put

// bodyLease tracks the readers through which a RoundTripper that may read a
// request body after it returned (net/http's Transport, a caller's
// HTTPClient, a redirect) reads the pooled body of one request's attempts,
// and calls release once Do has returned and every one of them is closed:
// then nothing reads the buffer any more and it can go back to bodyBufs. The
// package's own RoundTripper reads a body only before it returns and gets a
// plain *bytes.Reader (Client.once).
type bodyLease struct {
	mu      sync.Mutex
	open    int  // readers handed out and not closed
	ended   bool // Do returned
	release func()
}

// reader returns a new reader of b counted as open until its Close.
func (l *bodyLease) reader(b []byte) *leasedReader {
	l.mu.Lock()
	l.open++
	l.mu.Unlock()
	return &leasedReader{Reader: bytes.NewReader(b), l: l}
}

// end records that Do returned.
func (l *bodyLease) end() {
	l.mu.Lock()
	l.ended = true
	done := l.open == 0
	l.mu.Unlock()
	if done {
		l.release()
	}
}

func (l *bodyLease) closed() {
	l.mu.Lock()
	l.open--
	done := l.ended && l.open == 0
	l.mu.Unlock()
	if done {
		l.release()
	}
}

// leasedReader is one attempt's request body.
type leasedReader struct {
	*bytes.Reader
	l    *bodyLease
	once sync.Once
}

// Close counts the reader closed (once, however often it is called).
func (r *leasedReader) Close() error {
	r.once.Do(r.l.closed)
	return nil
}

// newCalls is newCall for requests sent together (DoPipelined): their
// AppendBody bodies are written one after the other into one buffer from
// bodyBufs, which goes back once every call is over. With a buffer per
// request the pool would not keep buffers matched to bodies: the buffer a
// large body (the batch's spans) grew is handed next to a small one (a
// trace's info), and the large body grows a small buffer again — a fifth of
// the batches against a real server did, about 4 KB per trace
// (BENCHMARKS.md section 4).
func (c *Client) newCalls(reqs []*Request) []*call {
	calls := make([]*call, len(reqs))
	deadline := time.Now().Add(c.budget)
	var buf *sharedBody
	for i, req := range reqs {
		calls[i] = newCallInto(req, deadline, &buf)
	}
	return calls
}

// newCallInto makes req's call with the given deadline; an AppendBody body
// is appended to *buf, which it takes from bodyBufs first when nil.
func newCallInto(req *Request, deadline time.Time, buf **sharedBody) *call {
	cl := &call{req: req, body: req.Body, deadline: deadline}
	if req.AppendBody == nil || req.GetBody != nil {
		return cl
	}
	b := *buf
	if b == nil {
		b = &sharedBody{bp: bodyBufs.Get()}
		b.buf = *b.bp
		*buf = b
	}
	start := len(b.buf)
	b.buf = req.AppendBody(b.buf)
	// Full slice expression: a body never reaches into the next.
	cl.body = b.buf[start:len(b.buf):len(b.buf)]
	b.users.Add(1)
	cl.lease = &bodyLease{release: b.release}
	return cl
}

// sharedBody is the pooled buffer that holds the bodies of a call (Do) or of
// the calls sent together (DoPipelined).
type sharedBody struct {
	bp    *[]byte
	buf   []byte       // every body, as last grown
	users atomic.Int32 // calls whose lease has not released it yet
}

// release is one call's lease releasing the buffer; the last one returns it
// to bodyBufs.
func (s *sharedBody) release() {
	if s.users.Add(-1) == 0 {
		putBody(s.bp, s.buf)
	}
}
