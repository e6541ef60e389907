//go:build linux && (amd64 || arm64)

package transport

import (
	"io"
	"net"
	"os"
	"syscall"

	"github.com/mlflowtrace/mlflowtrace-go/internal/bufpool"
)

// quietConn is a TCP connection whose reads and writes make their
// non-blocking read(2) and write(2) calls without telling the Go scheduler
// that a system call is under way (syscall.RawSyscall): a socket in
// non-blocking mode never blocks in them, and the scheduler's notice —
// entersyscall — wakes the runtime's monitor thread (sysmon) out of its
// idle sleep every time a process that was idle does I/O, after which it
// polls every 20 µs until the process is idle again. For a client that
// sends a few requests a second, those wake-ups cost more CPU than the
// requests (BENCHMARKS.md, section 1a-0). Waiting for the socket to
// become readable or writable is still the netpoller's, so deadlines and
// Close interrupt a blocked Read or Write as on any net.Conn. Built with
// -race, the calls go through package syscall's wrappers instead, which tell
// the race detector that I/O orders the goroutines on both ends.
type quietConn struct {
	*net.TCPConn
	rc syscall.RawConn
}

// quiet wraps a TCP connection; anything else is returned as it is.
func quiet(nc net.Conn) net.Conn {
	tc, ok := nc.(*net.TCPConn)
	if !ok {
		return nc
	}
	rc, err := tc.SyscallConn()
	if err != nil {
		return nc
	}
	return &quietConn{TCPConn: tc, rc: rc}
}

// ReadFrom and WriteTo hide *net.TCPConn's, which copy through its own
// Read and Write (or splice): bufio.Writer hands a large request body to
// ReadFrom once its buffer is empty. They copy through a pooled buffer
// (io.Copy would allocate 32 KB per request body).
func (c *quietConn) ReadFrom(r io.Reader) (int64, error) {
	bp := copyBufs.Get()
	buf := (*bp)[:cap(*bp)]
	defer copyBufs.Put(bp, buf)
	return io.CopyBuffer(struct{ io.Writer }{c}, r, buf)
}

func (c *quietConn) WriteTo(w io.Writer) (int64, error) {
	bp := copyBufs.Get()
	buf := (*bp)[:cap(*bp)]
	defer copyBufs.Put(bp, buf)
	return io.CopyBuffer(w, struct{ io.Reader }{c}, buf)
}

var copyBufs = bufpool.New(32<<10, 32<<10)

func (c *quietConn) Read(p []byte) (int, error) {
	if len(p) == 0 {
		return 0, nil
	}
	var n int
	var errno syscall.Errno
	err := c.rc.Read(func(fd uintptr) bool {
		for {
			r, e := sysRead(fd, p)
			switch e {
			case syscall.EINTR:
				continue
			case syscall.EAGAIN:
				return false
			}
			n, errno = r, e
			return true
		}
	})
	if err := c.opError("read", err, errno); err != nil {
		return 0, err
	}
	if n == 0 {
		return 0, io.EOF
	}
	return n, nil
}

func (c *quietConn) Write(p []byte) (int, error) {
	written := 0
	var errno syscall.Errno
	err := c.rc.Write(func(fd uintptr) bool {
		for written < len(p) {
			rest := p[written:]
			r, e := sysWrite(fd, rest)
			switch e {
			case 0:
				written += r
			case syscall.EINTR:
			case syscall.EAGAIN:
				return false
			default:
				errno = e
				return true
			}
		}
		return true
	})
	return written, c.opError("write", err, errno)
}

// opError is nil when the call succeeded, else the failure as net's own
// connections report it: a *net.OpError around the poller's error or the
// system call's errno.
func (c *quietConn) opError(op string, err error, errno syscall.Errno) error {
	if err == nil {
		if errno == 0 {
			return nil
		}
		err = os.NewSyscallError(op, errno)
	}
	return &net.OpError{Op: op, Net: "tcp", Source: c.LocalAddr(), Addr: c.RemoteAddr(), Err: err}
}

// setLowWater sets the socket's SO_RCVLOWAT (without entersyscall, as the
// reads).
func (c *quietConn) setLowWater(n int) {
	_ = c.rc.Control(func(fd uintptr) { sysSetLowWater(fd, n) })
}

// hasUnread reports whether anything waits unread on the socket: data, the
// peer's close or an error. It is the one non-blocking peek an idle
// connection's check makes (closedByPeer).
func (c *quietConn) hasUnread() bool { return closedByPeer(c.rc) }
