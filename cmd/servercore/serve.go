package main

import (
	"context"
	"flag"
	"fmt"
	"io"
	"log/slog"
	"time"

	"servercore"
)

// defaultStopTimeout bounds a graceful stop (--stop-timeout): Service.Stop
// writes what every session queued, then cuts what is left.
const defaultStopTimeout = 10 * time.Second

// defaultStatsInterval is how often serve logs a summary line when stdout
// is not a terminal (--stats-interval).
const defaultStatsInterval = 10 * time.Second

const serveUsage = `usage: servercore serve --listen ADDR --app echo|broadcast [flags]

Runs a packet server. Once it accepts connections it prints
  listening on HOST:PORT (backend NAME)
on stdout (with --listen HOST:0 the port is the free one picked). It stops
gracefully on SIGINT or SIGTERM: every session writes what it has queued,
for up to --stop-timeout, and it exits 0. Protocol errors, refusals,
slow readers cut and handler panics are logged on stderr (at most one line
a second of each), and a summary line every --stats-interval. With
--metrics ADDR it serves Prometheus metrics on http://ADDR/metrics and the
runtime's profiles on /debug/pprof/, and prints
  metrics on http://HOST:PORT/metrics
after the listening line.

  echo       sends every packet back unchanged (same id, same payload)
  broadcast  sends every packet to every connected session, the sender included
`

// serveOptions are the settings of a server.
type serveOptions struct {
	listen         string
	app            string
	backend        string
	maxSessions    int
	maxPacket      int
	sendQueueLimit int
	idleTimeout    time.Duration
	sendInterval   time.Duration
	packetTimeout  time.Duration
	sendQueueAge   time.Duration
	stopTimeout    time.Duration
	statsInterval  time.Duration
	metrics        string // the address of /metrics and /debug/pprof/, if any
}

// config is the library configuration of the server.
func (o serveOptions) config(logger *slog.Logger) servercore.Config {
	a, _ := lookupApp(o.app) // checked with the flags
	return servercore.Config{
		NewPacketSession: a.newSession,
		Backend:          o.backend,
		MaxSessions:      o.maxSessions,
		MaxPacketSize:    o.maxPacket,
		SendQueueLimit:   o.sendQueueLimit,
		IdleTimeout:      o.idleTimeout,
		SendInterval:     o.sendInterval,
		PacketTimeout:    o.packetTimeout,
		SendQueueMaxAge:  o.sendQueueAge,
		Logger:           logger,
	}
}

// runServe runs "servercore serve" with args until ctx ends, and returns the
// exit code.
func runServe(ctx context.Context, args []string, stdout, stderr io.Writer) int {
	opts, code := parseServe(args, stdout, stderr)
	if code != keepGoing {
		return code
	}
	var metrics *metricsServer
	if opts.metrics != "" {
		m, err := listenMetrics(opts.metrics)
		if err != nil {
			fmt.Fprintf(stderr, "%s serve: %v\n", programName, err)
			return exitFailed
		}
		metrics = m
	}
	logger := slog.New(slog.NewTextHandler(stderr, &slog.HandlerOptions{Level: slog.LevelWarn}))
	svc, err := startServer(ctx, opts, logger)
	if err != nil {
		if metrics != nil {
			metrics.stop()
		}
		fmt.Fprintf(stderr, "%s serve: %v\n", programName, err)
		return exitFailed
	}
	fmt.Fprintf(stdout, "listening on %s (backend %s)\n", svc.Addr(), svc.Backend())
	if metrics != nil {
		metrics.serve(opts.app, svc, stderr)
		defer metrics.stop()
		fmt.Fprintf(stdout, "metrics on http://%s/metrics\n", metrics.Addr())
	}

	interval := opts.statsInterval
	if interval == 0 && !isTerminal(stdout) {
		interval = defaultStatsInterval
	}
	if interval > 0 {
		go logStats(ctx, svc, interval, stderr)
	}
	<-ctx.Done()
	stopCtx, cancel := context.WithTimeout(context.Background(), opts.stopTimeout)
	defer cancel()
	if err := svc.Stop(stopCtx); err != nil {
		fmt.Fprintf(stderr, "%s serve: %v\n", programName, err)
		return exitFailed
	}
	st := svc.Stats()
	fmt.Fprintf(stderr, "%s serve: stopped after %d sessions (%d refused), %d packets in, %d packets out\n",
		programName, st.Accepted, st.Refused, st.PacketsIn, st.PacketsOut)
	return exitOK
}

