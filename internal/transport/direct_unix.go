//go:build unix

package transport

import "syscall"

// closedByPeer peeks at the socket without blocking (sysPeek, which on Linux
// is as quiet as quietConn's reads): true when the peer closed it (EOF),
// reset it, or sent bytes nobody asked for.
func closedByPeer(rc syscall.RawConn) bool {
	closed := false
	var buf [1]byte
	err := rc.Read(func(fd uintptr) bool {
		e := sysPeek(fd, buf[:])
		// EAGAIN: nothing to read, open and quiet. Anything else — an
		// error (reset), EOF or unexpected data — means it is done.
		closed = e != syscall.EAGAIN && e != syscall.EWOULDBLOCK
		return true // never wait
	})
	return closed || err != nil
}
