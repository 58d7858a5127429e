package web

import (
	"encoding/json"
	"errors"
	"io"
	"net/http"
	"net/http/httptest"
	"strings"
	"testing"
)

// get fetches path from a server of h and returns the response and its body.
func get(t *testing.T, srv *httptest.Server, host, path string) (*http.Response, string) {
	t.Helper()
	req, err := http.NewRequest("GET", srv.URL+path, nil)
	if err != nil {
		t.Fatal(err)
	}
	if host != "" {
		req.Host = host
	}
	res, err := srv.Client().Do(req)
	if err != nil {
		t.Fatalf("GET %s: %v", path, err)
	}
	defer res.Body.Close()
	body, err := io.ReadAll(res.Body)
	if err != nil {
		t.Fatalf("GET %s: read: %v", path, err)
	}
	return res, string(body)
}

// The page, its script and its configuration are served over real HTTP.
func TestHandlerServes(t *testing.T) {
	h, err := Handler(Config{WebSocket: "ws://127.0.0.1:7777/mmo", Rooms: 3})
	if err != nil {
		t.Fatal(err)
	}
	srv := httptest.NewServer(h)
	defer srv.Close()
	for _, c := range []struct {
		path, ctype, has string
		status           int
	}{
		{"/", "text/html", `<script src="app.js">`, 200},
		{"/app.js", "text/javascript", "window.mmo", 200},
		{"/config.json", "application/json", `"rooms":3`, 200},
		{"/favicon.svg", "image/svg+xml", "<svg", 200},
		{"/index.html", "", "", 404}, // the page is "/" only
		{"/web.go", "", "", 404},
		{"/static/app.js", "", "", 404},
	} {
		res, body := get(t, srv, "", c.path)
		switch {
		case res.StatusCode != c.status:
			t.Errorf("GET %s: status %d, want %d", c.path, res.StatusCode, c.status)
		case c.status == 200 && !strings.HasPrefix(res.Header.Get("Content-Type"), c.ctype):
			t.Errorf("GET %s: Content-Type %q, want %s", c.path, res.Header.Get("Content-Type"), c.ctype)
		case c.status == 200 && !strings.Contains(body, c.has):
			t.Errorf("GET %s: body lacks %q", c.path, c.has)
		}
		if res.Header.Get("Content-Security-Policy") == "" || res.Header.Get("X-Content-Type-Options") != "nosniff" {
			t.Errorf("GET %s: security headers missing: %v", c.path, res.Header)
		}
	}
}

// The page is given the game's URL, with the host it was reached at when
// the listener's host is unspecified.
func TestConfigWebSocketURL(t *testing.T) {
	for _, c := range []struct {
		listen, host, want string
	}{
		{"ws://127.0.0.1:7777/mmo", "localhost:8080", "ws://127.0.0.1:7777/mmo"},
		{"ws://0.0.0.0:7777/mmo", "game.example:8080", "ws://game.example:7777/mmo"},
		{"ws://[::]:7777/mmo", "10.1.2.3:8080", "ws://10.1.2.3:7777/mmo"},
		{"wss://:7777/", "[::1]:8443", "wss://[::1]:7777/"},
		{"ws://0.0.0.0:7777/mmo", "portless.example", "ws://portless.example:7777/mmo"},
		{"ws://game.example:7777/x", "other.example", "ws://game.example:7777/x"},
	} {
		h, err := Handler(Config{WebSocket: c.listen, Rooms: 1})
		if err != nil {
			t.Fatalf("%s: %v", c.listen, err)
		}
		srv := httptest.NewServer(h)
		_, body := get(t, srv, c.host, "/config.json")
		srv.Close()
		var got pageConfig
		if err := json.Unmarshal([]byte(body), &got); err != nil {
			t.Fatalf("%s: config.json %q: %v", c.listen, body, err)
		}
		if got.WebSocket != c.want || got.Rooms != 1 {
			t.Errorf("listen %s, Host %s: config %+v, want webSocket %s and 1 room", c.listen, c.host, got, c.want)
		}
	}
}

func TestHandlerRefuses(t *testing.T) {
	for _, c := range []struct {
		cfg  Config
		want error
	}{
		{Config{WebSocket: "http://127.0.0.1:1/", Rooms: 1}, ErrNotWebSocket},
		{Config{WebSocket: "127.0.0.1:1", Rooms: 1}, ErrNotWebSocket},
		{Config{WebSocket: "ws://127.0.0.1:1/", Rooms: 0}, ErrNoRooms},
	} {
		if _, err := Handler(c.cfg); !errors.Is(err, c.want) {
			t.Errorf("Handler(%+v) = %v, want %v", c.cfg, err, c.want)
		}
	}
}
