package main

import (
	"math"
	"testing"
)

func TestHistogramBucketsAreTight(t *testing.T) {
	prev := -1
	for v := int64(0); v < 1<<40; v = v*17/16 + 1 {
		i := histIndex(v)
		if i < prev || i >= histBuckets {
			t.Fatalf("histIndex(%d) = %d after %d", v, i, prev)
		}
		prev = i
		want := min(v, histMaxValue)
		if got := histValue(i); math.Abs(float64(got-want)) > float64(want)/32+0.5 {
			t.Fatalf("histValue(histIndex(%d)) = %d, more than 1/32 off", v, got)
		}
	}
	if histIndex(-5) != 0 {
		t.Errorf("negative values must land in bucket 0")
	}
}

func TestHistogramQuantiles(t *testing.T) {
	var a, b latencyHist
	for v := int64(1); v <= 1000; v++ { // 1..1000 µs over two clients
		if v%2 == 0 {
			a.record(v * 1000)
		} else {
			b.record(v * 1000)
		}
	}
	var s latencySummary
	s.add(&a)
	s.add(&b)
	if s.total != 1000 || s.max != 1_000_000 {
		t.Fatalf("total %d max %d", s.total, s.max)
	}
	for _, c := range []struct {
		q    float64
		want int64
	}{{0.5, 500_000}, {0.99, 990_000}, {0.999, 999_000}, {1, 1_000_000}} {
		got := s.quantile(c.q)
		if math.Abs(float64(got-c.want)) > float64(c.want)/32 {
			t.Errorf("quantile(%v) = %d, want about %d", c.q, got, c.want)
		}
	}
	var empty latencySummary
	if empty.quantile(0.5) != 0 {
		t.Errorf("quantile of nothing must be 0")
	}
}
