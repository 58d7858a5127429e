// Package apptest helps test the example applications: it starts their
// servers and bots on loopback. A plain packet client is testkit's.
package apptest

import (
	"cmp"
	"context"
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
func Serve(t testing.TB, newSession func() servercore.PacketHandler) net.Addr {
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
	return svc.Addr()
}

// Stress runs newBot's bots against target with cfg, filling in what cfg
// leaves zero, and returns the result.
func Stress(t testing.TB, target net.Addr, cfg bot.Config, newBot func(*bot.Run) bot.Driver) *bot.Result {
	t.Helper()
	cfg.Target = target.String()
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
