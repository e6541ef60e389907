//go:build unix && !(linux && (amd64 || arm64))

package transport

import "syscall"

// closedByPeer peeks at the socket without blocking: true when the peer
// closed it (EOF), reset it, or sent bytes nobody asked for.
func closedByPeer(rc syscall.RawConn) bool {
	closed := false
	var buf [1]byte
	err := rc.Read(func(fd uintptr) bool {
		_, _, err := syscall.Recvfrom(int(fd), buf[:], syscall.MSG_PEEK|syscall.MSG_DONTWAIT)
		// EAGAIN: nothing to read, open and quiet. Anything else — an
		// error (reset), EOF or unexpected data — means it is done.
		closed = err != syscall.EAGAIN && err != syscall.EWOULDBLOCK
		return true // never wait
	})
	return closed || err != nil
}
