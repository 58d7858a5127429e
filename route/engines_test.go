package route_test

import (
	"context"
	"testing"

	"servercore"
	"servercore/internal/testkit"
)

// startService starts svc and stops it at the end of the test. Whether its
// engine can run here is testkit.ForEachBackend's to decide, before.
func startService(t *testing.T, svc *servercore.Service, err error) *servercore.Service {
	t.Helper()
	if err == nil {
		err = svc.Start(context.Background())
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
