// Command nbio is the benchmark peer on nbio, written the way its users
// frame a stream: OnData gets whatever was read, a per-connection buffer
// keeps the partial packet between calls. Echo collects the replies of one
// OnData in a pooled buffer and writes them with one Conn.Write; broadcast
// writes each packet to every connection of a mutex-protected set with
// Conn.Write, which is safe from any goroutine and buffers what the socket
// does not take.
package main

import (
	"net"
	"sync"

	"github.com/lesismal/nbio"

	"servercore/bench/internal/peer"
)

type session struct {
	pending []byte // the partial packet carried over to the next OnData
}

type server struct {
	broadcast bool
	mu        sync.RWMutex
	conns     map[*nbio.Conn]struct{}
}

var scratch = sync.Pool{New: func() any { b := make([]byte, 0, 64<<10); return &b }}

func (s *server) onData(c *nbio.Conn, data []byte) {
	st, _ := c.Session().(*session)
	if st == nil {
		c.Close()
		return
	}
	if len(st.pending) > 0 {
		st.pending = append(st.pending, data...)
		data = st.pending
	}
	var out *[]byte
	if !s.broadcast {
		out = scratch.Get().(*[]byte)
	}
	off, bad := 0, false
	for len(data)-off >= peer.HeaderSize {
		size := peer.PacketSize(data[off:])
		if size < peer.HeaderSize {
			bad = true
			break
		}
		if len(data)-off < size {
			break
		}
		pkt := data[off : off+size]
		if s.broadcast {
			s.mu.RLock()
			for other := range s.conns {
				_, _ = other.Write(pkt) // copies what the socket does not take
			}
			s.mu.RUnlock()
		} else {
			*out = append(*out, pkt...)
		}
		off += size
	}
	if out != nil {
		if len(*out) > 0 {
			_, _ = c.Write(*out)
		}
		*out = (*out)[:0]
		scratch.Put(out)
	}
	if bad {
		c.Close()
		return
	}
	rest := data[off:]
	switch {
	case len(rest) == 0:
		st.pending = st.pending[:0]
	case len(st.pending) > 0:
		st.pending = st.pending[:copy(st.pending, rest)]
	default:
		st.pending = append(st.pending[:0], rest...)
	}
}

func main() {
	f := peer.Parse()
	defer peer.StopProfile()
	s := &server{broadcast: f.App == "broadcast", conns: make(map[*nbio.Conn]struct{})}
	addrc := make(chan string, 1)
	engine := nbio.NewEngine(nbio.Config{
		Network: "tcp",
		Addrs:   []string{f.Listen},
		Listen: func(network, addr string) (net.Listener, error) {
			ln, err := net.Listen(network, addr)
			if err == nil {
				addrc <- ln.Addr().String()
			}
			return ln, err
		},
	})
	engine.OnOpen(func(c *nbio.Conn) {
		c.SetSession(&session{})
		if s.broadcast {
			s.mu.Lock()
			s.conns[c] = struct{}{}
			s.mu.Unlock()
		}
	})
	engine.OnClose(func(c *nbio.Conn, _ error) {
		if s.broadcast {
			s.mu.Lock()
			delete(s.conns, c)
			s.mu.Unlock()
		}
	})
	engine.OnData(s.onData)
	if err := engine.Start(); err != nil {
		peer.Fatal(err)
	}
	peer.Ready(<-addrc, "")
	peer.WaitSignal()
	engine.Stop()
}
