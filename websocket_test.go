package servercore

// WebSocket sessions over real sockets, on every engine, against clients
// no one here wrote (gorilla/websocket, coder/websocket) and against raw
// bytes where a library would refuse to misbehave.

import (
	"bufio"
	"bytes"
	"context"
	"crypto/tls"
	"crypto/x509"
	"errors"
	"fmt"
	"io"
	"net"
	"net/http"
	"net/http/httptest"
	"strings"
	"sync"
	"sync/atomic"
	"testing"
	"time"

	coderws "github.com/coder/websocket"
	"github.com/gorilla/websocket"

	"servercore/internal/testkit"
)

const wsPath = "/game"

// startWS starts a WebSocket server service of app on backend with cfg.
func startWS(t testing.TB, app *testApp, cfg Config) *Service {
	t.Helper()
	if cfg.NewPacketSession == nil {
		cfg.NewPacketSession = app.newPacketSession
	}
	svc, err := NewServerService("ws://127.0.0.1:0"+wsPath, cfg)
	if err != nil {
		t.Fatalf("NewServerService: %v", err)
	}
	if err := svc.Start(context.Background()); err != nil {
		t.Fatalf("Start: %v", err)
	}
	t.Cleanup(func() {
		stopService(t, svc)
		app.check(t, true)
	})
	return svc
}

func wsURL(svc *Service) string { return "ws://" + svc.Addr().String() + wsPath }

// dialGorilla connects a gorilla client to svc.
func dialGorilla(t testing.TB, svc *Service, d *websocket.Dialer) *websocket.Conn {
	t.Helper()
	if d == nil {
		d = &websocket.Dialer{HandshakeTimeout: testkit.WaitShort}
	}
	c, resp, err := d.Dial(wsURL(svc), nil)
	if err != nil {
		t.Fatalf("dial %s: %v (response %v)", wsURL(svc), err, resp)
	}
	t.Cleanup(func() { c.Close() })
	return c
}

// packets returns the packets of a message, failing t on anything else.
func packets(t testing.TB, msg []byte) []packet {
	t.Helper()
	var out []packet
	for len(msg) > 0 {
		id, payload, size, _, err := NextPacket(msg, MaxPacketSize)
		if err != nil || size == 0 {
			t.Fatalf("a message that does not hold whole packets (%d bytes left, %v)", len(msg), err)
		}
		out = append(out, packet{id, bytes.Clone(payload)})
		msg = msg[size:]
	}
	return out
}

// readPackets reads messages from c until it has n packets.
func readPackets(t testing.TB, c *websocket.Conn, n int) []packet {
	t.Helper()
	var got []packet
	c.SetReadDeadline(time.Now().Add(testkit.WaitLong))
	for len(got) < n {
		op, msg, err := c.ReadMessage()
		if err != nil {
			t.Fatalf("read after %d of %d packets: %v", len(got), n, err)
		}
		if op != websocket.BinaryMessage {
			t.Fatalf("a message of type %d, want binary", op)
		}
		got = append(got, packets(t, msg)...)
	}
	return got
}

// expectClose reads from c until the server's close frame and returns its
// code.
func expectClose(t testing.TB, c *websocket.Conn) int {
	t.Helper()
	c.SetReadDeadline(time.Now().Add(testkit.WaitLong))
	for {
		_, _, err := c.ReadMessage()
		if err == nil {
			continue
		}
		var ce *websocket.CloseError
		if !errors.As(err, &ce) {
			t.Fatalf("the connection ended without a close frame: %v", err)
		}
		return ce.Code
	}
}

