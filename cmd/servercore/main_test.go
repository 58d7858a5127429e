package main

import (
	"net"
	"runtime"
	"strings"
	"testing"
)

func TestUsageListsCommands(t *testing.T) {
	for _, args := range [][]string{nil, {"frobnicate"}} {
		code, _, stderr := runCmd(t, args...)
		if code != exitUsage {
			t.Errorf("%q: exit %d, want %d", args, code, exitUsage)
		}
		for _, cmd := range []string{"serve", "stress", "demo"} {
			if !strings.Contains(stderr, cmd) {
				t.Errorf("%q: usage does not list %q:\n%s", args, cmd, stderr)
			}
		}
	}
	if code, stdout, _ := runCmd(t, "-h"); code != exitOK || !strings.Contains(stdout, "stress") {
		t.Errorf("-h: exit %d, stdout:\n%s", code, stdout)
	}
}

func TestHelpFlag(t *testing.T) {
	for _, cmd := range []string{"serve", "stress", "demo"} {
		code, stdout, _ := runCmd(t, cmd, "-h")
		if code != exitOK || !strings.Contains(stdout, "usage: servercore "+cmd) || !strings.Contains(stdout, "-backend") {
			t.Errorf("%s -h: exit %d, stdout:\n%s", cmd, code, stdout)
		}
	}
	if _, stdout, _ := runCmd(t, "stress", "-h"); !strings.Contains(stdout, "4-byte header") {
		t.Errorf("stress usage does not explain --size:\n%s", stdout)
	}
}

func TestBadFlags(t *testing.T) {
	listen := []string{"serve", "--listen", "127.0.0.1:0"}
	stress := []string{"stress", "--target", "127.0.0.1:1"}
	for _, c := range []struct {
		args []string
		want string
	}{
		{[]string{"serve", "--bogus"}, "flag provided but not defined"},
		{[]string{"serve", "--app", "echo"}, "--listen is required"},
		{append(listen, "--app", "chat"), "--app must be echo or broadcast"},
		{append(listen, "--app", "echo", "--backend", "kqueue"), "--backend must be"},
		{append(listen, "--app", "echo", "--max-packet", "3"), "--max-packet"},
		{append(listen, "--app", "echo", "--max-sessions", "-1"), "--max-sessions"},
		{append(listen, "--app", "echo", "--idle-timeout", "soon"), "invalid value"},
		{append(listen, "--app", "echo", "--send-interval", "-1ms"), "--send-interval"},
		{append(listen, "--app", "echo", "stray"), "unexpected argument"},
		{[]string{"stress", "--clients", "3"}, "--target is required"},
		{append(stress, "--size", "19"), "--size must be within 20..65535"},
		{append(stress, "--size", "70000"), "--size must be within"},
		{append(stress, "--clients", "0"), "--clients"},
		{append(stress, "--inflight", "0"), "--inflight"},
		{append(stress, "--duration", "0s"), "--duration"},
		{append(stress, "--mode", "chat"), "--mode must be echo or broadcast"},
		{append(stress, "--rate", "0"), "--rate"},
		{append(stress, "--backend", "epoll"), "--backend must be"},
		{[]string{"demo", "--clients", "-2"}, "--clients"},
		{[]string{"demo", "--size", "8"}, "--size"},
	} {
		code, stdout, stderr := runCmd(t, c.args...)
		if code != exitUsage || !strings.Contains(stderr, c.want) || stdout != "" {
			t.Errorf("%q: exit %d, want %d with %q on stderr; stderr:\n%s\nstdout:\n%s",
				c.args, code, exitUsage, c.want, stderr, stdout)
		}
	}
}

// A backend the system cannot run, or an address that cannot be listened
// on, is a runtime failure: exit 1 with the reason.
func TestServeRuntimeErrors(t *testing.T) {
	ln, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	defer ln.Close()
	cases := [][]string{{"serve", "--listen", ln.Addr().String(), "--app", "echo"}}
	if runtime.GOOS != "windows" {
		cases = append(cases, []string{"serve", "--listen", "127.0.0.1:0", "--app", "echo", "--backend", "iocp"})
	}
	for _, args := range cases {
		code, stdout, stderr := runCmd(t, args...)
		if code != exitFailed || stderr == "" || strings.Contains(stdout, "listening") {
			t.Errorf("%q: exit %d, want %d; stderr:\n%s\nstdout:\n%s", args, code, exitFailed, stderr, stdout)
		}
	}
}
