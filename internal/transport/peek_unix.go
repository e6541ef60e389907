//go:build unix && !(linux && (amd64 || arm64) && !race)

package transport

import "syscall"

// sysPeek is a non-blocking recv(2) with MSG_PEEK through package syscall
// (quietconn_raw.go has the raw one).
func sysPeek(fd uintptr, p []byte) syscall.Errno {
	_, _, err := syscall.Recvfrom(int(fd), p, syscall.MSG_PEEK|syscall.MSG_DONTWAIT)
	return errnoOf(err)
}

// errnoOf is err's errno (0 for nil, EIO for an error of another kind).
func errnoOf(err error) syscall.Errno {
	if err == nil {
		return 0
	}
	if e, ok := err.(syscall.Errno); ok {
		return e
	}
	return syscall.EIO
}
