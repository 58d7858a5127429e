package route_test

import (
	"context"
	"errors"
	"runtime"
	"testing"
	"time"

	"servercore"
)

// engines are the backends the tests run on; one that cannot run on this
// system is skipped with the reason.
var engines = func() []string {
	switch runtime.GOOS {
	case "linux":
		return []string{"std", "uring"}
	case "windows":
		return []string{"std", "iocp"}
	}
	return []string{"std"}
}()

// forEachEngine runs fn as a subtest per engine.
func forEachEngine(t *testing.T, fn func(t *testing.T, backend string)) {
	for _, backend := range engines {
		t.Run(backend, func(t *testing.T) { fn(t, backend) })
	}
}

// startService starts svc, skipping the test if its engine cannot run here,
// and stops it at the end of the test.
func startService(t *testing.T, svc *servercore.Service, err error) *servercore.Service {
	t.Helper()
	if err == nil {
		err = svc.Start(context.Background())
	}
	if errors.Is(err, servercore.ErrBackendUnavailable) {
		t.Skipf("engine unavailable here: %v", err)
	}
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() {
		ctx, cancel := context.WithTimeout(context.Background(), waitLong)
		defer cancel()
		if err := svc.Stop(ctx); err != nil {
			t.Errorf("Stop: %v", err)
		}
	})
	return svc
}

// Generous bounds: the suite runs on two noisy cores under -race.
const waitLong = 20 * time.Second

// recv waits for a value on ch.
func recv[T any](t *testing.T, ch <-chan T, what string) T {
	t.Helper()
	select {
	case v := <-ch:
		return v
	case <-time.After(waitLong):
		t.Fatalf("timed out waiting for %s", what)
	}
	var zero T
	return zero
}
