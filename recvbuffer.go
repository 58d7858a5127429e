package servercore

import "sync"

// recvBuffer holds received bytes between a read cursor and a write cursor.
// Bytes are appended at the write cursor by the network and consumed at the
// read cursor by the handler. It is owned by one session and not safe for
// concurrent use.
type recvBuffer struct {
	recvBuf
	lim recvLimits
}

// recvBuf is a recvBuffer without its limits: what each session holds,
// with the limits kept once in its service.
type recvBuf struct {
	buf  []byte
	r, w int32
}

// recvLimits are the sizes a receive buffer works within.
type recvLimits struct {
	min  int32 // free space wanted before each read: one packet's worth
	max  int32 // capacity limit
	size int32 // starting capacity
}

func newRecvLimits(size, minFree, maxSize int) recvLimits {
	size = max(size, 1)
	return recvLimits{min: int32(clamp(minFree, 1, size)), max: int32(max(maxSize, size)), size: int32(size)}
}

// recvBufPool keeps sessions' receive buffers of the default size: on
// engines with receive memory of their own, sessions take one and give it
// back as partial packets come and go.
var recvBufPool = sync.Pool{New: func() any { return &recvBuf{buf: make([]byte, DefaultRecvBufferSize)} }}

// newRecvBuf returns an empty buffer of lim's starting size, its memory
// allocated.
func newRecvBuf(lim *recvLimits) *recvBuf {
	if lim.size == DefaultRecvBufferSize {
		return recvBufPool.Get().(*recvBuf)
	}
	return &recvBuf{buf: make([]byte, lim.size)}
}

// release gives b back to the pool if it still has the default size; b is
// not used again.
func (b *recvBuf) release() {
	if len(b.buf) == DefaultRecvBufferSize {
		b.r, b.w = 0, 0
		recvBufPool.Put(b)
	}
}

// newRecvBuffer returns a buffer that starts at size bytes, keeps at least
// minFree bytes free for each read by compacting, and grows to at most maxSize
// bytes.
func newRecvBuffer(size, minFree, maxSize int) *recvBuffer {
	lim := newRecvLimits(size, minFree, maxSize)
	return &recvBuffer{recvBuf: recvBuf{buf: make([]byte, lim.size)}, lim: lim}
}

// WriteSlice returns the free space at the write cursor.
func (b *recvBuffer) WriteSlice() []byte { return b.writeSlice() }

// Write appends p, compacting and growing up to the capacity limit. It
// reports false, changing nothing, if the unread bytes would exceed it.
func (b *recvBuffer) Write(p []byte) bool { return b.write(p, &b.lim) }

// Clean rewinds the cursors when everything was read, and otherwise moves the
// unread bytes to the front only when the free space is below one packet's
// worth, so that compaction (a memmove) is rare.
func (b *recvBuffer) Clean() { b.clean(&b.lim) }

// Reserve makes room for n unread bytes in one contiguous run from the read
// cursor, compacting and growing up to the capacity limit. It reports false
// if n exceeds the limit.
func (b *recvBuffer) Reserve(n int) bool { return b.reserve(n, &b.lim) }

// Grow doubles the capacity, within the limit, and reports whether it could.
func (b *recvBuffer) Grow() bool { return b.grow(&b.lim) }

// Len is the number of unread bytes.
func (b *recvBuf) Len() int { return int(b.w - b.r) }

// Free is the number of bytes that can be written at the write cursor.
func (b *recvBuf) Free() int { return len(b.buf) - int(b.w) }

// Cap is the current capacity.
func (b *recvBuf) Cap() int { return len(b.buf) }

// Bytes returns the unread bytes. The slice is valid until the next call
// that moves a cursor.
func (b *recvBuf) Bytes() []byte { return b.buf[b.r:b.w] }

// OnRead consumes n unread bytes. It reports false, changing nothing, if n
// is negative or more than Len.
func (b *recvBuf) OnRead(n int) bool {
	if n < 0 || n > b.Len() {
		return false
	}
	b.r += int32(n)
	return true
}

// OnWrite records that n bytes were written into WriteSlice. It reports
// false, changing nothing, if n is negative or more than Free.
func (b *recvBuf) OnWrite(n int) bool {
	if n < 0 || n > b.Free() {
		return false
	}
	b.w += int32(n)
	return true
}

func (b *recvBuf) writeSlice() []byte { return b.buf[b.w:] }

func (b *recvBuf) write(p []byte, lim *recvLimits) bool {
	n := b.Len() + len(p)
	if n > int(lim.max) {
		return false
	}
	if len(p) == 0 {
		return true
	}
	if b.Free() < len(p) {
		b.reserve(max(n, min(2*len(b.buf), int(lim.max))), lim)
	}
	b.w += int32(copy(b.buf[b.w:], p))
	return true
}

func (b *recvBuf) clean(lim *recvLimits) {
	if b.r == b.w {
		b.r, b.w = 0, 0
		return
	}
	if b.Free() < int(lim.min) {
		b.compact()
	}
}

func (b *recvBuf) reserve(n int, lim *recvLimits) bool {
	if n > int(lim.max) {
		return false
	}
	if len(b.buf)-int(b.r) >= n {
		return true
	}
	if n > len(b.buf) {
		b.resize(n)
		return true
	}
	b.compact()
	return true
}

func (b *recvBuf) grow(lim *recvLimits) bool {
	if len(b.buf) >= int(lim.max) {
		return false
	}
	b.resize(min(2*len(b.buf), int(lim.max)))
	return true
}

func (b *recvBuf) compact() {
	n := copy(b.buf, b.buf[b.r:b.w])
	b.r, b.w = 0, int32(n)
}

func (b *recvBuf) resize(size int) {
	nb := make([]byte, size)
	n := copy(nb, b.buf[b.r:b.w])
	b.buf, b.r, b.w = nb, 0, int32(n)
}

func clamp(v, lo, hi int) int { return min(max(v, lo), hi) }
