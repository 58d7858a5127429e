package port

import (
	"crypto/tls"
	"fmt"
	"runtime"
)

// Choose resolves a backend name ("auto", "std", "uring" or "iocp") to the
// engine that will run: the name itself if that engine can run here, or for
// "auto" the best engine this system offers, with the reason it was picked.
// It probes but starts nothing.
func Choose(backend string) (name, why string, err error) {
	switch backend {
	case "auto":
		if err := ProbeIOCP(); err == nil {
			return "iocp", "IOCP is available", nil
		} else if runtime.GOOS == "windows" {
			return "std", fmt.Sprintf("IOCP is unavailable: %v", err), nil
		}
		if err := ProbeUring(); err != nil {
			return "std", fmt.Sprintf("io_uring is unavailable: %v", err), nil
		}
		return "uring", "io_uring is available", nil
	case "std":
		return "std", "", nil
	case "uring":
		if err := ProbeUring(); err != nil {
			return "", "", fmt.Errorf("uring: %w", err)
		}
		return "uring", "", nil
	case "iocp":
		if err := ProbeIOCP(); err != nil {
			return "", "", fmt.Errorf("iocp: %w", err)
		}
		return "iocp", "", nil
	}
	return "", "", fmt.Errorf("unknown backend %q (want auto, std, uring or iocp)", backend)
}

// Start starts the engine Choose named, completing I/O on threads threads
// where it has them (GOMAXPROCS if threads <= 0). With tlsCfg, its
// listeners and connections run TLS; only std does.
func Start(name string, threads int, tlsCfg *tls.Config) (Engine, error) {
	if tlsCfg != nil && name != "std" {
		return nil, fmt.Errorf("%s: TLS runs on the std engine only", name)
	}
	var (
		e   Engine
		err error
	)
	switch name {
	case "uring":
		e, err = NewUring(threads)
	case "iocp":
		e, err = NewIOCP(threads, 0)
	case "std":
		e := NewStd()
		e.TLS = tlsCfg
		return e, nil
	default:
		return nil, fmt.Errorf("unknown backend %q", name)
	}
	if err != nil {
		return nil, fmt.Errorf("%s: %w", name, err)
	}
	return e, nil
}
