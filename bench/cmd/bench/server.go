package main

import (
	"bufio"
	"errors"
	"fmt"
	"io"
	"os"
	"os/exec"
	"path/filepath"
	"strings"
	"sync"
	"syscall"
	"time"
)

// server is one running peer process.
type server struct {
	name   string
	cmd    *exec.Cmd
	addr   string
	exited chan struct{} // closed when the process ended
	err    error         // its exit status, once exited
}

// startServer runs a peer with the app (and the app's arguments) over
// transport t and waits for its "listening on" line, whose address
// (host:port, or a ws:// URL) the load generator then targets. Its stderr
// and later stdout go to log.
func startServer(binDir string, p peerDef, app, t string, appArgs []string, log *os.File) (*server, error) {
	listen := "127.0.0.1:0"
	if t == ws {
		listen = wsListen
	}
	args := append(append([]string{"--listen", listen, "--app", app}, appArgs...), p.Args...)
	cmd := exec.Command(filepath.Join(binDir, p.Bin), args...)
	fmt.Fprintf(log, "\n=== %s %s: %s %s\n", time.Now().Format(time.TimeOnly), p.Name, p.Bin, strings.Join(args, " "))
	tail := &tailWriter{}
	cmd.Stderr = io.MultiWriter(log, tail)
	stdout, err := cmd.StdoutPipe()
	if err != nil {
		return nil, err
	}
	if err := cmd.Start(); err != nil {
		return nil, err
	}
	s := &server{name: p.Name, cmd: cmd, exited: make(chan struct{})}
	lines := make(chan string, 1)
	go func() {
		sc := bufio.NewScanner(stdout)
		found := false
		for sc.Scan() {
			line := sc.Text()
			fmt.Fprintln(log, line)
			if !found && strings.HasPrefix(line, "listening on ") {
				found = true
				lines <- line
			}
		}
		close(lines)
		_, _ = io.Copy(io.Discard, stdout)
		s.err = cmd.Wait()
		close(s.exited)
	}()
	select {
	case line, ok := <-lines:
		if !ok {
			<-s.exited
			return nil, fmt.Errorf("%s exited before listening (%v): %s", p.Name, s.err, tail.String())
		}
		f := strings.Fields(strings.TrimPrefix(line, "listening on "))
		if len(f) == 0 {
			s.kill()
			return nil, fmt.Errorf("%s: malformed line %q", p.Name, line)
		}
		s.addr = f[0]
		return s, nil
	case <-time.After(15 * time.Second):
		s.kill()
		return nil, fmt.Errorf("%s did not print its listening line within 15s", p.Name)
	}
}

// wsListen is the --listen address of a peer serving WebSocket.
const wsListen = "ws://127.0.0.1:0/bench"

// tailWriter keeps the last bytes written to it: the end of a server's
// stderr, for the report when it fails to start.
type tailWriter struct {
	mu  sync.Mutex
	buf []byte
}

const tailMax = 400

func (t *tailWriter) Write(p []byte) (int, error) {
	t.mu.Lock()
	defer t.mu.Unlock()
	t.buf = append(t.buf, p...)
	if len(t.buf) > tailMax {
		t.buf = append(t.buf[:0], t.buf[len(t.buf)-tailMax:]...)
	}
	return len(p), nil
}

func (t *tailWriter) String() string {
	t.mu.Lock()
	defer t.mu.Unlock()
	return strings.TrimSpace(string(t.buf))
}

func (s *server) pid() int { return s.cmd.Process.Pid }

// alive reports whether the process still runs.
func (s *server) alive() bool {
	select {
	case <-s.exited:
		return false
	default:
		return true
	}
}

// stop sends SIGTERM and waits; after 10s it kills. It returns an error
// when the server had already died or did not stop cleanly.
func (s *server) stop() error {
	if !s.alive() {
		return fmt.Errorf("%s had exited during the run: %v", s.name, s.err)
	}
	_ = s.cmd.Process.Signal(syscall.SIGTERM)
	select {
	case <-s.exited:
		if s.err != nil {
			var ee *exec.ExitError
			if errors.As(s.err, &ee) {
				return fmt.Errorf("%s stopped with %v", s.name, s.err)
			}
		}
		return nil
	case <-time.After(10 * time.Second):
		s.kill()
		return fmt.Errorf("%s did not stop within 10s of SIGTERM", s.name)
	}
}

func (s *server) kill() {
	_ = s.cmd.Process.Kill()
	<-s.exited
}
