package servercore

import (
	"fmt"

	"servercore/internal/port"
)

// newEngine returns the engine the backend names, and why auto chose it.
func newEngine(backend string) (port.Engine, string, error) {
	switch backend {
	case "auto":
		return port.NewStd(), "auto: the portable engine is the only one built so far", nil
	case "std":
		return port.NewStd(), "", nil
	case "uring", "iocp":
		return nil, "", fmt.Errorf("%w: %q is not built yet; use \"std\" or \"auto\"", ErrBackendUnavailable, backend)
	}
	return nil, "", fmt.Errorf("%w: unknown backend %q (want auto, std, uring or iocp)", ErrBackendUnavailable, backend)
}
