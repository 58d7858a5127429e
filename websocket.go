package servercore

import (
	"crypto/tls"
	"encoding/base64"
	"errors"
	"fmt"
	"math/rand/v2"
	"net"
	"net/url"
	"strings"
	"sync/atomic"
	"time"
)

// WebSocket sessions (RFC 6455). A service addressed by ws://host:port/path
// (wss:// with Config.TLS) speaks WebSocket instead of bare packets; its
// sessions are otherwise the same: the same PacketHandler, Groups, limits and
// disconnect causes. Each binary message carries one or more whole packets
// in the usual framing, so a client's code is the same over TCP and
// WebSocket.
//
// What the sessions do:
//   - The upgrade request is bounded: at most 8 KiB (else 431) and
//     Config.PacketTimeout from the connection to the end of the upgrade. A
//     bad request gets an HTTP error that says what was wrong (400, 403,
//     404, 405, 426) and its session ends with ErrProtocol.
//   - Config.WebSocketOrigins checks a browser's Origin.
//   - A client frame must be masked, a server frame must not (else close
//     1002); text frames are refused (1003); a message must hold whole
//     packets (else 1007); fragments are reassembled up to MaxPacketSize
//     (beyond: 1009). Reserved bits and unknown opcodes are 1002: no
//     extension is negotiated, permessage-deflate included.
//   - A ping is answered with a pong; a session that received nothing for
//     half its IdleTimeout is pinged once, so a live peer answers before
//     the timeout ends it.
//   - A received close is answered with its code and ends the session with
//     ErrPeerClosed; DisconnectAfterSends and Stop send close 1000 and 1001
//     before their queued sends are written.
//   - Server frames are unmasked, so a shared SendBuffer is written as it
//     is, behind a frame header of the session's own: a broadcast stays
//     zero-copy and a Group may hold TCP and WebSocket sessions alike.
//     Client frames are masked, so a client copies what it sends.
//
// The frames and the handshake are written here rather than taken from a
// library (gobwas/ws, gorilla/websocket): the transport imports nothing but
// golang.org/x/sys, and what it needs is small and specific to the
// completion model: parsing frames in place in the receive buffer or the
// engine's memory, and writing a frame header as one piece of a gathered
// write in front of shared buffers. The tests check it against
// gorilla/websocket and coder/websocket.

// maxFramePayload bounds the payload of a frame the sessions write; a write
// is cut into frames at SendBuffer bounds (and at packet bounds inside a
// larger buffer), so that a peer with the same limit as ours reads every
// frame.
const maxFramePayload = MaxPacketSize

// wsCloseTimeout bounds how long a session that sends a close frame (or an
// HTTP refusal) takes to write it before it is cut.
const wsCloseTimeout = 2 * time.Second

// errUpgrading is Send's error on a WebSocket session whose upgrade is not
// done yet.
var errUpgrading = fmt.Errorf("%w: the WebSocket upgrade is not complete", ErrSessionClosed)

// wsAddress is a parsed ws:// or wss:// address.
type wsAddress struct {
	hostPort, path string
	tls            bool
}

// parseWebSocketAddress parses addr if it is a ws:// or wss:// URL; ok is
// false for any other address.
func parseWebSocketAddress(addr string) (a wsAddress, ok bool, err error) {
	scheme, _, found := strings.Cut(addr, "://")
	if scheme = strings.ToLower(scheme); !found || (scheme != "ws" && scheme != "wss") {
		return a, false, nil
	}
	u, err := url.Parse(addr)
	switch {
	case err != nil:
		return a, true, fmt.Errorf("servercore: WebSocket address %q: %w", addr, err)
	case u.Port() == "":
		return a, true, fmt.Errorf("servercore: WebSocket address %q needs a port (ws://host:port/path)", addr)
	case u.User != nil || u.RawQuery != "" || u.Fragment != "":
		return a, true, fmt.Errorf("servercore: WebSocket address %q may hold only a host, a port and a path", addr)
	}
	a = wsAddress{hostPort: u.Host, path: u.EscapedPath(), tls: scheme == "wss"}
	if a.path == "" {
		a.path = "/"
	}
	return a, true, nil
}

// webSocket is the framing of a WebSocket service; a session's own state
// is its wsConn.
type webSocket struct {
	client     bool
	path       string   // served or asked for
	host       string   // a client's Host header
	origins    []string // Config.WebSocketOrigins
	maxMessage int      // the largest message received
	maxPacket  int      // Config.MaxPacketSize
}