func TestWebSocketEcho(t *testing.T) {
	testkit.ForEachBackend(t, func(t *testing.T, backend string) {
		app := newTestApp()
		svc := startWS(t, app, app.configFor(backend))
		big := testkit.Payload(1, MaxPacketSize-HeaderSize)
		want := []packet{{1, []byte("one")}, {2, nil}, {3, testkit.Payload(2, 1000)}}
		var msg []byte
		for _, p := range want {
			msg = testkit.AppendPacket(msg, p.id, p.payload)
		}
		check := func(t *testing.T, got []packet, want []packet) {
			t.Helper()
			if len(got) != len(want) {
				t.Fatalf("got %d packets, want %d", len(got), len(want))
			}
			for i := range got {
				if got[i].id != want[i].id || !bytes.Equal(got[i].payload, want[i].payload) {
					t.Fatalf("packet %d: got %v, want %v", i, got[i], want[i])
				}
			}
		}
		t.Run("gorilla", func(t *testing.T) {
			c := dialGorilla(t, svc, nil)
			// Three packets in one message, then the largest packet.
			if err := c.WriteMessage(websocket.BinaryMessage, msg); err != nil {
				t.Fatal(err)
			}
			check(t, readPackets(t, c, 3), want)
			if err := c.WriteMessage(websocket.BinaryMessage, testkit.AppendPacket(nil, 9, big)); err != nil {
				t.Fatal(err)
			}
			check(t, readPackets(t, c, 1), []packet{{9, big}})
		})
		t.Run("gorilla fragmented", func(t *testing.T) {
			// A 64-byte write buffer makes gorilla send the message in
			// many fragments.
			c := dialGorilla(t, svc, &websocket.Dialer{HandshakeTimeout: testkit.WaitShort, WriteBufferSize: 64})
			w, err := c.NextWriter(websocket.BinaryMessage)
			if err != nil {
				t.Fatal(err)
			}
			for i := 0; i < len(msg); i += 10 {
				w.Write(msg[i:min(i+10, len(msg))])
			}
			if err := w.Close(); err != nil {
				t.Fatal(err)
			}
			check(t, readPackets(t, c, 3), want)
		})
		t.Run("coder", func(t *testing.T) {
			ctx, cancel := context.WithTimeout(context.Background(), testkit.WaitLong)
			defer cancel()
			c, _, err := coderws.Dial(ctx, wsURL(svc), nil)
			if err != nil {
				t.Fatal(err)
			}
			defer c.CloseNow()
			c.SetReadLimit(2 * MaxPacketSize)
			if err := c.Write(ctx, coderws.MessageBinary, msg); err != nil {
				t.Fatal(err)
			}
			var got []packet
			for len(got) < 3 {
				typ, m, err := c.Read(ctx)
				if err != nil || typ != coderws.MessageBinary {
					t.Fatalf("read: %v (type %v)", err, typ)
				}
				got = append(got, packets(t, m)...)
			}
			check(t, got, want)
			if err := c.Close(coderws.StatusNormalClosure, "bye"); err != nil {
				t.Fatalf("close handshake: %v", err)
			}
		})
		// Every session the server saw ended with the peer's close or its
		// connection's end.
		testkit.WaitFor(t, testkit.WaitLong, "the sessions to end", func() bool { return svc.Stats().Sessions == 0 })
	})
}

// rawWS is a hand-driven WebSocket client over TCP, for what a library
// refuses to send.
type rawWS struct {
	t  testing.TB
	c  net.Conn
	br *bufio.Reader
}

// dialRaw connects and, if upgrade, completes the handshake.
func dialRaw(t testing.TB, svc *Service, upgrade bool) *rawWS {
	t.Helper()
	c := testkit.Dial(t, svc.Addr())
	r := &rawWS{t: t, c: c.Conn, br: bufio.NewReader(c.Conn)}
	if upgrade {
		r.write(upgradeRequest(svc.Addr().String(), wsPath, "dGhlIHNhbXBsZSBub25jZQ=="))
		if status := r.status(); status != 101 {
			t.Fatalf("upgrade answered %d", status)
		}
	}
	return r
}

func (r *rawWS) write(p []byte) {
	r.t.Helper()
	r.c.SetWriteDeadline(time.Now().Add(testkit.WaitLong))
	if _, err := r.c.Write(p); err != nil {
		r.t.Fatalf("write: %v", err)
	}
}

