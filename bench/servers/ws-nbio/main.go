// Command ws-nbio is the WebSocket benchmark peer on nbio's nbhttp engine
// and its websocket package, written as nbio's examples do: an nbhttp.Engine
// (non-blocking, its default poller and executor) serves an http.ServeMux
// whose handler upgrades with a websocket.Upgrader, and OnMessage gets each
// whole message. Each binary message holds one or more whole packets. Echo
// copies each packet of a message into a pooled reply and writes it as one
// message with Conn.WriteMessage; broadcast WriteMessages each packet to every
// connection of a mutex-protected set (safe from any goroutine).
package main

import (
	"net"
	"net/http"
	"sync"

	"github.com/lesismal/nbio/nbhttp"
	"github.com/lesismal/nbio/nbhttp/websocket"

	"servercore/bench/internal/peer"
)

type server struct {
	broadcast bool
	mu        sync.RWMutex
	conns     map[*websocket.Conn]struct{}
}

func main() {
	f := peer.Parse()
	defer peer.StopProfile()
	addr, path, err := peer.WebSocketListen(f.Listen)
	if err != nil {
		peer.Fatal(err)
	}
	s := &server{broadcast: f.App == "broadcast", conns: make(map[*websocket.Conn]struct{})}
	upgrader := websocket.NewUpgrader()
	upgrader.OnOpen(s.onOpen)
	upgrader.OnClose(s.onClose)
	upgrader.OnMessage(s.onMessage)
	mux := http.NewServeMux()
	mux.HandleFunc(path, func(w http.ResponseWriter, r *http.Request) {
		_, _ = upgrader.Upgrade(w, r, nil) // on an error it answered with one
	})
	addrc := make(chan string, 1)
	engine := nbhttp.NewEngine(nbhttp.Config{
		Network:                 "tcp",
		Addrs:                   []string{addr},
		Handler:                 mux,
		ReleaseWebsocketPayload: true,
		Listen: func(network, addr string) (net.Listener, error) {
			ln, err := net.Listen(network, addr)
			if err == nil {
				addrc <- ln.Addr().String()
			}
			return ln, err
		},
	})
	if err := engine.Start(); err != nil {
		peer.Fatal(err)
	}
	peer.Ready(peer.WebSocketURL(<-addrc, path), "")
	peer.WaitSignal()
	engine.Stop()
}

var scratch = sync.Pool{New: func() any { b := make([]byte, 0, 64<<10); return &b }}

func (s *server) onOpen(c *websocket.Conn) {
	if s.broadcast {
		s.mu.Lock()
		s.conns[c] = struct{}{}
		s.mu.Unlock()
	}
}

func (s *server) onClose(c *websocket.Conn, _ error) {
	if s.broadcast {
		s.mu.Lock()
		delete(s.conns, c)
		s.mu.Unlock()
	}
}

func (s *server) onMessage(c *websocket.Conn, mt websocket.MessageType, data []byte) {
	if mt != websocket.BinaryMessage {
		_ = c.WriteClose(1003, "")
		_ = c.Close()
		return
	}
	if !s.broadcast {
		if !peer.Packets(data, nil) {
			_ = c.WriteClose(1002, "")
			_ = c.Close()
			return
		}
		reply := scratch.Get().(*[]byte)
		peer.Packets(data, func(pkt []byte) { *reply = append(*reply, pkt...) })
		_ = c.WriteMessage(websocket.BinaryMessage, *reply)
		*reply = (*reply)[:0]
		scratch.Put(reply)
		return
	}
	if !peer.Packets(data, s.send) {
		_ = c.WriteClose(1002, "")
		_ = c.Close()
	}
}

// send writes one packet to every connection.
func (s *server) send(pkt []byte) {
	s.mu.RLock()
	for c := range s.conns {
		_ = c.WriteMessage(websocket.BinaryMessage, pkt)
	}
	s.mu.RUnlock()
}
