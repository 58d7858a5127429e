package load

import (
	"context"
	"errors"
	"fmt"
	"io"
	"net"
	"syscall"
	"time"

	"servercore/bench/internal/mmopeer"
	"servercore/examples/mmo/mmopb"
)

// CheckMMOServer checks that the server at target plays the MMO sample's
// game: refusals of what breaks the rules, the end of a connection that
// breaks the protocol, and a short game of 12 bots in 2 rooms (every
// server the harness starts has 2 or more), moving, chatting and churning,
// in which the bots see no rule broken. tick is the server's tick (0: it
// relays every move at once).
func CheckMMOServer(ctx context.Context, target string, tick time.Duration) error {
	if err := checkMMORefusals(ctx, target); err != nil {
		return err
	}
	for _, bad := range []struct {
		what string
		pkt  []byte
	}{
		{"an S_ message", mmopeer.Packet(mmopb.S_LOGINID, &mmopb.S_LOGIN{Success: true})},
		{"an unknown id", mmopeer.Packet(999, &mmopb.C_LEAVE_GAME{})},
		{"an undecodable C_LOGIN", []byte{6, 0, byte(mmopb.C_LOGINID & 0xff), byte(mmopb.C_LOGINID >> 8), 0x0a, 5}}, // a name of 5 bytes, none there
	} {
		if err := checkMMOClosed(ctx, target, bad.pkt); err != nil {
			return fmt.Errorf("after %s: %w", bad.what, err)
		}
	}
	r, err := RunMMO(ctx, Options{Mode: "mmo", Target: target, Conns: 12, Rooms: 2, Rate: 20, ChatRate: 2, Churn: true, Tick: tick,
		Warmup: 500 * time.Millisecond, Duration: time.Second})
	switch {
	case err != nil:
		return err
	case r.Failed():
		return fmt.Errorf("mmo bots: %d violations, %d moves never seen, %d failed connects, %d connection errors: %s",
			r.Violations, r.Lost, r.DialErrors, r.ConnErrors, r.FirstError)
	case r.MovesSeen == 0:
		return errors.New("mmo bots: no move was seen")
	}
	return nil
}

// refusal is one step of checkMMORefusals: a packet and its answer.
type refusal struct {
	what string
	send []byte
	id   uint16 // the answer's: S_LOGIN or S_ENTER_GAME
	ok   bool   // the success the answer must carry
}

// checkMMORefusals checks what the game answers success: false to, on one
// connection: an enter before login, an empty name, a second login, a room
// that does not exist.
func checkMMORefusals(ctx context.Context, target string) error {
	c, err := Dial(ctx, target, 0)
	if err != nil {
		return err
	}
	defer abort(c)
	if err := c.SetDeadline(time.Now().Add(10 * time.Second)); err != nil {
		return err
	}
	for _, s := range []refusal{
		{"an enter before login", mmopeer.Packet(mmopb.C_ENTER_GAMEID, &mmopb.C_ENTER_GAME{}), mmopb.S_ENTER_GAMEID, false},
		{"an empty name", mmopeer.Packet(mmopb.C_LOGINID, &mmopb.C_LOGIN{}), mmopb.S_LOGINID, false},
		{"a good name", mmopeer.Packet(mmopb.C_LOGINID, &mmopb.C_LOGIN{Name: "checker"}), mmopb.S_LOGINID, true},
		{"a second login", mmopeer.Packet(mmopb.C_LOGINID, &mmopb.C_LOGIN{Name: "again"}), mmopb.S_LOGINID, false},
		{"a room that does not exist", mmopeer.Packet(mmopb.C_ENTER_GAMEID, &mmopb.C_ENTER_GAME{RoomId: 1 << 20}), mmopb.S_ENTER_GAMEID, false},
	} {
		if _, err := c.Write(s.send); err != nil {
			return fmt.Errorf("mmo: %s: %w", s.what, err)
		}
		var success bool
		if s.id == mmopb.S_LOGINID {
			var m mmopb.S_LOGIN
			err = readMessage(c, s.id, &m)
			success = m.Success && m.PlayerId != 0
		} else {
			var m mmopb.S_ENTER_GAME
			err = readMessage(c, s.id, &m)
			success = m.Success
		}
		if err != nil {
			return fmt.Errorf("mmo: %s: %w", s.what, err)
		}
		if success != s.ok {
			return fmt.Errorf("mmo: %s answered success %v", s.what, success)
		}
	}
	return nil
}

// checkMMOClosed checks that the server ends the connection that sends pkt.
func checkMMOClosed(ctx context.Context, target string, pkt []byte) error {
	c, err := Dial(ctx, target, 0)
	if err != nil {
		return err
	}
	defer abort(c)
	if err := c.SetDeadline(time.Now().Add(10 * time.Second)); err != nil {
		return err
	}
	if _, err := c.Write(pkt); err != nil {
		return err
	}
	var b [64]byte
	n, err := c.Read(b[:])
	var ne net.Error
	switch {
	case errors.Is(err, io.EOF) || errors.Is(err, net.ErrClosed) || errors.Is(err, syscall.ECONNRESET):
		return nil
	case errors.As(err, &ne) && ne.Timeout():
		return errors.New("the connection stayed open")
	case err != nil:
		return err
	}
	return fmt.Errorf("got %d bytes, not the end of the connection", n)
}