// status reads an HTTP response head and returns its status code.
func (r *rawWS) status() int {
	r.t.Helper()
	r.c.SetReadDeadline(time.Now().Add(testkit.WaitLong))
	line, err := r.br.ReadString('\n')
	if err != nil {
		r.t.Fatalf("reading the status line: %v", err)
	}
	var code int
	if _, err := fmt.Sscanf(line, "HTTP/1.1 %d", &code); err != nil {
		r.t.Fatalf("status line %q", line)
	}
	for {
		l, err := r.br.ReadString('\n')
		if err != nil {
			r.t.Fatalf("reading the head: %v", err)
		}
		if l == "\r\n" {
			return code
		}
	}
}

// frame sends one frame, masked if masked.
func (r *rawWS) frame(op wsOpcode, fin, masked bool, payload []byte) {
	var m *[4]byte
	if masked {
		k := newMask()
		m = &k
	}
	p := appendFrameHeader(nil, op, len(payload), m)
	if !fin {
		p[0] &^= 0x80
	}
	start := len(p)
	p = append(p, payload...)
	if m != nil {
		maskBytes(*m, 0, p[start:])
	}
	r.write(p)
}

// readFrame reads one server frame.
func (r *rawWS) readFrame() (wsOpcode, []byte) {
	r.t.Helper()
	r.c.SetReadDeadline(time.Now().Add(testkit.WaitLong))
	head := make([]byte, 2, wsMaxHeader)
	if _, err := io.ReadFull(r.br, head); err != nil {
		r.t.Fatalf("reading a frame: %v", err)
	}
	h, ok := parseFrameHeader(head)
	if !ok {
		head = head[:h.size]
		if _, err := io.ReadFull(r.br, head[2:]); err != nil {
			r.t.Fatalf("reading a frame header: %v", err)
		}
		h, _ = parseFrameHeader(head)
	}
	if h.masked {
		r.t.Fatal("a server frame is masked")
	}
	p := make([]byte, h.length)
	if _, err := io.ReadFull(r.br, p); err != nil {
		r.t.Fatalf("reading a frame's payload: %v", err)
	}
	return h.op, p
}

