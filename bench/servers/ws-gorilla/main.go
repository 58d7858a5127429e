// Command ws-gorilla is the WebSocket benchmark peer on
// github.com/gorilla/websocket, written the way its users write a server:
// net/http upgrades each connection (default Upgrader: the HTTP server's
// 4 KiB buffers, no compression) and a goroutine per connection reads its
// messages. Each binary message holds one or more whole packets. Echo reads
// a message into the connection's buffer, copies each of its packets into
// the reply and writes the reply as one message; broadcast is the shape of gorilla's chat example: a
// mutex-protected set of clients, each with an outgoing channel drained by
// its own writer goroutine, which joins the packets queued at that moment
// into one message.
package main

import (
	"bytes"
	"errors"
	"net"
	"net/http"
	"sync"
	"time"

	"github.com/gorilla/websocket"

	"servercore/bench/internal/peer"
)

// outQueue is the per-client channel capacity of the broadcast app; a client
// that falls this far behind is dropped, as in the chat example.
const outQueue = 4096

type server struct {
	upgrader  websocket.Upgrader
	broadcast bool

	mu    sync.Mutex
	conns map[*websocket.Conn]struct{}
	wg    sync.WaitGroup

	hubMu   sync.RWMutex
	clients map[*client]struct{}
}

type client struct {
	conn *websocket.Conn
	out  chan []byte
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
	s := &server{
		broadcast: f.App == "broadcast",
		conns:     make(map[*websocket.Conn]struct{}),
		clients:   make(map[*client]struct{}),
	}
	mux := http.NewServeMux()
	mux.HandleFunc(path, s.serveWS)
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
		c.Close()
	}
	s.mu.Unlock()
	s.wg.Wait()
}

func (s *server) serveWS(w http.ResponseWriter, r *http.Request) {
	c, err := s.upgrader.Upgrade(w, r, nil)
	if err != nil {
		return // Upgrade answered with an HTTP error
	}
	s.mu.Lock()
	s.conns[c] = struct{}{}
	s.wg.Add(1)
	s.mu.Unlock()
	defer func() {
		c.Close()
		s.mu.Lock()
		delete(s.conns, c)
		s.mu.Unlock()
		s.wg.Done()
	}()
	if s.broadcast {
		s.serveBroadcast(c)
	} else {
		s.serveEcho(c)
	}
}

// readMessage reads the next message into buf. A text message or one that
// is not whole packets ends the connection with a close frame saying why.
func readMessage(c *websocket.Conn, buf *bytes.Buffer) bool {
	mt, r, err := c.NextReader()
	if err != nil {
		return false
	}
	if mt != websocket.BinaryMessage {
		closeWith(c, websocket.CloseUnsupportedData)
		return false
	}
	buf.Reset()
	if _, err := buf.ReadFrom(r); err != nil {
		return false
	}
	if !peer.Packets(buf.Bytes(), nil) {
		closeWith(c, websocket.CloseProtocolError)
		return false
	}
	return true
}

func closeWith(c *websocket.Conn, code int) {
	_ = c.WriteControl(websocket.CloseMessage, websocket.FormatCloseMessage(code, ""), time.Now().Add(time.Second))
}

func (s *server) serveEcho(c *websocket.Conn) {
	var buf bytes.Buffer
	var reply []byte
	for readMessage(c, &buf) {
		reply = reply[:0]
		peer.Packets(buf.Bytes(), func(pkt []byte) { reply = append(reply, pkt...) })
		if err := c.WriteMessage(websocket.BinaryMessage, reply); err != nil {
			return
		}
	}
}

func (s *server) serveBroadcast(c *websocket.Conn) {
	cl := &client{conn: c, out: make(chan []byte, outQueue)}
	s.hubMu.Lock()
	s.clients[cl] = struct{}{}
	s.hubMu.Unlock()

	done := make(chan struct{})
	go func() {
		defer close(done)
		for pkt := range cl.out {
			if err := writeQueued(cl, pkt); err != nil {
				c.NetConn().Close()
				break
			}
		}
		for range cl.out { // drain after an error until the channel closes
		}
	}()

	var buf bytes.Buffer
	for readMessage(c, &buf) {
		peer.Packets(buf.Bytes(), func(p []byte) {
			pkt := append([]byte(nil), p...) // shared by every recipient, so one per packet
			s.hubMu.RLock()
			for other := range s.clients {
				select {
				case other.out <- pkt:
				default:
					other.conn.NetConn().Close() // too slow: drop it
				}
			}
			s.hubMu.RUnlock()
		})
	}
	s.hubMu.Lock()
	delete(s.clients, cl)
	s.hubMu.Unlock()
	close(cl.out)
	c.NetConn().Close()
	<-done
}

// writeQueued writes pkt and the packets queued behind it as one message.
func writeQueued(cl *client, pkt []byte) error {
	w, err := cl.conn.NextWriter(websocket.BinaryMessage)
	if err != nil {
		return err
	}
	if _, err := w.Write(pkt); err != nil {
		return err
	}
	for n := len(cl.out); n > 0; n-- {
		if _, err := w.Write(<-cl.out); err != nil {
			return err
		}
	}
	return w.Close()
}
