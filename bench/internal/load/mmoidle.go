package load

import (
	"context"
	"encoding/binary"
	"fmt"
	"io"
	"strconv"
	"time"

	"google.golang.org/protobuf/proto"

	"servercore/bench/internal/mmopeer"
	"servercore/examples/mmo/mmopb"
)

// RunMMOIdle measures memory per idle player, as RunIdle does per idle
// connection: a base of o.Conns/10 players first, then o.Conns more, each
// logged in and in room i mod o.Rooms, then holding still. RSSPerConn is
// the growth over the o.Conns players divided by them. The players read no
// more than their own answers; the spawns of those who come after them wait
// in their sockets.
func RunMMOIdle(ctx context.Context, o Options) (*Result, error) {
	return measureIdle(ctx, o, "mmo-idle", newRunState(), func(i int, c Conn) error { return enterIdle(c, i, o.Rooms) })
}

// enterIdle logs player i in on c and enters it into room i mod rooms,
// reading until the enter is answered.
func enterIdle(c Conn, i, rooms int) error {
	if err := c.SetDeadline(time.Now().Add(10 * time.Second)); err != nil {
		return err
	}
	req := append(mmopeer.Packet(mmopb.C_LOGINID, &mmopb.C_LOGIN{Name: "idle-" + strconv.Itoa(i)}),
		mmopeer.Packet(mmopb.C_ENTER_GAMEID, &mmopb.C_ENTER_GAME{RoomId: uint32(i % max(rooms, 1))})...)
	if _, err := c.Write(req); err != nil {
		return err
	}
	var login mmopb.S_LOGIN
	if err := readMessage(c, mmopb.S_LOGINID, &login); err != nil {
		return err
	}
	var enter mmopb.S_ENTER_GAME
	if err := readMessage(c, mmopb.S_ENTER_GAMEID, &enter); err != nil {
		return err
	}
	if !login.Success || !enter.Success {
		return fmt.Errorf("player %d: login %v, enter %v", i, &login, &enter)
	}
	return c.SetDeadline(time.Time{})
}

// readMessage reads the next packet from r, which must be a packet id that
// decodes into m.
func readMessage(r io.Reader, id uint16, m proto.Message) error {
	var hdr [4]byte
	if _, err := io.ReadFull(r, hdr[:]); err != nil {
		return err
	}
	size, got := int(binary.LittleEndian.Uint16(hdr[:])), binary.LittleEndian.Uint16(hdr[2:])
	if size < len(hdr) {
		return fmt.Errorf("packet of size %d", size)
	}
	payload := make([]byte, size-len(hdr))
	if _, err := io.ReadFull(r, payload); err != nil {
		return err
	}
	if got != id {
		return fmt.Errorf("packet %d where %d was due", got, id)
	}
	return proto.Unmarshal(payload, m)
}
