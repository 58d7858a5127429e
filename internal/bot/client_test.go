package bot

import (
	"errors"
	"testing"

	"servercore"
)

func TestClientAddTo(t *testing.T) {
	run := &Run{}
	idle := &Client{ID: 0, Run: run}
	ok := &Client{ID: 1, Run: run, Connected: true}
	bad := &Client{ID: 2, Run: run, Connected: true}
	ok.OK(1000)
	ok.OK(2000)
	bad.OK(3000)
	bad.Fail(FaultOrder, 1, 7)
	bad.Fail(FaultFill, 1, 8)
	bad.OnDisconnected(nil, errors.New("reset"))
	ok.OnDisconnected(nil, servercore.ErrServiceClosed) // the run's own stop

	var tl Tally
	for _, c := range []*Client{idle, ok, bad} {
		c.AddTo(&tl)
	}
	if tl.Connected != 2 || tl.Good != 3 || tl.Mismatches != 2 || tl.Disconnects != 1 {
		t.Errorf("tally %+v; want 2 connected, 3 good, 2 mismatches, 1 disconnect", tl)
	}
	if want := "client 2 got packet 7 of client 1: " + FaultOrder.String(); tl.FirstMismatch != want {
		t.Errorf("first mismatch %q, want %q", tl.FirstMismatch, want)
	}
	if want := "client 2 disconnected: reset"; tl.FirstError != want {
		t.Errorf("first error %q, want %q", tl.FirstError, want)
	}
	if h := run.latency.Merged(); h.Count() != 3 || h.Max() != 3000 {
		t.Errorf("latencies: %d values, max %d; want 3, 3000", h.Count(), h.Max())
	}
}