func TestWebSocketBadInput(t *testing.T) {
	testkit.ForEachBackend(t, func(t *testing.T, backend string) {
		app := newTestApp()
		cfg := app.configFor(backend)
		svc := startWS(t, app, cfg)
		healthy := dialGorilla(t, svc, nil)
		tooBig := testkit.AppendPacket(nil, 1, make([]byte, MaxPacketSize-HeaderSize))
		tooBig = append(tooBig, testkit.AppendPacket(nil, 2, nil)...) // one packet more than a message may hold
		tests := []struct {
			name  string
			send  func(r *rawWS)
			code  int
			cause error
		}{
			{"text frame", func(r *rawWS) { r.frame(wsText, true, true, []byte("hello")) }, wsCloseUnsupported, ErrProtocol},
			{"unmasked frame", func(r *rawWS) { r.frame(wsBinary, true, false, testkit.AppendPacket(nil, 1, nil)) }, wsCloseProtocol, ErrProtocol},
			{"message above MaxPacketSize", func(r *rawWS) { r.frame(wsBinary, true, true, tooBig) }, wsCloseTooBig, ErrProtocol},
			{"fragments above MaxPacketSize", func(r *rawWS) {
				r.frame(wsBinary, false, true, tooBig[:40000])
				r.frame(wsContinuation, true, true, tooBig[40000:])
			}, wsCloseTooBig, ErrProtocol},
			{"a message ending inside a packet", func(r *rawWS) {
				r.frame(wsBinary, true, true, testkit.AppendPacket(nil, 1, []byte("abcdef"))[:7])
			}, wsCloseInvalidData, ErrProtocol},
			{"a packet size below the header", func(r *rawWS) { r.frame(wsBinary, true, true, []byte{2, 0, 1, 0}) }, wsCloseInvalidData, ErrProtocol},
			{"continuation with no message", func(r *rawWS) { r.frame(wsContinuation, true, true, nil) }, wsCloseProtocol, ErrProtocol},
			{"fragmented ping", func(r *rawWS) { r.frame(wsPing, false, true, nil) }, wsCloseProtocol, ErrProtocol},
			{"reserved bit", func(r *rawWS) {
				p := appendFrameHeader(nil, wsBinary, 0, &[4]byte{})
				p[0] |= 0x40
				r.write(p)
			}, wsCloseProtocol, ErrProtocol},
			{"unknown opcode", func(r *rawWS) { r.frame(wsOpcode(0x3), true, true, nil) }, wsCloseProtocol, ErrProtocol},
			{"close 1004", func(r *rawWS) { r.frame(wsClose, true, true, closePayload(1004, "")) }, wsCloseProtocol, ErrProtocol},
			{"close 4000", func(r *rawWS) { r.frame(wsClose, true, true, closePayload(4000, "gone")) }, 4000, ErrPeerClosed},
			{"close without status", func(r *rawWS) { r.frame(wsClose, true, true, nil) }, wsCloseNoStatus, ErrPeerClosed},
		}
		for _, tt := range tests {
			t.Run(tt.name, func(t *testing.T) {
				r := dialRaw(t, svc, true)
				// A packet echoed first: the session is up and serving.
				r.frame(wsBinary, true, true, testkit.AppendPacket(nil, 5, []byte("hi")))
				if op, p := r.readFrame(); op != wsBinary || !bytes.Equal(p, testkit.AppendPacket(nil, 5, []byte("hi"))) {
					t.Fatalf("echo: op %d, %q", op, p)
				}
				ts := app.session(t, r.c)
				tt.send(r)
				op, p := r.readFrame()
				code, _, _ := parseClose(p)
				if op != wsClose || code != tt.code {
					t.Fatalf("got frame op %d payload %q, want close %d", op, p, tt.code)
				}
				cause := ts.waitDisconnected(t, testkit.WaitLong)
				if !errors.Is(cause, tt.cause) {
					t.Fatalf("cause %v, want %v", cause, tt.cause)
				}
				t.Logf("cause: %v", cause)
				r.c.SetReadDeadline(time.Now().Add(testkit.WaitLong))
				if _, err := r.br.ReadByte(); err == nil {
					t.Fatal("bytes after the close frame")
				}
				// Every other session is unaffected.
				healthy.WriteMessage(websocket.BinaryMessage, testkit.AppendPacket(nil, 7, []byte(tt.name)))
				if got := readPackets(t, healthy, 1); got[0].id != 7 || string(got[0].payload) != tt.name {
					t.Fatalf("the healthy session got %v", got)
				}
			})
		}
	})
}

func TestWebSocketBadUpgrade(t *testing.T) {
	testkit.ForEachBackend(t, func(t *testing.T, backend string) {
		app := newTestApp()
		cfg := app.configFor(backend)
		svc := startWS(t, app, cfg)
		host := svc.Addr().String()
		good := string(upgradeRequest(host, wsPath, "dGhlIHNhbXBsZSBub25jZQ=="))
		tests := []struct {
			name   string
			req    string
			status int
		}{
			{"other path", strings.Replace(good, wsPath, "/other", 1), 404},
			{"POST", strings.Replace(good, "GET", "POST", 1), 405},
			{"plain HTTP", "GET " + wsPath + " HTTP/1.1\r\nHost: " + host + "\r\n\r\n", 426},
			{"bad key", strings.Replace(good, "dGhlIHNhbXBsZSBub25jZQ==", "x", 1), 400},
			{"foreign origin", strings.Replace(good, "\r\n\r\n", "\r\nOrigin: http://evil.example\r\n\r\n", 1), 403},
			{"a head above 8 KiB", strings.Replace(good, "\r\n\r\n", "\r\nX-Pad: "+strings.Repeat("a", maxUpgradeRequest)+"\r\n\r\n", 1), 431},
			{"a packet instead of a request", string(testkit.AppendPacket(nil, 1, []byte("hello world, this is no HTTP\r\n\r\n"))), 400},
			{"good", good, 101},
		}
		before := svc.Stats().Disconnects.Protocol
		for _, tt := range tests {
			t.Run(tt.name, func(t *testing.T) {
				r := dialRaw(t, svc, false)
				r.write([]byte(tt.req))
				if got := r.status(); got != tt.status {
					t.Fatalf("status %d, want %d", got, tt.status)
				}
				if tt.status != 101 {
					testkit.Dial(t, svc.Addr()) // unaffected
					r.c.SetReadDeadline(time.Now().Add(testkit.WaitLong))
					io.Copy(io.Discard, r.br) // the body, then the end
				}
			})
		}
		testkit.WaitFor(t, testkit.WaitLong, "7 refusals counted as protocol errors", func() bool {
			return svc.Stats().Disconnects.Protocol-before == 7
		})
		if n := app.connected.Load(); n != 1 {
			t.Errorf("%d sessions reached OnConnected, want only the good one", n)
		}
	})
}

