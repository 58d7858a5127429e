package main

import (
	"strings"
	"testing"
	"time"
)

func TestSelectPeers(t *testing.T) {
	p, err := selectPeers("", "uring")
	if err != nil || len(p) != 5 || p[0].Name != "servercore" || strings.Join(p[0].Args, " ") != "--backend uring" {
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
	if len(full) != 16 {
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
