package bot

import (
	"context"
	"fmt"
	"strings"
	"time"

	"servercore"
)

const (
	// progressEvery is how often a run reports its progress.
	progressEvery = 500 * time.Millisecond
	// stopTimeout bounds stopping the client service.
	stopTimeout = 10 * time.Second
)

// Result is the outcome of a load test.
type Result struct {
	Tally
	Backend     string        // the clients' I/O engine
	Failed      int           // clients that connected but could not take part
	Elapsed     time.Duration // measured, sending and draining
	Interrupted bool          // ctx ended the sending early
}

// Stress runs a load test of cfg.Clients clients that newDriver's driver
// makes, and returns its result. progress, if not nil, is called every
// half second while the clients send, from Stress's own goroutine. A ctx
// that ends cuts the sending short; the result says so. The error is for a
// run that could not be made or stopped.
func Stress(ctx context.Context, cfg Config, newDriver func(*Run) Driver, progress func(elapsed time.Duration, received uint64)) (*Result, error) {
	run := &Run{Config: cfg, base: time.Now()}
	d := newDriver(run)
	svc, err := servercore.NewClientService(cfg.Target, cfg.Clients, servercore.Config{
		NewPacketSession: d.NewHandler,
		Backend:          cfg.Backend,
		MaxSessions:      cfg.Clients,
		SendQueueLimit:   max(servercore.DefaultSendQueueLimit, 4*cfg.Inflight*cfg.Size),
		IdleTimeout:      -1, // the run watches its packets itself
		TLS:              cfg.TLS,
	})
	if err != nil {
		return nil, fmt.Errorf("new client service: %w", err)
	}
	res := &Result{Backend: svc.Backend()}

	connecting := time.Now()
	start := connecting
	cctx, cancel := context.WithTimeout(ctx, cfg.ConnectTimeout)
	startErr := svc.Start(cctx)
	cancel()
	if startErr != nil {
		res.FirstError = firstLine(startErr)
	}
	if ctx.Err() == nil && d.Connected() > 0 {
		var err error
		start, res.Failed, err = d.Begin(ctx, connecting)
		if err != nil && res.FirstError == "" {
			res.FirstError = err.Error()
		}
		sendFor(ctx, start, cfg.Duration, d, progress)
	}
	run.stop.Store(true)
	d.Halt()
	drainEnd := time.Now().Add(cfg.Drain)
	for !d.Drained() && time.Now().Before(drainEnd) {
		time.Sleep(time.Millisecond)
	}
	end := time.Now()

	stopCtx, cancel := context.WithTimeout(context.Background(), stopTimeout)
	defer cancel()
	if err := svc.Stop(stopCtx); err != nil {
		return nil, fmt.Errorf("stop clients: %w", err)
	}
	d.Collect(&res.Tally)
	res.Latency = run.latency.Merged()
	res.Elapsed = end.Sub(start)
	res.Interrupted = ctx.Err() != nil
	return res, nil
}

// sendFor lets the clients send until start+duration or the end of ctx,
// reporting progress on the way.
func sendFor(ctx context.Context, start time.Time, duration time.Duration, d Driver, progress func(time.Duration, uint64)) {
	timer := time.NewTimer(time.Until(start.Add(duration)))
	defer timer.Stop()
	tick := time.NewTicker(progressEvery)
	defer tick.Stop()
	for {
		select {
		case <-ctx.Done():
			return
		case <-timer.C:
			return
		case now := <-tick.C:
			if progress != nil {
				progress(now.Sub(start), d.Received())
			}
		}
	}
}

// firstLine is the first line of err's message: errors.Join puts one error
// a line, and a failed Start joins one per client.
func firstLine(err error) string {
	msg := err.Error()
	if i := strings.IndexByte(msg, '\n'); i >= 0 {
		return msg[:i] + " (and more)"
	}
	return msg
}