func TestWebSocketHandshakeBounds(t *testing.T) {
	testkit.ForEachBackend(t, func(t *testing.T, backend string) {
		app := newTestApp()
		cfg := app.configFor(backend)
		cfg.PacketTimeout = 500 * time.Millisecond
		svc := startWS(t, app, cfg)
		t.Run("trickled a byte at a time", func(t *testing.T) {
			r := dialRaw(t, svc, false)
			req := upgradeRequest(svc.Addr().String(), wsPath, "dGhlIHNhbXBsZSBub25jZQ==")
			for i := range req {
				r.write(req[i : i+1])
				if i%16 == 0 {
					time.Sleep(time.Millisecond)
				}
			}
			if got := r.status(); got != 101 {
				t.Fatalf("status %d", got)
			}
			r.frame(wsBinary, true, true, testkit.AppendPacket(nil, 3, []byte("x")))
			if op, _ := r.readFrame(); op != wsBinary {
				t.Fatalf("op %d", op)
			}
		})
		for _, how := range []string{"stalled mid-request", "silent"} {
			t.Run(how, func(t *testing.T) {
				before := svc.Stats().Disconnects.PacketTimeout
				r := dialRaw(t, svc, false)
				if how != "silent" {
					r.write([]byte("GET " + wsPath + " HTTP/1.1\r\nHost: x\r\n"))
				}
				r.c.SetReadDeadline(time.Now().Add(testkit.WaitLong))
				if n, err := r.br.Read(make([]byte, 1)); err == nil {
					t.Fatalf("got %d bytes, want the connection closed", n)
				}
				testkit.WaitFor(t, testkit.WaitLong, "a packet timeout counted", func() bool {
					return svc.Stats().Disconnects.PacketTimeout > before
				})
			})
		}
	})
}

func TestWebSocketPingPong(t *testing.T) {
	testkit.ForEachBackend(t, func(t *testing.T, backend string) {
		app := newTestApp()
		cfg := app.configFor(backend)
		cfg.IdleTimeout = 800 * time.Millisecond
		svc := startWS(t, app, cfg)
		t.Run("pong", func(t *testing.T) {
			c := dialGorilla(t, svc, nil)
			pong := make(chan string, 1)
			c.SetPongHandler(func(s string) error { pong <- s; return nil })
			if err := c.WriteControl(websocket.PingMessage, []byte("tick 1"), time.Now().Add(testkit.WaitShort)); err != nil {
				t.Fatal(err)
			}
			go c.ReadMessage()
			select {
			case s := <-pong:
				if s != "tick 1" {
					t.Fatalf("pong %q", s)
				}
			case <-time.After(testkit.WaitLong):
				t.Fatal("no pong")
			}
		})
		t.Run("a quiet peer is pinged and kept", func(t *testing.T) {
			c := dialGorilla(t, svc, nil)
			var pings atomic.Int32
			c.SetPingHandler(func(s string) error {
				pings.Add(1)
				return c.WriteControl(websocket.PongMessage, []byte(s), time.Now().Add(testkit.WaitShort))
			})
			var msgs atomic.Int32
			done := make(chan error, 1)
			go func() {
				for {
					if _, _, err := c.ReadMessage(); err != nil {
						done <- err
						return
					}
					msgs.Add(1)
				}
			}()
			// Three pings take at least three idle timeouts, each answered
			// by a pong, which is what keeps the session.
			testkit.WaitFor(t, testkit.WaitLong, "three pings", func() bool { return pings.Load() >= 3 })
			c.WriteMessage(websocket.BinaryMessage, testkit.AppendPacket(nil, 4, []byte("still here")))
			testkit.WaitFor(t, testkit.WaitLong, "the echo", func() bool { return msgs.Load() == 1 || len(done) > 0 })
			select {
			case err := <-done:
				t.Fatalf("the session ended: %v", err)
			default:
			}
		})
		t.Run("a silent peer is cut", func(t *testing.T) {
			r := dialRaw(t, svc, true)
			ts := app.session(t, r.c)
			if cause := ts.waitDisconnected(t, testkit.WaitLong); !errors.Is(cause, ErrIdleTimeout) {
				t.Fatalf("cause %v, want ErrIdleTimeout", cause)
			}
		})
	})
}

