package peer

import (
	"errors"
	"fmt"
	"net/url"
	"strings"
)

// ErrNotWebSocket is returned by WebSocketListen for a --listen address
// that is not a ws:// URL.
var ErrNotWebSocket = errors.New("not a ws:// address")

// WebSocketListen splits a ws://host:port/path listen address into the
// host:port to listen on and the path to upgrade at ("/" when it has none).
func WebSocketListen(listen string) (addr, path string, err error) {
	if !strings.HasPrefix(listen, "ws://") {
		return "", "", fmt.Errorf("--listen %q: %w", listen, ErrNotWebSocket)
	}
	u, err := url.Parse(listen)
	if err != nil {
		return "", "", fmt.Errorf("--listen %q: %w", listen, err)
	}
	path = u.Path
	if path == "" {
		path = "/"
	}
	return u.Host, path, nil
}

// WebSocketURL is the ws:// URL of path on the bound address addr, what a
// WebSocket peer prints in its "listening on" line.
func WebSocketURL(addr, path string) string { return "ws://" + addr + path }

// Packets reports whether msg, a binary WebSocket message, is one or more
// whole packets, none with a size below HeaderSize, and calls each (if not
// nil) on every packet in order. A message that is not is a protocol
// error: the peer closes the connection.
func Packets(msg []byte, each func(pkt []byte)) bool {
	for len(msg) > 0 {
		if len(msg) < HeaderSize {
			return false
		}
		size := PacketSize(msg)
		if size < HeaderSize || size > len(msg) {
			return false
		}
		if each != nil {
			each(msg[:size])
		}
		msg = msg[size:]
	}
	return true
}
