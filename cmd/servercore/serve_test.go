package main

import (
	"bufio"
	"context"
	"io"
	"net"
	"os"
	"os/exec"
	"path/filepath"
	"regexp"
	"runtime"
	"strings"
	"syscall"
	"testing"
	"time"

	"servercore/internal/testkit"
)

var listeningLine = regexp.MustCompile(`^listening on (127\.0\.0\.1:([0-9]+)) \(backend (\w+)\)$`)

// checkListening checks the line serve prints and that the server accepts
// on the address it names; it returns the address.
func checkListening(t *testing.T, line string) string {
	t.Helper()
	m := listeningLine.FindStringSubmatch(line)
	if m == nil || m[2] == "0" {
		t.Fatalf("serve printed %q, want \"listening on 127.0.0.1:PORT (backend NAME)\" with a real port", line)
	}
	c, err := net.DialTimeout("tcp", m[1], 5*time.Second)
	if err != nil {
		t.Fatalf("dial the address serve printed: %v", err)
	}
	c.Close()
	return m[1]
}

// TestServeInProcess runs serve's applications, with and without send
// ticks: a packet a client sends comes back to it (an echo, or a broadcast
// that includes the sender), and cancelling serve stops it with exit 0.
func TestServeInProcess(t *testing.T) {
	for _, args := range [][]string{
		{"--app", "echo"},
		{"--app", "broadcast"},
		{"--app", "broadcast", "--send-interval", "5ms"},
	} {
		t.Run(strings.Join(args, " "), func(t *testing.T) {
			ctx, cancel := context.WithCancel(context.Background())
			defer cancel()
			pr, pw := io.Pipe()
			done := make(chan int, 1)
			go func() {
				done <- runServe(ctx, append([]string{"--listen", "127.0.0.1:0"}, args...), pw, io.Discard)
				pw.Close()
			}()
			lines := bufio.NewScanner(pr)
			if !lines.Scan() {
				t.Fatalf("serve printed nothing (exit %d)", <-done)
			}
			addr := checkListening(t, lines.Text())
			go io.Copy(io.Discard, pr) //nolint:errcheck // drain whatever follows
			expectEcho(t, addr)

			cancel()
			if code := testkit.Recv(t, done, testTimeout, "serve to stop after its context was cancelled"); code != exitOK {
				t.Errorf("serve exited %d on cancel, want 0", code)
			}
		})
	}
}

// expectEcho sends one packet to addr and expects it back whole.
func expectEcho(t *testing.T, addr string) {
	t.Helper()
	a, err := net.ResolveTCPAddr("tcp", addr)
	if err != nil {
		t.Fatal(err)
	}
	c := testkit.Dial(t, a)
	defer c.Close()
	c.Echo(7, []byte("hello"))
}

// The real binary: serve prints its line, and SIGTERM stops it with exit 0.
func TestServeBinarySIGTERM(t *testing.T) {
	if runtime.GOOS == "windows" {
		t.Skip("SIGTERM cannot be sent to a process on Windows")
	}
	goTool, err := exec.LookPath("go")
	if err != nil {
		goTool = filepath.Join(os.Getenv("GOROOT"), "bin", "go")
		if _, statErr := os.Stat(goTool); statErr != nil {
			t.Skipf("cannot build the binary: no go command in PATH (%v) nor in $GOROOT/bin (%v)", err, statErr)
		}
	}
	bin := filepath.Join(t.TempDir(), "servercore")
	build := exec.Command(goTool, "build", "-o", bin, ".")
	if out, err := build.CombinedOutput(); err != nil {
		t.Fatalf("go build: %v\n%s", err, out)
	}

	cmd := exec.Command(bin, "serve", "--listen", "127.0.0.1:0", "--app", "echo")
	stdout, err := cmd.StdoutPipe()
	if err != nil {
		t.Fatal(err)
	}
	if err := cmd.Start(); err != nil {
		t.Fatal(err)
	}
	exited := make(chan error, 1)
	lines := make(chan string, 1)
	go func() {
		sc := bufio.NewScanner(stdout)
		if sc.Scan() {
			lines <- sc.Text()
		}
		close(lines)
		io.Copy(io.Discard, stdout) //nolint:errcheck // until the process exits
		exited <- cmd.Wait()
	}()
	defer cmd.Process.Kill() //nolint:errcheck // a no-op once it exited

	select {
	case line, ok := <-lines:
		if !ok {
			t.Fatalf("serve printed nothing: %v", <-exited)
		}
		checkListening(t, line)
	case <-time.After(testTimeout):
		t.Fatal("serve printed nothing in time")
	}
	if err := cmd.Process.Signal(syscall.SIGTERM); err != nil {
		t.Fatal(err)
	}
	if err := testkit.Recv(t, exited, testTimeout, "serve to exit after SIGTERM"); err != nil {
		t.Errorf("serve after SIGTERM: %v, want exit 0", err)
	}
}

// TestServeStatsInterval: serve logs a summary line on stderr every
// --stats-interval, with the sessions and the causes of their ends.
func TestServeStatsInterval(t *testing.T) {
	ctx, cancel := context.WithCancel(context.Background())
	defer cancel()
	pr, pw := io.Pipe()
	errR, errW := io.Pipe()
	done := make(chan int, 1)
	go func() {
		done <- runServe(ctx, []string{"--listen", "127.0.0.1:0", "--app", "echo", "--stats-interval", "20ms", "--packet-timeout", "50ms"}, pw, errW)
		pw.Close()
		errW.Close()
	}()
	lines := bufio.NewScanner(pr)
	if !lines.Scan() {
		t.Fatalf("serve printed nothing (exit %d)", <-done)
	}
	addr := checkListening(t, lines.Text())
	go io.Copy(io.Discard, pr) //nolint:errcheck // drain whatever follows
	expectEcho(t, addr)
	// A half packet: cut by the packet deadline, logged and counted.
	a, _ := net.ResolveTCPAddr("tcp", addr)
	half := testkit.Dial(t, a)
	half.MustWrite([]byte{100, 0})

	found := make(chan string, 1)
	go func() {
		sc := bufio.NewScanner(errR)
		logged, sent := false, false
		for sc.Scan() {
			logged = logged || strings.Contains(sc.Text(), "packet not completed in time")
			if logged && !sent && strings.Contains(sc.Text(), "packet timeout 1") {
				found <- sc.Text()
				sent = true
			}
		}
	}()
	line := testkit.Recv(t, found, testTimeout, "the cut logged, then a summary line counting it")
	t.Logf("summary: %s", line)
	cancel()
	if code := testkit.Recv(t, done, testTimeout, "serve to stop"); code != exitOK {
		t.Errorf("serve exited %d, want 0", code)
	}
}
