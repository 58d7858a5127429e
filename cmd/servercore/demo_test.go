package main

import (
	"strings"
	"testing"
)

func TestDemo(t *testing.T) {
	code, stdout, stderr := runCmd(t, "demo", "--duration", "1s", "--clients", "4")
	if code != exitOK {
		t.Fatalf("exit %d\nstdout:\n%s\nstderr:\n%s", code, stdout, stderr)
	}
	for _, want := range []string{"echo", "broadcast", "packets/s", "p99.9", "accepted", "OK: nothing lost or corrupted"} {
		if !strings.Contains(stdout, want) {
			t.Errorf("demo output lacks %q:\n%s", want, stdout)
		}
	}
	if strings.Contains(stdout, "\r") {
		t.Errorf("demo drew a progress line on a non-terminal:\n%q", stdout)
	}
}
