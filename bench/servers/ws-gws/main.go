// Command ws-gws is the WebSocket benchmark peer on github.com/lxzan/gws,
// written as its README does: net/http upgrades each connection with a
// gws.Upgrader (no compression, messages handled in order) and its
// ReadLoop runs on that connection's goroutine. Each binary message holds
// one or more whole packets. Echo copies each packet of a message into a
// pooled reply and writes it as one message; broadcast hands each packet to a
// gws.Broadcaster, which encodes the frame once and queues it to every
// connection of a mutex-protected set.
package main

import (
	"errors"
	"net"
	"net/http"
	"sync"
	"time"

	"github.com/lxzan/gws"

	"servercore/bench/internal/peer"
)

type server struct {
	gws.BuiltinEventHandler
	broadcast bool

	mu    sync.RWMutex
	conns map[*gws.Conn]struct{}
	wg    sync.WaitGroup
}

func main() {
	f := peer.Parse()
	defer peer.StopProfile()
	addr, path, err := peer.WebSocketListen(f.Listen)
	if err != nil {
		peer.Fatal(err)
	}
	ln, err := net.Listen("tcp", addr)
	if err != nil {
		peer.Fatal(err)
	}
	s := &server{broadcast: f.App == "broadcast", conns: make(map[*gws.Conn]struct{})}
	upgrader := gws.NewUpgrader(s, &gws.ServerOption{ReadMaxPayloadSize: 1 << 20})
	mux := http.NewServeMux()
	mux.HandleFunc(path, func(w http.ResponseWriter, r *http.Request) {
		socket, err := upgrader.Upgrade(w, r)
		if err != nil {
			return // Upgrade answered with an HTTP error
		}
		s.wg.Add(1)
		defer s.wg.Done()
		socket.ReadLoop()
	})
	hs := &http.Server{Handler: mux, ReadHeaderTimeout: 10 * time.Second}
	go func() {
		if err := hs.Serve(ln); err != nil && !errors.Is(err, http.ErrServerClosed) {
			peer.Fatal(err)
		}
	}()
	peer.Ready(peer.WebSocketURL(ln.Addr().String(), path), "")
	peer.WaitSignal()
	_ = hs.Close() // the listener; upgraded connections are ours to close
	s.mu.Lock()
	for c := range s.conns {
		_ = c.NetConn().Close()
	}
	s.mu.Unlock()
	s.wg.Wait()
}

var scratch = sync.Pool{New: func() any { b := make([]byte, 0, 64<<10); return &b }}

func (s *server) OnOpen(c *gws.Conn) {
	s.mu.Lock()
	s.conns[c] = struct{}{}
	s.mu.Unlock()
}

func (s *server) OnClose(c *gws.Conn, _ error) {
	s.mu.Lock()
	delete(s.conns, c)
	s.mu.Unlock()
}

func (s *server) OnMessage(c *gws.Conn, msg *gws.Message) {
	defer msg.Close()
	if msg.Opcode != gws.OpcodeBinary {
		_ = c.WriteClose(1003, nil)
		return
	}
	data := msg.Bytes()
	if !s.broadcast {
		if !peer.Packets(data, nil) {
			_ = c.WriteClose(1002, nil)
			return
		}
		reply := scratch.Get().(*[]byte)
		peer.Packets(data, func(pkt []byte) { *reply = append(*reply, pkt...) })
		_ = c.WriteMessage(gws.OpcodeBinary, *reply)
		*reply = (*reply)[:0]
		scratch.Put(reply)
		return
	}
	if !peer.Packets(data, s.send) {
		_ = c.WriteClose(1002, nil)
	}
}

// send broadcasts one packet to every connection.
func (s *server) send(pkt []byte) {
	b := gws.NewBroadcaster(gws.OpcodeBinary, pkt)
	s.mu.RLock()
	for c := range s.conns {
		_ = b.Broadcast(c)
	}
	s.mu.RUnlock()
	_ = b.Close()
}
