//go:build unix

package localstore

import "syscall"

var errNotEmpty error = syscall.ENOTEMPTY
