package main

import (
	"context"
	"os"
	"path/filepath"
	"strings"
	"testing"

	"servercore/internal/testkit"
)

// startWSServer starts serve's app on a ws:// (or wss://) listener and
// returns the URL stress dials.
func startWSServer(t *testing.T, app, scheme string, extra ...string) string {
	t.Helper()
	args := append([]string{"--listen", scheme + "://127.0.0.1:0/play", "--app", app}, extra...)
	o, code := parseServe(args, os.Stdout, os.Stderr)
	if code != keepGoing {
		t.Fatalf("serve flags %q: exit %d", args, code)
	}
	srv, err := startServer(context.Background(), o, nil)
	if err != nil {
		t.Fatalf("start: %v", err)
	}
	t.Cleanup(func() {
		ctx, cancel := context.WithTimeout(context.Background(), testTimeout)
		defer cancel()
		if err := srv.Stop(ctx); err != nil {
			t.Errorf("stop: %v", err)
		}
	})
	return scheme + "://" + srv.Addr().String() + "/play"
}

// TestStressOverWebSocket drives each application over WebSocket sessions
// with stress: every byte checked, as over TCP.
func TestStressOverWebSocket(t *testing.T) {
	for _, tt := range []struct {
		app  string
		args []string
	}{
		{"echo", nil},
		{"broadcast", nil},
		{"mmo", []string{"--rooms", "2"}},
	} {
		t.Run(tt.app, func(t *testing.T) {
			url := startWSServer(t, tt.app, "ws", tt.args...)
			args := append([]string{"--target", url, "--mode", tt.app, "--clients", "6", "--duration", "1s"}, tt.args...)
			code, rep := stressJSON(t, args...)
			if code != exitOK || num(rep, "packets") == 0 || num(rep, "errors") != 0 || num(rep, "mismatches") != 0 || num(rep, "connected") != 6 {
				t.Fatalf("exit %d, report %v", code, rep)
			}
		})
	}
}

// writeCert writes a self-signed certificate for 127.0.0.1 and its key
// into dir.
func writeCert(t *testing.T, dir string) (certFile, keyFile string) {
	t.Helper()
	c := testkit.SelfSigned(t)
	certFile, keyFile = filepath.Join(dir, "cert.pem"), filepath.Join(dir, "key.pem")
	if os.WriteFile(certFile, c.CertPEM, 0o600) != nil || os.WriteFile(keyFile, c.KeyPEM, 0o600) != nil {
		t.Fatal("writing the certificate")
	}
	return certFile, keyFile
}

func TestStressOverTLS(t *testing.T) {
	cert, key := writeCert(t, t.TempDir())
	url := startWSServer(t, "echo", "wss", "--tls-cert", cert, "--tls-key", key)
	code, rep := stressJSON(t, "--target", url, "--tls-ca", cert, "--clients", "4", "--duration", "500ms")
	if code != exitOK || num(rep, "packets") == 0 || num(rep, "errors") != 0 || num(rep, "connected") != 4 {
		t.Fatalf("exit %d, report %v", code, rep)
	}
	// Without the certificate's authority, no client connects.
	code, rep = stressJSON(t, "--target", url, "--clients", "1", "--duration", "200ms")
	if code == exitOK || num(rep, "connected") != 0 {
		t.Fatalf("a client that does not trust the server: exit %d, report %v", code, rep)
	}
}

func TestWebSocketFlags(t *testing.T) {
	cert, key := writeCert(t, t.TempDir())
	tests := []struct {
		args []string
		want string
	}{
		{[]string{"serve", "--app", "echo", "--listen", "wss://127.0.0.1:0/"}, "needs --tls-cert"},
		{[]string{"serve", "--app", "echo", "--listen", "127.0.0.1:0", "--tls-cert", cert, "--tls-key", key}, "needs a wss://"},
		{[]string{"serve", "--app", "echo", "--listen", "wss://127.0.0.1:0/", "--tls-cert", cert}, "go together"},
		{[]string{"serve", "--app", "echo", "--listen", "wss://127.0.0.1:0/", "--tls-cert", key, "--tls-key", key}, "--tls-cert/--tls-key"},
		{[]string{"serve", "--app", "echo", "--listen", "ws://127.0.0.1/"}, "needs a port"},
		{[]string{"stress", "--target", "wss://127.0.0.1:1/", "--tls-ca", key}, "no PEM certificate"},
	}
	for _, tt := range tests {
		code, _, stderr := runCmd(t, tt.args...)
		if code == exitOK || !strings.Contains(stderr, tt.want) {
			t.Errorf("%q: exit %d, stderr %q, want it to say %q", tt.args, code, stderr, tt.want)
		}
	}
}
