package main

import (
	"context"
	"flag"
	"fmt"
	"io"
	"text/tabwriter"
	"time"

	"servercore"
	"servercore/examples/mmo"
	"servercore/internal/bot"
)

const demoUsage = `usage: servercore demo [--app mmo|echo] [flags]

Runs "serve" and "stress" together in this process on a free loopback port.

  --app mmo   (the default) the MMO sample: a game server of --rooms rooms
              and --clients bots (300 by default) that log in, enter a room,
              move, chat, leave and enter again, checking the game's rules.
              It exits 0 only if the bots found no violation.
  --app echo  an echo phase (about 70% of --duration) and then a broadcast
              phase (the rest), each against a server of its own, with
              --clients clients (50 by default). It exits 0 only if nothing
              was lost or corrupted.

On a terminal it shows a live progress line; at the end it prints a summary.
`

// demoRate is the broadcast phase's packets a second per client.
const demoRate = 20

// The game demo's bots' rates, each a second.
const (
	demoMoveRate = 10
	demoChatRate = 1
)

// Defaults of the demo's clients, per application.
const (
	demoGameClients = 300
	demoEchoClients = 50
)

// demoOptions are the settings of a demo.
type demoOptions struct {
	app      string
	duration time.Duration
	clients  int
	size     int
	inflight int
	backend  string
	rooms    int
	tick     time.Duration
}

// demoPhase is one server application and the stress run against it.
type demoPhase struct {
	app      string
	duration time.Duration
	report   *report
	server   servercore.Stats
}

// runDemo runs "servercore demo" with args and returns the exit code.
func runDemo(ctx context.Context, args []string, stdout, stderr io.Writer) int {
	o, code := parseDemo(args, stdout, stderr)
	if code != keepGoing {
		return code
	}
	if o.app == "mmo" {
		return runGameDemo(ctx, o, stdout, stderr)
	}
	bcast := o.duration * 3 / 10
	phases := []*demoPhase{{app: "echo", duration: o.duration - bcast}, {app: "broadcast", duration: bcast}}
	fmt.Fprintf(stdout, "servercore demo: %d clients, %d-byte packets, %v\n", o.clients, o.size, o.duration)
	live := isTerminal(stdout)
	for _, p := range phases {
		if err := p.run(ctx, o, stdout, live); err != nil {
			fmt.Fprintf(stderr, "%s demo: %s phase: %v\n", programName, p.app, err)
			return exitFailed
		}
		if ctx.Err() != nil {
			break
		}
	}
	fmt.Fprintln(stdout)
	if err := writeDemoSummary(stdout, phases, ctx.Err() != nil); err != nil {
		fmt.Fprintf(stderr, "%s demo: %v\n", programName, err)
		return exitFailed
	}
	for _, p := range phases {
		if p.report == nil || !p.report.ok() || p.report.Interrupted {
			return exitFailed
		}
	}
	return exitOK
}

func parseDemo(args []string, stdout, stderr io.Writer) (demoOptions, int) {
	var o demoOptions
	fs := flag.NewFlagSet("demo", flag.ContinueOnError)
	fs.StringVar(&o.app, "app", "mmo", "mmo (the game) or echo (echo, then broadcast)")
	fs.DurationVar(&o.duration, "duration", 10*time.Second, "how long the clients send, both phases together")
	fs.IntVar(&o.clients, "clients", 0, "number of client sessions (0: 300 bots for mmo, 50 clients for echo)")
	fs.IntVar(&o.rooms, "rooms", mmo.DefaultRooms, "mmo: rooms of the game")
	fs.DurationVar(&o.tick, "tick", 0, "mmo: relay each moved player's latest position once per `DURATION` (0: every move at once)")
	fs.IntVar(&o.size, "size", 64, "packet size in `BYTES`, the 4-byte header included (20..65535)")
	fs.IntVar(&o.inflight, "inflight", 8, "echo: packets each client keeps in flight; broadcast: most own packets not yet back")
	fs.StringVar(&o.backend, "backend", "auto", "I/O engine: auto, uring, iocp or std")
	if code := parseFlags(fs, args, demoUsage, stdout, stderr); code != keepGoing {
		return o, code
	}
	if o.app != "mmo" && o.app != "echo" {
		return o, usageError(stderr, "demo", "--app must be mmo or echo, not %q", o.app)
	}
	if o.clients == 0 {
		o.clients = demoEchoClients
		if o.app == "mmo" {
			o.clients = demoGameClients
		}
	}
	cfg := o.stressConfig(o.app, "127.0.0.1:0", o.duration)
	if msg := cfg.check(); msg != "" {
		return o, usageError(stderr, "demo", "%s", msg)
	}
	return o, keepGoing
}

