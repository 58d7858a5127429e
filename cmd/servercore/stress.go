package main

import (
	"context"
	"flag"
	"fmt"
	"io"
	"strings"
	"time"

	"servercore"
)

// progressEvery is how often a stress run reports its progress.
const progressEvery = 500 * time.Millisecond

const stressUsage = `usage: servercore stress --target ADDR [flags]

The DummyClient: connects --clients sessions (a servercore ClientService) to
a server ("servercore serve") and checks every byte that comes back.

  --mode echo       each client keeps --inflight packets in flight; every
                    reply must be the oldest packet in flight, unchanged.
  --mode broadcast  each client sends --rate packets a second (with at most
                    --inflight of its own not yet back); every client must get
                    every client's packets, its own included, each sender's
                    complete and in order. Latency is from send to receipt.

A packet is --size bytes on the wire, the 4-byte header included. Its payload
carries the client id, a sequence number, the send time and a fill pattern
derived from them, so --size is at least 20 (and at most 65535).

After --duration the clients stop sending and wait up to --drain for what is
still in flight; what does not arrive is lost. The report gives packets
received and verified, packets/s, MB/s (received), latency percentiles,
errors (failed connects, disconnects, lost packets) and mismatches (wrong,
reordered or corrupted packets); --json prints it as one JSON object.

Exit status: 0 if packets arrived and none was lost or wrong, 1 otherwise,
2 for bad usage.
`

// stressConfig are the settings of a stress run.
type stressConfig struct {
	target         string
	clients        int
	duration       time.Duration
	size           int // whole packet, header included
	inflight       int
	mode           string // "echo" or "broadcast"
	rate           float64
	backend        string
	drain          time.Duration
	connectTimeout time.Duration
}

// driver is what differs between the modes of a stress run.
type driver interface {
	// newHandler makes the next client; it is the service's session factory.
	newHandler() servercore.PacketHandler
	// begin starts the sending once the clients are connected (connecting
	// is when they began to) and returns when the sending started, and how
	// many clients could not take part.
	begin(ctx context.Context, connecting time.Time) (start time.Time, failed int, err error)
	// connected is the number of clients that connected; it is called
	// after the service's Start returned.
	connected() int
	// halt returns once no client sends any more; the stop flag is set.
	halt()
	// received is the number of data packets received so far.
	received() uint64
	// drained reports whether nothing is in flight any more.
	drained() bool
	// collect adds up the clients' results once the service stopped.
	collect(t *tally)
}

// runStress runs "servercore stress" with args and returns the exit code.
func runStress(ctx context.Context, args []string, stdout, stderr io.Writer) int {
	cfg, asJSON, code := parseStress(args, stdout, stderr)
	if code != keepGoing {
		return code
	}
	rep, err := stress(ctx, cfg, nil)
	if err != nil {
		fmt.Fprintf(stderr, "%s stress: %v\n", programName, err)
		return exitFailed
	}
	if asJSON {
		err = rep.writeJSON(stdout)
	} else {
		err = rep.writeText(stdout)
	}
	if err != nil {
		fmt.Fprintf(stderr, "%s stress: %v\n", programName, err)
		return exitFailed
	}
	if !rep.ok() {
		return exitFailed
	}
	return exitOK
}

// parseStress parses and checks stress's flags; the code is keepGoing when
// they are fine.
func parseStress(args []string, stdout, stderr io.Writer) (cfg stressConfig, asJSON bool, code int) {
	fs := flag.NewFlagSet("stress", flag.ContinueOnError)
	fs.StringVar(&cfg.target, "target", "", "server `ADDR`, host:port; required")
	fs.IntVar(&cfg.clients, "clients", 10, "number of client sessions")
	fs.DurationVar(&cfg.duration, "duration", 10*time.Second, "how long the clients send")
	fs.IntVar(&cfg.size, "size", 64, "packet size in `BYTES`, the 4-byte header included (20..65535)")
	fs.IntVar(&cfg.inflight, "inflight", 1, "echo: packets each client keeps in flight; broadcast: most own packets not yet back")
	fs.StringVar(&cfg.mode, "mode", "echo", "echo or broadcast, as the server's --app")
	fs.Float64Var(&cfg.rate, "rate", 10, "broadcast: packets a second each client sends")
	fs.StringVar(&cfg.backend, "backend", "auto", "I/O engine of the clients: auto, uring, iocp or std")
	fs.DurationVar(&cfg.drain, "drain", 2*time.Second, "how long to wait for packets in flight after --duration")
	fs.DurationVar(&cfg.connectTimeout, "connect-timeout", 10*time.Second, "how long connecting the clients may take")
	fs.BoolVar(&asJSON, "json", false, "print the report as one JSON object")
	if code := parseFlags(fs, args, stressUsage, stdout, stderr); code != keepGoing {
		return cfg, asJSON, code
	}
	if msg := cfg.check(); msg != "" {
		return cfg, asJSON, usageError(stderr, "stress", "%s", msg)
	}
	return cfg, asJSON, keepGoing
}

