package main

import (
	"context"
	"crypto/tls"
	"errors"
	"flag"
	"fmt"
	"io"
	"log/slog"
	"slices"
	"strings"
	"time"

	"servercore"
	"servercore/examples/mmo"
)

// defaultStopTimeout bounds a graceful stop (--stop-timeout): Service.Stop
// writes what every session queued, then cuts what is left.
const defaultStopTimeout = 10 * time.Second

// defaultStatsInterval is how often serve logs a summary line when stdout
// is not a terminal (--stats-interval).
const defaultStatsInterval = 10 * time.Second

const serveUsage = `usage: servercore serve --listen ADDR [--listen ADDR]... --app mmo|echo|broadcast [flags]

Runs a packet server. Once it accepts connections it prints
  listening on HOST:PORT (backend NAME)
on stdout (with --listen HOST:0 the port is the free one picked), one line
per --listen in their order: a ws://HOST:PORT/PATH address is a WebSocket
listener, whose line names its URL. The listeners serve the same
application side by side (the same game, for mmo; a broadcast reaches the
sessions of its own listener). It stops gracefully on SIGINT or SIGTERM:
every session writes what it has queued, for up to --stop-timeout, and it
exits 0. Protocol errors, refusals, slow readers cut and handler panics
are logged on stderr (at most one line a second of each), and a summary
line every --stats-interval. With --metrics ADDR it serves Prometheus
metrics on http://ADDR/metrics and the runtime's profiles on
/debug/pprof/, and prints
  metrics on http://HOST:PORT/metrics
after the listening lines. A ws://HOST:PORT/PATH listener's sessions speak
WebSocket (each binary message holds whole packets) and play the same
game; wss:// adds TLS with --tls-cert and --tls-key. With --app mmo and
--web ADDR it serves the game's browser client on http://ADDR/, which
joins the game through the first WebSocket listener (a --listen ws://...;
the listener lets the page's origin through), and prints
  web client on http://HOST:PORT/
last.

  mmo        the MMO sample (servercore/examples/mmo): log in, enter one of
             --rooms rooms of --room-capacity players, move, chat, leave;
             moves are relayed at once, or each player's latest once per
             --tick
  echo       sends every packet back unchanged (same id, same payload)
  broadcast  sends every packet to every connected session, the sender included
`

// serveOptions are the settings of a server.
type serveOptions struct {
	listen         string   // the first --listen
	alsoListen     []string // the others
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
	rooms          int           // mmo
	roomCapacity   int           // mmo
	tick           time.Duration // mmo
	metrics        string        // the address of /metrics and /debug/pprof/, if any
	web            string        // mmo: the address of the browser client, if any
	webOrigins     []string      // the Origins the WebSocket listeners take
	tlsCert        string        // the wss:// listeners' certificate file
	tlsKey         string        // and its key
	tls            *tls.Config   // loaded from them
}

// listens are the --listen addresses, in their order.
func (o serveOptions) listens() []string { return append([]string{o.listen}, o.alsoListen...) }

// listenFlag collects the repeated --listen flag.
type listenFlag []string

func (l *listenFlag) String() string { return strings.Join(*l, " ") }

func (l *listenFlag) Set(v string) error {
	*l = append(*l, v)
	return nil
}

// server is a running server: its services, one per listener, and, for
// the game, the world their sessions share.
type server struct {
	*servercore.Service                       // the first listener's
	more                []*servercore.Service // the others'
	listens             []string              // the listen addresses, the first's first
	game                *mmo.Game             // nil but for the mmo app
}

// services are the server's services, the first listener's first.
func (s *server) services() []*servercore.Service {
	return append([]*servercore.Service{s.Service}, s.more...)
}

// Stop stops the services, then the game, whose rooms get every leave first.
func (s *server) Stop(ctx context.Context) error {
	var errs []error
	for _, svc := range s.services() {
		if svc != nil {
			errs = append(errs, svc.Stop(ctx))
		}
	}
	if s.game != nil {
		errs = append(errs, s.game.Close(ctx))
	}
	return errors.Join(errs...)
}

// Stats are the services' counters, summed.
func (s *server) Stats() servercore.Stats {
	var st servercore.Stats
	for _, svc := range s.services() {
		st = addStats(st, svc.Stats())
	}
	return st
}

// listenLine is the line serve prints for its i-th listener.
func (s *server) listenLine(i int) string {
	svc := s.services()[i]
	addr := svc.Addr().String()
	if isWebSocket(s.listens[i]) {
		if u, err := wsURL(s.listens[i], svc.Addr()); err == nil {
			addr = u
		}
	}
	return fmt.Sprintf("listening on %s (backend %s)", addr, svc.Backend())
}

