// Package apptest helps test the example applications: it starts their
// servers and bots on loopback and reads and writes raw packets.
package apptest

import (
	"cmp"
	"context"
	"encoding/binary"
	"io"
	"net"
	"testing"
	"time"

	"servercore"
	"servercore/internal/bot"
)

// Timeout bounds every wait of a test.
const Timeout = 10 * time.Second

// Serve starts a server of newSession's sessions on a free loopback port,
// stopped when the test ends, and returns its address.
func Serve(t testing.TB, newSession func() servercore.PacketHandler) string {
	t.Helper()
	svc, err := servercore.NewServerService("127.0.0.1:0", servercore.Config{NewPacketSession: newSession})
	if err != nil {
		t.Fatalf("new server: %v", err)
	}
	if err := svc.Start(context.Background()); err != nil {
		t.Fatalf("start server: %v", err)
	}
	t.Cleanup(func() {
		ctx, cancel := context.WithTimeout(context.Background(), Timeout)
		defer cancel()
		if err := svc.Stop(ctx); err != nil {
			t.Errorf("stop server: %v", err)
		}
	})
	return svc.Addr().String()
}

// Dial connects a plain TCP client to addr, closed when the test ends;
// its reads and writes time out after Timeout.
func Dial(t testing.TB, addr string) net.Conn {
	t.Helper()
	c, err := net.Dial("tcp", addr)
	if err != nil {
		t.Fatalf("dial: %v", err)
	}
	t.Cleanup(func() { c.Close() })
	if err := c.SetDeadline(time.Now().Add(Timeout)); err != nil {
		t.Fatalf("set deadline: %v", err)
	}
	return c
}

// Packet is a whole packet of id with payload.
func Packet(id uint16, payload []byte) []byte {
	p := binary.LittleEndian.AppendUint16(nil, uint16(servercore.HeaderSize+len(payload)))
	p = binary.LittleEndian.AppendUint16(p, id)
	return append(p, payload...)
}

// ReadPacket reads one whole packet from c.
func ReadPacket(t testing.TB, c net.Conn) []byte {
	t.Helper()
	hdr := make([]byte, servercore.HeaderSize)
	if _, err := io.ReadFull(c, hdr); err != nil {
		t.Fatalf("read header: %v", err)
	}
	p := make([]byte, servercore.ReadPacketHeader(hdr).Size)
	copy(p, hdr)
	if _, err := io.ReadFull(c, p[servercore.HeaderSize:]); err != nil {
		t.Fatalf("read payload: %v", err)
	}
	return p
}

// Stress runs newBot's bots against target with cfg, filling in what cfg
// leaves zero, and returns the result.
func Stress(t testing.TB, target string, cfg bot.Config, newBot func(*bot.Run) bot.Driver) *bot.Result {
	t.Helper()
	cfg.Target = target
	cfg.Backend = cmp.Or(cfg.Backend, "auto")
	cfg.Duration = cmp.Or(cfg.Duration, 300*time.Millisecond)
	cfg.Size = cmp.Or(cfg.Size, 64)
	cfg.Inflight = cmp.Or(cfg.Inflight, 1)
	cfg.Rate = cmp.Or(cfg.Rate, 50)
	cfg.Drain = cmp.Or(cfg.Drain, time.Second)
	cfg.ConnectTimeout = cmp.Or(cfg.ConnectTimeout, Timeout)
	ctx, cancel := context.WithTimeout(context.Background(), 3*Timeout)
	defer cancel()
	res, err := bot.Stress(ctx, cfg, newBot, nil)
	if err != nil {
		t.Fatalf("stress: %v", err)
	}
	return res
}
