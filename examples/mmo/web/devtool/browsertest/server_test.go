package browsertest

import (
	"bufio"
	"bytes"
	"os/exec"
	"path/filepath"
	"regexp"
	"sync"
	"syscall"
	"testing"
	"time"
)

// syncBuffer is a bytes.Buffer that a process writes while the test reads.
type syncBuffer struct {
	mu sync.Mutex
	b  bytes.Buffer
}

func (s *syncBuffer) Write(p []byte) (int, error) {
	s.mu.Lock()
	defer s.mu.Unlock()
	return s.b.Write(p)
}

func (s *syncBuffer) String() string {
	s.mu.Lock()
	defer s.mu.Unlock()
	return s.b.String()
}

// game is a running `servercore serve --app mmo` with a TCP listener for
// bots, a WebSocket one for browsers and the web client.
type game struct {
	tcpAddr string // host:port of the TCP listener
	wsURL   string // ws://host:port/path of the WebSocket listener
	pageURL string // http://host:port/ of the page
}

var (
	tcpLine = regexp.MustCompile(`^listening on (127\.0\.0\.1:[0-9]+) \(backend \w+\)$`)
	wsLine  = regexp.MustCompile(`^listening on (ws://127\.0\.0\.1:[0-9]+/mmo) \(backend \w+\)$`)
	webLine = regexp.MustCompile(`^web client on (http://127\.0\.0\.1:[0-9]+/)$`)
)

// startGame builds the servercore command and runs serve, stopped with
// SIGTERM when the test ends; serve must then exit 0.
func startGame(t *testing.T) game {
	t.Helper()
	goTool, err := exec.LookPath("go")
	if err != nil {
		t.Fatalf("no go command to build servercore with: %v", err)
	}
	bin := filepath.Join(t.TempDir(), "servercore")
	if out, err := exec.Command(goTool, "build", "-o", bin, "servercore/cmd/servercore").CombinedOutput(); err != nil {
		t.Fatalf("go build servercore: %v\n%s", err, out)
	}
	cmd := exec.Command(bin, "serve", "--app", "mmo", "--rooms", "4",
		"--listen", "127.0.0.1:0", "--listen", "ws://127.0.0.1:0/mmo", "--web", "127.0.0.1:0",
		"--stats-interval", "-1s")
	var stderr syncBuffer
	cmd.Stderr = &stderr
	stdout, err := cmd.StdoutPipe()
	if err != nil {
		t.Fatal(err)
	}
	if err := cmd.Start(); err != nil {
		t.Fatalf("start serve: %v", err)
	}
	exited := make(chan error, 1)
	lines := make(chan string, 8)
	go func() {
		sc := bufio.NewScanner(stdout)
		for sc.Scan() {
			lines <- sc.Text()
		}
		close(lines)
		exited <- cmd.Wait()
	}()
	stopped := false
	t.Cleanup(func() {
		if stopped {
			return
		}
		_ = cmd.Process.Signal(syscall.SIGTERM)
		select {
		case err := <-exited:
			if err != nil {
				t.Errorf("serve after SIGTERM: %v, want exit 0; stderr:\n%s", err, stderr.String())
			}
		case <-time.After(waitFor):
			_ = cmd.Process.Kill()
			t.Errorf("serve did not exit within %v of SIGTERM", waitFor)
		}
	})

	var g game
	for _, re := range []*regexp.Regexp{tcpLine, wsLine, webLine} {
		var line string
		var ok bool
		select {
		case line, ok = <-lines:
		case <-time.After(waitFor):
		}
		m := re.FindStringSubmatch(line)
		if !ok || m == nil {
			stopped = true
			_ = cmd.Process.Kill()
			t.Fatalf("serve printed %q, want a line matching %s; stderr:\n%s", line, re, stderr.String())
		}
		switch re {
		case tcpLine:
			g.tcpAddr = m[1]
		case wsLine:
			g.wsURL = m[1]
		case webLine:
			g.pageURL = m[1]
		}
	}
	go func() {
		for range lines { // drain
		}
	}()
	return g
}
