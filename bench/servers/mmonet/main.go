// Command mmonet is the MMO sample's game (servercore/examples/mmo) as most
// Go servers would be written: a goroutine per connection on package net
// reading packets with bufio and io.ReadFull, rooms behind a mutex
// (bench/internal/mmopeer), and per connection an outbox that a writer
// goroutine empties with one writev (net.Buffers) for all it holds.
package main

import (
	"bufio"
	"errors"
	"flag"
	"io"
	"net"
	"sync"

	"servercore/bench/internal/mmopeer"
	"servercore/bench/internal/peer"
)

// maxQueued is how many bytes a connection's outbox holds at most; a
// client that falls this far behind is dropped.
const maxQueued = 8 << 20

type server struct {
	ln    net.Listener
	game  *mmopeer.Game
	mu    sync.Mutex
	conns map[net.Conn]struct{}
	wg    sync.WaitGroup
}

func main() {
	cfg := mmopeer.RegisterFlags(flag.CommandLine)
	f := peer.ParseOnly("mmo")
	defer peer.StopProfile()
	ln, err := net.Listen("tcp", f.Listen)
	if err != nil {
		peer.Fatal(err)
	}
	s := &server{ln: ln, game: mmopeer.NewGame(*cfg), conns: make(map[net.Conn]struct{})}
	go s.acceptLoop()
	peer.Ready(ln.Addr().String(), "")
	peer.WaitSignal()
	ln.Close()
	s.mu.Lock()
	for c := range s.conns {
		c.Close()
	}
	s.mu.Unlock()
	s.wg.Wait()
	s.game.Close()
}

func (s *server) acceptLoop() {
	for {
		c, err := s.ln.Accept()
		if err != nil {
			if errors.Is(err, net.ErrClosed) {
				return
			}
			continue
		}
		s.mu.Lock()
		s.conns[c] = struct{}{}
		s.mu.Unlock()
		s.wg.Add(1)
		go func() {
			defer s.wg.Done()
			s.serve(c)
			s.mu.Lock()
			delete(s.conns, c)
			s.mu.Unlock()
		}()
	}
}

// serve reads c's packets and plays them until c ends or breaks the
// protocol, then despawns its player.
func (s *server) serve(c net.Conn) {
	out := newOutbox(c)
	done := make(chan struct{})
	go func() {
		defer close(done)
		out.writeLoop()
	}()
	p := s.game.NewPlayer(out)
	r := bufio.NewReader(c)
	buf := make([]byte, 512)
	for {
		if _, err := io.ReadFull(r, buf[:peer.HeaderSize]); err != nil {
			break
		}
		size := peer.PacketSize(buf)
		if size < peer.HeaderSize {
			break
		}
		if cap(buf) < size {
			buf = append(buf[:peer.HeaderSize], make([]byte, size-peer.HeaderSize)...)
		}
		buf = buf[:size]
		if _, err := io.ReadFull(r, buf[peer.HeaderSize:]); err != nil {
			break
		}
		if err := p.Handle(uint16(buf[2])|uint16(buf[3])<<8, buf[peer.HeaderSize:]); err != nil {
			break
		}
		buf = buf[:cap(buf)]
	}
	p.Disconnected()
	out.close()
	c.Close()
	<-done
}

// outbox is the packets queued to one connection, in the order sent.
type outbox struct {
	c      net.Conn
	mu     sync.Mutex
	q      [][]byte
	bytes  int
	closed bool
	wake   chan struct{} // holds a token while q may have packets
}

func newOutbox(c net.Conn) *outbox { return &outbox{c: c, wake: make(chan struct{}, 1)} }

// Send implements mmopeer.Conn.
func (o *outbox) Send(pkt []byte) bool {
	o.mu.Lock()
	if o.closed {
		o.mu.Unlock()
		return false
	}
	if o.bytes+len(pkt) > maxQueued {
		o.closed = true
		o.mu.Unlock()
		o.c.Close() // too slow: drop it
		o.signal()
		return false
	}
	o.q = append(o.q, pkt)
	o.bytes += len(pkt)
	o.mu.Unlock()
	o.signal()
	return true
}

func (o *outbox) signal() {
	select {
	case o.wake <- struct{}{}:
	default:
	}
}

func (o *outbox) close() {
	o.mu.Lock()
	o.closed = true
	o.mu.Unlock()
	o.signal()
}

// writeLoop writes what is queued, all of it in one writev, until the
// outbox is closed or a write fails.
func (o *outbox) writeLoop() {
	var spare [][]byte
	for range o.wake {
		o.mu.Lock()
		batch, closed := o.q, o.closed
		o.q, o.bytes = spare[:0], 0
		o.mu.Unlock()
		if len(batch) > 0 {
			bufs := net.Buffers(batch)
			if _, err := bufs.WriteTo(o.c); err != nil {
				o.close()
				o.c.Close()
				return
			}
		}
		clear(batch)
		spare = batch
		if closed {
			return
		}
	}
}
