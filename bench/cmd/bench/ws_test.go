package main

import (
	"context"
	"os"
	"os/exec"
	"path/filepath"
	"regexp"
	"slices"
	"strings"
	"testing"
	"time"

	"servercore/bench/internal/load"
)

// The WebSocket scenarios are the ones --only '^ws-' selects, and run on
// the peers that speak WebSocket alone.
func TestWebSocketPlan(t *testing.T) {
	re := regexp.MustCompile("^ws-")
	var ids []string
	for _, sc := range plan(false, time.Second, 3*time.Second) {
		if !re.MatchString(sc.ID) {
			if sc.transport() != tcp {
				t.Errorf("%s runs over %s", sc.ID, sc.transport())
			}
			continue
		}
		ids = append(ids, sc.ID)
		if sc.transport() != ws || sc.Quick {
			t.Errorf("%s: over %s, quick %v", sc.ID, sc.transport(), sc.Quick)
		}
		var on []string
		for _, p := range defaultPeers {
			if sc.runsOn(p) {
				on = append(on, p.Name)
			}
		}
		if got := strings.Join(on, ","); got != "servercore,servercore-uring,ws-gorilla,ws-nbio,ws-gws" {
			t.Errorf("%s runs on %s", sc.ID, got)
		}
	}
	want := []string{"ws-echo-64B-c100-p16", "ws-echo-64B-c1000-p1", "ws-broadcast-n100", "ws-idle-10k"}
	if !slices.Equal(ids, want) {
		t.Errorf("WebSocket scenarios %v, want %v", ids, want)
	}
	p, err := selectPeers("servercore-uring-tick5ms,ws-gws", "std")
	if err != nil || !p[0].speaks(ws) || !p[0].speaks(tcp) || p[1].speaks(tcp) {
		t.Errorf("%+v, %v", p, err)
	}
	if got := peerApps(p[0], ws); strings.Join(got, ",") != "echo,broadcast" {
		t.Errorf("servercore checks %v over WebSocket", got)
	}
}

// wsPeers are the peers built for TestWebSocketPeers: servercore on its
// portable engine (the one that runs everywhere) and the three others.
var wsPeers = []string{"servercore", "ws-gorilla", "ws-nbio", "ws-gws"}

// Every WebSocket peer, built and run as the harness runs it, passes the
// correctness checks of echo and broadcast and serves a tiny echo and
// broadcast load with every packet accounted for.
func TestWebSocketPeers(t *testing.T) {
	bin := t.TempDir()
	var pkgs []string
	for _, name := range wsPeers {
		pkgs = append(pkgs, "./servers/"+peerByName(t, name).Bin)
	}
	build := exec.Command("go", append([]string{"build", "-o", bin + string(filepath.Separator)}, pkgs...)...)
	build.Dir = filepath.Join("..", "..")
	if out, err := build.CombinedOutput(); err != nil {
		t.Fatalf("build: %v\n%s", err, out)
	}
	logf, err := os.Create(filepath.Join(t.TempDir(), "servers.log"))
	if err != nil {
		t.Fatal(err)
	}
	defer logf.Close()
	for _, name := range wsPeers {
		p := peerByName(t, name)
		for _, app := range peerApps(p, ws) {
			t.Run(name+"/"+app, func(t *testing.T) {
				s, err := startServer(bin, p, app, ws, nil, logf)
				if err != nil {
					t.Fatal(err)
				}
				defer func() {
					if err := s.stop(); err != nil {
						t.Error(err)
					}
				}()
				if !strings.HasPrefix(s.addr, "ws://127.0.0.1:") || !strings.HasSuffix(s.addr, "/bench") {
					t.Fatalf("listening on %q", s.addr)
				}
				ctx := context.Background()
				if err := check(ctx, app, s.addr, 0); err != nil {
					t.Fatalf("correctness check: %v", err)
				}
				o := load.Options{Target: s.addr, Conns: 5, Inflight: 4, Size: 64, Rate: 20,
					Warmup: 50 * time.Millisecond, Duration: 300 * time.Millisecond, ServerPID: s.pid()}
				run := load.RunEcho
				if app == "broadcast" {
					run = load.RunBroadcast
				}
				res, err := run(ctx, o)
				if err != nil {
					t.Fatal(err)
				}
				if res.Failed() || res.Packets == 0 {
					t.Fatalf("%s: %d packets, %s", app, res.Packets, failure(res))
				}
			})
		}
	}
}

func peerByName(t *testing.T, name string) peerDef {
	t.Helper()
	p, err := selectPeers(name, "std")
	if err != nil {
		t.Fatal(err)
	}
	return p[0]
}
