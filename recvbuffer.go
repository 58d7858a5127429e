package servercore

import "sync"

// RecvBuffer holds received bytes between a read cursor and a write cursor.
// Bytes are appended at the write cursor by the network and consumed at the
// read cursor by the handler. It is owned by one session and not safe for
// concurrent use.
type RecvBuffer struct {
	buf  []byte
	r, w int32
	min  int32 // free space wanted before each read: one packet's worth
	max  int32 // capacity limit
	size int32 // starting capacity
}

// recvBufPool keeps the memory of buffers of the default size, which
// sessions on engines with receive memory of their own take and give back
// as partial packets come and go.
var recvBufPool = sync.Pool{New: func() any { return new([DefaultRecvBufferSize]byte) }}

// NewRecvBuffer returns a buffer that starts at size bytes, keeps at least
// minFree bytes free for each read by compacting, and grows to at most maxSize
// bytes. Its memory is allocated on first use.
func NewRecvBuffer(size, minFree, maxSize int) *RecvBuffer {
	b := new(RecvBuffer)
	b.init(size, minFree, maxSize)
	return b
}

func (b *RecvBuffer) init(size, minFree, maxSize int) {
	size = max(size, 1)
	*b = RecvBuffer{min: int32(clamp(minFree, 1, size)), max: int32(max(maxSize, size)), size: int32(size)}
}

// alloc allocates the buffer's memory on first use.
func (b *RecvBuffer) alloc() {
	if b.buf != nil {
		return
	}
	if b.size == DefaultRecvBufferSize {
		b.buf = recvBufPool.Get().(*[DefaultRecvBufferSize]byte)[:]
		return
	}
	b.buf = make([]byte, b.size)
}

// free gives the buffer's memory back; the next use allocates it again.
func (b *RecvBuffer) free() {
	if len(b.buf) == DefaultRecvBufferSize {
		recvBufPool.Put((*[DefaultRecvBufferSize]byte)(b.buf))
	}
	b.buf, b.r, b.w = nil, 0, 0
}

// Len is the number of unread bytes.
func (b *RecvBuffer) Len() int { return int(b.w - b.r) }

// Free is the number of bytes that can be written at the write cursor.
func (b *RecvBuffer) Free() int { return len(b.buf) - int(b.w) }

// Cap is the current capacity.
func (b *RecvBuffer) Cap() int { return len(b.buf) }

// Bytes returns the unread bytes. The slice is valid until the next call
// that moves a cursor.
func (b *RecvBuffer) Bytes() []byte { return b.buf[b.r:b.w] }

// WriteSlice returns the free space at the write cursor.
func (b *RecvBuffer) WriteSlice() []byte {
	b.alloc()
	return b.buf[b.w:]
}

// Write appends p, compacting and growing up to the capacity limit. It
// reports false, changing nothing, if the unread bytes would exceed it.
func (b *RecvBuffer) Write(p []byte) bool {
	n := b.Len() + len(p)
	if n > int(b.max) {
		return false
	}
	if len(p) == 0 {
		return true
	}
	b.alloc()
	if b.Free() < len(p) {
		b.Reserve(max(n, min(2*len(b.buf), int(b.max))))
	}
	b.w += int32(copy(b.buf[b.w:], p))
	return true
}

// OnRead consumes n unread bytes. It reports false, changing nothing, if n
// is negative or more than Len.
func (b *RecvBuffer) OnRead(n int) bool {
	if n < 0 || n > b.Len() {
		return false
	}
	b.r += int32(n)
	return true
}

// OnWrite records that n bytes were written into WriteSlice. It reports
// false, changing nothing, if n is negative or more than Free.
func (b *RecvBuffer) OnWrite(n int) bool {
	if n < 0 || n > b.Free() {
		return false
	}
	b.w += int32(n)
	return true
}

// Clean rewinds the cursors when everything was read, and otherwise moves the
// unread bytes to the front only when the free space is below one packet's
// worth, so that compaction (a memmove) is rare.
func (b *RecvBuffer) Clean() {
	if b.r == b.w {
		b.r, b.w = 0, 0
		return
	}
	if b.Free() < int(b.min) {
		b.compact()
	}
}

// Reserve makes room for n unread bytes in one contiguous run from the read
// cursor, compacting and growing up to the capacity limit. It reports false
// if n exceeds the limit.
func (b *RecvBuffer) Reserve(n int) bool {
	if n > int(b.max) {
		return false
	}
	b.alloc()
	if len(b.buf)-int(b.r) >= n {
		return true
	}
	if n > len(b.buf) {
		b.grow(n)
		return true
	}
	b.compact()
	return true
}

// Grow doubles the capacity, within the limit, and reports whether it could.
func (b *RecvBuffer) Grow() bool {
	b.alloc()
	if len(b.buf) >= int(b.max) {
		return false
	}
	b.grow(min(2*len(b.buf), int(b.max)))
	return true
}

func (b *RecvBuffer) compact() {
	n := copy(b.buf, b.buf[b.r:b.w])
	b.r, b.w = 0, int32(n)
}

func (b *RecvBuffer) grow(size int) {
	nb := make([]byte, size)
	n := copy(nb, b.buf[b.r:b.w])
	if len(b.buf) == DefaultRecvBufferSize {
		recvBufPool.Put((*[DefaultRecvBufferSize]byte)(b.buf))
	}
	b.buf, b.r, b.w = nb, 0, int32(n)
}

func clamp(v, lo, hi int) int { return min(max(v, lo), hi) }
