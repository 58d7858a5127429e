package job

import (
	"testing"
	"time"
)

// The pool's and the queue's counters follow the work.
func TestStats(t *testing.T) {
	p, clock := newFakePool(t, Options{Workers: 1, OnPanic: func(string, any, []byte) {}})
	busy, waiting := p.NewQueue("busy"), p.NewQueue("waiting")
	release := gate(t, busy)
	for range 40 {
		busy.Post(func() {})
	}
	for range 5 {
		waiting.Post(func() {})
	}
	waiting.Post(func() { panic("counted") })
	busy.Every(10*time.Millisecond, func() {})
	clock.advance(35 * time.Millisecond) // three deadlines, one run waiting

	st := p.Stats()
	if st.Queued != 40+1+6 {
		t.Errorf("Queued %d, want 47 (40 and a tick behind the gate, 6 waiting for the worker)", st.Queued)
	}
	if st.MaxQueued != 41 {
		t.Errorf("MaxQueued %d, want 41", st.MaxQueued)
	}
	if st.Timers != 1 {
		t.Errorf("Timers %d, want 1", st.Timers)
	}
	if qs := busy.Stats(); qs.Queued != 41 || qs.MaxQueued != 41 || qs.LateTicks != 2 {
		t.Errorf("busy queue %+v, want 41 queued, 41 deepest, 2 late", qs)
	}

	release()
	flush(t, busy)
	flush(t, waiting)
	st = p.Stats()
	// The flush may be posted before the gate's job is counted out.
	if st.MaxQueued != 41 && st.MaxQueued != 42 {
		t.Errorf("MaxQueued %d, want 41 or 42", st.MaxQueued)
	}
	want := Stats{JobsRun: 1 + 40 + 1 + 6 + 2, Timers: 1, LateTicks: 2, Panics: 1}
	got := st
	got.Latency, got.MaxQueued = Latency{}, 0
	if got != want {
		t.Errorf("after the work:\n got %+v\nwant %+v", got, want)
	}
	// One post in 16 of each queue is timed unless a timed one waits: of
	// busy's 43, the 16th, and not the 32nd, which came while the 16th
	// waited behind the gate.
	if st.Latency.Samples != 1 || st.Latency.Max < st.Latency.P50 {
		t.Errorf("latency %+v", st.Latency)
	}
	if qs := waiting.Stats(); qs.JobsRun != 7 || qs.Panics != 1 || qs.Queued != 0 {
		t.Errorf("waiting queue %+v, want 7 run, 1 panic, none queued", qs)
	}
}
