package spantest

import (
	"syscall"
	"time"
)

// rusageThread is getrusage(2)'s RUSAGE_THREAD (Linux): the calling
// thread's usage; package syscall does not name it on Linux.
const rusageThread = 1

// threadCPU is the CPU time (user and system) the calling OS thread has
// used so far; the caller locks its goroutine to the thread.
func threadCPU() (time.Duration, bool) {
	var ru syscall.Rusage
	if syscall.Getrusage(rusageThread, &ru) != nil {
		return 0, false
	}
	return time.Duration(ru.Utime.Nano() + ru.Stime.Nano()), true
}
