//go:build !unix

package transport

import "syscall"

// closedByPeer cannot look without blocking here: a closed connection shows
// as a failed request, which the Client retries.
func closedByPeer(syscall.RawConn) bool { return false }