// parseServe parses and checks serve's flags; the code is keepGoing when
// they are fine.
func parseServe(args []string, stdout, stderr io.Writer) (serveOptions, int) {
	var o serveOptions
	fs := flag.NewFlagSet("serve", flag.ContinueOnError)
	fs.StringVar(&o.listen, "listen", "", "`ADDR` to listen on, host:port (port 0 picks a free one); required")
	fs.StringVar(&o.app, "app", "", "application: echo or broadcast; required")
	fs.StringVar(&o.backend, "backend", "auto", "I/O engine: auto, uring, iocp or std")
	fs.IntVar(&o.maxSessions, "max-sessions", 0, "sessions alive at once, further connections are refused (0: the library default, 10000)")
	fs.IntVar(&o.maxPacket, "max-packet", 0, "largest packet accepted in `BYTES`, header included, 4..65535 (0: 65535)")
	fs.IntVar(&o.sendQueueLimit, "send-queue-limit", 0, "unsent `BYTES` a session may queue before it is disconnected (0: the library default, 1 MiB)")
	fs.DurationVar(&o.idleTimeout, "idle-timeout", 0, "disconnect a session that sent nothing for this `DURATION` (0: the library default, 60s; negative: never)")
	fs.DurationVar(&o.sendInterval, "send-interval", 0, "write each session's queued packets at most once per `DURATION`, for fuller writes at that much added latency (0: at once)")
	fs.DurationVar(&o.packetTimeout, "packet-timeout", 0, "disconnect a session whose packet begun is not whole within this `DURATION` (0: the library default, 10s; negative: never)")
	fs.DurationVar(&o.sendQueueAge, "send-queue-max-age", 0, "disconnect a session whose oldest unsent byte waited longer than this `DURATION` (0: never)")
	fs.DurationVar(&o.stopTimeout, "stop-timeout", defaultStopTimeout, "on SIGINT or SIGTERM, let sessions write what they queued for up to this `DURATION`, then cut them")
	fs.StringVar(&o.metrics, "metrics", "", "serve Prometheus metrics on /metrics and profiles on /debug/pprof/ at `ADDR`, host:port, a listener apart from the game's (empty: none)")
	fs.DurationVar(&o.statsInterval, "stats-interval", 0, "log a summary line every `DURATION` (0: every 10s when stdout is not a terminal, else never; negative: never)")
	if code := parseFlags(fs, args, serveUsage, stdout, stderr); code != keepGoing {
		return o, code
	}
	_, known := lookupApp(o.app)
	switch {
	case o.listen == "":
		return o, usageError(stderr, "serve", "--listen is required")
	case !known:
		return o, usageError(stderr, "serve", "--app must be echo or broadcast, not %q", o.app)
	case !validBackend(o.backend):
		return o, usageError(stderr, "serve", "--backend must be auto, uring, iocp or std, not %q", o.backend)
	case o.maxSessions < 0:
		return o, usageError(stderr, "serve", "--max-sessions must not be negative")
	case o.maxPacket != 0 && (o.maxPacket < servercore.HeaderSize || o.maxPacket > servercore.MaxPacketSize):
		return o, usageError(stderr, "serve", "--max-packet must be within %d..%d", servercore.HeaderSize, servercore.MaxPacketSize)
	case o.sendQueueLimit < 0:
		return o, usageError(stderr, "serve", "--send-queue-limit must not be negative")
	case o.sendInterval < 0:
		return o, usageError(stderr, "serve", "--send-interval must not be negative")
	case o.sendQueueAge < 0:
		return o, usageError(stderr, "serve", "--send-queue-max-age must not be negative")
	case o.stopTimeout <= 0:
		return o, usageError(stderr, "serve", "--stop-timeout must be positive")
	}
	return o, keepGoing
}

// startServer makes and starts a server; once it returns, the server accepts
// on svc.Addr(). A nil logger discards the library's log.
func startServer(ctx context.Context, o serveOptions, logger *slog.Logger) (*servercore.Service, error) {
	if logger == nil {
		logger = slog.New(slog.DiscardHandler)
	}
	if o.stopTimeout <= 0 {
		o.stopTimeout = defaultStopTimeout
	}
	svc, err := servercore.NewServerService(o.listen, o.config(logger))
	if err != nil {
		return nil, fmt.Errorf("new server: %w", err)
	}
	if err := svc.Start(ctx); err != nil {
		stopCtx, cancel := context.WithTimeout(context.Background(), o.stopTimeout)
		defer cancel()
		_ = svc.Stop(stopCtx) // releases the engine; the start error is the news
		return nil, fmt.Errorf("start server: %w", err)
	}
	return svc, nil
}

// logStats writes a summary line of svc's counters to w every interval
// until ctx ends.
func logStats(ctx context.Context, svc *servercore.Service, interval time.Duration, w io.Writer) {
	t := time.NewTicker(interval)
	defer t.Stop()
	for {
		select {
		case <-ctx.Done():
			return
		case <-t.C:
			fmt.Fprintf(w, "%s serve: %s\n", programName, statsLine(svc.Stats()))
		}
	}
}

// statsLine is the one-line summary of st: sessions, traffic, and the
// disconnect causes that occurred.
func statsLine(st servercore.Stats) string {
	line := fmt.Sprintf("sessions %d, accepted %d, refused %d, packets in %d out %d, bytes in %d out %d",
		st.Sessions, st.Accepted, st.Refused, st.PacketsIn, st.PacketsOut, st.BytesIn, st.BytesOut)
	d := st.Disconnects
	for _, c := range []struct {
		name string
		n    uint64
	}{
		{"peer closed", d.PeerClosed}, {"protocol", d.Protocol}, {"packet timeout", d.PacketTimeout},
		{"slow reader", d.SendQueueFull}, {"send timeout", d.SendTimeout}, {"idle", d.IdleTimeout},
		{"overflow", d.RecvOverflow}, {"panic", d.Panic}, {"stopped", d.ServiceClosed},
		{"local", d.Local}, {"other", d.Other},
	} {
		if c.n > 0 {
			line += fmt.Sprintf(", %s %d", c.name, c.n)
		}
	}
	return line
}
