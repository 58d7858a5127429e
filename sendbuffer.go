package servercore

import (
	"fmt"
	"sync"
	"sync/atomic"
)

// A SendBuffer holds bytes to send. It is written once, sealed, and then
// immutable, so one SendBuffer can be sent to many sessions (a broadcast)
// without copying. It is reference counted: the creator holds one reference
// and each Send holds one until its write completes; the buffer returns to
// its pool when the last reference is released.
//
// A SendBuffer that is never released is simply collected by the garbage
// collector; releasing it only lets its memory be reused sooner.
type SendBuffer struct {
	data   []byte // len: sealed size; cap: reserved size
	chunk  *sendChunk
	off    int64 // offset of data in chunk
	refs   atomic.Int32
	sealed bool
	framed bool // bytes of the framing's own (a handshake), written as they are
}

const (
	// sendChunkSize is the size of the chunks small SendBuffers are cut
	// from; it holds the largest packet the wire format allows.
	sendChunkSize = 64 << 10
	// sendChunkMax is the largest buffer cut from a chunk; larger ones get
	// memory of their own.
	sendChunkMax = sendChunkSize / 4
)

// sendChunk is a block of memory that small SendBuffers are cut from, in
// order. It returns to the pool when its allocator has moved on and every
// buffer cut from it was released.
type sendChunk struct {
	mem  []byte
	used atomic.Int64
	refs atomic.Int32
}

// sendAllocator cuts buffers from its current chunk. Allocators live in a
// sync.Pool, so each is used by one goroutine at a time, mostly per CPU.
type sendAllocator struct {
	cur *sendChunk
}

var (
	chunkPool     = sync.Pool{New: func() any { return &sendChunk{mem: make([]byte, sendChunkSize)} }}
	allocatorPool = sync.Pool{New: func() any { return new(sendAllocator) }}
	bufferPool    = sync.Pool{New: func() any { return new(SendBuffer) }}
)

// OpenSendBuffer returns an unsealed SendBuffer with room for size bytes.
// Write into Buffer, then call Seal with the number of bytes written. A
// negative size is a programming error and panics, as do the misuses
// documented on Buffer, Seal, Retain and Release.
func OpenSendBuffer(size int) *SendBuffer {
	if size < 0 {
		panic(fmt.Sprintf("servercore: OpenSendBuffer(%d): negative size", size))
	}
	b := bufferPool.Get().(*SendBuffer)
	b.refs.Store(1)
	if size > sendChunkMax {
		b.data = make([]byte, size)
		return b
	}
	a := allocatorPool.Get().(*sendAllocator)
	a.cut(b, size)
	allocatorPool.Put(a)
	return b
}

func (a *sendAllocator) cut(b *SendBuffer, size int) {
	for {
		c := a.cur
		if c != nil {
			off := c.used.Load()
			if off+int64(size) <= sendChunkSize {
				if !c.used.CompareAndSwap(off, off+int64(size)) {
					continue // a Seal gave back space; look again
				}
				c.refs.Add(1)
				b.chunk, b.off = c, off
				b.data = c.mem[off : off+int64(size) : off+int64(size)]
				return
			}
			c.unref() // the allocator's own reference
		}
		c = chunkPool.Get().(*sendChunk)
		c.used.Store(0)
		c.refs.Store(1)
		a.cur = c
	}
}

func (c *sendChunk) unref() {
	switch n := c.refs.Add(-1); {
	case n == 0:
		chunkPool.Put(c)
	case n < 0:
		panic("servercore: send chunk released twice")
	}
}

// NewPacket returns a sealed SendBuffer holding one packet: a PacketHeader
// with the given id followed by payload. It panics if the packet would be
// above MaxPacketSize, a size the caller can check; Session.SendPacket
// returns ErrPacketTooLarge instead.
func NewPacket(id uint16, payload []byte) *SendBuffer {
	size := HeaderSize + len(payload)
	if size > MaxPacketSize {
		panic(fmt.Sprintf("servercore: NewPacket: %d-byte payload makes a packet above %d bytes", len(payload), MaxPacketSize))
	}
	b := OpenSendBuffer(size)
	w := b.Buffer()
	PacketHeader{Size: uint16(size), ID: id}.Put(w)
	copy(w[HeaderSize:], payload)
	b.Seal(size)
	return b
}

// Buffer returns the writable space of an unsealed SendBuffer.
func (b *SendBuffer) Buffer() []byte {
	if b.sealed {
		panic("servercore: SendBuffer.Buffer after Seal")
	}
	return b.data[:cap(b.data)]
}

// Seal fixes the content to the first n bytes written and makes the buffer
// immutable and ready to send. Unused space goes back to the chunk when no
// other buffer was cut after this one.
func (b *SendBuffer) Seal(n int) {
	if b.sealed {
		panic("servercore: SendBuffer sealed twice")
	}
	if n < 0 || n > cap(b.data) {
		panic(fmt.Sprintf("servercore: SendBuffer.Seal(%d) outside 0..%d", n, cap(b.data)))
	}
	if c := b.chunk; c != nil {
		c.used.CompareAndSwap(b.off+int64(cap(b.data)), b.off+int64(n))
	}
	b.data = b.data[:n:n]
	b.sealed = true
}

// Bytes returns the sealed content. It must not be modified.
func (b *SendBuffer) Bytes() []byte { return b.data }

// Len is the size of the sealed content.
func (b *SendBuffer) Len() int { return len(b.data) }

// Retain adds a reference, for holding the buffer beyond the call that
// received it. Each Retain needs its own Release.
func (b *SendBuffer) Retain() {
	if b.refs.Add(1) <= 1 {
		panic("servercore: SendBuffer retained after release")
	}
}

// Release drops a reference. After the caller's last Release the buffer and
// its bytes must not be used.
func (b *SendBuffer) Release() {
	switch n := b.refs.Add(-1); {
	case n > 0:
		return
	case n < 0:
		panic("servercore: SendBuffer released twice")
	}
	if b.chunk != nil {
		b.chunk.unref()
	}
	*b = SendBuffer{}
	bufferPool.Put(b)
}