func newWebSocket(cfg *Config, a wsAddress, client bool) *webSocket {
	f := &webSocket{client: client, path: a.path, host: a.hostPort, origins: cfg.WebSocketOrigins, maxPacket: cfg.MaxPacketSize}
	f.maxMessage = cfg.MaxPacketSize
	if client {
		// What our servers send in one frame, as far as the receive
		// buffer holds it with its header.
		f.maxMessage = MaxPacketSize + cfg.RecvBufferSize - wsMaxHeader
	}
	return f
}

// wsConn is a WebSocket session's state, wrapped around its handler.
// Everything but the atomics belongs to the session's completion context.
type wsConn struct {
	h         PacketHandler
	upgraded  bool
	key       string       // a client's Sec-WebSocket-Key
	waiter    chan<- error // a client's Connect, until the upgrade ends
	frag      []byte       // a fragmented message being reassembled
	fragging  bool
	closeSent atomic.Bool
	pingedAt  atomic.Uint32 // lastRecv+1 when the last idle ping went
}

func (c *wsConn) OnConnected(s *Session) { c.h.OnConnected(s) }

func (c *wsConn) OnSend(s *Session, n int) {
	if c.upgraded {
		c.h.OnSend(s, n)
	}
}

// OnDisconnected tells the handler, if it saw OnConnected, or else a
// waiting Connect why the upgrade failed.
func (c *wsConn) OnDisconnected(s *Session, cause error) {
	switch {
	case c.upgraded:
		c.h.OnDisconnected(s, cause)
	case c.waiter != nil:
		c.waiter <- fmt.Errorf("%w: %s: websocket upgrade: %w", ErrConnect, s.svc.addr, cause)
		c.waiter = nil
	}
}

// open wraps the session's handler, stamps the start of the upgrade for
// Config.PacketTimeout and, on a client, sends the upgrade request. The
// session connects when the upgrade is done.
func (f *webSocket) open(s *Session, waiter chan<- error) bool {
	c := &wsConn{h: s.events.(PacketHandler), waiter: waiter}
	s.events = c
	s.partialSince.Store(s.svc.stamp())
	if f.client {
		var k [16]byte
		for i := range k {
			k[i] = byte(rand.Uint32())
		}
		c.key = base64.StdEncoding.EncodeToString(k[:])
		s.sendFramed(upgradeRequest(f.host, f.path, c.key))
	}
	return false
}

// upgradeDone makes the session a WebSocket session and connects it.
func (c *wsConn) upgradeDone(s *Session) {
	c.upgraded = true
	s.mu.Lock()
	s.state.Store(s.state.Load() &^ upgradingFlag)
	s.mu.Unlock()
	w := c.waiter
	c.waiter = nil
	s.connected(w)
}

// upgrading reports whether s has not finished its upgrade.
func upgrading(s *Session) bool { return s.state.Load()&upgradingFlag != 0 }

func (f *webSocket) deliver(s *Session, data []byte) (n, msgs, need int, err error) {
	c := s.events.(*wsConn)
	if !c.upgraded {
		if n, err = f.upgrade(s, c, data); err != nil || !c.upgraded {
			return n, 0, 0, err
		}
	}
	for s.Connected() {
		h, ok := parseFrameHeader(data[n:])
		if !ok {
			if n < len(data) {
				need = h.size
			}
			return n, msgs, need, nil
		}
		if code, why := f.check(c, &h); code != 0 {
			c.fail(s, code, why)
			return len(data), msgs, 0, nil
		}
		size := h.size + int(h.length)
		if len(data)-n < size {
			return n, msgs, size, nil
		}
		payload := data[n+h.size : n+size]
		if h.masked {
			maskBytes(h.mask, 0, payload)
		}
		msgs += f.frame(s, c, &h, payload)
		n += size
	}
	return n, msgs, 0, nil
}

// check returns the close code and reason a frame header earns, or 0.
func (f *webSocket) check(c *wsConn, h *wsFrameHeader) (int, string) {
	switch {
	case h.rsv != 0:
		return wsCloseProtocol, "reserved bits set: no extension was negotiated"
	case f.client && h.masked:
		return wsCloseProtocol, "a server frame must not be masked"
	case !f.client && !h.masked:
		return wsCloseProtocol, "a client frame must be masked"
	case h.op.control() && (!h.fin || h.length > wsMaxControlPayload):
		return wsCloseProtocol, "a control frame must be whole and at most 125 bytes"
	case h.op == wsText:
		return wsCloseUnsupported, "text frames are not accepted: send binary messages of packets"
	case h.op == wsContinuation && !c.fragging:
		return wsCloseProtocol, "a continuation frame with no message begun"
	case h.op == wsBinary && c.fragging:
		return wsCloseProtocol, "a new message before the fragmented one ended"
	case h.op != wsContinuation && h.op != wsBinary && h.op != wsClose && h.op != wsPing && h.op != wsPong:
		return wsCloseProtocol, fmt.Sprintf("unknown opcode %#x", byte(h.op))
	case !h.op.control() && int64(len(c.frag))+h.length > int64(f.maxMessage):
		return wsCloseTooBig, fmt.Sprintf("a message above %d bytes", f.maxMessage)
	}
	return 0, ""
}

