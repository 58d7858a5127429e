package main

import (
	"context"
	"crypto/ecdsa"
	"crypto/elliptic"
	"crypto/rand"
	"crypto/tls"
	"crypto/x509"
	"crypto/x509/pkix"
	"encoding/pem"
	"math/big"
	"net"
	"os"
	"path/filepath"
	"regexp"
	"slices"
	"strings"
	"testing"
	"time"

	"servercore"
	"servercore/internal/testkit"
)

var wssListeningLine = regexp.MustCompile(`^listening on (wss://127\.0\.0\.1:[0-9]+/echo) \(backend std\)$`)

// certFiles writes a self-signed certificate for 127.0.0.1 and its key as
// PEM files and returns their paths and a pool that trusts the certificate.
func certFiles(t *testing.T) (certFile, keyFile string, pool *x509.CertPool) {
	t.Helper()
	key, err := ecdsa.GenerateKey(elliptic.P256(), rand.Reader)
	if err != nil {
		t.Fatal(err)
	}
	tmpl := &x509.Certificate{
		SerialNumber: big.NewInt(1), Subject: pkix.Name{CommonName: "serve test"},
		NotBefore: time.Now().Add(-time.Hour), NotAfter: time.Now().Add(time.Hour),
		IPAddresses: []net.IP{net.IPv4(127, 0, 0, 1)}, KeyUsage: x509.KeyUsageDigitalSignature,
		ExtKeyUsage: []x509.ExtKeyUsage{x509.ExtKeyUsageServerAuth},
	}
	der, err := x509.CreateCertificate(rand.Reader, tmpl, tmpl, &key.PublicKey, key)
	if err != nil {
		t.Fatal(err)
	}
	keyDER, err := x509.MarshalECPrivateKey(key)
	if err != nil {
		t.Fatal(err)
	}
	dir := t.TempDir()
	certFile, keyFile = filepath.Join(dir, "cert.pem"), filepath.Join(dir, "key.pem")
	if err := os.WriteFile(certFile, pem.EncodeToMemory(&pem.Block{Type: "CERTIFICATE", Bytes: der}), 0o600); err != nil {
		t.Fatal(err)
	}
	if err := os.WriteFile(keyFile, pem.EncodeToMemory(&pem.Block{Type: "EC PRIVATE KEY", Bytes: keyDER}), 0o600); err != nil {
		t.Fatal(err)
	}
	cert, err := x509.ParseCertificate(der)
	if err != nil {
		t.Fatal(err)
	}
	pool = x509.NewCertPool()
	pool.AddCert(cert)
	return certFile, keyFile, pool
}

// echoClient hands each packet it receives to got.
type echoClient struct {
	servercore.BaseHandler
	got chan string
}

func (c *echoClient) OnRecvPacket(_ *servercore.Session, _ uint16, payload []byte) {
	c.got <- string(payload)
}

// serve --listen wss:// with --tls-cert and --tls-key: a TLS WebSocket
// listener beside a TCP one, on the std engine, that a client trusting the
// certificate talks to.
func TestServeSecureWebSocket(t *testing.T) {
	certFile, keyFile, pool := certFiles(t)
	lines, cancel, done := startServe(t, 2, "--app", "echo", "--listen", "127.0.0.1:0", "--listen", "wss://127.0.0.1:0/echo",
		"--tls-cert", certFile, "--tls-key", keyFile)
	checkListening(t, lines[0])
	m := wssListeningLine.FindStringSubmatch(lines[1])
	if m == nil {
		t.Fatalf("serve printed %q, want \"listening on wss://127.0.0.1:PORT/echo (backend std)\"", lines[1])
	}
	c := &echoClient{got: make(chan string, 1)}
	svc, err := servercore.NewClientService(m[1], 0, servercore.Config{
		NewPacketSession: func() servercore.PacketHandler { return c },
		TLS:              &tls.Config{RootCAs: pool},
	})
	if err != nil {
		t.Fatal(err)
	}
	ctx, stop := context.WithTimeout(context.Background(), testTimeout)
	defer stop()
	if err := svc.Start(ctx); err != nil {
		t.Fatal(err)
	}
	defer svc.Stop(ctx) //nolint:errcheck // the test is over
	s, err := svc.Connect(ctx)
	if err != nil {
		t.Fatalf("connect to %s: %v", m[1], err)
	}
	if err := s.SendPacket(7, []byte("over tls")); err != nil {
		t.Fatal(err)
	}
	if got := testkit.Recv(t, c.got, testTimeout, "the echo over wss"); got != "over tls" {
		t.Errorf("echo %q, want \"over tls\"", got)
	}
	cancel()
	if code := testkit.Recv(t, done, testTimeout, "serve to stop"); code != exitOK {
		t.Errorf("serve exited %d, want 0", code)
	}
}

func TestServeTLSFlags(t *testing.T) {
	certFile, keyFile, _ := certFiles(t)
	for _, c := range []struct {
		args []string
		code int
		want string
	}{
		{[]string{"--listen", "wss://127.0.0.1:0/echo"}, exitUsage, "needs --tls-cert"},
		{[]string{"--listen", "wss://127.0.0.1:0/echo", "--tls-cert", certFile}, exitUsage, "go together"},
		{[]string{"--listen", "wss://127.0.0.1:0/echo", "--tls-cert", keyFile, "--tls-key", keyFile}, exitFailed, "TLS certificate"},
		{[]string{"--listen", "wss://127.0.0.1:0/echo", "--tls-cert", certFile, "--tls-key", keyFile, "--backend", "uring"}, exitFailed, "std engine"},
	} {
		if slices.Contains(c.args, "uring") && testkit.Probe("uring") != nil {
			continue // no io_uring here: that, not TLS, would fail serve
		}
		code, _, stderr := runCmd(t, append([]string{"serve", "--app", "echo"}, c.args...)...)
		if code != c.code || !strings.Contains(stderr, c.want) {
			t.Errorf("%v: exit %d, stderr %q; want exit %d mentioning %q", c.args, code, stderr, c.code, c.want)
		}
	}
}
