// Package testkit holds what the tests of every package in the module
// share: leak checks, polling, a packet client over a plain net.Conn and a
// runner that repeats a test on each engine of the platform.
//
// It must not import the root package, so that the root package's own
// tests can import it.
package testkit

import (
	"testing"
	"time"
)

// Generous bounds: the suites run on two noisy cores under -race.
const (
	WaitLong  = 20 * time.Second // upper bound of anything that must happen
	WaitShort = 5 * time.Second  // upper bound of what must happen soon
)

// WaitFor polls cond until it holds or d passes, then fails the test with
// msg.
func WaitFor(t testing.TB, d time.Duration, msg string, cond func() bool) {
	t.Helper()
	if !WaitUntil(d, cond) {
		t.Fatalf("timed out after %v waiting for %s", d, msg)
	}
}

// WaitUntil polls cond until it holds, and reports whether it did within d.
func WaitUntil(d time.Duration, cond func() bool) bool {
	deadline := time.Now().Add(d)
	for !cond() {
		if time.Now().After(deadline) {
			return false
		}
		time.Sleep(2 * time.Millisecond)
	}
	return true
}

// Recv waits up to d for a value on ch, and fails the test naming what it
// waited for if none comes.
func Recv[T any](t testing.TB, ch <-chan T, d time.Duration, what string) T {
	t.Helper()
	select {
	case v := <-ch:
		return v
	case <-time.After(d):
		t.Fatalf("timed out after %v waiting for %s", d, what)
	}
	var zero T
	return zero
}
