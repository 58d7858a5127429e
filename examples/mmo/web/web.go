// Package web serves the MMO sample's browser client: one page and its
// script, embedded in the binary, and the page's configuration, the URL of
// the game's WebSocket listener and how many rooms it has.
//
// The script is built from src/ (the client, in TypeScript, and the
// protobuf code protoc-gen-es generates from ../mmopb/mmo.proto) into
// static/app.js by the generator in devtool/, which runs esbuild from Go;
// both the generated code and the bundle are committed, so building the
// server needs no npm. After changing src/ or mmo.proto, run
//
//	cd examples/mmo/web && npm ci && (cd devtool && go run ./webgen)
//
// and commit the result; .ci/webgen.sh fails when they are stale.
package web

import (
	"embed"
	"encoding/json"
	"fmt"
	"io/fs"
	"net"
	"net/http"
	"net/url"
)

//go:embed static
var static embed.FS

// Config is what the page is told about the game.
type Config struct {
	// WebSocket is the ws:// or wss:// URL of the game's WebSocket
	// listener. When its host is unspecified (0.0.0.0, [::] or empty), the
	// page is given the host it was loaded from instead.
	WebSocket string
	// Rooms is how many rooms the game has, numbered from 0.
	Rooms int
}

// pageConfig is the JSON of /config.json.
type pageConfig struct {
	WebSocket string `json:"webSocket"`
	Rooms     int    `json:"rooms"`
}

// Handler serves the page on /, its script on /app.js, its icon on
// /favicon.svg and cfg on /config.json. It fails for a WebSocket URL that
// is not ws:// or wss://.
func Handler(cfg Config) (http.Handler, error) {
	u, err := url.Parse(cfg.WebSocket)
	if err != nil {
		return nil, fmt.Errorf("web: WebSocket URL %q: %w: %w", cfg.WebSocket, ErrNotWebSocket, err)
	}
	if u.Scheme != "ws" && u.Scheme != "wss" {
		return nil, fmt.Errorf("web: WebSocket URL %q: %w", cfg.WebSocket, ErrNotWebSocket)
	}
	if cfg.Rooms < 1 {
		return nil, fmt.Errorf("web: %d rooms: %w", cfg.Rooms, ErrNoRooms)
	}
	files, err := fs.Sub(static, "static")
	if err != nil {
		return nil, fmt.Errorf("web: embedded files: %w", err)
	}
	mux := http.NewServeMux()
	fileServer := http.FileServerFS(files)
	mux.Handle("GET /{$}", fileServer)
	mux.Handle("GET /app.js", fileServer)
	mux.Handle("GET /favicon.svg", fileServer)
	mux.HandleFunc("GET /config.json", func(w http.ResponseWriter, r *http.Request) {
		w.Header().Set("Content-Type", "application/json")
		w.Header().Set("Cache-Control", "no-store")
		_ = json.NewEncoder(w).Encode(pageConfig{WebSocket: wsURL(u, r.Host), Rooms: cfg.Rooms})
	})
	return secure(mux), nil
}

// wsURL is u with an unspecified host replaced by the host of reqHost, the
// request's Host header: the address the browser reached the page at.
func wsURL(u *url.URL, reqHost string) string {
	host := u.Hostname()
	if ip := net.ParseIP(host); host != "" && (ip == nil || !ip.IsUnspecified()) {
		return u.String()
	}
	h, _, err := net.SplitHostPort(reqHost)
	if err != nil {
		h = reqHost // no port in it
	}
	v := *u
	v.Host = net.JoinHostPort(h, u.Port())
	return v.String()
}

// secure sets the headers that keep the page to its own script and lets
// it open WebSockets anywhere (the game's listener is on a port of its own).
func secure(h http.Handler) http.Handler {
	return http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		w.Header().Set("Content-Security-Policy", "default-src 'self'; connect-src 'self' ws: wss:; style-src 'self' 'unsafe-inline'")
		w.Header().Set("X-Content-Type-Options", "nosniff")
		h.ServeHTTP(w, r)
	})
}
