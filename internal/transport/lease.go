package transport

import (
	"bytes"
	"sync"

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
