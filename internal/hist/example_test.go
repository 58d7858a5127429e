package hist_test

import (
	"fmt"
	"time"

	"servercore/internal/hist"
)

func ExampleHist() {
	var h hist.Hist
	for us := 1; us <= 100; us++ {
		h.Record(int64(time.Duration(us) * time.Microsecond))
	}
	// Each value is kept to about 3%: the median of 1..100 µs reads 49.664µs.
	fmt.Println(h.Count(), time.Duration(h.Quantile(0.5)), time.Duration(h.Max()))
	// Output: 100 49.664µs 100µs
}
