package hist

import (
	"math"
	"slices"
	"sync"
	"testing"
)

func TestBucketsAreTight(t *testing.T) {
	prev := -1
	for v := int64(0); v < math.MaxInt64/2; v += v/16 + 1 {
		i := bucketOf(v)
		if i < prev || i >= numBuckets {
			t.Fatalf("bucketOf(%d) = %d after %d", v, i, prev)
		}
		prev = i
		if got := bucketValue(i); math.Abs(float64(got-v)) > float64(v)/32+0.5 {
			t.Fatalf("bucketValue(bucketOf(%d)) = %d, more than 1/32 off", v, got)
		}
	}
	if i := bucketOf(math.MaxInt64); i < prev || i >= numBuckets {
		t.Errorf("bucketOf(MaxInt64) = %d, outside %d..%d", i, prev, numBuckets-1)
	}
	if bucketOf(-5) != 0 {
		t.Errorf("negative values must land in bucket 0")
	}
}

func TestQuantiles(t *testing.T) {
	var h Hist
	for v := int64(1); v <= 100000; v++ {
		h.Record(v * 1000) // 1 µs .. 100 ms
	}
	if h.Count() != 100000 || h.Max() != 100_000_000 {
		t.Fatalf("count %d max %d", h.Count(), h.Max())
	}
	for _, c := range []struct {
		q    float64
		want int64
	}{{0.001, 100_000}, {0.5, 50_000_000}, {0.99, 99_000_000}, {0.999, 99_900_000}, {1, 100_000_000}} {
		got := h.Quantile(c.q)
		if math.Abs(float64(got-c.want)) > float64(c.want)/32 {
			t.Errorf("Quantile(%v) = %d, want about %d", c.q, got, c.want)
		}
		if got > h.Max() {
			t.Errorf("Quantile(%v) = %d above the largest value %d", c.q, got, h.Max())
		}
	}
	var empty Hist
	if empty.Quantile(0.5) != 0 || empty.Count() != 0 || empty.Max() != 0 {
		t.Errorf("an empty histogram must report 0")
	}
}

func TestMerge(t *testing.T) {
	var a, b Hist
	for v := int64(1); v <= 1000; v++ { // 1..1000 µs over two recorders
		if v%2 == 0 {
			a.Record(v * 1000)
		} else {
			b.Record(v * 1000)
		}
	}
	var m Hist
	m.Merge(&a)
	m.Merge(&b)
	if m.Count() != 1000 || m.Max() != 1_000_000 {
		t.Fatalf("merged count %d max %d", m.Count(), m.Max())
	}
	if got := m.Quantile(0.5); math.Abs(float64(got-500_000)) > 500_000/32 {
		t.Errorf("merged median %d, want about 500000", got)
	}
}

// Recorders on many goroutines, some sharing a shard, lose no value.
func TestShardedConcurrent(t *testing.T) {
	const recorders, each = 2 * Shards, 1000
	var s Sharded
	var wg sync.WaitGroup
	for i := range recorders {
		wg.Add(1)
		go func() {
			defer wg.Done()
			h := s.Shard(i)
			for v := range int64(each) {
				h.Record(v + int64(i))
			}
		}()
	}
	wg.Wait()
	m := s.Merged()
	if m.Count() != recorders*each || m.Max() != each-1+recorders-1 {
		t.Fatalf("merged count %d max %d, want %d and %d", m.Count(), m.Max(), recorders*each, each-1+recorders-1)
	}
}

func TestRecordNoAllocs(t *testing.T) {
	var h Hist
	if n := testing.AllocsPerRun(1000, func() { h.Record(12345) }); n != 0 {
		t.Errorf("Record allocates %v times, want 0", n)
	}
}

func TestCumulative(t *testing.T) {
	var h Hist
	values := []int64{3, 10, 10, 64, 1000, 1_000_000, 1 << 62}
	for _, v := range values {
		h.Record(v)
	}
	for _, c := range []struct {
		bounds []int64
		want   []uint64
	}{
		{[]int64{0, 3, 9, 10, 63}, []uint64{0, 1, 1, 3, 3}}, // exact below 64
		{[]int64{64, 65}, []uint64{3, 4}},                   // 64's bucket is 64..65
		{[]int64{1000, 1007}, []uint64{4, 5}},               // 1000's is 992..1007
		{[]int64{1_100_000, math.MaxInt64 - 1, math.MaxInt64}, []uint64{6, 7, 7}},
		{nil, nil},
	} {
		got := make([]uint64, len(c.bounds))
		h.Cumulative(c.bounds, got)
		if !slices.Equal(got, c.want) {
			t.Errorf("Cumulative(%v) = %v, want %v", c.bounds, got, c.want)
		}
	}
	var sum int64
	for _, v := range values {
		sum += v
	}
	var merged Hist
	merged.Merge(&h)
	if h.Sum() != sum || merged.Sum() != sum {
		t.Errorf("Sum %d, merged %d, want %d", h.Sum(), merged.Sum(), sum)
	}
}
