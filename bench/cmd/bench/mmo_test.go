package main

import (
	"context"
	"os"
	"os/exec"
	"path/filepath"
	"testing"
	"time"

	"servercore/bench/internal/load"
)

// buildPeers builds the peer servers into a temporary folder.
func buildPeers(t *testing.T) string {
	t.Helper()
	if testing.Short() {
		t.Skip("builds and runs the peer servers")
	}
	modDir, err := benchModuleDir()
	if err != nil {
		t.Fatal(err)
	}
	dir := t.TempDir()
	build := exec.Command("go", "build", "-o", dir+string(filepath.Separator), "./servers/...")
	build.Dir = modDir
	if out, err := build.CombinedOutput(); err != nil {
		t.Fatalf("build: %v\n%s", err, out)
	}
	return dir
}

// Every peer that plays the MMO game passes the harness's check of it,
// relaying at once and per tick: the refusals, the end of a connection that
// breaks the protocol, and a short game of bots, moving, chatting and
// churning, that see no rule broken.
func TestMMOPeers(t *testing.T) {
	binDir := buildPeers(t)
	log, err := os.Create(filepath.Join(t.TempDir(), "servers.log"))
	if err != nil {
		t.Fatal(err)
	}
	defer log.Close()
	peers, err := selectPeers("servercore,servercore-uring,mmo-net,mmo-gnet", "std")
	if err != nil {
		t.Fatal(err)
	}
	for _, tick := range []time.Duration{0, 50 * time.Millisecond} {
		sc := scenario{App: "mmo", Tick: tick}
		for _, p := range peers {
			t.Run(p.Name+"/tick"+tick.String(), func(t *testing.T) {
				s, err := startServer(binDir, p, "mmo", tcp, sc.serverArgs(20), log)
				if err != nil {
					if p.Name == "servercore-uring" {
						t.Skipf("the io_uring engine does not start here: %v", err)
					}
					t.Fatal(err)
				}
				ctx, cancel := context.WithTimeout(context.Background(), 2*time.Minute)
				defer cancel()
				checkErr := load.CheckMMOServer(ctx, s.addr, tick)
				if err := s.stop(); err != nil {
					t.Error(err)
				}
				if checkErr != nil {
					t.Fatal(checkErr)
				}
			})
		}
	}
}

// The check fails on a server that does not play the game.
func TestMMOCheckFails(t *testing.T) {
	binDir := buildPeers(t)
	log, err := os.Create(filepath.Join(t.TempDir(), "servers.log"))
	if err != nil {
		t.Fatal(err)
	}
	defer log.Close()
	for _, app := range []string{"echo", "broadcast"} {
		t.Run(app, func(t *testing.T) {
			s, err := startServer(binDir, peerDef{Name: "netstd", Bin: "netstd", Speaks: tcpOnly}, app, tcp, nil, log)
			if err != nil {
				t.Fatal(err)
			}
			defer s.stop()
			ctx, cancel := context.WithTimeout(context.Background(), time.Minute)
			defer cancel()
			if err := load.CheckMMOServer(ctx, s.addr, 0); err == nil {
				t.Fatalf("the %s server passed the MMO check", app)
			}
		})
	}
}
