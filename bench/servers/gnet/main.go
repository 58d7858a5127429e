// Command gnet is the benchmark peer on gnet v2, written the way its users
// write a length-prefixed protocol: OnTraffic peeks at the header, peeks at
// the whole packet, handles it and discards it. Echo collects the replies of
// one OnTraffic in a pooled buffer and writes them with one Conn.Write;
// broadcast copies the packet once and AsyncWrites it to every connection of
// a mutex-protected set (gnet's way to write to other connections).
package main

import (
	"context"
	"fmt"
	"sync"
	"time"

	"github.com/panjf2000/gnet/v2"

	"servercore/bench/internal/gnetpeer"
	"servercore/bench/internal/peer"
)

type server struct {
	gnet.BuiltinEventEngine
	broadcast bool
	ready     chan gnet.Engine

	mu    sync.RWMutex
	conns map[gnet.Conn]struct{}
}

var scratch = sync.Pool{New: func() any { b := make([]byte, 0, 64<<10); return &b }}

func (s *server) OnBoot(eng gnet.Engine) gnet.Action {
	s.ready <- eng
	return gnet.None
}

func (s *server) OnOpen(c gnet.Conn) ([]byte, gnet.Action) {
	if s.broadcast {
		s.mu.Lock()
		s.conns[c] = struct{}{}
		s.mu.Unlock()
	}
	return nil, gnet.None
}

func (s *server) OnClose(c gnet.Conn, _ error) gnet.Action {
	if s.broadcast {
		s.mu.Lock()
		delete(s.conns, c)
		s.mu.Unlock()
	}
	return gnet.None
}

func (s *server) OnTraffic(c gnet.Conn) gnet.Action {
	var out *[]byte
	if !s.broadcast {
		out = scratch.Get().(*[]byte)
		defer func() {
			if len(*out) > 0 {
				_, _ = c.Write(*out)
			}
			*out = (*out)[:0]
			scratch.Put(out)
		}()
	}
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
		if s.broadcast {
			msg := append([]byte(nil), pkt...) // AsyncWrite keeps it: one copy shared by all
			s.mu.RLock()
			for other := range s.conns {
				_ = other.AsyncWrite(msg, nil)
			}
			s.mu.RUnlock()
		} else {
			*out = append(*out, pkt...)
		}
		_, _ = c.Discard(size)
	}
}

func main() {
	f := peer.Parse()
	defer peer.StopProfile()
	s := &server{broadcast: f.App == "broadcast", ready: make(chan gnet.Engine, 1), conns: make(map[gnet.Conn]struct{})}
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
}