// config is the library configuration of a server of newSession's sessions.
func (o serveOptions) config(newSession func() servercore.PacketHandler, logger *slog.Logger) servercore.Config {
	return servercore.Config{
		NewPacketSession: newSession,
		Backend:          o.backend,
		MaxSessions:      o.maxSessions,
		MaxPacketSize:    o.maxPacket,
		SendQueueLimit:   o.sendQueueLimit,
		IdleTimeout:      o.idleTimeout,
		SendInterval:     o.sendInterval,
		PacketTimeout:    o.packetTimeout,
		SendQueueMaxAge:  o.sendQueueAge,
		TLS:              o.tls,
		WebSocketOrigins: o.webOrigins,
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
		defer metrics.stop()
	}
	var webc *webClient
	if opts.web != "" {
		w, err := listenWeb(opts.web)
		if err != nil {
			fmt.Fprintf(stderr, "%s serve: %v\n", programName, err)
			return exitFailed
		}
		defer w.stop()
		webc, opts.webOrigins = w, w.origins()
	}
	logger := slog.New(slog.NewTextHandler(stderr, &slog.HandlerOptions{Level: slog.LevelWarn}))
	svc, err := startServer(ctx, opts, logger)
	if err != nil {
		fmt.Fprintf(stderr, "%s serve: %v\n", programName, err)
		return exitFailed
	}
	for i := range svc.services() {
		fmt.Fprintln(stdout, svc.listenLine(i))
	}
	if metrics != nil {
		metrics.serve(opts.app, svc, opts.rooms, stderr)
		fmt.Fprintf(stdout, "metrics on http://%s/metrics\n", metrics.Addr())
	}
	if webc != nil {
		if err := serveWeb(webc, svc, opts.rooms, stderr); err != nil {
			fmt.Fprintf(stderr, "%s serve: %v\n", programName, err)
			stopCtx, cancel := context.WithTimeout(context.Background(), opts.stopTimeout)
			defer cancel()
			_ = svc.Stop(stopCtx)
			return exitFailed
		}
		fmt.Fprintf(stdout, "web client on %s\n", webc.URL())
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
	var listens listenFlag
	fs.Var(&listens, "listen", "`ADDR` to listen on: host:port for TCP (port 0 picks a free one), or ws://host:port/path for WebSocket sessions (wss:// with --tls-cert and --tls-key); repeat it for more listeners; required")
	fs.StringVar(&o.app, "app", "", "application: "+appNames+"; required")
	fs.IntVar(&o.rooms, "rooms", mmo.DefaultRooms, "mmo: number of rooms")
	fs.IntVar(&o.roomCapacity, "room-capacity", mmo.DefaultRoomCapacity, "mmo: players a room holds at most")
	fs.DurationVar(&o.tick, "tick", 0, "mmo: relay each moved player's latest position once per `DURATION` (0: every move at once)")
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
	fs.StringVar(&o.web, "web", "", "mmo: serve the browser client on http://`ADDR`/, host:port, joining through the first ws:// --listen (empty: none)")
	fs.StringVar(&o.tlsCert, "tls-cert", "", "wss://: the certificate `FILE` (PEM), with --tls-key; TLS runs on the std engine")
	fs.StringVar(&o.tlsKey, "tls-key", "", "wss://: the private key `FILE` (PEM) of --tls-cert")
	fs.DurationVar(&o.statsInterval, "stats-interval", 0, "log a summary line every `DURATION` (0: every 10s when stdout is not a terminal, else never; negative: never)")
	if code := parseFlags(fs, args, serveUsage, stdout, stderr); code != keepGoing {
		return o, code
	}
	if len(listens) > 0 {
		o.listen, o.alsoListen = listens[0], listens[1:]
	}
	a, known := lookupApp(o.app)
	switch {
	case o.listen == "" || slices.Contains(o.alsoListen, ""):
		return o, usageError(stderr, "serve", "--listen is required, and never empty")
	case !known:
		return o, usageError(stderr, "serve", "--app must be %s, not %q", appNames, o.app)
	case o.rooms < 1 || o.rooms > 1<<16:
		return o, usageError(stderr, "serve", "--rooms must be within 1..%d", 1<<16)
	case o.roomCapacity < 1:
		return o, usageError(stderr, "serve", "--room-capacity must be at least 1")
	case o.tick < 0:
		return o, usageError(stderr, "serve", "--tick must not be negative")
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
	case o.web != "" && !a.game:
		return o, usageError(stderr, "serve", "--web serves the mmo game's client: it needs --app mmo")
	case o.web != "" && !slices.ContainsFunc(o.listens(), isWebSocket):
		return o, usageError(stderr, "serve", "--web needs a WebSocket listener for the page to join: add --listen ws://HOST:PORT/PATH")
	case (o.tlsCert == "") != (o.tlsKey == ""):
		return o, usageError(stderr, "serve", "--tls-cert and --tls-key go together")
	case o.tlsCert != "" && !slices.ContainsFunc(o.listens(), isSecureWebSocket):
		return o, usageError(stderr, "serve", "--tls-cert needs a wss:// --listen address (TLS is for WebSocket sessions)")
	case slices.ContainsFunc(o.listens(), isSecureWebSocket) && o.tlsCert == "":
		return o, usageError(stderr, "serve", "a wss:// --listen address needs --tls-cert and --tls-key")
	}
	if o.tlsCert != "" {
		cert, err := tls.LoadX509KeyPair(o.tlsCert, o.tlsKey)
		if err != nil {
			return o, usageError(stderr, "serve", "--tls-cert/--tls-key: %v", err)
		}
		o.tls = &tls.Config{Certificates: []tls.Certificate{cert}} // used by the wss:// listeners only
	}
	return o, keepGoing
}

// startServer makes and starts a server; once it returns, the server accepts
// on its Addr(). A nil logger discards the library's log.
func startServer(ctx context.Context, o serveOptions, logger *slog.Logger) (*server, error) {
	if logger == nil {
		logger = slog.New(slog.DiscardHandler)
	}
	if o.stopTimeout <= 0 {
		o.stopTimeout = defaultStopTimeout
	}
	a, _ := lookupApp(o.app) // checked with the flags
	srv := new(server)
	newSession := a.newSession
	if a.game {
		g, err := mmo.NewGame(mmo.Config{Rooms: o.rooms, RoomCapacity: o.roomCapacity, Tick: o.tick})
		if err != nil {
			return nil, fmt.Errorf("new game: %w", err)
		}
		srv.game, newSession = g, g.NewSession
	}
	srv.listens = o.listens()
	svcs := make([]*servercore.Service, 0, len(srv.listens))
	for _, addr := range srv.listens {
		svc, err := servercore.NewServerService(addr, o.config(newSession, logger))
		if err != nil {
			for _, s := range svcs {
				_ = s.Stop(context.Background()) // never started: releases its engine
			}
			if srv.game != nil {
				_ = srv.game.Close(context.Background()) // nothing was posted to it
			}
			return nil, fmt.Errorf("new server on %s: %w", addr, err)
		}
		svcs = append(svcs, svc)
	}
	srv.Service, srv.more = svcs[0], svcs[1:]
	for i, svc := range svcs {
		if err := svc.Start(ctx); err != nil {
			stopCtx, cancel := context.WithTimeout(context.Background(), o.stopTimeout)
			defer cancel()
			_ = srv.Stop(stopCtx) // releases the engines; the start error is the news
			if len(svcs) > 1 {
				return nil, fmt.Errorf("start server on %s: %w", srv.listens[i], err)
			}
			return nil, fmt.Errorf("start server: %w", err)
		}
	}
	return srv, nil
}

// serveWeb serves the browser client of srv's game, which joins it through
// srv's first WebSocket listener.
func serveWeb(w *webClient, srv *server, rooms int, errLog io.Writer) error {
	for i, svc := range srv.services() {
		if isWebSocket(srv.listens[i]) {
			u, err := wsURL(srv.listens[i], svc.Addr())
			if err != nil {
				return err
			}
			return w.serve(u, rooms, errLog)
		}
	}
	return errors.New("web: no WebSocket listener") // checked with the flags
}

// logStats writes a summary line of svc's counters, and its game's, to w
// every interval until ctx ends.
func logStats(ctx context.Context, svc *server, interval time.Duration, w io.Writer) {
	t := time.NewTicker(interval)
	defer t.Stop()
	for {
		select {
		case <-ctx.Done():
			return
		case <-t.C:
			line := statsLine(svc.Stats())
			if svc.game != nil {
				line += "; " + gameLine(svc.game.Stats())
			}
			fmt.Fprintf(w, "%s serve: %s\n", programName, line)
		}
	}
}

// statsLine is the one-line summary of st: sessions, traffic, and the
// disconnect causes that occurred.
func statsLine(st servercore.Stats) string {
	line := fmt.Sprintf("sessions %d, accepted %d, refused %d, packets in %d out %d, bytes in %d out %d",
		st.Sessions, st.Accepted, st.Refused, st.PacketsIn, st.PacketsOut, st.BytesIn, st.BytesOut)
	for cause, n := range st.Disconnects.All() {
		if n > 0 {
			line += fmt.Sprintf(", %s %d", strings.ReplaceAll(cause, "_", " "), n)
		}
	}
	return line
}

// gameLine is the one-line summary of a game's counters: its players, what
// they did, and what was refused or dropped.
func gameLine(st mmo.Stats) string {
	return fmt.Sprintf("players %d, in rooms %d, moves %d relayed %d, chats %d relayed %d, refused logins %d enters %d, dropped invalid %d, over rate %d, out of room %d, room busy %d",
		st.Players, st.InRooms, st.Moves, st.MovesSent, st.Chats, st.ChatsSent, st.LoginsRefused, st.EntersRefused,
		st.InvalidMoves+st.InvalidChats, st.LimitedMoves+st.LimitedChats, st.OutOfRoom, st.RoomBusy)
}
