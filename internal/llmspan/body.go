package llmspan

import (
	"io"
	"net/http"
	"sync"
)

// StreamDecoder takes the bytes of a streamed response body as the caller
// reads them and records its events (server-sent events for a Call; an
// Operation's integration gives its own, e.g. AWS event streams).
type StreamDecoder interface {
	Feed(p []byte)
	// Flush is called when the body ended without an error (perhaps more
	// than once: it must be idempotent).
	Flush()
}

// body passes a response body through and watches it: its bytes go to the
// stream decoder (a stream) or are kept (another answer), and its end —
// EOF, a read error, Close, or the stream's final event — settles the call.
type body struct {
	rc    io.ReadCloser
	owner *Call
	res   *http.Response
	req   *http.Request
	dec   StreamDecoder // nil: not a stream

	mu        sync.Mutex
	buf       []byte
	truncated bool
	read      bool // any byte read
	done      bool
	closing   bool // Close runs: a read error now is its doing, not the call's
}

func (b *body) Read(p []byte) (int, error) {
	n, err := b.rc.Read(p)
	over := false
	if n > 0 || err != nil {
		b.mu.Lock()
		if n > 0 {
			b.read = true
			b.take(p[:n])
			// A stream is over at its final event (the provider's stop or
			// error event): an SDK may stop reading there, before EOF, and
			// not close the body.
			over = b.dec != nil && !b.done && b.streamDone()
		}
		b.mu.Unlock()
	}
	if over {
		b.finish(nil, false)
	}
	if err != nil {
		b.mu.Lock()
		closing := b.closing
		b.mu.Unlock()
		switch {
		case err == io.EOF:
			b.finish(nil, false)
		case !closing: // a read the caller's Close cut is settled by Close
			b.failed(err)
		}
	}
	return n, err
}

// take records bytes (b.mu held).
func (b *body) take(p []byte) {
	if b.done {
		return
	}
	if b.dec != nil {
		b.feed(p)
		return
	}
	if room := b.owner.maxBody - len(b.buf); room > 0 {
		b.buf = append(b.buf, p[:min(len(p), room)]...)
		if len(p) > room {
			b.truncated = true
		}
	} else {
		b.truncated = true
	}
}

// feed and flush run the decoder; a decoder bug must not break the program.
func (b *body) feed(p []byte) {
	defer func() { _ = recover() }()
	b.dec.Feed(p)
}

func (b *body) flush() {
	defer func() { _ = recover() }()
	b.dec.Flush()
}

func (b *body) Close() error {
	b.mu.Lock()
	b.closing = true
	b.mu.Unlock()
	err := b.rc.Close()
	b.mu.Lock()
	done := b.done
	read := b.read
	b.mu.Unlock()
	if done {
		return err
	}
	streamDone := b.flushStream()
	if !read && b.owner.retried(b, nil) {
		// The SDK closes a response it retries without reading it.
		b.settle()
		return err
	}
	b.finish(nil, !streamDone)
	return err
}

// abandon finishes the body as Close does, without closing it: the SDK
// ended the call (it closes the body next).
func (b *body) abandon() {
	b.mu.Lock()
	done := b.done
	b.mu.Unlock()
	if !done {
		b.finish(nil, !b.flushStream())
	}
}

// flushStream hands a stream's last buffered event to the decoder and
// reports whether the stream reached its end (false for a body that is not
// a stream).
func (b *body) flushStream() bool {
	if b.dec == nil {
		return false
	}
	b.mu.Lock()
	b.flush()
	done := b.streamDone()
	b.mu.Unlock()
	return done
}

func (b *body) streamDone() (done bool) {
	defer func() { _ = recover() }()
	return b.owner.rec.StreamDone()
}

// failed handles a read error: a dropped connection the SDK retries, or the
// end of the call.
func (b *body) failed(err error) {
	if b.owner.retried(b, err) {
		b.settle()
		return
	}
	b.finish(err, false)
}

func (b *body) settle() bool {
	b.mu.Lock()
	defer b.mu.Unlock()
	if b.done {
		return false
	}
	b.done = true
	return true
}

func (b *body) finish(err error, closedEarly bool) {
	b.mu.Lock()
	if b.done {
		b.mu.Unlock()
		return
	}
	stream := b.dec != nil
	if stream && err == nil {
		b.flush()
	}
	b.done = true
	r := Result{Response: b.res, Err: err, ClosedEarly: closedEarly && stream, Stream: stream}
	if !stream {
		r.Body, r.Truncated = b.buf, b.truncated
	}
	b.mu.Unlock()
	b.owner.bodyEnd(b, r)
}
