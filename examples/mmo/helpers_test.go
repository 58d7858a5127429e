package mmo

import (
	"context"
	"errors"
	"net"
	"os"
	"testing"
	"time"

	"google.golang.org/protobuf/proto"

	"servercore"
	"servercore/examples/mmo/mmopb"
	"servercore/internal/testkit"
)

// server is a game served on loopback for one test.
type server struct {
	g    *Game
	svc  *servercore.Service
	addr net.Addr
}

// serve starts a game of cfg on backend, stopped (service, then game) when
// the test ends.
func serve(t *testing.T, backend string, cfg Config) *server {
	t.Helper()
	leaks := testkit.LeakCheck(t)
	g, err := NewGame(cfg)
	if err != nil {
		t.Fatalf("new game: %v", err)
	}
	svc, err := servercore.NewServerService("127.0.0.1:0", servercore.Config{NewPacketSession: g.NewSession, Backend: backend})
	if err != nil {
		t.Fatalf("new server: %v", err)
	}
	if err := svc.Start(context.Background()); err != nil {
		t.Fatalf("start server: %v", err)
	}
	t.Cleanup(func() {
		ctx, cancel := context.WithTimeout(context.Background(), testkit.WaitLong)
		defer cancel()
		if err := svc.Stop(ctx); err != nil {
			t.Errorf("stop server: %v", err)
		}
		if err := g.Close(ctx); err != nil {
			t.Errorf("close game: %v", err)
		}
		leaks()
	})
	return &server{g: g, svc: svc, addr: svc.Addr()}
}

// client is a player over a plain connection, speaking the protocol with
// protobuf alone.
type client struct {
	*testkit.Client
	t  *testing.T
	id uint64
}

func (s *server) dial(t *testing.T) *client {
	return &client{Client: testkit.Dial(t, s.addr), t: t}
}

// send sends m as packet id.
func (c *client) send(id uint16, m proto.Message) {
	c.t.Helper()
	b, err := proto.Marshal(m)
	if err != nil {
		c.t.Fatalf("marshal: %v", err)
	}
	c.Send(id, b)
}

// expect reads the next packet, which must be id, into m.
func (c *client) expect(id uint16, m proto.Message) {
	c.t.Helper()
	got, payload, err := c.ReadPacket(testkit.WaitLong, nil)
	if err != nil {
		c.t.Fatalf("waiting for packet %d: %v", id, err)
	}
	if got != id {
		c.t.Fatalf("got packet %d, want %d", got, id)
	}
	if err := proto.Unmarshal(payload, m); err != nil {
		c.t.Fatalf("packet %d does not decode: %v", id, err)
	}
}

// quiet fails the test if a packet arrives within d.
func (c *client) quiet(d time.Duration) {
	c.t.Helper()
	id, _, err := c.ReadPacket(d, nil)
	if err == nil {
		c.t.Fatalf("got packet %d, want none", id)
	}
	if !errors.Is(err, os.ErrDeadlineExceeded) {
		c.t.Fatalf("want a quiet connection, got %v", err)
	}
}

// login logs in as name and expects success.
func (c *client) login(name string) {
	c.t.Helper()
	c.send(mmopb.C_LOGINID, &mmopb.C_LOGIN{Name: name})
	var r mmopb.S_LOGIN
	c.expect(mmopb.S_LOGINID, &r)
	if !r.Success || r.PlayerId == 0 {
		c.t.Fatalf("login %q: %v", name, &r)
	}
	c.id = r.PlayerId
}

// enter enters room and expects success; the S_SPAWN of the others, if
// any, is left to read.
func (c *client) enter(room uint32) *mmopb.ObjectInfo {
	c.t.Helper()
	c.send(mmopb.C_ENTER_GAMEID, &mmopb.C_ENTER_GAME{RoomId: room})
	var r mmopb.S_ENTER_GAME
	c.expect(mmopb.S_ENTER_GAMEID, &r)
	if !r.Success || r.Player == nil {
		c.t.Fatalf("enter room %d: %v", room, &r)
	}
	return r.Player
}

// expectEnterRefused expects an S_ENTER_GAME failure.
func (c *client) expectEnterRefused() {
	c.t.Helper()
	var r mmopb.S_ENTER_GAME
	c.expect(mmopb.S_ENTER_GAMEID, &r)
	if r.Success {
		c.t.Fatalf("enter succeeded: %v", &r)
	}
}

// spawned reads an S_SPAWN and returns the ids it lists.
func (c *client) spawned() []uint64 {
	c.t.Helper()
	var r mmopb.S_SPAWN
	c.expect(mmopb.S_SPAWNID, &r)
	var ids []uint64
	for _, p := range r.Players {
		ids = append(ids, p.ObjectId)
	}
	return ids
}

// player logs a new client in as name and enters room, reading the S_SPAWN
// of the others the caller says are there.
func (s *server) player(t *testing.T, name string, room uint32, others int) *client {
	t.Helper()
	c := s.dial(t)
	c.login(name)
	c.enter(room)
	if others > 0 {
		if ids := c.spawned(); len(ids) != others {
			t.Fatalf("%s saw %d spawn, want %d", name, len(ids), others)
		}
	}
	return c
}

// waitStats waits until cond holds for the game's stats.
func (s *server) waitStats(t *testing.T, what string, cond func(Stats) bool) {
	t.Helper()
	testkit.WaitFor(t, testkit.WaitShort, what, func() bool { return cond(s.g.Stats()) })
}
