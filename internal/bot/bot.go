// Package bot runs the verifying clients of a load test: many client
// sessions of one application, each checking every byte the server sends
// it. An application supplies a Driver for its protocol; Stress runs it.
package bot

import (
	"context"
	"crypto/tls"
	"sync/atomic"
	"time"

	"servercore"
	"servercore/internal/hist"
)

// Config are the settings of a load test.
type Config struct {
	Target         string        // server address, host:port or a ws:// or wss:// URL
	Clients        int           // client sessions
	Duration       time.Duration // how long the clients send
	Size           int           // packet size, header included
	Inflight       int           // packets in flight per client (or its window)
	Rate           float64       // packets a second per client, for paced applications
	Backend        string        // I/O engine of the clients
	Drain          time.Duration // how long to wait for packets in flight at the end
	ConnectTimeout time.Duration // how long connecting the clients may take
	TLS            *tls.Config   // a wss:// target's (nil: the system's roots)
}

// Run is what the clients of one load test share: the settings and the
// clock (read-only once it starts), the stop flag and the latencies.
type Run struct {
	Config  Config
	base    time.Time   // the run's time zero; send times count from it
	stop    atomic.Bool // set when the clients must stop sending
	latency hist.Sharded
}

// Now is the time since the run started, in nanoseconds, on the monotonic
// clock.
func (r *Run) Now() int64 { return int64(time.Since(r.base)) }

// Stopped reports whether the clients must stop sending.
func (r *Run) Stopped() bool { return r.stop.Load() }

// Driver is an application's side of a load test: it makes the clients and
// tells the run how they are doing.
type Driver interface {
	// NewHandler makes the next client; it is the service's session factory.
	NewHandler() servercore.PacketHandler
	// Begin starts the sending once the clients are connected (connecting
	// is when they began to) and returns when the sending started, and how
	// many clients could not take part.
	Begin(ctx context.Context, connecting time.Time) (start time.Time, failed int, err error)
	// Connected is the number of clients that connected; it is called
	// after the service's Start returned.
	Connected() int
	// Halt returns once no client sends any more; the stop flag is set.
	Halt()
	// Received is the number of data packets received so far.
	Received() uint64
	// Drained reports whether nothing is in flight any more.
	Drained() bool
	// Collect adds up the clients' results once the service stopped.
	Collect(t *Tally)
}
