// Command mmognet is the MMO sample's game (servercore/examples/mmo) on gnet
// v2: OnTraffic peeks at each whole packet and plays it on the rooms of
// bench/internal/mmopeer (a mutex each); every packet to a player, its own
// answers included, goes out through Conn.AsyncWrite, gnet's way to write to
// a connection from anywhere, so that each player gets the room's packets
// in the order the room sent them. Multicore.
package main

import (
	"context"
	"flag"
	"fmt"
	"time"

	"github.com/panjf2000/gnet/v2"

	"servercore/bench/internal/gnetpeer"
	"servercore/bench/internal/mmopeer"
	"servercore/bench/internal/peer"
)

type server struct {
	gnet.BuiltinEventEngine
	game  *mmopeer.Game
	ready chan gnet.Engine
}

// conn is a player's gnet connection.
type conn struct{ c gnet.Conn }

// Send implements mmopeer.Conn.
func (c conn) Send(pkt []byte) bool { return c.c.AsyncWrite(pkt, nil) == nil }

func (s *server) OnBoot(eng gnet.Engine) gnet.Action {
	s.ready <- eng
	return gnet.None
}

func (s *server) OnOpen(c gnet.Conn) ([]byte, gnet.Action) {
	c.SetContext(s.game.NewPlayer(conn{c}))
	return nil, gnet.None
}

func (s *server) OnClose(c gnet.Conn, _ error) gnet.Action {
	if p, ok := c.Context().(*mmopeer.Player); ok {
		p.Disconnected()
	}
	return gnet.None
}

func (s *server) OnTraffic(c gnet.Conn) gnet.Action {
	p := c.Context().(*mmopeer.Player)
	for {
		hdr, err := c.Peek(peer.HeaderSize)
		if err != nil {
			return gnet.None
		}
		size := peer.PacketSize(hdr)
		if size < peer.HeaderSize {
			return gnet.Close
		}
		pkt, err := c.Peek(size)
		if err != nil {
			return gnet.None // incomplete: wait for more
		}
		if err := p.Handle(uint16(pkt[2])|uint16(pkt[3])<<8, pkt[peer.HeaderSize:]); err != nil {
			return gnet.Close
		}
		_, _ = c.Discard(size)
	}
}

func main() {
	cfg := mmopeer.RegisterFlags(flag.CommandLine)
	f := peer.ParseOnly("mmo")
	defer peer.StopProfile()
	s := &server{game: mmopeer.NewGame(*cfg), ready: make(chan gnet.Engine, 1)}
	errc := make(chan error, 1)
	go func() {
		errc <- gnet.Run(s, "tcp4://"+f.Listen, gnet.WithMulticore(true), gnet.WithLogger(gnetpeer.Logger{}))
	}()
	var eng gnet.Engine
	select {
	case eng = <-s.ready:
	case err := <-errc:
		peer.Fatal(err)
	}
	addr, err := gnetpeer.ListenAddr(eng, f.Listen)
	if err != nil {
		peer.Fatal(err)
	}
	peer.Ready(addr, "")
	peer.WaitSignal()
	ctx, cancel := context.WithTimeout(context.Background(), 10*time.Second)
	defer cancel()
	if err := eng.Stop(ctx); err != nil {
		peer.Fatal(fmt.Errorf("stop: %w", err))
	}
	<-errc
	s.game.Close()
}
