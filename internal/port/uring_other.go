//go:build !linux

package port

import "errors"

// errNoUring is why the io_uring engine cannot run off Linux.
var errNoUring = errors.New("io_uring is Linux-only")

// ProbeUring reports that the io_uring engine cannot run here.
func ProbeUring() error { return errNoUring }

// NewUring fails off Linux.
func NewUring(int) (Engine, error) { return nil, errNoUring }
