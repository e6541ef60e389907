//go:build !unix

package spool

import (
	"errors"
	"os"
)

func lockFile(path string) (*os.File, error) {
	return nil, errors.New("the spool needs flock, which this platform does not have")
}

// Supported reports whether this platform has the spool.
const Supported = false
