// Command netstd is the benchmark peer written the way most Go servers are:
// a goroutine per connection on package net, framing with bufio and
// io.ReadFull. Echo writes each packet back through a bufio.Writer that is
// flushed once the reader has nothing more buffered; broadcast keeps a
// mutex-protected set of clients, each with an outgoing channel drained by
// its own writer goroutine (the shape of the well-known chat-hub example).
package main

import (
	"bufio"
	"errors"
	"io"
	"net"
	"sync"

	"servercore/bench/internal/peer"
)

// outQueue is the per-client channel capacity of the broadcast app; a client
// that falls this far behind is dropped, as in the chat-hub example.
const outQueue = 4096

type server struct {
	ln    net.Listener
	mu    sync.Mutex
	conns map[net.Conn]struct{}
	wg    sync.WaitGroup

	hubMu   sync.RWMutex
	clients map[*client]struct{}
}

type client struct {
	conn net.Conn
	out  chan []byte
}

func main() {
	f := peer.Parse()
	defer peer.StopProfile()
	ln, err := net.Listen("tcp", f.Listen)
	if err != nil {
		peer.Fatal(err)
	}
	s := &server{ln: ln, conns: make(map[net.Conn]struct{}), clients: make(map[*client]struct{})}
	handle := s.echo
	if f.App == "broadcast" {
		handle = s.broadcast
	}
	go s.acceptLoop(handle)
	peer.Ready(ln.Addr().String(), "")
	peer.WaitSignal()
	ln.Close()
	s.mu.Lock()
	for c := range s.conns {
		c.Close()
	}
	s.mu.Unlock()
	s.wg.Wait()
}

func (s *server) acceptLoop(handle func(net.Conn)) {
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
			handle(c)
			c.Close()
			s.mu.Lock()
			delete(s.conns, c)
			s.mu.Unlock()
		}()
	}
}

// readPacket reads one whole packet into buf (grown as needed) and returns it.
func readPacket(r *bufio.Reader, buf []byte) ([]byte, error) {
	if _, err := io.ReadFull(r, buf[:peer.HeaderSize]); err != nil {
		return buf, err
	}
	size := peer.PacketSize(buf)
	if size < peer.HeaderSize {
		return buf, errors.New("bad packet size")
	}
	if cap(buf) < size {
		nb := make([]byte, size)
		copy(nb, buf[:peer.HeaderSize])
		buf = nb
	}
	buf = buf[:size]
	if _, err := io.ReadFull(r, buf[peer.HeaderSize:]); err != nil {
		return buf, err
	}
	return buf, nil
}

func (s *server) echo(c net.Conn) {
	r := bufio.NewReader(c)
	w := bufio.NewWriter(c)
	buf := make([]byte, 512)
	for {
		pkt, err := readPacket(r, buf)
		buf = pkt[:cap(pkt)]
		if err != nil {
			return
		}
		if _, err := w.Write(pkt); err != nil {
			return
		}
		if r.Buffered() == 0 {
			if err := w.Flush(); err != nil {
				return
			}
		}
	}
}

func (s *server) broadcast(c net.Conn) {
	cl := &client{conn: c, out: make(chan []byte, outQueue)}
	s.hubMu.Lock()
	s.clients[cl] = struct{}{}
	s.hubMu.Unlock()

	done := make(chan struct{})
	go func() {
		defer close(done)
		w := bufio.NewWriter(c)
		for msg := range cl.out {
			if _, err := w.Write(msg); err != nil {
				c.Close()
				break
			}
			if len(cl.out) == 0 {
				if err := w.Flush(); err != nil {
					c.Close()
					break
				}
			}
		}
		for range cl.out { // drain after an error until the channel closes
		}
	}()

	r := bufio.NewReader(c)
	var hdr [peer.HeaderSize]byte
	for {
		if _, err := io.ReadFull(r, hdr[:]); err != nil {
			break
		}
		size := peer.PacketSize(hdr[:])
		if size < peer.HeaderSize {
			break
		}
		msg := make([]byte, size) // shared by every recipient, so one per packet
		copy(msg, hdr[:])
		if _, err := io.ReadFull(r, msg[peer.HeaderSize:]); err != nil {
			break
		}
		s.hubMu.RLock()
		for other := range s.clients {
			select {
			case other.out <- msg:
			default:
				other.conn.Close() // too slow: drop it
			}
		}
		s.hubMu.RUnlock()
	}
	s.hubMu.Lock()
	delete(s.clients, cl)
	s.hubMu.Unlock()
	close(cl.out)
	c.Close()
	<-done
}
