package route_test

import (
	"context"
	"errors"
	"testing"

	"servercore"
	"servercore/internal/testkit"
)

// startService starts svc, skipping the test if its engine cannot run here
// (testkit.ForEachBackend fails it instead when the engine is required),
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
		ctx, cancel := context.WithTimeout(context.Background(), testkit.WaitLong)
		defer cancel()
		if err := svc.Stop(ctx); err != nil {
			t.Errorf("Stop: %v", err)
		}
	})
	return svc
}

// recv waits for a value on ch.
func recv[T any](t *testing.T, ch <-chan T, what string) T {
	t.Helper()
	return testkit.Recv(t, ch, testkit.WaitLong, what)
}