func TestWebSocketCloseHandshake(t *testing.T) {
	testkit.ForEachBackend(t, func(t *testing.T, backend string) {
		app := newTestApp()
		svc := startWS(t, app, app.configFor(backend))
		c := dialGorilla(t, svc, nil)
		c.WriteMessage(websocket.BinaryMessage, testkit.AppendPacket(nil, 1, nil))
		readPackets(t, c, 1)
		ts := app.all()[0]
		ts.s.SendPacket(9, []byte("goodbye"))
		ts.s.DisconnectAfterSends(nil, 0)
		if got := readPackets(t, c, 1); got[0].id != 9 {
			t.Fatalf("got %v before the close, want the goodbye", got)
		}
		if code := expectClose(t, c); code != wsCloseNormal {
			t.Fatalf("close %d after DisconnectAfterSends, want %d", code, wsCloseNormal)
		}
		c2 := dialGorilla(t, svc, nil)
		c2.WriteMessage(websocket.BinaryMessage, testkit.AppendPacket(nil, 1, nil))
		readPackets(t, c2, 1)
		go stopService(t, svc)
		if code := expectClose(t, c2); code != wsCloseGoingAway {
			t.Fatalf("close %d on Stop, want %d", code, wsCloseGoingAway)
		}
	})
}

func TestWebSocketMixedGroup(t *testing.T) {
	testkit.ForEachBackend(t, func(t *testing.T, backend string) {
		g := NewGroup()
		member := func() *testApp {
			app := newTestApp()
			app.onConnected = func(ts *testSession) { g.Add(ts.s) }
			app.onDisconnected = func(ts *testSession, _ error) { g.Remove(ts.s) }
			return app
		}
		tcpApp, wsApp := member(), member()
		tcp := startServer(t, tcpApp, tcpApp.configFor(backend))
		ws := startWS(t, wsApp, wsApp.configFor(backend))
		tc := testkit.Dial(t, tcp.Addr())
		wc := dialGorilla(t, ws, nil)
		testkit.WaitFor(t, testkit.WaitLong, "both members", func() bool { return g.Len() == 2 })
		b := NewPacket(42, []byte("to everyone"))
		if n := g.Broadcast(b); n != 2 {
			t.Fatalf("broadcast reached %d sessions, want 2", n)
		}
		b.Release()
		tc.Expect(42, []byte("to everyone"))
		if got := readPackets(t, wc, 1); got[0].id != 42 || string(got[0].payload) != "to everyone" {
			t.Fatalf("the WebSocket member got %v", got)
		}
	})
}

