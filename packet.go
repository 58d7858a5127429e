package servercore

import (
	"encoding/binary"
	"fmt"
)

const (
	// HeaderSize is the size of a PacketHeader on the wire.
	HeaderSize = 4
	// MaxPacketSize is the largest packet the wire format can describe.
	MaxPacketSize = 65535
)

// PacketHeader starts every packet on the wire: Size is the whole packet
// including the header (4..65535), then ID; both are little-endian uint16.
type PacketHeader struct {
	Size uint16
	ID   uint16
}

// Put writes h to the first HeaderSize bytes of b.
func (h PacketHeader) Put(b []byte) {
	binary.LittleEndian.PutUint16(b, h.Size)
	binary.LittleEndian.PutUint16(b[2:], h.ID)
}

// ReadPacketHeader decodes the header at the front of b, which must hold at
// least HeaderSize bytes.
func ReadPacketHeader(b []byte) PacketHeader {
	return PacketHeader{
		Size: binary.LittleEndian.Uint16(b),
		ID:   binary.LittleEndian.Uint16(b[2:]),
	}
}

// NextPacket cuts the first packet from data. It returns the packet's id, its
// payload (a subslice of data) and the packet's whole size. When data holds
// only part of a packet it returns size 0 and no error; need then tells how
// many bytes the whole packet has (0 while the header itself is incomplete).
// A header whose size is below HeaderSize or above maxSize is an error
// wrapping ErrProtocol.
func NextPacket(data []byte, maxSize int) (id uint16, payload []byte, size, need int, err error) {
	if len(data) < HeaderSize {
		return 0, nil, 0, 0, nil
	}
	h := ReadPacketHeader(data)
	n := int(h.Size)
	if n < HeaderSize {
		return 0, nil, 0, 0, fmt.Errorf("%w: packet size %d is below the %d-byte header", ErrProtocol, n, HeaderSize)
	}
	if n > maxSize {
		return 0, nil, 0, 0, fmt.Errorf("%w: packet size %d is above the %d-byte maximum", ErrProtocol, n, maxSize)
	}
	if len(data) < n {
		return 0, nil, 0, n, nil
	}
	return h.ID, data[HeaderSize:n], n, n, nil
}
