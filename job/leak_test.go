package job

import (
	"runtime"
	"strings"
	"testing"
	"time"
)

// checkNoLeak fails t if goroutines started during the test, other than the
// test's own, are still running after it: call it first, with defer.
func checkNoLeak(t testing.TB) func() {
	before := goroutines()
	return func() {
		t.Helper()
		var extra []string
		// Exiting goroutines may take a moment to be gone; the loop ends
		// by itself.
		for range 200 {
			extra = extra[:0]
			for id, stack := range goroutines() {
				if _, ok := before[id]; !ok {
					extra = append(extra, stack)
				}
			}
			if len(extra) == 0 {
				return
			}
			time.Sleep(10 * time.Millisecond)
		}
		t.Errorf("%d goroutines left:\n%s", len(extra), strings.Join(extra, "\n\n"))
	}
}

// goroutines returns the stacks of the running goroutines by their header
// line, leaving out the caller's.
func goroutines() map[string]string {
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
	for i, g := range strings.Split(string(buf), "\n\n") {
		if i == 0 {
			continue // the caller
		}
		id, _, _ := strings.Cut(g, " [")
		m[id] = g
	}
	return m
}
