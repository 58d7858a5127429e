package testkit

import (
	"slices"
	"strings"
	"sync/atomic"
	"testing"
	"time"
)

func TestWaitUntil(t *testing.T) {
	for _, tc := range []struct {
		name  string
		after int // polls before cond holds; -1 for never
		want  bool
	}{
		{"at once", 0, true},
		{"after a few polls", 5, true},
		{"never", -1, false},
	} {
		t.Run(tc.name, func(t *testing.T) {
			var polls atomic.Int64
			cond := func() bool { return tc.after >= 0 && polls.Add(1) > int64(tc.after) }
			if got := WaitUntil(100*time.Millisecond, cond); got != tc.want {
				t.Errorf("WaitUntil = %v, want %v", got, tc.want)
			}
		})
	}
}

// TestWaitForFails: WaitFor fails the test when the condition never holds,
// and names what it waited for.
func TestWaitForFails(t *testing.T) {
	got := failures(t, func(tb testing.TB) {
		WaitFor(tb, 20*time.Millisecond, "the impossible", func() bool { return false })
	})
	if len(got) != 1 || got[0] != "timed out after 20ms waiting for the impossible" {
		t.Errorf("WaitFor reported %q", got)
	}
	if got := failures(t, func(tb testing.TB) { WaitFor(tb, time.Second, "nothing", func() bool { return true }) }); len(got) > 0 {
		t.Errorf("WaitFor of a condition that holds reported %q", got)
	}
}

func TestRecv(t *testing.T) {
	ch := make(chan int, 1)
	ch <- 42
	if v := Recv(t, ch, WaitShort, "the answer"); v != 42 {
		t.Errorf("Recv = %d, want 42", v)
	}
	got := failures(t, func(tb testing.TB) { Recv(tb, ch, 20*time.Millisecond, "a second value") })
	if len(got) != 1 || got[0] != "timed out after 20ms waiting for a second value" {
		t.Errorf("Recv on an empty channel reported %q", got)
	}
}

// TestForEachBackend: every engine of the platform gets its subtest, the
// portable one always runs, and one that runs is handed its own name.
func TestForEachBackend(t *testing.T) {
	var ran []string
	ForEachBackend(t, func(t *testing.T, backend string) {
		if !strings.HasSuffix(t.Name(), "/"+backend) {
			t.Errorf("subtest %s ran with backend %q", t.Name(), backend)
		}
		ran = append(ran, backend)
	})
	for _, b := range Backends() {
		if err := Probe(b); (err == nil) != slices.Contains(ran, b) {
			t.Errorf("engine %q: probe %v, but ran %v", b, err, ran)
		}
	}
	if !slices.Contains(ran, "std") {
		t.Error("the portable engine must always run")
	}
}

func TestRequired(t *testing.T) {
	for _, tc := range []struct {
		env, backend string
		want         bool
	}{
		{"", "uring", false},
		{"uring", "uring", true},
		{"iocp,uring", "uring", true},
		{"iocp", "uring", false},
		{"uring2", "uring", false},
	} {
		t.Setenv(requireEnv, tc.env)
		if got := Required(tc.backend); got != tc.want {
			t.Errorf("%s=%q: Required(%q) = %v, want %v", requireEnv, tc.env, tc.backend, got, tc.want)
		}
	}
}
