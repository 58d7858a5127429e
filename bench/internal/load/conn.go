package load

import (
	"context"
	"errors"
	"fmt"
	"io"
	"net"
	"net/url"
	"strings"
	"time"

	"github.com/gorilla/websocket"
)

// Conn is one connection of the load, a stream of packets. Over TCP it is
// the socket itself. Over WebSocket every Write is one binary message (the
// load only ever writes whole packets, so each message holds whole
// packets) and Read returns the payloads of the binary messages that come
// in, one after the other, so the stream the load parses is the same.
type Conn interface {
	io.Reader
	io.Writer
	SetDeadline(t time.Time) error
	SetReadDeadline(t time.Time) error
	// Abort closes the connection at once with a TCP reset (SO_LINGER 0),
	// so the generator leaves no TIME_WAIT behind to hold source ports
	// between runs.
	Abort()
}

// ErrTextMessage is returned by a WebSocket connection's Read when the
// server sent a text message: every peer must send binary ones.
var ErrTextMessage = errors.New("websocket: the server sent a text message")

// wsBufferSize is the read and write buffer of each WebSocket client: the
// largest message the echo load writes in one go (16 packets of 64 bytes)
// fits, and ten thousand idle clients stay small.
const wsBufferSize = 2048

// IsWebSocket reports whether target is a ws:// URL rather than host:port.
func IsWebSocket(target string) bool { return strings.HasPrefix(target, "ws://") }

// tcpConn is a Conn over TCP.
type tcpConn struct{ *net.TCPConn }

func (c tcpConn) Abort() { abortTCP(c.TCPConn) }

// wsConn is a Conn over a WebSocket client (github.com/gorilla/websocket):
// masked binary frames out, as a client's must be.
type wsConn struct {
	ws  *websocket.Conn
	tcp *net.TCPConn
	r   io.Reader // the message being read; nil between messages
}

// dialWS opens the i-th WebSocket connection to the ws:// URL target from
// its source address. A message longer than bufSize goes out in frames of
// bufSize bytes each, the first a binary frame and the rest continuation
// frames.
func dialWS(ctx context.Context, target string, i, bufSize int) (*wsConn, error) {
	u, err := url.Parse(target)
	if err != nil {
		return nil, fmt.Errorf("websocket target: %w", err)
	}
	var tcp *net.TCPConn
	d := websocket.Dialer{
		NetDialContext: func(ctx context.Context, _, addr string) (net.Conn, error) {
			c, err := dialTCP(ctx, addr, i)
			tcp = c
			return c, err
		},
		HandshakeTimeout: 10 * time.Second,
		ReadBufferSize:   bufSize,
		WriteBufferSize:  bufSize,
	}
	ws, resp, err := d.DialContext(ctx, u.String(), nil)
	if resp != nil && resp.Body != nil {
		resp.Body.Close()
	}
	if err != nil {
		if tcp != nil {
			abortTCP(tcp)
		}
		if resp != nil {
			return nil, fmt.Errorf("websocket handshake: %s: %w", resp.Status, err)
		}
		return nil, fmt.Errorf("websocket handshake: %w", err)
	}
	return &wsConn{ws: ws, tcp: tcp}, nil
}

func (c *wsConn) Read(p []byte) (int, error) {
	for {
		if c.r == nil {
			mt, r, err := c.ws.NextReader()
			if err != nil {
				return 0, err
			}
			if mt != websocket.BinaryMessage {
				return 0, ErrTextMessage
			}
			c.r = r
		}
		n, err := c.r.Read(p)
		if errors.Is(err, io.EOF) {
			c.r = nil
			if n == 0 {
				continue
			}
			err = nil
		}
		return n, err
	}
}

// Write sends p as one binary message.
func (c *wsConn) Write(p []byte) (int, error) {
	if err := c.ws.WriteMessage(websocket.BinaryMessage, p); err != nil {
		return 0, err
	}
	return len(p), nil
}

func (c *wsConn) SetDeadline(t time.Time) error {
	if err := c.ws.SetReadDeadline(t); err != nil {
		return err
	}
	return c.ws.SetWriteDeadline(t)
}

func (c *wsConn) SetReadDeadline(t time.Time) error { return c.ws.SetReadDeadline(t) }

func (c *wsConn) Abort() { abortTCP(c.tcp) }
