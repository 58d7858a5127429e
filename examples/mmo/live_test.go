package mmo

import (
	"testing"
	"time"
)

func TestLive(t *testing.T) {
	var l Live
	for i := range 100 {
		l.record(uint32(i%7), int64(i+1)*int64(time.Microsecond))
	}
	(*Live)(nil).record(1, 5) // a run without one records nothing
	if l.Seen() != 100 {
		t.Fatalf("%d moves seen, want 100", l.Seen())
	}
	if p := l.P99(); p < 90*time.Microsecond || p > 110*time.Microsecond {
		t.Fatalf("p99 %v, want about 99µs", p)
	}
}
