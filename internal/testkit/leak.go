package testkit

import (
	"net"
	"os"
	"runtime"
	"strconv"
	"strings"
	"testing"
	"time"
)

// Goroutines returns the stacks of the running goroutines by id.
func Goroutines() map[string]string {
	buf := make([]byte, 1<<20)
	for {
		n := runtime.Stack(buf, true)
		if n < len(buf) {
			buf = buf[:n]
			break
		}
		buf = make([]byte, 2*len(buf))
	}
	m := make(map[string]string)
	for _, g := range strings.Split(string(buf), "\n\n") {
		// "goroutine 12 [running]:"
		f := strings.Fields(g)
		if len(f) >= 2 && f[0] == "goroutine" {
			if _, err := strconv.Atoi(f[1]); err == nil {
				m[f[1]] = g
			}
		}
	}
	return m
}

// ignoredGoroutine reports goroutines that belong to the runtime or the
// testing framework rather than to the code under test.
func ignoredGoroutine(stack string) bool {
	for _, s := range []string{
		"testing.(*T).Run(",
		"testing.tRunner(",
		"testing.(*M).",
		"testing.runTests",
		"testing.runFuzzing",
		"testing.(*F).",
		"testing/internal/testdeps.",
		"os/signal.signal_recv",
		"os/signal.loop",
		"runtime.goexit0",
		"runtime.ReadTrace",
		"runtime/trace.Start",
		"internal/fuzz.",
	} {
		if strings.Contains(stack, s) {
			return true
		}
	}
	return false
}

// FdCount returns the number of open descriptors, or -1 off Linux, where
// /proc/self/fd is missing or (under Wine) describes another process.
func FdCount() int {
	if runtime.GOOS != "linux" {
		return -1
	}
	ents, err := os.ReadDir("/proc/self/fd")
	if err != nil {
		return -1
	}
	return len(ents)
}

// leakWait is how long the leak checks poll for goroutines and descriptors
// to go: closing a socket or ending a goroutine completes asynchronously.
var leakWait = 5 * time.Second

// SettleFdCount polls until at most n descriptors are open, for as long as
// LeakCheck would, and returns the count it saw last. Descriptors of
// sockets closed a moment ago may still be open while their engine winds
// them down.
func SettleFdCount(n int) int {
	var now int
	for end := time.Now().Add(leakWait); ; time.Sleep(20 * time.Millisecond) {
		if now = FdCount(); now <= n || time.Now().After(end) {
			return now
		}
	}
}

// LeakCheck snapshots goroutines and descriptors; the returned function,
// called after everything was stopped and closed, fails t if any goroutine
// started since remains after ~5 s of polling, or if more descriptors are
// open than before.
func LeakCheck(t testing.TB) func() {
	t.Helper()
	// Make the runtime's own lazily created descriptors (netpoll) exist
	// before the snapshot.
	if ln, err := net.Listen("tcp", "127.0.0.1:0"); err == nil {
		ln.Close()
	}
	before := Goroutines()
	fds := FdCount()
	return func() {
		t.Helper()
		var leaked []string
		deadline := time.Now().Add(leakWait)
		for {
			leaked = leaked[:0]
			for id, g := range Goroutines() {
				if _, ok := before[id]; !ok && !ignoredGoroutine(g) {
					leaked = append(leaked, g)
				}
			}
			if len(leaked) == 0 || time.Now().After(deadline) {
				break
			}
			time.Sleep(20 * time.Millisecond)
		}
		if len(leaked) > 0 {
			t.Errorf("%d goroutines leaked:\n\n%s", len(leaked), strings.Join(leaked, "\n\n"))
		}
		if fds < 0 {
			t.Log("descriptor leak check skipped: /proc/self/fd is not available on this system")
			return
		}
		if now := SettleFdCount(fds); now > fds {
			t.Errorf("descriptors leaked: %d open before, %d after", fds, now)
		}
	}
}
