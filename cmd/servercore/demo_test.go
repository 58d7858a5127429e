package main

import (
	"strings"
	"testing"
)

// The default demo is the game, and passes only with no violation.
func TestDemo(t *testing.T) {
	code, stdout, stderr := runCmd(t, "demo", "--duration", "1s", "--clients", "20", "--rooms", "3")
	if code != exitOK {
		t.Fatalf("exit %d\nstdout:\n%s\nstderr:\n%s", code, stdout, stderr)
	}
	for _, want := range []string{"MMO sample, 20 bots in 3 rooms", "deliveries/s", "violations", "logins", "OK: no violation"} {
		if !strings.Contains(stdout, want) {
			t.Errorf("demo output lacks %q:\n%s", want, stdout)
		}
	}
	if strings.Contains(stdout, "\r") {
		t.Errorf("demo drew a progress line on a non-terminal:\n%q", stdout)
	}
}

func TestDemoUsage(t *testing.T) {
	if code, _, stderr := runCmd(t, "demo", "--app", "chess"); code != exitUsage || !strings.Contains(stderr, "--app") {
		t.Fatalf("demo --app chess: exit %d, stderr %q; want a usage error", code, stderr)
	}
}

func TestDemoEcho(t *testing.T) {
	code, stdout, stderr := runCmd(t, "demo", "--app", "echo", "--duration", "1s", "--clients", "4")
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
