package mmo

import (
	"math"
	"strings"
	"testing"

	"google.golang.org/protobuf/proto"

	"servercore"
	"servercore/examples/mmo/mmopb"
)

// The largest S_SPAWN a room sends, a chunk of players with the longest
// names and the widest positions, fits in a packet.
func TestSpawnChunkFits(t *testing.T) {
	var m mmopb.S_SPAWN
	for i := range spawnChunk {
		m.Players = append(m.Players, &mmopb.ObjectInfo{
			ObjectId: math.MaxUint64 - uint64(i),
			Type:     mmopb.ObjectType_OBJECT_TYPE_PLAYER,
			Name:     strings.Repeat("n", MaxName),
			Pos: &mmopb.PosInfo{ObjectId: math.MaxUint64, X: -Bound, Y: Bound, Z: -Bound, Yaw: -3.14159,
				State: mmopb.MoveState_MOVE_STATE_RUN},
		})
	}
	if n := proto.Size(&m) + servercore.HeaderSize; n > servercore.MaxPacketSize {
		t.Fatalf("an S_SPAWN of %d players is %d bytes, above the %d of a packet", spawnChunk, n, servercore.MaxPacketSize)
	}
}