func TestWebSocketClientService(t *testing.T) {
	testkit.ForEachBackend(t, func(t *testing.T, backend string) {
		t.Run("against our server", func(t *testing.T) {
			app := newTestApp()
			svc := startWS(t, app, app.configFor(backend))
			clients := newTestApp()
			clients.record = true
			var echoed sync.WaitGroup
			const sessions, perSession = 20, 50
			echoed.Add(sessions)
			clients.onPacket = func(ts *testSession, id uint16, payload []byte) {
				if ts.packets.Load() == perSession {
					echoed.Done()
				}
			}
			cl := startClient(t, clients, clients.configFor(backend), wsURL(svc), sessions)
			big := testkit.Payload(3, 30000)
			for _, ts := range clients.all() {
				for i := range perSession {
					p := big[:i*500]
					if err := ts.s.SendPacket(uint16(i), p); err != nil {
						t.Fatal(err)
					}
				}
			}
			waitGroup(t, &echoed)
			for _, ts := range clients.all() {
				for i, p := range ts.received() {
					if p.id != uint16(i) || !bytes.Equal(p.payload, big[:i*500]) {
						t.Fatalf("session %d packet %d: %v", ts.id, i, p)
					}
				}
			}
			if st := cl.Stats(); st.Sessions != sessions {
				t.Fatalf("%d client sessions, want %d", st.Sessions, sessions)
			}
		})
		t.Run("against gorilla's server", func(t *testing.T) {
			up := websocket.Upgrader{}
			srv := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
				c, err := up.Upgrade(w, r, nil)
				if err != nil {
					return
				}
				defer c.Close()
				for {
					op, m, err := c.ReadMessage()
					if err != nil {
						return
					}
					c.WriteMessage(op, m)
				}
			}))
			defer srv.Close()
			clients := newTestApp()
			clients.onPacket = func(*testSession, uint16, []byte) {} // no echo back
			startClient(t, clients, clients.configFor(backend), "ws"+strings.TrimPrefix(srv.URL, "http")+"/echo", 2)
			for _, ts := range clients.all() {
				ts.s.SendPacket(8, []byte("over gorilla"))
			}
			testkit.WaitFor(t, testkit.WaitLong, "the echoes", func() bool {
				for _, ts := range clients.all() {
					if ts.packets.Load() < 1 {
						return false
					}
				}
				return true
			})
		})
		t.Run("refused", func(t *testing.T) {
			app := newTestApp()
			svc := startWS(t, app, app.configFor(backend))
			cl, err := NewClientService("ws://"+svc.Addr().String()+"/nowhere", 1, newTestApp().configFor(backend))
			if err != nil {
				t.Fatal(err)
			}
			defer stopService(t, cl)
			err = cl.Start(context.Background())
			if !errors.Is(err, ErrConnect) || !errors.Is(err, ErrProtocol) || !strings.Contains(err.Error(), "404") {
				t.Fatalf("Start: %v, want ErrConnect and ErrProtocol naming the 404", err)
			}
		})
	})
}

// waitGroup waits for wg within testkit.WaitLong.
func waitGroup(t testing.TB, wg *sync.WaitGroup) {
	t.Helper()
	done := make(chan struct{})
	go func() { wg.Wait(); close(done) }()
	select {
	case <-done:
	case <-time.After(testkit.WaitLong):
		t.Fatal("timed out")
	}
}

func TestWebSocketCycles(t *testing.T) {
	testkit.ForEachBackend(t, func(t *testing.T, backend string) {
		defer testkit.LeakCheck(t)()
		app := newTestApp()
		svc := startWS(t, app, app.configFor(backend))
		for i := range 100 {
			c := dialGorilla(t, svc, nil)
			c.WriteMessage(websocket.BinaryMessage, testkit.AppendPacket(nil, uint16(i), nil))
			readPackets(t, c, 1)
			switch i % 3 {
			case 0:
				c.WriteControl(websocket.CloseMessage, websocket.FormatCloseMessage(1000, ""), time.Now().Add(time.Second))
				expectClose(t, c)
			case 1:
				c.NetConn().(*net.TCPConn).SetLinger(0) // a reset
			}
			c.Close()
		}
		testkit.WaitFor(t, testkit.WaitLong, "every session gone", func() bool { return svc.Stats().Sessions == 0 })
		stopService(t, svc)
	})
}

