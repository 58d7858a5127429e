package load

import (
	"context"
	"errors"
	"net"
	"net/http"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/gorilla/websocket"

	"servercore/bench/internal/peer"
)

// wsServer serves handle on a gorilla/websocket server on loopback and
// returns its ws:// URL. Like servercore's sessions, it refuses a message
// above MaxPacketSize (close 1009): the checks must send no longer one.
func wsServer(t *testing.T, handle func(c *websocket.Conn)) string {
	t.Helper()
	ln, err := net.Listen("tcp4", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	var up websocket.Upgrader
	hs := &http.Server{Handler: http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		c, err := up.Upgrade(w, r, nil)
		if err != nil {
			return
		}
		defer c.Close()
		c.SetReadLimit(wsMaxMessage)
		handle(c)
	})}
	go func() { _ = hs.Serve(ln) }()
	t.Cleanup(func() { hs.Close() })
	return "ws://" + ln.Addr().String() + "/ws"
}

// wsEcho echoes every binary message as one binary message, after reply
// (if not nil) changed it; with framed set it closes on a message that is
// not whole packets, as a correct peer does.
func wsEcho(framed bool, mt int, reply func(msg []byte)) func(c *websocket.Conn) {
	return func(c *websocket.Conn) {
		for {
			_, msg, err := c.ReadMessage()
			if err != nil {
				return
			}
			if framed && !peer.Packets(msg, nil) {
				return
			}
			if reply != nil {
				reply(msg)
			}
			if err := c.WriteMessage(mt, msg); err != nil {
				return
			}
		}
	}
}

func TestWebSocketEchoCheck(t *testing.T) {
	for _, tc := range []struct {
		name   string
		handle func(c *websocket.Conn)
		want   string // in the check's error; empty: it passes
	}{
		{"correct", wsEcho(true, websocket.BinaryMessage, nil), ""},
		{"corrupting", wsEcho(true, websocket.BinaryMessage, func(msg []byte) {
			if len(msg) > 40 {
				msg[40] ^= 1
			}
		}), "wrong bytes"},
		{"text messages", wsEcho(true, websocket.TextMessage, nil), ErrTextMessage.Error()},
		{"no framing", wsEcho(false, websocket.BinaryMessage, nil), "instead of closing"},
	} {
		t.Run(tc.name, func(t *testing.T) {
			url := wsServer(t, tc.handle)
			err := CheckEchoServer(context.Background(), url)
			switch {
			case tc.want == "" && err != nil:
				t.Fatalf("correct server fails the check: %v", err)
			case tc.want != "" && (err == nil || !strings.Contains(err.Error(), tc.want)):
				t.Fatalf("check = %v, want an error with %q", err, tc.want)
			}
		})
	}
}

func TestWebSocketRunEcho(t *testing.T) {
	url := wsServer(t, wsEcho(true, websocket.BinaryMessage, nil))
	res, err := RunEcho(context.Background(), Options{Target: url, Conns: 4, Inflight: 4, Size: 64, Warmup: 50 * time.Millisecond, Duration: 200 * time.Millisecond})
	if err != nil {
		t.Fatal(err)
	}
	if res.Failed() || res.Packets == 0 || res.P99 <= 0 {
		t.Fatalf("result %+v", res)
	}
}

func TestWebSocketRunBroadcast(t *testing.T) {
	var mu sync.Mutex
	conns := map[*websocket.Conn]bool{}
	url := wsServer(t, func(c *websocket.Conn) {
		mu.Lock()
		conns[c] = true
		mu.Unlock()
		defer func() {
			mu.Lock()
			delete(conns, c)
			mu.Unlock()
		}()
		for {
			_, msg, err := c.ReadMessage()
			if err != nil || !peer.Packets(msg, nil) {
				return
			}
			mu.Lock() // one writer per connection at a time
			for o := range conns {
				_ = o.WriteMessage(websocket.BinaryMessage, msg)
			}
			mu.Unlock()
		}
	})
	ctx := context.Background()
	if err := CheckBroadcastServer(ctx, url); err != nil {
		t.Fatalf("correct server fails the check: %v", err)
	}
	res, err := RunBroadcast(ctx, Options{Target: url, Conns: 10, Rate: 50, Size: 64, Warmup: 50 * time.Millisecond, Duration: 300 * time.Millisecond})
	if err != nil {
		t.Fatal(err)
	}
	if res.Failed() || res.Packets == 0 || res.Sent == 0 || res.P99 <= 0 {
		t.Fatalf("result %+v", res)
	}
}

// A refused handshake is an error that says what the server answered.
func TestWebSocketHandshakeRefused(t *testing.T) {
	ln, err := net.Listen("tcp4", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	hs := &http.Server{Handler: http.NotFoundHandler()}
	go func() { _ = hs.Serve(ln) }()
	defer hs.Close()
	_, err = Dial(context.Background(), "ws://"+ln.Addr().String()+"/ws", 0)
	if err == nil || !strings.Contains(err.Error(), "404") || !errors.Is(err, websocket.ErrBadHandshake) {
		t.Fatalf("dial = %v", err)
	}
}
