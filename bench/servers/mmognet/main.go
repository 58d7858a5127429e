// Command mmognet is the MMO sample's game (servercore/examples/mmo) on gnet
// v2: OnTraffic peeks at each whole packet and plays it on the rooms of
// bench/internal/mmopeer (a mutex each). Every packet to a player, its own
// answers included, joins the player's outbox in the order the room sent
// it; the first to join an empty outbox asks the player's event loop, with
// Conn.Wake, to write all that the outbox then holds with one Conn.Writev
// (one AsyncWrite per packet costs a task and a write(2) each). Multicore.
package main

import (
	"context"
	"flag"
	"fmt"
	"sync"
	"time"

	"github.com/panjf2000/gnet/v2"

	"servercore/bench/internal/gnetpeer"
	"servercore/bench/internal/mmopeer"
	"servercore/bench/internal/peer"
)

// player is a connection's context: its player and outbox.
type player struct {
	*mmopeer.Player
	out *conn
}

type server struct {
	gnet.BuiltinEventEngine
	game  *mmopeer.Game
	ready chan gnet.Engine
}

// conn is a player's gnet connection and its outbox.
type conn struct {
	c       gnet.Conn
	mu      sync.Mutex
	q       [][]byte
	spare   [][]byte
	pending bool // a flush is asked for and has not taken q yet
	closed  bool
}

// Send implements mmopeer.Conn.
func (c *conn) Send(pkt []byte) bool {
	c.mu.Lock()
	if c.closed {
		c.mu.Unlock()
		return false
	}
	c.q = append(c.q, pkt)
	ask := !c.pending
	c.pending = true
	c.mu.Unlock()
	if ask {
		if err := c.c.Wake(c.flush); err != nil {
			c.close()
			return false
		}
	}
	return true
}

// flush writes what the outbox holds; it runs on the connection's event
// loop, where Conn.Writev may be called.
func (c *conn) flush(gc gnet.Conn, err error) error {
	c.mu.Lock()
	batch := c.q
	c.q, c.spare = c.spare[:0], nil
	c.pending = false
	c.mu.Unlock()
	if err == nil && len(batch) > 0 {
		_, err = gc.Writev(batch)
	}
	clear(batch)
	c.mu.Lock()
	c.spare = batch // for the next flush: only flushes, one at a time, touch it
	c.mu.Unlock()
	return err
}

func (c *conn) close() {
	c.mu.Lock()
	c.closed, c.q = true, nil
	c.mu.Unlock()
}

func (s *server) OnBoot(eng gnet.Engine) gnet.Action {
	s.ready <- eng
	return gnet.None
}

func (s *server) OnOpen(c gnet.Conn) ([]byte, gnet.Action) {
	out := &conn{c: c}
	c.SetContext(player{s.game.NewPlayer(out), out})
	return nil, gnet.None
}

func (s *server) OnClose(c gnet.Conn, _ error) gnet.Action {
	if p, ok := c.Context().(player); ok {
		p.out.close()
		p.Disconnected()
	}
	return gnet.None
}

func (s *server) OnTraffic(c gnet.Conn) gnet.Action {
	p := c.Context().(player)
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
