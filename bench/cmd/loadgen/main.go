// Command loadgen is the benchmark's load generator, run by cmd/bench as a
// process of its own so that the server's CPU time is the server's alone.
//
//	loadgen --target 127.0.0.1:9000 --mode echo --conns 1000 --inflight 16 --size 64 \
//	        --warmup 1s --duration 3s --server-pid 1234
//
// It prints one JSON object (load.Result) on stdout. Modes: echo,
// typed-echo (the echo load in C_Echo/S_Echo messages, for the servercore
// peer's typed app), broadcast, idle, mmo (the MMO sample's bots, from
// examples/mmo), mmo-idle (memory per idle player), check-echo,
// check-typed-echo, check-broadcast, check-mmo (the correctness checks; the
// exit code tells). A ws://host:port/path target runs the echo, broadcast
// and idle modes over WebSocket clients.
package main

import (
	"context"
	"encoding/json"
	"flag"
	"fmt"
	"os"
	"os/signal"
	"syscall"
	"time"

	"servercore/bench/internal/load"
)

func main() {
	var o load.Options
	flag.StringVar(&o.Mode, "mode", "echo", "echo, typed-echo, broadcast, idle, mmo, mmo-idle, check-echo, check-typed-echo, check-broadcast or check-mmo")
	flag.StringVar(&o.Target, "target", "127.0.0.1:9000", "server address host:port, or a ws://host:port/path URL")
	flag.IntVar(&o.Conns, "conns", 100, "connections")
	flag.IntVar(&o.Inflight, "inflight", 1, "echo: packets in flight per connection")
	flag.IntVar(&o.Size, "size", 64, "packet size in bytes, header included")
	flag.Float64Var(&o.Rate, "rate", 10, "broadcast: packets per second per connection; mmo: moves per second per player")
	flag.IntVar(&o.Rooms, "rooms", 1, "mmo: rooms the players spread over (player i enters room i mod rooms)")
	flag.Float64Var(&o.ChatRate, "chat-rate", 0, "mmo: chats per second per player")
	flag.DurationVar(&o.Tick, "tick", 0, "mmo: the server's --tick (0: it relays every move at once)")
	flag.BoolVar(&o.Churn, "churn", false, "mmo: players leave their room now and then, and enter it again")
	flag.StringVar(&o.Backend, "backend", "auto", "mmo: the bots' servercore engine (auto, uring or std)")
	flag.DurationVar(&o.Warmup, "warmup", time.Second, "warm-up before the window (idle: settle time)")
	flag.DurationVar(&o.Duration, "duration", 3*time.Second, "measured window")
	flag.IntVar(&o.ServerPID, "server-pid", 0, "server process to sample CPU time and RSS of")
	flag.Parse()
	load.RaiseFileLimit()

	ctx, stop := signal.NotifyContext(context.Background(), os.Interrupt, syscall.SIGTERM)
	defer stop()

	var res *load.Result
	var err error
	switch o.Mode {
	case "echo":
		res, err = load.RunEcho(ctx, o)
	case "typed-echo":
		res, err = load.RunTypedEcho(ctx, o)
	case "broadcast":
		res, err = load.RunBroadcast(ctx, o)
	case "idle":
		res, err = load.RunIdle(ctx, o)
	case "mmo":
		res, err = load.RunMMO(ctx, o)
	case "mmo-idle":
		res, err = load.RunMMOIdle(ctx, o)
	case "check-mmo":
		err = load.CheckMMOServer(ctx, o.Target, o.Tick)
	case "check-echo":
		err = load.CheckEchoServer(ctx, o.Target)
	case "check-typed-echo":
		err = load.CheckTypedEchoServer(ctx, o.Target)
	case "check-broadcast":
		err = load.CheckBroadcastServer(ctx, o.Target)
	default:
		err = fmt.Errorf("unknown --mode %q", o.Mode)
	}
	if err != nil {
		fmt.Fprintln(os.Stderr, "loadgen:", err)
		os.Exit(1)
	}
	if res == nil {
		fmt.Println(`{"ok":true}`)
		return
	}
	enc := json.NewEncoder(os.Stdout)
	if err := enc.Encode(res); err != nil {
		fmt.Fprintln(os.Stderr, "loadgen:", err)
		os.Exit(1)
	}
}
