package testkit

import (
	"os"
	"slices"
	"strings"
	"testing"

	"servercore/internal/port"
)

// requireEnv names the engines, comma-separated, that must not be skipped:
// a machine that has to test an engine sets it, so that a failing probe
// fails the suite rather than pass it untested.
const requireEnv = "SERVERCORE_TEST_REQUIRE"

// Backends returns the engines of this platform, in the order ForEachBackend
// runs them.
func Backends() []string { return slices.Clone(backends) }

// Probe reports why backend cannot run on this system, or nil.
func Probe(backend string) error {
	switch backend {
	case "uring":
		return port.ProbeUring()
	case "iocp":
		return port.ProbeIOCP()
	}
	return nil
}

// Required reports whether SERVERCORE_TEST_REQUIRE names backend.
func Required(backend string) bool {
	return slices.Contains(strings.Split(os.Getenv(requireEnv), ","), backend)
}

// ForEachBackend runs f once per engine of the platform, as the subtest
// t.Run(backend). An engine unavailable here is skipped with the probe's
// reason, or fails the subtest if SERVERCORE_TEST_REQUIRE names it.
func ForEachBackend(t *testing.T, f func(t *testing.T, backend string)) {
	t.Helper()
	for _, backend := range backends {
		t.Run(backend, func(t *testing.T) {
			if err := Probe(backend); err != nil {
				if Required(backend) {
					t.Fatalf("engine %q is required (%s) but unavailable: %v", backend, requireEnv, err)
				}
				t.Skipf("engine %q unavailable on this system, not tested: %v", backend, err)
			}
			f(t, backend)
		})
	}
}
