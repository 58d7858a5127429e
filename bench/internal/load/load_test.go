package load

import (
	"context"
	"encoding/binary"
	"io"
	"net"
	"strings"
	"sync"
	"testing"
	"time"
)

func TestParseProc(t *testing.T) {
	stat := []byte("1234 (a (weird) name) S 1 1234 1234 0 -1 4194560 100 0 0 0 250 75 0 0 20 0 3 0 100 1000 10 rest")
	cpu, err := parseStatCPU(stat)
	if err != nil || cpu != 325 {
		t.Fatalf("cpu = %d, %v; want 325", cpu, err)
	}
	rss, err := parseStatusRSS([]byte("Name:\tx\nVmRSS:\t    2048 kB\nThreads: 3\n"))
	if err != nil || rss != 2048*1024 {
		t.Fatalf("rss = %d, %v", rss, err)
	}
	s, err := ReadProc(0)
	if err != nil || s.RSS <= 0 {
		t.Fatalf("ReadProc(self) = %+v, %v", s, err)
	}
}

// echoServer is a minimal correct echo peer; corrupt, if set, changes the
// bytes it sends back.
func echoServer(t *testing.T, corrupt func(pkt []byte)) string {
	t.Helper()
	ln, err := net.Listen("tcp4", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { ln.Close() })
	go func() {
		for {
			c, err := ln.Accept()
			if err != nil {
				return
			}
			go func() {
				defer c.Close()
				hdr := make([]byte, 4)
				for {
					if _, err := io.ReadFull(c, hdr); err != nil {
						return
					}
					size := int(binary.LittleEndian.Uint16(hdr))
					if size < 4 {
						return
					}
					pkt := make([]byte, size)
					copy(pkt, hdr)
					if _, err := io.ReadFull(c, pkt[4:]); err != nil {
						return
					}
					if corrupt != nil {
						corrupt(pkt)
					}
					if _, err := c.Write(pkt); err != nil {
						return
					}
				}
			}()
		}
	}()
	return ln.Addr().String()
}

func TestRunEchoCountsAndVerifies(t *testing.T) {
	ctx := context.Background()
	addr := echoServer(t, nil)
	if err := CheckEchoServer(ctx, addr); err != nil {
		t.Fatalf("correct server fails the check: %v", err)
	}
	res, err := RunEcho(ctx, Options{Target: addr, Conns: 4, Inflight: 4, Size: 64, Warmup: 50 * time.Millisecond, Duration: 200 * time.Millisecond})
	if err != nil {
		t.Fatal(err)
	}
	if res.Failed() || res.Packets == 0 || res.P99 <= 0 {
		t.Fatalf("result %+v", res)
	}
}

func TestRunEchoDetectsCorruption(t *testing.T) {
	ctx := context.Background()
	addr := echoServer(t, func(pkt []byte) {
		if len(pkt) > 40 {
			pkt[40] ^= 1
		}
	})
	if err := CheckEchoServer(ctx, addr); err == nil || !strings.Contains(err.Error(), "wrong bytes") {
		t.Fatalf("check of a corrupting server: %v", err)
	}
	res, err := RunEcho(ctx, Options{Target: addr, Conns: 2, Inflight: 2, Size: 64, Warmup: 20 * time.Millisecond, Duration: 100 * time.Millisecond})
	if err != nil {
		t.Fatal(err)
	}
	if res.Mismatches == 0 || !res.Failed() {
		t.Fatalf("corruption not counted: %+v", res)
	}
}

// broadcastServer is a minimal correct broadcast peer.
func broadcastServer(t *testing.T) string {
	t.Helper()
	ln, err := net.Listen("tcp4", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { ln.Close() })
	var mu sync.Mutex
	conns := map[net.Conn]*sync.Mutex{}
	go func() {
		for {
			c, err := ln.Accept()
			if err != nil {
				return
			}
			mu.Lock()
			conns[c] = new(sync.Mutex)
			mu.Unlock()
			go func() {
				defer func() {
					mu.Lock()
					delete(conns, c)
					mu.Unlock()
					c.Close()
				}()
				hdr := make([]byte, 4)
				for {
					if _, err := io.ReadFull(c, hdr); err != nil {
						return
					}
					size := int(binary.LittleEndian.Uint16(hdr))
					if size < 4 {
						return
					}
					pkt := make([]byte, size)
					copy(pkt, hdr)
					if _, err := io.ReadFull(c, pkt[4:]); err != nil {
						return
					}
					mu.Lock()
					for o, wmu := range conns {
						wmu.Lock()
						_, _ = o.Write(pkt)
						wmu.Unlock()
					}
					mu.Unlock()
				}
			}()
		}
	}()
	return ln.Addr().String()
}

func TestRunBroadcast(t *testing.T) {
	ctx := context.Background()
	addr := broadcastServer(t)
	if err := CheckBroadcastServer(ctx, addr); err != nil {
		t.Fatalf("correct server fails the check: %v", err)
	}
	res, err := RunBroadcast(ctx, Options{Target: addr, Conns: 10, Rate: 50, Size: 64, Warmup: 50 * time.Millisecond, Duration: 300 * time.Millisecond})
	if err != nil {
		t.Fatal(err)
	}
	if res.Failed() || res.Packets == 0 || res.Sent == 0 || res.P99 <= 0 {
		t.Fatalf("result %+v", res)
	}
}

// A server that echoes raw bytes without framing fails the check: it
// answers a malformed header instead of closing the connection.
func TestCheckRejectsRawEcho(t *testing.T) {
	ln, err := net.Listen("tcp4", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	defer ln.Close()
	go func() {
		for {
			c, err := ln.Accept()
			if err != nil {
				return
			}
			go func() { _, _ = io.Copy(c, c); c.Close() }()
		}
	}()
	err = CheckEchoServer(context.Background(), ln.Addr().String())
	if err == nil || !strings.Contains(err.Error(), "instead of closing") {
		t.Fatalf("raw echo passed the check: %v", err)
	}
}
