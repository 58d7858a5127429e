//go:build !windows

package port

import "errors"

// errNoIOCP is why the iocp engine cannot run off Windows.
var errNoIOCP = errors.New("IOCP is Windows-only")

// ProbeIOCP reports that the iocp engine cannot run here.
func ProbeIOCP() error { return errNoIOCP }

// NewIOCP fails off Windows.
func NewIOCP(workers, accepts int) (Engine, error) { return nil, errNoIOCP }