// check returns what is wrong with cfg, or "".
func (cfg stressConfig) check() string {
	switch {
	case cfg.target == "":
		return "--target is required"
	case cfg.clients < 1:
		return "--clients must be at least 1"
	case cfg.duration <= 0:
		return "--duration must be positive"
	case cfg.size < minPacketSize || cfg.size > servercore.MaxPacketSize:
		return fmt.Sprintf("--size must be within %d..%d bytes (the whole packet: 4-byte header, then client id, sequence number and send time)",
			minPacketSize, servercore.MaxPacketSize)
	case cfg.inflight < 1:
		return "--inflight must be at least 1"
	case cfg.mode != "echo" && cfg.mode != "broadcast":
		return fmt.Sprintf("--mode must be echo or broadcast, not %q", cfg.mode)
	case !(cfg.rate > 0):
		return "--rate must be positive"
	case !validBackend(cfg.backend):
		return fmt.Sprintf("--backend must be auto, uring, iocp or std, not %q", cfg.backend)
	case cfg.drain < 0:
		return "--drain must not be negative"
	case cfg.connectTimeout <= 0:
		return "--connect-timeout must be positive"
	}
	return ""
}

// stress runs a stress test and returns its report. progress, if not nil, is
// called every progressEvery while the clients send, from stress's own
// goroutine. A ctx that ends cuts the sending short; the report says so. The
// error is for a run that could not be made or stopped.
func stress(ctx context.Context, cfg stressConfig, progress func(elapsed time.Duration, received uint64)) (*report, error) {
	run := &stressRun{cfg: cfg, base: time.Now()}
	var d driver = newEchoDriver(run)
	if cfg.mode == "broadcast" {
		d = newBcastDriver(run)
	}
	svc, err := servercore.NewClientService(cfg.target, cfg.clients, servercore.Config{
		NewPacketSession: d.newHandler,
		Backend:          cfg.backend,
		MaxSessions:      cfg.clients,
		SendQueueLimit:   max(servercore.DefaultSendQueueLimit, 4*cfg.inflight*cfg.size),
		IdleTimeout:      -1, // the run watches its packets itself
	})
	if err != nil {
		return nil, fmt.Errorf("new client service: %w", err)
	}
	rep := newReport(cfg, svc.Backend())
	var t tally
	var failed int // clients that connected but could not take part

	connecting := time.Now()
	start := connecting
	cctx, cancel := context.WithTimeout(ctx, cfg.connectTimeout)
	startErr := svc.Start(cctx)
	cancel()
	if startErr != nil {
		t.firstError = firstLine(startErr)
	}
	if ctx.Err() == nil && d.connected() > 0 {
		var err error
		start, failed, err = d.begin(ctx, connecting)
		if err != nil && t.firstError == "" {
			t.firstError = err.Error()
		}
		sendFor(ctx, start, cfg.duration, d, progress)
	}
	run.stop.Store(true)
	d.halt()
	drainEnd := time.Now().Add(cfg.drain)
	for !d.drained() && time.Now().Before(drainEnd) {
		time.Sleep(time.Millisecond)
	}
	end := time.Now()

	stopCtx, cancel := context.WithTimeout(context.Background(), stopTimeout)
	defer cancel()
	if err := svc.Stop(stopCtx); err != nil {
		return nil, fmt.Errorf("stop clients: %w", err)
	}
	d.collect(&t)
	rep.fill(&t, failed, end.Sub(start), ctx.Err() != nil)
	return rep, nil
}

// sendFor lets the clients send until start+duration or the end of ctx,
// reporting progress on the way.
func sendFor(ctx context.Context, start time.Time, duration time.Duration, d driver, progress func(time.Duration, uint64)) {
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
				progress(now.Sub(start), d.received())
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
