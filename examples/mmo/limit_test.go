package mmo

import (
	"testing"
	"time"
)

func TestBucket(t *testing.T) {
	const ms = time.Millisecond
	t0 := time.Unix(1000, 0)
	for _, c := range []struct {
		name  string
		rate  float64
		times []time.Duration // offsets of each take from t0
		want  int             // takes that succeed
	}{
		{"burst of a second's worth", 5, []time.Duration{0, 0, 0, 0, 0, 0, 0}, 5},
		{"refills at the rate", 5, []time.Duration{0, 0, 0, 0, 0, 0, 200 * ms, 200 * ms}, 6},
		{"never above a second's worth", 2, []time.Duration{0, 10 * time.Second, 10 * time.Second, 10 * time.Second}, 3},
		{"steady at the rate", 10, []time.Duration{0, 100 * ms, 200 * ms, 300 * ms, 400 * ms, 500 * ms}, 6},
		{"a rate below one still lets one through", 0.5, []time.Duration{0, 0, time.Second, 2 * time.Second}, 2},
	} {
		b := newBucket(c.rate)
		got := 0
		for _, d := range c.times {
			if b.take(t0.Add(d)) {
				got++
			}
		}
		if got != c.want {
			t.Errorf("%s: %d taken, want %d", c.name, got, c.want)
		}
	}
}