// frame acts on one whole frame and returns the packets it delivered.
func (f *webSocket) frame(s *Session, c *wsConn, h *wsFrameHeader, payload []byte) int {
	switch h.op {
	case wsBinary, wsContinuation:
		if h.fin && !c.fragging {
			return f.packets(s, c, payload)
		}
		c.frag = append(c.frag, payload...)
		c.fragging = !h.fin
		if c.fragging {
			return 0
		}
		msgs := f.packets(s, c, c.frag)
		c.frag = nil // an idle session holds no reassembly memory
		return msgs
	case wsPing:
		s.sendFramed(f.control(wsPong, payload))
	case wsClose:
		code, reason, ok := parseClose(payload)
		if !ok {
			c.fail(s, wsCloseProtocol, "a malformed close frame or a close code a peer may not send")
			return 0
		}
		answer := closePayload(code, "")
		if code == wsCloseNoStatus {
			answer = nil
		}
		c.closeSent.Store(true)
		s.sendFramed(f.control(wsClose, answer))
		s.DisconnectAfterSends(fmt.Errorf("%w: websocket %s", ErrPeerClosed, closeText(code, reason)), wsCloseTimeout)
	}
	return 0
}

// packets hands the whole packets of a message to the handler, and fails
// the session if the message holds anything else.
func (f *webSocket) packets(s *Session, c *wsConn, msg []byte) int {
	msgs := 0
	for len(msg) > 0 && s.Connected() {
		id, payload, size, _, err := NextPacket(msg, f.maxPacket)
		switch {
		case err != nil:
			c.fail(s, wsCloseInvalidData, err.Error())
			return msgs
		case size == 0:
			c.fail(s, wsCloseInvalidData, fmt.Sprintf("a message ends inside a packet (%d bytes left over)", len(msg)))
			return msgs
		}
		c.h.OnRecvPacket(s, id, payload)
		msgs++
		msg = msg[size:]
	}
	return msgs
}

// fail sends a close frame with code and reason and ends the session with
// ErrProtocol once it is written.
func (c *wsConn) fail(s *Session, code int, reason string) {
	f := s.svc.framing.(*webSocket)
	if !c.closeSent.Swap(true) {
		s.sendFramed(f.control(wsClose, closePayload(code, reason)))
	}
	s.DisconnectAfterSends(fmt.Errorf("%w: websocket %s", ErrProtocol, closeText(code, reason)), wsCloseTimeout)
}

// upgrade reads the upgrade request (server) or response (client) at the
// front of data and returns the bytes it took.
func (f *webSocket) upgrade(s *Session, c *wsConn, data []byte) (int, error) {
	end := upgradeEnd(data)
	if end == 0 && len(data) < maxUpgradeRequest {
		return 0, nil // more is coming
	}
	if f.client {
		if end == 0 || end > maxUpgradeRequest {
			return len(data), fmt.Errorf("%w: websocket upgrade: a response head above %d bytes", ErrProtocol, maxUpgradeRequest)
		}
		if err := checkUpgradeResponse(data[:end], c.key); err != nil {
			return len(data), err
		}
		c.upgradeDone(s)
		return end, nil
	}
	var key string
	r := &refusal{431, fmt.Sprintf("the upgrade request is above %d bytes", maxUpgradeRequest)}
	if end > 0 && end <= maxUpgradeRequest {
		key, r = acceptUpgrade(data[:end], f.path, f.origins)
	}
	if r != nil {
		s.sendFramed(r.response())
		s.DisconnectAfterSends(fmt.Errorf("%w: %w", ErrProtocol, r), wsCloseTimeout)
		return len(data), nil
	}
	s.sendFramed(upgradeResponse(key))
	c.upgradeDone(s)
	return end, nil
}

// control is a control frame of op with payload, masked on a client.
func (f *webSocket) control(op wsOpcode, payload []byte) []byte {
	if !f.client {
		return append(appendFrameHeader(make([]byte, 0, wsMaxHeader+len(payload)), op, len(payload), nil), payload...)
	}
	m := newMask()
	p := appendFrameHeader(make([]byte, 0, wsMaxHeader+len(payload)), op, len(payload), &m)
	start := len(p)
	p = append(p, payload...)
	maskBytes(m, 0, p[start:])
	return p
}

