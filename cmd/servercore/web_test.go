package main

import (
	"bufio"
	"context"
	"encoding/json"
	"fmt"
	"io"
	"net"
	"net/http"
	"regexp"
	"strings"
	"sync"
	"testing"

	"servercore"
	"servercore/examples/mmo/mmopb"
	"servercore/internal/testkit"
)

var (
	wsListeningLine = regexp.MustCompile(`^listening on (ws://127\.0\.0\.1:[0-9]+/mmo) \(backend \w+\)$`)
	webLine         = regexp.MustCompile(`^web client on (http://(127\.0\.0\.1:[0-9]+)/)$`)
)

// serve --app mmo --web: the page is served, told the WebSocket URL serve
// printed, and its origin passes that listener's check where another's
// does not; a player over WebSocket and one over TCP share the game.
func TestServeWeb(t *testing.T) {
	lines, cancel, done := startServe(t, 3, "--app", "mmo", "--listen", "127.0.0.1:0", "--listen", "ws://127.0.0.1:0/mmo", "--web", "127.0.0.1:0")
	tcpAddr := checkListening(t, lines[0])
	ws := wsListeningLine.FindStringSubmatch(lines[1])
	web := webLine.FindStringSubmatch(lines[2])
	if ws == nil || web == nil {
		t.Fatalf("serve printed %q, want a TCP, a ws:// and a web client line", lines)
	}
	wsURL, pageURL, webHost := ws[1], web[1], web[2]

	client := &http.Client{Timeout: testTimeout}
	get := func(path string) string {
		t.Helper()
		res, err := client.Get(pageURL + path)
		if err != nil {
			t.Fatal(err)
		}
		defer res.Body.Close()
		body, err := io.ReadAll(res.Body)
		if err != nil || res.StatusCode != http.StatusOK {
			t.Fatalf("GET %s: %s, %v", path, res.Status, err)
		}
		return string(body)
	}
	if page := get(""); !strings.Contains(page, "<canvas") || !strings.Contains(page, "app.js") {
		t.Errorf("the page lacks its canvas or script:\n%s", page)
	}
	var cfg struct {
		WebSocket string `json:"webSocket"`
		Rooms     int    `json:"rooms"`
	}
	if err := json.Unmarshal([]byte(get("config.json")), &cfg); err != nil {
		t.Fatal(err)
	}
	if cfg.WebSocket != wsURL || cfg.Rooms != 8 {
		t.Errorf("config.json says %+v, want webSocket %s and the 8 default rooms", cfg, wsURL)
	}

	// The upgrade, as a browser on the page and one on another site ask it.
	wsHost := strings.TrimSuffix(strings.TrimPrefix(wsURL, "ws://"), "/mmo")
	for _, c := range []struct {
		origin string
		ok     bool
	}{
		{"http://" + webHost, true},
		{"http://" + strings.Replace(webHost, "127.0.0.1", "localhost", 1), true},
		{"http://evil.example", false},
		{"http://127.0.0.1:1", false},
	} {
		status := upgradeStatus(t, wsHost, "/mmo", c.origin)
		if got := status == http.StatusSwitchingProtocols; got != c.ok {
			t.Errorf("upgrade with Origin %s: status %d, want accepted %v", c.origin, status, c.ok)
		}
	}

	// A player on TCP sees one on WebSocket, a servercore client service.
	tcp := newTestPlayer(t, tcpAddr, "tcp-player")
	tcp.enter(0)
	wsp := newWSPlayer(t, wsURL, "ws-player")
	var spawn mmopb.S_SPAWN
	tcp.expect(mmopb.S_SPAWNID, &spawn)
	if len(spawn.Players) != 1 || spawn.Players[0].GetName() != "ws-player" {
		t.Fatalf("the TCP player saw %v spawn, want ws-player", spawn.Players)
	}
	tcp.send(mmopb.C_CHATID, &mmopb.C_CHAT{Msg: "over tcp"})
	if msg := testkit.Recv(t, wsp.chats, testTimeout, "the chat over WebSocket"); msg != "over tcp" {
		t.Errorf("the WebSocket player heard %q", msg)
	}
	cancel()
	if code := testkit.Recv(t, done, testTimeout, "serve to stop"); code != exitOK {
		t.Errorf("serve exited %d, want 0", code)
	}
}

// upgradeStatus asks host for a WebSocket upgrade of path with origin and
// returns the response's status.
func upgradeStatus(t *testing.T, host, path, origin string) int {
	t.Helper()
	c, err := net.DialTimeout("tcp", host, testTimeout)
	if err != nil {
		t.Fatal(err)
	}
	defer c.Close()
	fmt.Fprintf(c, "GET %s HTTP/1.1\r\nHost: %s\r\nUpgrade: websocket\r\nConnection: Upgrade\r\n"+
		"Sec-WebSocket-Key: dGhlIHNhbXBsZSBub25jZQ==\r\nSec-WebSocket-Version: 13\r\nOrigin: %s\r\n\r\n", path, host, origin)
	res, err := http.ReadResponse(bufio.NewReader(c), nil)
	if err != nil {
		t.Fatalf("upgrade with Origin %s: %v", origin, err)
	}
	res.Body.Close()
	return res.StatusCode
}

// wsPlayer is a game client over WebSocket: a servercore client service.
type wsPlayer struct {
	mmopb.UnimplementedClientHandler
	servercore.BaseHandler
	once  sync.Once
	in    chan struct{}
	chats chan string
}

func (p *wsPlayer) HandleS_LOGIN(s *servercore.Session, m *mmopb.S_LOGIN) error {
	return mmopb.SendC_ENTER_GAME(s, &mmopb.C_ENTER_GAME{RoomId: 0})
}

func (p *wsPlayer) HandleS_ENTER_GAME(*servercore.Session, *mmopb.S_ENTER_GAME) error {
	p.once.Do(func() { close(p.in) })
	return nil
}

func (p *wsPlayer) HandleS_SPAWN(*servercore.Session, *mmopb.S_SPAWN) error { return nil }

func (p *wsPlayer) HandleS_DESPAWN(*servercore.Session, *mmopb.S_DESPAWN) error { return nil }

func (p *wsPlayer) HandleS_CHAT(_ *servercore.Session, m *mmopb.S_CHAT) error {
	p.chats <- m.Msg
	return nil
}

// newWSPlayer connects to url, logs in as name and enters room 0.
func newWSPlayer(t *testing.T, url, name string) *wsPlayer {
	t.Helper()
	p := &wsPlayer{in: make(chan struct{}), chats: make(chan string, 10)}
	svc, err := servercore.NewClientService(url, 0, servercore.Config{
		NewPacketSession: func() servercore.PacketHandler { return mmopb.ClientPacketHandler(p) },
	})
	if err != nil {
		t.Fatal(err)
	}
	ctx, cancel := context.WithTimeout(context.Background(), testTimeout)
	defer cancel()
	if err := svc.Start(ctx); err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() {
		ctx, cancel := context.WithTimeout(context.Background(), testTimeout)
		defer cancel()
		_ = svc.Stop(ctx)
	})
	s, err := svc.Connect(ctx)
	if err != nil {
		t.Fatalf("connect to %s: %v", url, err)
	}
	if err := mmopb.SendC_LOGIN(s, &mmopb.C_LOGIN{Name: name}); err != nil {
		t.Fatal(err)
	}
	testkit.Recv(t, p.in, testTimeout, name+" in room 0")
	return p
}
