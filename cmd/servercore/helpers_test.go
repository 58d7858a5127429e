package main

import (
	"bytes"
	"context"
	"errors"
	"net"
	"sync"
	"testing"
	"time"

	"servercore"
	"servercore/internal/testkit"
)

// testTimeout bounds every command a test runs.
const testTimeout = 30 * time.Second

// runCmd runs a command line in-process and returns its exit code and output.
func runCmd(t *testing.T, args ...string) (code int, stdout, stderr string) {
	t.Helper()
	ctx, cancel := context.WithTimeout(context.Background(), testTimeout)
	defer cancel()
	var out, errOut bytes.Buffer
	code = run(ctx, args, &out, &errOut)
	return code, out.String(), errOut.String()
}

// startTestServer starts an in-process server running app on a free
// loopback port, stopped when the test ends, and returns its address.
func startTestServer(t *testing.T, app string) string {
	t.Helper()
	svc, err := startServer(context.Background(), serveOptions{listen: "127.0.0.1:0", app: app, backend: "auto"}, nil)
	if err != nil {
		t.Fatalf("start %s server: %v", app, err)
	}
	t.Cleanup(func() {
		ctx, cancel := context.WithTimeout(context.Background(), testTimeout)
		defer cancel()
		if err := svc.Stop(ctx); err != nil {
			t.Errorf("stop %s server: %v", app, err)
		}
	})
	return svc.Addr().String()
}

// startFaultyEcho starts a packet echo server on plain net that passes each
// packet through mangle first: n counts the connection's packets from 0,
// and a nil result drops the packet. It returns the server's address.
func startFaultyEcho(t *testing.T, mangle func(n int, pkt []byte) []byte) string {
	t.Helper()
	ln, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		t.Fatalf("listen: %v", err)
	}
	var wg sync.WaitGroup
	var mu sync.Mutex
	var conns []net.Conn
	wg.Add(1)
	go func() {
		defer wg.Done()
		for {
			c, err := ln.Accept()
			if err != nil {
				return
			}
			mu.Lock()
			conns = append(conns, c)
			mu.Unlock()
			wg.Add(1)
			go func() {
				defer wg.Done()
				faultyEcho(c, mangle)
			}()
		}
	}()
	t.Cleanup(func() {
		ln.Close()
		mu.Lock()
		for _, c := range conns {
			c.Close()
		}
		mu.Unlock()
		wg.Wait()
	})
	return ln.Addr().String()
}

func faultyEcho(c net.Conn, mangle func(int, []byte) []byte) {
	defer c.Close()
	buf := make([]byte, servercore.MaxPacketSize)
	var pkt []byte
	for n := 0; ; n++ {
		id, payload, err := testkit.ReadPacket(c, buf)
		if err != nil {
			return
		}
		pkt = testkit.AppendPacket(pkt[:0], id, payload)
		if pkt := mangle(n, pkt); pkt != nil {
			if _, err := c.Write(pkt); err != nil && !errors.Is(err, net.ErrClosed) {
				return
			}
		}
	}
}
