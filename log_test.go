package servercore

import (
	"log/slog"
	"strings"
	"testing"
	"time"

	"servercore/internal/testkit"
)

// TestLogRateLimited: a burst of refused connections is counted one by one
// but logged at most once a second, and the next line says how many were
// held back.
func TestLogRateLimited(t *testing.T) {
	testkit.ForEachBackend(t, func(t *testing.T, backend string) {
		app := newTestApp()
		var logs syncBuffer
		cfg := app.configFor(backend)
		cfg.MaxSessions = 1
		cfg.Logger = slog.New(slog.NewTextHandler(&logs, nil))
		svc := startServer(t, app, cfg)
		keep := testkit.Dial(t, svc.Addr())
		keep.Echo(1, nil)
		const burst = 30
		for range burst {
			testkit.Dial(t, svc.Addr()).ExpectClosed(testkit.WaitLong)
		}
		testkit.WaitFor(t, testkit.WaitLong, "every refusal counted", func() bool { return svc.Stats().Refused == burst })
		if n := strings.Count(logs.String(), "refused at the session limit"); n < 1 || n > 2 {
			t.Fatalf("%d refusal lines for a burst of %d, want 1 (2 if it spanned a second); log:\n%s", n, burst, logs.String())
		}
		time.Sleep(1100 * time.Millisecond)
		testkit.Dial(t, svc.Addr()).ExpectClosed(testkit.WaitLong)
		testkit.WaitFor(t, testkit.WaitLong, "a line after the second", func() bool {
			return strings.Contains(logs.String(), "held_back=") && !strings.HasSuffix(strings.TrimSpace(logs.String()), "held_back=0")
		})
	})
}