func TestWebSocketAddress(t *testing.T) {
	tests := []struct {
		addr     string
		ws       bool
		hostPort string
		path     string
		tls      bool
		err      bool
	}{
		{addr: "127.0.0.1:80"},
		{addr: "ws://127.0.0.1:80/game", ws: true, hostPort: "127.0.0.1:80", path: "/game"},
		{addr: "ws://h:1", ws: true, hostPort: "h:1", path: "/"},
		{addr: "WSS://h:1/x", ws: true, hostPort: "h:1", path: "/x", tls: true},
		{addr: "wss://[::1]:443/a/b", ws: true, hostPort: "[::1]:443", path: "/a/b", tls: true},
		{addr: "ws://h/game", ws: true, err: true},
		{addr: "ws://h:1/game?x=1", ws: true, err: true},
		{addr: "ws://u:p@h:1/", ws: true, err: true},
	}
	for _, tt := range tests {
		a, ws, err := parseWebSocketAddress(tt.addr)
		if ws != tt.ws || (err != nil) != tt.err || (err == nil && (a.hostPort != tt.hostPort || a.path != tt.path || a.tls != tt.tls)) {
			t.Errorf("%s: %+v ws %v err %v", tt.addr, a, ws, err)
		}
	}
	if _, err := NewServerService("ws://127.0.0.1:0/", Config{NewSession: func() Handler { return nil }}); err == nil {
		t.Error("a raw WebSocket service was made")
	}
	_, err := NewServerService("wss://127.0.0.1:0/", Config{NewPacketSession: newTestApp().newPacketSession})
	if err == nil || !strings.Contains(err.Error(), "Config.TLS") {
		t.Errorf("a wss:// server without a certificate: %v", err)
	}
}

// selfSigned returns a TLS server configuration for 127.0.0.1 and a pool
// that trusts it.
func selfSigned(t testing.TB) (*tls.Config, *x509.CertPool) {
	c := testkit.SelfSigned(t)
	return &tls.Config{Certificates: []tls.Certificate{c.TLS}}, c.Pool
}

func TestWebSocketTLS(t *testing.T) {
	serverTLS, pool := selfSigned(t)
	app := newTestApp()
	cfg := app.configFor("auto")
	cfg.TLS = serverTLS
	svc, err := NewServerService("wss://127.0.0.1:0"+wsPath, cfg)
	if err != nil {
		t.Fatal(err)
	}
	if svc.Backend() != "std" {
		t.Fatalf("a wss:// service on auto runs on %s, want std", svc.Backend())
	}
	if err := svc.Start(context.Background()); err != nil {
		t.Fatal(err)
	}
	defer func() { stopService(t, svc); app.check(t, true) }()
	url := "wss://" + svc.Addr().String() + wsPath
	t.Run("gorilla", func(t *testing.T) {
		d := &websocket.Dialer{HandshakeTimeout: testkit.WaitShort, TLSClientConfig: &tls.Config{RootCAs: pool}}
		c, _, err := d.Dial(url, nil)
		if err != nil {
			t.Fatal(err)
		}
		defer c.Close()
		c.WriteMessage(websocket.BinaryMessage, testkit.AppendPacket(nil, 6, []byte("secret")))
		if got := readPackets(t, c, 1); string(got[0].payload) != "secret" {
			t.Fatalf("got %v", got)
		}
	})
	t.Run("our client", func(t *testing.T) {
		clients := newTestApp()
		clients.onPacket = func(*testSession, uint16, []byte) {} // no echo back
		ccfg := clients.configFor("std")
		ccfg.TLS = &tls.Config{RootCAs: pool}
		startClient(t, clients, ccfg, url, 1)
		clients.all()[0].s.SendPacket(6, []byte("secret"))
		testkit.WaitFor(t, testkit.WaitLong, "the echo", func() bool { return clients.all()[0].packets.Load() == 1 })
	})
	t.Run("a client that does not trust it", func(t *testing.T) {
		cl, err := NewClientService(url, 1, newTestApp().configFor("std"))
		if err != nil {
			t.Fatal(err)
		}
		defer stopService(t, cl)
		if err := cl.Start(context.Background()); !errors.Is(err, ErrConnect) {
			t.Fatalf("Start: %v, want ErrConnect", err)
		}
	})
	for _, backend := range []string{"uring", "iocp"} {
		if testkit.Probe(backend) != nil {
			continue
		}
		c := app.configFor(backend)
		c.TLS = serverTLS
		if _, err := NewServerService("wss://127.0.0.1:0/", c); !errors.Is(err, ErrBackendUnavailable) || !strings.Contains(err.Error(), "terminate TLS") {
			t.Errorf("wss:// on %s: %v, want ErrBackendUnavailable saying to terminate TLS in front", backend, err)
		}
	}
}
