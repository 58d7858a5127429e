package servercore

import (
	"encoding/binary"
	"math/rand/v2"
	"strconv"
	"unicode/utf8"
)

// The WebSocket frame format (RFC 6455 §5.2): a 2- to 14-byte header, then
// the payload, masked by the client with a 4-byte key the header carries.

// wsOpcode is a frame's opcode.
type wsOpcode byte

const (
	wsContinuation wsOpcode = 0x0
	wsText         wsOpcode = 0x1
	wsBinary       wsOpcode = 0x2
	wsClose        wsOpcode = 0x8
	wsPing         wsOpcode = 0x9
	wsPong         wsOpcode = 0xA
)

func (op wsOpcode) control() bool { return op&0x8 != 0 }

// Close status codes (RFC 6455 §7.4.1) the sessions send.
const (
	wsCloseNormal        = 1000
	wsCloseGoingAway     = 1001
	wsCloseProtocol      = 1002
	wsCloseUnsupported   = 1003
	wsCloseNoStatus      = 1005 // never sent: an empty close payload
	wsCloseInvalidData   = 1007
	wsClosePolicy        = 1008
	wsCloseTooBig        = 1009
	wsCloseInternalError = 1011
)

const (
	wsMaxHeader         = 14  // 2 + 8 (64-bit length) + 4 (mask key)
	wsMaxControlPayload = 125 // RFC 6455 §5.5
)

// wsFrameHeader is a parsed frame header.
type wsFrameHeader struct {
	fin    bool
	rsv    byte // the three reserved bits; no extension is negotiated
	op     wsOpcode
	masked bool
	mask   [4]byte
	length int64 // of the payload
	size   int   // of the header
}

// parseFrameHeader parses the frame header at the front of p. It returns
// ok false when p holds only part of it; size then says how many bytes
// the header needs, as far as p tells.
func parseFrameHeader(p []byte) (h wsFrameHeader, ok bool) {
	h.size = 2
	if len(p) < 2 {
		return h, false
	}
	h.fin = p[0]&0x80 != 0
	h.rsv = p[0] & 0x70
	h.op = wsOpcode(p[0] & 0x0f)
	h.masked = p[1]&0x80 != 0
	switch l := p[1] & 0x7f; l {
	case 126:
		h.size += 2
	case 127:
		h.size += 8
	default:
		h.length = int64(l)
	}
	if h.masked {
		h.size += 4
	}
	if len(p) < h.size {
		return h, false
	}
	switch p[1] & 0x7f {
	case 126:
		h.length = int64(binary.BigEndian.Uint16(p[2:]))
	case 127:
		h.length = int64(binary.BigEndian.Uint64(p[2:]) & (1<<63 - 1))
	}
	if h.masked {
		copy(h.mask[:], p[h.size-4:h.size])
	}
	return h, true
}

// appendFrameHeader appends the header of a final frame of op with a
// payload of length bytes, masked with mask if it is not nil.
func appendFrameHeader(dst []byte, op wsOpcode, length int, mask *[4]byte) []byte {
	b1 := byte(0)
	if mask != nil {
		b1 = 0x80
	}
	dst = append(dst, 0x80|byte(op))
	switch {
	case length <= 125:
		dst = append(dst, b1|byte(length))
	case length <= 0xffff:
		dst = append(dst, b1|126, byte(length>>8), byte(length))
	default:
		dst = append(dst, b1|127)
		dst = binary.BigEndian.AppendUint64(dst, uint64(length))
	}
	if mask != nil {
		dst = append(dst, mask[:]...)
	}
	return dst
}

// maskBytes XORs p with mask, starting at offset pos of the masked
// payload, and returns the offset after p. Masking twice unmasks.
func maskBytes(mask [4]byte, pos int, p []byte) int {
	var key [4]byte
	for i := range key {
		key[i] = mask[(pos+i)&3]
	}
	k32 := binary.LittleEndian.Uint32(key[:])
	k64 := uint64(k32)<<32 | uint64(k32)
	i := 0
	for ; i+8 <= len(p); i += 8 {
		binary.LittleEndian.PutUint64(p[i:], binary.LittleEndian.Uint64(p[i:])^k64)
	}
	for ; i < len(p); i++ {
		p[i] ^= key[i&3]
	}
	return pos + len(p)
}

// newMask returns a fresh masking key for a client frame. RFC 6455 asks
// for keys a peer cannot predict; they protect proxies from crafted bytes,
// not the payload, so a fast non-cryptographic source serves.
func newMask() [4]byte {
	var m [4]byte
	binary.LittleEndian.PutUint32(m[:], rand.Uint32())
	return m
}

// closePayload is the payload of a close frame with code and reason, the
// reason cut to fit a control frame.
func closePayload(code int, reason string) []byte {
	if len(reason) > wsMaxControlPayload-2 {
		reason = reason[:wsMaxControlPayload-2]
		for !utf8.ValidString(reason) {
			reason = reason[:len(reason)-1]
		}
	}
	p := binary.BigEndian.AppendUint16(make([]byte, 0, 2+len(reason)), uint16(code))
	return append(p, reason...)
}

// parseClose reads a received close frame's payload: its code (1005 if it
// has none) and reason, or ok false if the payload is malformed or the
// code is one a peer may not send.
func parseClose(p []byte) (code int, reason string, ok bool) {
	switch {
	case len(p) == 0:
		return wsCloseNoStatus, "", true
	case len(p) == 1:
		return 0, "", false
	}
	code = int(binary.BigEndian.Uint16(p))
	reason = string(p[2:])
	return code, reason, validCloseCode(code) && utf8.ValidString(reason)
}

// validCloseCode reports whether a peer may send code (RFC 6455 §7.4).
func validCloseCode(code int) bool {
	switch {
	case code >= 1000 && code <= 1003, code >= 1007 && code <= 1011:
		return true
	case code >= 3000 && code <= 4999:
		return true
	}
	return false
}

// closeText describes a close code and reason for a disconnect cause.
func closeText(code int, reason string) string {
	s := "close " + strconv.Itoa(code)
	if reason != "" {
		s += " " + strconv.Quote(reason)
	}
	return s
}
