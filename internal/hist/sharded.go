package hist

// Shards is the number of histograms a Sharded spreads its values over.
const Shards = 32

// Sharded is a histogram spread over Shards histograms, so that goroutines
// recording into different shards seldom share a cache line. Its zero value
// is empty.
type Sharded struct {
	shards [Shards]Hist
}

// Shard is the histogram that recorder i (a connection, a client) records
// into.
func (s *Sharded) Shard(i int) *Hist { return &s.shards[i%Shards] }

// Merged returns a new histogram of all the shards' values.
func (s *Sharded) Merged() *Hist {
	h := new(Hist)
	for i := range s.shards {
		h.Merge(&s.shards[i])
	}
	return h
}
