// Command servercore is the servercore library as a benchmark peer, running
// the library's own echo and broadcast applications: echo sends each packet
// back with SendPacket, broadcast builds one SendBuffer per packet and hands
// it to Service.Broadcast. It also serves the typed echo, which only this
// peer has: each C_Echo decoded and answered with an S_Echo through the code
// protoc-gen-servercore generates, to weigh that code against the raw echo.
// Given a ws://host:port/path --listen address it serves the same apps over
// the library's WebSocket sessions.
// And it serves the MMO sample (examples/mmo, rooms as job queues), the game
// the mmo peers also play.
package main

import (
	"context"
	"flag"
	"fmt"
	"time"

	"servercore"
	"servercore/bench/internal/mmopeer"
	"servercore/bench/internal/peer"
	"servercore/examples/broadcast"
	"servercore/examples/echo"
	"servercore/examples/mmo"
	"servercore/examples/typedecho"
)

func main() {
	backend := flag.String("backend", "auto", "engine: auto, std, uring or iocp")
	ioThreads := flag.Int("io-threads", 0, "threads the engine completes I/O on (0: GOMAXPROCS)")
	sendInterval := flag.Duration("send-interval", 0, "hold each session's writes to one per interval (0: write at once)")
	game := mmopeer.RegisterFlags(flag.CommandLine)
	f := peer.Parse("typed", "mmo")
	defer peer.StopProfile()

	newSession := echo.NewSession
	switch f.App {
	case "broadcast":
		newSession = broadcast.NewSession
	case "typed":
		newSession = typedecho.NewSession
	}
	var g *mmo.Game
	if f.App == "mmo" {
		var err error
		g, err = mmo.NewGame(mmo.Config{Rooms: game.Rooms, RoomCapacity: game.RoomCapacity, Tick: game.Tick})
		if err != nil {
			peer.Fatal(err)
		}
		newSession = g.NewSession
	}
	svc, err := servercore.NewServerService(f.Listen, servercore.Config{
		NewPacketSession: newSession,
		Backend:          *backend,
		IOThreads:        *ioThreads,
		SendInterval:     *sendInterval,
		MaxSessions:      peer.MaxSessions,
	})
	if err != nil {
		peer.Fatal(err)
	}
	if err := svc.Start(context.Background()); err != nil {
		peer.Fatal(err)
	}
	addr := svc.Addr().String()
	if _, path, err := peer.WebSocketListen(f.Listen); err == nil {
		addr = peer.WebSocketURL(addr, path) // WebSocket sessions
	}
	peer.Ready(addr, "backend "+svc.Backend())
	peer.WaitSignal()
	ctx, cancel := context.WithTimeout(context.Background(), 10*time.Second)
	defer cancel()
	if err := svc.Stop(ctx); err != nil {
		peer.Fatal(fmt.Errorf("stop: %w", err))
	}
	if g != nil {
		if err := g.Close(ctx); err != nil {
			peer.Fatal(fmt.Errorf("stop the game: %w", err))
		}
	}
}