// stressConfig is the stress run of one phase.
func (o demoOptions) stressConfig(mode, target string, d time.Duration) stressConfig {
	return stressConfig{
		Config: bot.Config{
			Target:         target,
			Clients:        o.clients,
			Duration:       d,
			Size:           o.size,
			Inflight:       o.inflight,
			Rate:           demoRate,
			Backend:        o.backend,
			Drain:          2 * time.Second,
			ConnectTimeout: 10 * time.Second,
		},
		mode: mode,
		mmo:  mmo.BotConfig{Rooms: o.rooms, MoveRate: demoMoveRate, ChatRate: demoChatRate, Churn: true, Tick: o.tick},
	}
}

// run starts the phase's server, stresses it and stops it.
func (p *demoPhase) run(ctx context.Context, o demoOptions, stdout io.Writer, live bool) error {
	svc, err := startServer(ctx, serveOptions{listen: "127.0.0.1:0", app: p.app, backend: o.backend}, nil)
	if err != nil {
		return err
	}
	fmt.Fprintf(stdout, "%-9s server listening on %s (backend %s), %d clients for %v\n",
		p.app, svc.Addr(), svc.Backend(), o.clients, p.duration)
	var progress func(time.Duration, uint64)
	if live {
		progress = progressLine(stdout, p.app, svc.Service)
	}
	rep, err := stress(ctx, o.stressConfig(p.app, svc.Addr().String(), p.duration), progress)
	if live {
		fmt.Fprintf(stdout, "\r%70s\r", "") // clear the progress line
	}
	stopCtx, cancel := context.WithTimeout(context.Background(), defaultStopTimeout)
	defer cancel()
	if stopErr := svc.Stop(stopCtx); stopErr != nil && err == nil {
		err = fmt.Errorf("stop server: %w", stopErr)
	}
	if err != nil {
		return err
	}
	p.report, p.server = rep, svc.Stats()
	fmt.Fprintf(stdout, "%-9s %s\n", p.app, rep.verdict())
	return nil
}

// progressLine returns a progress callback that rewrites one terminal line
// with the phase's elapsed time, its recent packets/s and the server's
// session count.
func progressLine(w io.Writer, phase string, svc *servercore.Service) func(time.Duration, uint64) {
	var lastAt time.Duration
	var last uint64
	return func(elapsed time.Duration, received uint64) {
		rate := 0.0
		if dt := (elapsed - lastAt).Seconds(); dt > 0 {
			rate = float64(received-last) / dt
		}
		lastAt, last = elapsed, received
		fmt.Fprintf(w, "\r%-9s %5.1fs  %10.0f packets/s  %6d sessions ", phase, elapsed.Seconds(), rate, svc.Stats().Sessions)
	}
}

// writeDemoSummary prints the table of the phases, the servers' counts and
// the verdict.
func writeDemoSummary(w io.Writer, phases []*demoPhase, interrupted bool) error {
	tw := tabwriter.NewWriter(w, 0, 0, 2, ' ', 0)
	fmt.Fprintln(tw, "phase	clients	packets	packets/s	MB/s	p50 µs	p99 µs	p99.9 µs	errors	mismatches")
	for _, p := range phases {
		if r := p.report; r != nil {
			fmt.Fprintf(tw, "%s\t%d\t%d\t%.0f\t%.2f\t%.1f\t%.1f\t%.1f\t%d\t%d\n", p.app, r.Connected, r.Packets,
				r.PacketsPerSec, r.BytesPerSec/1e6, r.P50us, r.P99us, r.P999us, r.Errors, r.Mismatches)
		}
	}
	fmt.Fprintln(tw)
	fmt.Fprintln(tw, "server\taccepted\tpackets in\tpackets out\tMB in\tMB out")
	for _, p := range phases {
		if p.report != nil {
			s := p.server
			fmt.Fprintf(tw, "%s\t%d\t%d\t%d\t%.2f\t%.2f\n", p.app, s.Accepted, s.PacketsIn, s.PacketsOut,
				float64(s.BytesIn)/1e6, float64(s.BytesOut)/1e6)
		}
	}
	if err := tw.Flush(); err != nil {
		return fmt.Errorf("write summary: %w", err)
	}
	_, err := fmt.Fprintf(w, "\n%s\n", demoVerdict(phases, interrupted))
	return err
}

// demoVerdict sums the demo up: the first phase that failed, or OK.
func demoVerdict(phases []*demoPhase, interrupted bool) string {
	for _, p := range phases {
		switch {
		case p.report == nil && interrupted:
			return "INTERRUPTED before the " + p.app + " phase"
		case p.report == nil:
			return "FAILED: the " + p.app + " phase did not run"
		case !p.report.ok():
			return "FAILED: " + p.app + " phase: " + p.report.verdict()
		}
	}
	if interrupted {
		return "INTERRUPTED: nothing lost or corrupted so far"
	}
	return "OK: nothing lost or corrupted"
}
