package main

import (
	"context"
	"io"
	"strings"
	"testing"
	"time"

	"servercore/examples/mmo"
)

// startGameServer starts an in-process game server of 2 rooms, relaying
// per tick if tick is positive, and returns its address.
func startGameServer(t *testing.T, tick time.Duration) string {
	t.Helper()
	srv, err := startServer(context.Background(), serveOptions{listen: "127.0.0.1:0", app: "mmo", backend: "auto", rooms: 2, roomCapacity: 100, tick: tick}, nil)
	if err != nil {
		t.Fatalf("start game server: %v", err)
	}
	t.Cleanup(func() {
		ctx, cancel := context.WithTimeout(context.Background(), testTimeout)
		defer cancel()
		if err := srv.Stop(ctx); err != nil {
			t.Errorf("stop game server: %v", err)
		}
	})
	return srv.Addr().String()
}

// The game's bots find no violation, immediate or ticking, with churn, and
// report their moves.
func TestStressGame(t *testing.T) {
	for _, c := range []struct {
		name string
		tick time.Duration
		args []string
	}{
		{"immediate", 0, nil},
		{"churn", 0, []string{"--churn"}},
		{"tick", 30 * time.Millisecond, []string{"--tick", "30ms", "--churn"}},
	} {
		t.Run(c.name, func(t *testing.T) {
			addr := startGameServer(t, c.tick)
			args := append([]string{"--target", addr, "--mode", "mmo", "--clients", "12", "--rooms", "2", "--move-rate", "20", "--chat-rate", "2", "--duration", "1s"}, c.args...)
			code, rep := stressJSON(t, args...)
			if code != exitOK || num(rep, "mismatches") != 0 || num(rep, "errors") != 0 || num(rep, "packets") == 0 {
				t.Fatalf("exit %d, report %v", code, rep)
			}
			if num(rep, "moves_per_sec") <= 0 || num(rep, "rooms") != 2 || num(rep, "connected") != 12 || num(rep, "p99_us") <= 0 {
				t.Errorf("report %v", rep)
			}
		})
	}
}

func TestStressGameText(t *testing.T) {
	addr := startGameServer(t, 0)
	code, stdout, stderr := runCmd(t, "stress", "--target", addr, "--mode", "mmo", "--clients", "4", "--rooms", "2", "--duration", "500ms")
	if code != exitOK {
		t.Fatalf("exit %d\nstdout:\n%s\nstderr:\n%s", code, stdout, stderr)
	}
	for _, want := range []string{"stress mmo: 4 bots", "2 rooms", "moves", "deliveries", "move to seen", "violations", "OK: no violation"} {
		if !strings.Contains(stdout, want) {
			t.Errorf("report lacks %q:\n%s", want, stdout)
		}
	}
}

// Bots against a server that is not the game fail the run.
func TestStressGameAgainstEcho(t *testing.T) {
	addr := startTestServer(t, "echo")
	code, rep := stressJSON(t, "--target", addr, "--mode", "mmo", "--clients", "3", "--duration", "300ms")
	if code != exitFailed || num(rep, "errors")+num(rep, "mismatches") == 0 {
		t.Fatalf("exit %d, report %v; want a failed run", code, rep)
	}
}

func TestGameFlags(t *testing.T) {
	for _, args := range [][]string{
		{"serve", "--listen", "127.0.0.1:0", "--app", "mmo", "--rooms", "0"},
		{"serve", "--listen", "127.0.0.1:0", "--app", "mmo", "--room-capacity", "0"},
		{"serve", "--listen", "127.0.0.1:0", "--app", "mmo", "--tick", "-1s"},
		{"serve", "--listen", "127.0.0.1:0", "--app", "chess"},
		{"stress", "--target", "127.0.0.1:1", "--mode", "mmo", "--rooms", "0"},
		{"stress", "--target", "127.0.0.1:1", "--mode", "mmo", "--move-rate", "0"},
		{"stress", "--target", "127.0.0.1:1", "--mode", "mmo", "--chat-rate", "-1"},
	} {
		if code, _, _ := runCmd(t, args...); code != exitUsage {
			t.Errorf("%v: exit %d, want %d", args, code, exitUsage)
		}
	}
}

// serve --app mmo serves the game: its bots play on it.
func TestServeGame(t *testing.T) {
	ctx, cancel := context.WithCancel(context.Background())
	defer cancel()
	pr, pw := io.Pipe()
	done := make(chan int, 1)
	go func() {
		done <- runServe(ctx, []string{"--listen", "127.0.0.1:0", "--app", "mmo", "--rooms", "3", "--room-capacity", "10", "--tick", "20ms", "--stats-interval", "100ms"}, pw, io.Discard)
		pw.Close()
	}()
	var line []byte
	buf := make([]byte, 1)
	for {
		if _, err := pr.Read(buf); err != nil || buf[0] == '\n' {
			break
		}
		line = append(line, buf[0])
	}
	addr := checkListening(t, string(line))
	go io.Copy(io.Discard, pr) //nolint:errcheck // drain whatever follows
	code, rep := stressJSON(t, "--target", addr, "--mode", "mmo", "--clients", "9", "--rooms", "3", "--tick", "20ms", "--duration", "500ms")
	if code != exitOK {
		t.Fatalf("exit %d, report %v", code, rep)
	}
	cancel()
	if code := <-done; code != exitOK {
		t.Errorf("serve exited %d on cancel, want 0", code)
	}
}

func TestGameLine(t *testing.T) {
	line := gameLine(mmo.Stats{Players: 3, InRooms: 2, Moves: 10, MovesSent: 20, InvalidMoves: 1, LimitedChats: 2, OutOfRoom: 4})
	for _, want := range []string{"players 3", "in rooms 2", "moves 10 relayed 20", "dropped invalid 1", "over rate 2", "out of room 4"} {
		if !strings.Contains(line, want) {
			t.Errorf("game line %q lacks %q", line, want)
		}
	}
}
