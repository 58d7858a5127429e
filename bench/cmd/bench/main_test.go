package main

import (
	"fmt"
	"slices"
	"strings"
	"testing"
	"time"
)

func TestSelectPeers(t *testing.T) {
	p, err := selectPeers("", "uring")
	if err != nil || len(p) != 10 || p[0].Name != "servercore" || strings.Join(p[0].Args, " ") != "--backend uring" {
		t.Fatalf("default peers: %+v, %v", p, err)
	}
	p, err = selectPeers("servercore,servercore-uring,gnet", "std")
	if err != nil || len(p) != 3 || p[1].Bin != "servercore" || strings.Join(p[1].Args, " ") != "--backend uring" {
		t.Fatalf("%+v, %v", p, err)
	}
	p, err = selectPeers("netstd,servercore-uring-tick20ms,servercore-uring-threads1-tick5ms", "std")
	if err != nil || len(p) != 3 || strings.Join(p[1].Args, " ") != "--backend uring --send-interval 20ms" ||
		strings.Join(p[2].Args, " ") != "--backend uring --io-threads 1 --send-interval 5ms" {
		t.Fatalf("%+v, %v", p, err)
	}
	if _, err := selectPeers("servercore-uring-fast", "std"); err == nil {
		t.Fatal("unknown peer option accepted")
	}
	if _, err := selectPeers("nope", "std"); err == nil {
		t.Fatal("unknown peer accepted")
	}
}

func TestPlan(t *testing.T) {
	full := plan(false, time.Second, 3*time.Second)
	if len(full) != 24 {
		t.Fatalf("full plan has %d scenarios", len(full))
	}
	quick := plan(true, time.Second, time.Second)
	if len(quick) >= len(full) || len(quick) == 0 {
		t.Fatalf("quick plan has %d scenarios", len(quick))
	}
	ids := map[string]bool{}
	for _, sc := range full {
		if ids[sc.ID] {
			t.Errorf("duplicate id %s", sc.ID)
		}
		ids[sc.ID] = true
		if len(sc.loadArgs("127.0.0.1:1", 1)) == 0 || len(sc.Metrics) == 0 {
			t.Errorf("%s: no arguments or metrics", sc.ID)
		}
	}
}

// The typed echo runs on servercore peers only, next to its raw twin: in
// the quick plan, with the twin added when --only selects the typed one
// alone, and in one group of rounds with it.
func TestTypedEchoPlan(t *testing.T) {
	const typed, twin = "typed-echo-64B-c100-p16", "echo-64B-c100-p16"
	full := plan(false, time.Second, 3*time.Second)
	ids := func(scs []scenario) []string {
		var out []string
		for _, sc := range scs {
			out = append(out, sc.ID)
		}
		return out
	}
	quick := ids(plan(true, time.Second, time.Second))
	if !slices.Contains(quick, typed) || !slices.Contains(quick, twin) {
		t.Fatalf("quick plan %v lacks %s or %s", quick, typed, twin)
	}
	i := slices.IndexFunc(full, func(sc scenario) bool { return sc.ID == typed })
	sc := full[i]
	if sc.Twin != twin || sc.App != "typed" {
		t.Fatalf("%+v", sc)
	}
	if args := strings.Join(sc.loadArgs("127.0.0.1:1", 1), " "); !strings.Contains(args, "--mode typed-echo") || !strings.Contains(args, "--inflight 16") {
		t.Errorf("load arguments %q", args)
	}
	peers, _ := selectPeers("servercore,netstd,servercore-uring-tick5ms,gnet", "std")
	var runs []string
	for _, p := range peers {
		if sc.runsOn(p) {
			runs = append(runs, p.Name)
		}
		if apps := peerApps(p, tcp); slices.Contains(apps, "typed") != (p.Bin == "servercore") {
			t.Errorf("%s checks the apps %v", p.Name, apps)
		}
	}
	if strings.Join(runs, ",") != "servercore,servercore-uring-tick5ms" {
		t.Errorf("typed echo runs on %v", runs)
	}

	only := withTwins([]scenario{sc}, full)
	if got := strings.Join(ids(only), ","); got != twin+","+typed {
		t.Errorf("--only %s runs %s", typed, got)
	}
	if got := ids(withTwins(slices.Clone(full), full)); !slices.Equal(got, ids(full)) {
		t.Errorf("the full plan changed: %v", got)
	}
	for _, g := range rounds(full) {
		if slices.ContainsFunc(g, func(s scenario) bool { return s.ID == typed }) {
			if strings.Join(ids(g), ",") != twin+","+typed {
				t.Errorf("typed echo measured in the group %v", ids(g))
			}
		} else if len(g) != 1 {
			t.Errorf("group %v", ids(g))
		}
	}
}

// The MMO scenarios run on the peers that serve the game, the servercore
// ones and the MMO peers, with the game's settings on both sides.
func TestMMOPlan(t *testing.T) {
	peers, err := selectPeers("servercore,servercore-uring,netstd,gnet,mmo-net,mmo-gnet", "std")
	if err != nil {
		t.Fatal(err)
	}
	found := 0
	for _, sc := range plan(false, time.Second, 3*time.Second) {
		if sc.App != "mmo" {
			if sc.transport() != tcp {
				continue // the WebSocket scenarios: TestWebSocketPlan
			}
			for _, p := range peers {
				if sc.runsOn(p) == slices.Contains([]string{"mmo-net", "mmo-gnet"}, p.Name) && sc.App != "typed" {
					t.Errorf("%s runs on %s: %v", sc.ID, p.Name, sc.runsOn(p))
				}
			}
			continue
		}
		found++
		var on []string
		for _, p := range peers {
			if sc.runsOn(p) {
				on = append(on, p.Name)
			}
		}
		if got := strings.Join(on, ","); got != "servercore,servercore-uring,mmo-net,mmo-gnet" {
			t.Errorf("%s runs on %s", sc.ID, got)
		}
		conns := sc.Conns
		if sc.Kind == "mmo-search" {
			if len(sc.Steps) == 0 || !slices.IsSorted(sc.Steps) || sc.MaxP99 <= 0 || sc.Tick <= 0 {
				t.Fatalf("%s: steps %v, p99 %v, tick %v", sc.ID, sc.Steps, sc.MaxP99, sc.Tick)
			}
			conns = sc.Steps[len(sc.Steps)-1]
		}
		srv := strings.Join(sc.serverArgs(conns), " ")
		load := strings.Join(sc.loadArgsFor("127.0.0.1:1", 1, conns), " ")
		rooms := fmt.Sprint("--rooms ", sc.rooms(conns))
		if !strings.Contains(srv, rooms) || !strings.Contains(load, rooms) || strings.Contains(srv, "--tick") != (sc.Tick > 0) {
			t.Errorf("%s: server %q, load generator %q", sc.ID, srv, load)
		}
		if sc.rooms(conns)*mmoRoomSize < conns {
			t.Errorf("%s: %d players do not fit in %d rooms of %d", sc.ID, conns, sc.rooms(conns), mmoRoomSize)
		}
	}
	if found != 3 {
		t.Fatalf("%d MMO scenarios", found)
	}
}
