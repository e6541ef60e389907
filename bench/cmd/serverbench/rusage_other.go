//go:build !unix

package main

import "time"

func cpuTime() time.Duration { return 0 }
func maxRSSBytes() int64     { return 0 }
func contextSwitches() int64 { return 0 }
