package main

import (
	"context"
	"crypto/tls"
	"crypto/x509"
	"flag"
	"fmt"
	"io"
	"os"
	"time"

	"servercore"
	"servercore/examples/mmo"
	"servercore/internal/bot"
	"servercore/internal/checkpacket"
)

const stressUsage = `usage: servercore stress --target ADDR [flags]

The DummyClient: connects --clients sessions (a servercore ClientService) to
a server ("servercore serve") and checks every byte that comes back.

  --mode echo       each client keeps --inflight packets in flight; every
                    reply must be the oldest packet in flight, unchanged.
  --mode mmo        the MMO sample's bots: each logs in, enters room i mod
                    --rooms, moves --move-rate and chats --chat-rate times a
                    second, and with --churn leaves and enters again now and
                    then. They check the game, not bytes: another player's
                    spawn before its moves, none after its despawn, each
                    room's membership as every member sees it, each sender's
                    chats in order, and every move delivered (or, with --tick
                    set to the server's, each player's latest). Latency is
                    from a move to its being seen; violations are mismatches.
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

// stressConfig are the settings of a stress run: the bots', the
// application's name, and the game bots' own.
type stressConfig struct {
	bot.Config
	mode  string
	mmo   mmo.BotConfig
	tlsCA string // --tls-ca
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
	fs.StringVar(&cfg.Target, "target", "", "server `ADDR`: host:port, or ws://host:port/path (wss:// for TLS); required")
	fs.StringVar(&cfg.tlsCA, "tls-ca", "", "wss://: trust the server certificate in this PEM `FILE` (default: the system's roots)")
	fs.IntVar(&cfg.Clients, "clients", 10, "number of client sessions")
	fs.DurationVar(&cfg.Duration, "duration", 10*time.Second, "how long the clients send")
	fs.IntVar(&cfg.Size, "size", 64, "packet size in `BYTES`, the 4-byte header included (20..65535)")
	fs.IntVar(&cfg.Inflight, "inflight", 1, "echo: packets each client keeps in flight; broadcast: most own packets not yet back")
	fs.StringVar(&cfg.mode, "mode", "echo", appNames+", as the server's --app")
	fs.IntVar(&cfg.mmo.Rooms, "rooms", mmo.DefaultRooms, "mmo: rooms the bots spread over, at most the server's")
	fs.Float64Var(&cfg.mmo.MoveRate, "move-rate", 10, "mmo: moves a second each bot makes (the server drops more than 30)")
	fs.Float64Var(&cfg.mmo.ChatRate, "chat-rate", 1, "mmo: chats a second each bot sends (the server drops more than 5)")
	fs.BoolVar(&cfg.mmo.Churn, "churn", false, "mmo: bots leave their room now and then, and enter it again")
	fs.DurationVar(&cfg.mmo.Tick, "tick", 0, "mmo: the server's --tick; the bots then check each player's latest move, not every one")
	fs.Float64Var(&cfg.Rate, "rate", 10, "broadcast: packets a second each client sends")
	fs.StringVar(&cfg.Backend, "backend", "auto", "I/O engine of the clients: auto, uring, iocp or std")
	fs.DurationVar(&cfg.Drain, "drain", 2*time.Second, "how long to wait for packets in flight after --duration")
	fs.DurationVar(&cfg.ConnectTimeout, "connect-timeout", 10*time.Second, "how long connecting the clients may take")
	fs.BoolVar(&asJSON, "json", false, "print the report as one JSON object")
	if code := parseFlags(fs, args, stressUsage, stdout, stderr); code != keepGoing {
		return cfg, asJSON, code
	}
	if msg := cfg.check(); msg != "" {
		return cfg, asJSON, usageError(stderr, "stress", "%s", msg)
	}
	if cfg.tlsCA != "" {
		pem, err := os.ReadFile(cfg.tlsCA)
		pool := x509.NewCertPool()
		if err != nil || !pool.AppendCertsFromPEM(pem) {
			return cfg, asJSON, usageError(stderr, "stress", "--tls-ca %s: no PEM certificate read (%v)", cfg.tlsCA, err)
		}
		cfg.TLS = &tls.Config{RootCAs: pool}
	}
	return cfg, asJSON, keepGoing
}

// check returns what is wrong with cfg, or "".
func (cfg stressConfig) check() string {
	_, known := lookupApp(cfg.mode)
	switch {
	case cfg.Target == "":
		return "--target is required"
	case cfg.Clients < 1:
		return "--clients must be at least 1"
	case cfg.Duration <= 0:
		return "--duration must be positive"
	case cfg.Size < checkpacket.MinSize || cfg.Size > servercore.MaxPacketSize:
		return fmt.Sprintf("--size must be within %d..%d bytes (the whole packet: 4-byte header, then client id, sequence number and send time)",
			checkpacket.MinSize, servercore.MaxPacketSize)
	case cfg.Inflight < 1:
		return "--inflight must be at least 1"
	case !known:
		return fmt.Sprintf("--mode must be %s, not %q", appNames, cfg.mode)
	case cfg.mmo.Rooms < 1 || cfg.mmo.MoveRate < 0 || cfg.mmo.ChatRate < 0 || cfg.mmo.Tick < 0:
		return "--rooms must be at least 1, and --move-rate, --chat-rate and --tick not negative"
	case cfg.mode == "mmo" && !(cfg.mmo.MoveRate > 0):
		return "--move-rate must be positive: the bots check moves"
	case !(cfg.Rate > 0):
		return "--rate must be positive"
	case !validBackend(cfg.Backend):
		return fmt.Sprintf("--backend must be auto, uring, iocp or std, not %q", cfg.Backend)
	case cfg.Drain < 0:
		return "--drain must not be negative"
	case cfg.ConnectTimeout <= 0:
		return "--connect-timeout must be positive"
	}
	return ""
}

// stress runs a stress test and returns its report. progress, if not nil, is
// called every half second while the clients send, from stress's own
// goroutine. A ctx that ends cuts the sending short; the report says so. The
// error is for a run that could not be made or stopped.
func stress(ctx context.Context, cfg stressConfig, progress func(elapsed time.Duration, received uint64)) (*report, error) {
	a, _ := lookupApp(cfg.mode) // checked with the flags
	newBot := a.newBot
	if a.game {
		newBot = mmo.NewBot(cfg.mmo)
	}
	res, err := bot.Stress(ctx, cfg.Config, newBot, progress)
	if err != nil {
		return nil, err
	}
	rep := newReport(cfg, res.Backend)
	rep.fill(res)
	return rep, nil
}
