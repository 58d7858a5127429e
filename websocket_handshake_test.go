package servercore

import (
	"strings"
	"testing"
)

func TestAcceptKey(t *testing.T) {
	// The example of RFC 6455 §1.3.
	if got := acceptKey("dGhlIHNhbXBsZSBub25jZQ=="); got != "s3pPLMBiTxaQ9kYGzzhZRbK+xOo=" {
		t.Errorf("acceptKey = %q", got)
	}
}

func TestOriginAllowed(t *testing.T) {
	tests := []struct {
		origin, host string
		allowed      []string
		want         bool
	}{
		{"http://game.example:8080", "game.example:8080", nil, true},
		{"http://GAME.example:8080", "game.example:8080", nil, true},
		{"http://game.example:8081", "game.example:8080", nil, false},
		{"http://evil.example:8080", "game.example:8080", nil, false},
		{"http://game.example", "game.example", nil, true},
		{"https://game.example", "game.example:443", nil, true},
		{"http://[::1]:9000", "[::1]:9000", nil, true},
		{"null", "game.example", nil, false},
		{"http://web.example:3000", "game.example:8080", []string{"web.example"}, true},
		{"http://web.example:3000", "game.example:8080", []string{"web.example:3000"}, true},
		{"http://web.example:3001", "game.example:8080", []string{"web.example:3000"}, false},
		{"http://any.example", "game.example:8080", []string{"*"}, true},
		{"http://game.example:8080", "game.example:8080", []string{"web.example"}, false},
	}
	for _, tt := range tests {
		if got := originAllowed(tt.origin, tt.host, tt.allowed); got != tt.want {
			t.Errorf("originAllowed(%q, %q, %q) = %v, want %v", tt.origin, tt.host, tt.allowed, got, tt.want)
		}
	}
}

func TestAcceptUpgrade(t *testing.T) {
	const good = "GET /game HTTP/1.1\r\nHost: h:1\r\nUpgrade: websocket\r\nConnection: keep-alive, Upgrade\r\nSec-WebSocket-Key: dGhlIHNhbXBsZSBub25jZQ==\r\nSec-WebSocket-Version: 13\r\n\r\n"
	tests := []struct {
		name   string
		req    string
		status int
	}{
		{"good", good, 0},
		{"a query is ignored", strings.Replace(good, "/game", "/game?room=1", 1), 0},
		{"other path", strings.Replace(good, "/game", "/chat", 1), 404},
		{"POST", strings.Replace(good, "GET", "POST", 1), 405},
		{"HTTP/1.0", strings.Replace(good, "HTTP/1.1", "HTTP/1.0", 1), 400},
		{"not a request line", "hello\r\n\r\n", 400},
		{"no Host", strings.Replace(good, "Host: h:1\r\n", "", 1), 400},
		{"no Upgrade", strings.Replace(good, "Upgrade: websocket\r\n", "", 1), 426},
		{"no Connection: Upgrade", strings.Replace(good, "keep-alive, Upgrade", "keep-alive", 1), 400},
		{"version 8", strings.Replace(good, "Version: 13", "Version: 8", 1), 426},
		{"short key", strings.Replace(good, "dGhlIHNhbXBsZSBub25jZQ==", "c2hvcnQ=", 1), 400},
		{"foreign origin", strings.Replace(good, "\r\n\r\n", "\r\nOrigin: http://evil.example\r\n\r\n", 1), 403},
		{"same origin", strings.Replace(good, "\r\n\r\n", "\r\nOrigin: http://h:1\r\n\r\n", 1), 0},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			key, r := acceptUpgrade([]byte(tt.req), "/game", nil)
			switch {
			case tt.status == 0 && r != nil:
				t.Fatalf("refused: %v", r)
			case tt.status == 0 && key != "dGhlIHNhbXBsZSBub25jZQ==":
				t.Fatalf("key %q", key)
			case tt.status != 0 && (r == nil || r.status != tt.status):
				t.Fatalf("got %v, want status %d", r, tt.status)
			case r != nil && !strings.HasPrefix(string(r.response()), "HTTP/1.1 "+strings.Fields(r.Error())[4]):
				t.Fatalf("response %q does not carry the status", r.response())
			}
		})
	}
}

func TestCheckUpgradeResponse(t *testing.T) {
	const key = "dGhlIHNhbXBsZSBub25jZQ=="
	good := string(upgradeResponse(key))
	tests := []struct {
		name, resp string
		ok         bool
	}{
		{"good", good, true},
		{"refused", "HTTP/1.1 404 Not Found\r\nContent-Length: 0\r\n\r\n", false},
		{"wrong accept", strings.Replace(good, acceptKey(key), acceptKey("other"), 1), false},
		{"no upgrade", strings.Replace(good, "Upgrade: websocket\r\n", "", 1), false},
		{"an extension not offered", strings.Replace(good, "\r\n\r\n", "\r\nSec-WebSocket-Extensions: permessage-deflate\r\n\r\n", 1), false},
	}
	for _, tt := range tests {
		if err := checkUpgradeResponse([]byte(tt.resp), key); (err == nil) != tt.ok {
			t.Errorf("%s: err %v, want ok %v", tt.name, err, tt.ok)
		}
	}
}
