package servercore

import (
	"fmt"
	"runtime"

	"servercore/internal/port"
)

// chooseBackend resolves a Config.Backend to the engine that will run, and
// for auto says why. It probes but starts nothing.
func chooseBackend(backend string) (name, why string, err error) {
	switch backend {
	case "auto":
		if err := port.ProbeIOCP(); err == nil {
			return "iocp", "IOCP is available", nil
		} else if runtime.GOOS == "windows" {
			return "std", fmt.Sprintf("IOCP is unavailable: %v", err), nil
		}
		if err := port.ProbeUring(); err != nil {
			return "std", fmt.Sprintf("io_uring is unavailable: %v", err), nil
		}
		return "uring", "io_uring is available", nil
	case "std":
		return "std", "", nil
	case "uring":
		if err := port.ProbeUring(); err != nil {
			return "", "", fmt.Errorf("%w: uring: %w", ErrBackendUnavailable, err)
		}
		return "uring", "", nil
	case "iocp":
		if err := port.ProbeIOCP(); err != nil {
			return "", "", fmt.Errorf("%w: iocp: %w", ErrBackendUnavailable, err)
		}
		return "iocp", "", nil
	}
	return "", "", fmt.Errorf("%w: unknown backend %q (want auto, std, uring or iocp)", ErrBackendUnavailable, backend)
}

// newEngine starts the engine chooseBackend named, with threads I/O
// threads where it has them (0: GOMAXPROCS).
func newEngine(name string, threads int) (port.Engine, error) {
	switch name {
	case "uring":
		e, err := port.NewUring(threads)
		if err != nil {
			return nil, fmt.Errorf("%w: uring: %w", ErrBackendUnavailable, err)
		}
		return e, nil
	case "iocp":
		e, err := port.NewIOCP(threads, 0)
		if err != nil {
			return nil, fmt.Errorf("%w: iocp: %w", ErrBackendUnavailable, err)
		}
		return e, nil
	default:
		return port.NewStd(), nil
	}
}

// recvIntoEngineMemory reports whether the engine name receives into memory
// of its own (Event.Data) rather than the session's RecvBuffer.
func recvIntoEngineMemory(name string) bool { return name == "uring" }
