//go:build race

package route_test

// raceEnabled skips the allocation counts: under the race detector
// sync.Pool drops items at random, so pooled buffers allocate.
const raceEnabled = true