// closing sends the close frame of a connected session that starts to
// drain: 1001 when the service stops, 1000 otherwise.
func (f *webSocket) closing(s *Session, cause error) {
	if upgrading(s) {
		return
	}
	c := s.events.(*wsConn)
	if c.closeSent.Swap(true) {
		return
	}
	code, reason := wsCloseNormal, ""
	if errors.Is(cause, ErrServiceClosed) {
		code, reason = wsCloseGoingAway, "the server is shutting down"
	}
	s.sendFramed(f.control(wsClose, closePayload(code, reason)))
}

// idle pings a session that received nothing for half its idle timeout,
// once per quiet spell.
func (f *webSocket) idle(s *Session) {
	if upgrading(s) {
		return
	}
	c := s.events.(*wsConn)
	last := s.lastRecv.Load() + 1
	if c.pingedAt.Swap(last) != last {
		s.sendFramed(f.control(wsPing, nil))
	}
}

// appendWrite writes the SendBuffers in o.inflight as binary frames: each
// run of them behind a header of the session's own, cut at buffer bounds so
// that no frame exceeds maxFramePayload (and at packet bounds inside a
// larger buffer). Framed buffers (the handshake, control frames) go as they
// are. A client masks a copy of what it sends.
func (f *webSocket) appendWrite(iov [][]byte, o *sendState) [][]byte {
	o.heads, o.masked = o.heads[:0], o.masked[:0]
	if f.client {
		total := 0
		for _, b := range o.inflight {
			total += len(b.data)
		}
		if cap(o.masked) < total {
			o.masked = make([]byte, 0, total)
		}
	}
	bufs := o.inflight
	for i := 0; i < len(bufs); {
		if bufs[i].framed {
			iov = append(iov, bufs[i].data)
			i++
			continue
		}
		if d := bufs[i].data; len(d) > maxFramePayload {
			for len(d) > 0 {
				cut := packetCut(d, maxFramePayload)
				iov = f.appendFrame(iov, o, d[:cut])
				d = d[cut:]
			}
			i++
			continue
		}
		head := len(iov)
		iov = append(iov, nil) // the header, once the frame's size is known
		size := 0
		for ; i < len(bufs) && !bufs[i].framed && size+len(bufs[i].data) <= maxFramePayload; i++ {
			iov = append(iov, bufs[i].data)
			size += len(bufs[i].data)
		}
		iov = f.finishFrame(iov, head, o, size)
	}
	return iov
}

// appendFrame appends one frame holding p.
func (f *webSocket) appendFrame(iov [][]byte, o *sendState, p []byte) [][]byte {
	head := len(iov)
	iov = append(iov, nil, p)
	return f.finishFrame(iov, head, o, len(p))
}

// finishFrame puts the header of a frame of size bytes at iov[head], the
// payload being iov[head+1:]; a client replaces the payload by a masked
// copy.
func (f *webSocket) finishFrame(iov [][]byte, head int, o *sendState, size int) [][]byte {
	start := len(o.heads)
	if !f.client {
		o.heads = appendFrameHeader(o.heads, wsBinary, size, nil)
		iov[head] = o.heads[start:]
		return iov
	}
	m := newMask()
	o.heads = appendFrameHeader(o.heads, wsBinary, size, &m)
	iov[head] = o.heads[start:]
	from := len(o.masked)
	for _, p := range iov[head+1:] {
		o.masked = append(o.masked, p...)
	}
	maskBytes(m, 0, o.masked[from:])
	return append(iov[:head+1], o.masked[from:])
}

// packetCut returns how much of the front of p to put in one frame of at
// most limit bytes: the whole packets that fit, or limit bytes if p does
// not start with a packet that fits.
func packetCut(p []byte, limit int) int {
	n := 0
	for n < len(p) {
		_, _, size, _, err := NextPacket(p[n:], MaxPacketSize)
		if err != nil || size == 0 || n+size > limit {
			break
		}
		n += size
	}
	if n == 0 {
		n = min(len(p), limit)
	}
	return n
}

// tlsFor returns the TLS configuration of a wss:// service: the
// configured one, or for a client with none, one that checks the server's
// certificate against the target's host name.
func tlsFor(cfg *Config, a wsAddress, server bool) (*tls.Config, error) {
	switch {
	case !a.tls:
		return nil, nil
	case cfg.TLS != nil:
		return cfg.TLS, nil
	case server:
		return nil, errors.New("servercore: a wss:// server needs Config.TLS with its certificate")
	}
	host, _, err := net.SplitHostPort(a.hostPort)
	if err != nil {
		return nil, err
	}
	return &tls.Config{ServerName: host}, nil
}
