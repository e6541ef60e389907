//go:build !unix

package localstore

import "errors"

var errNotEmpty = errors.New("directory not empty")
