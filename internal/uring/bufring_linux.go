package uring

import (
	"errors"
	"fmt"
	"slices"
	"sync/atomic"
	"unsafe"

	"golang.org/x/sys/unix"
)

// bufEntry is struct io_uring_buf. The ring's 16-bit tail overlays the resv
// field of entry 0.
type bufEntry struct {
	addr uint64
	len  uint32
	bid  uint16
	resv uint16
}

// bufReg is struct io_uring_buf_reg, the argument of
// IORING_(UN)REGISTER_PBUF_RING.
type bufReg struct {
	ringAddr    uint64
	ringEntries uint32
	bgid        uint16
	flags       uint16
	resv        [3]uint64
}

var (
	_ [16]byte = [unsafe.Sizeof(bufEntry{})]byte{}
	_ [40]byte = [unsafe.Sizeof(bufReg{})]byte{}
)

// bufTailWord is the offset of the aligned 32-bit word holding the tail,
// and bufTailOff the tail's offset inside it.
const (
	bufTailWord = 12
	bufTailOff  = 2
)

// BufRing is a provided-buffer ring (IORING_REGISTER_PBUF_RING): a pool of
// equal buffers from which the kernel takes one for each completion of a
// receive with IOSQE_BUFFER_SELECT in its group. The ring and the pool are
// mapped outside the Go heap, and a buffer's memory is touched only once it
// has been provided, so a pool can be mapped for the most traffic it may
// meet and provided as the traffic comes. Use a BufRing from the goroutine
// that uses its Ring.
type BufRing struct {
	ring     *Ring
	group    uint16
	mask     uint16
	tail     uint16 // local tail; Publish makes it the kernel's
	size     int
	provided int    // buffers 0 to provided-1 have been handed out
	mem      []byte // the ring of bufEntry
	pool     []byte // count*size bytes of buffers
	entries  []bufEntry
}

// NewBufRing registers a buffer group with room for count buffers of size
// bytes each and hands the first provide of them to the kernel (Provide
// hands more). count must be a power of two, at most 32768; buffer ids are
// 0 to count-1.
func (r *Ring) NewBufRing(group uint16, count, size, provide int) (*BufRing, error) {
	if count <= 0 || count > 1<<15 || count&(count-1) != 0 || size <= 0 || size > 1<<31-1 || provide < 0 || provide > count {
		return nil, fmt.Errorf("uring: NewBufRing(%d buffers of %d bytes, %d provided): count must be a power of two up to 32768, size positive, provided at most count", count, size, provide)
	}
	const prot = unix.PROT_READ | unix.PROT_WRITE
	const flags = unix.MAP_PRIVATE | unix.MAP_ANONYMOUS
	mem, err := unix.Mmap(-1, 0, count*int(unsafe.Sizeof(bufEntry{})), prot, flags)
	if err != nil {
		return nil, fmt.Errorf("uring: mmap buffer ring: %w", err)
	}
	pool, err := unix.Mmap(-1, 0, count*size, prot, flags)
	if err != nil {
		unix.Munmap(mem)
		return nil, fmt.Errorf("uring: mmap buffer pool: %w", err)
	}
	reg := bufReg{
		ringAddr:    uint64(bufAddr(mem)),
		ringEntries: uint32(count),
		bgid:        group,
	}
	if _, err := r.register(IORING_REGISTER_PBUF_RING, unsafe.Pointer(&reg), 1); err != nil {
		unix.Munmap(pool)
		unix.Munmap(mem)
		return nil, fmt.Errorf("uring: buffer group %d: %w", group, err)
	}
	b := &BufRing{
		ring:    r,
		group:   group,
		mask:    uint16(count - 1),
		size:    size,
		mem:     mem,
		pool:    pool,
		entries: unsafe.Slice((*bufEntry)(unsafe.Pointer(&mem[0])), count),
	}
	b.Provide(provide)
	r.bufRings = append(r.bufRings, b)
	return b, nil
}

// Provide hands up to n buffers the kernel never had to it, and returns
// how many it handed (fewer once the pool is all provided).
func (b *BufRing) Provide(n int) int {
	n = min(n, len(b.entries)-b.provided)
	for range n {
		b.Recycle(uint16(b.provided))
		b.provided++
	}
	b.Publish()
	return n
}

// Provided returns how many buffers have been handed to the kernel.
func (b *BufRing) Provided() int { return b.provided }

// Group returns the buffer group id, for PrepRecvMultishot.
func (b *BufRing) Group() uint16 { return b.group }

// Size returns the size of each buffer.
func (b *BufRing) Size() int { return b.size }

// Buf returns the whole buffer id; a completion's data is Buf(id)[:Res].
// The buffer is the caller's until it is recycled.
func (b *BufRing) Buf(id uint16) []byte {
	off := int(id) * b.size
	return b.pool[off : off+b.size : off+b.size]
}

// Recycle queues buffer id for the kernel again. The kernel sees it after
// the next Publish. Each id must be in the ring at most once.
func (b *BufRing) Recycle(id uint16) {
	e := &b.entries[b.tail&b.mask]
	e.addr = uint64(bufAddr(b.Buf(id)))
	e.len = uint32(b.size)
	e.bid = id
	b.tail++
}

// Publish hands the recycled buffers to the kernel with a store-release of
// the ring's tail. Go has no 16-bit atomic store, so it stores the aligned
// 32-bit word holding the tail, with the other half (entry 0's bid, which
// only this side writes) unchanged.
func (b *BufRing) Publish() {
	word := (*uint32)(unsafe.Pointer(&b.mem[bufTailWord]))
	w := atomic.LoadUint32(word)
	*(*uint16)(unsafe.Add(unsafe.Pointer(&w), bufTailOff)) = b.tail
	atomic.StoreUint32(word, w)
}

// Close unregisters the buffer group and unmaps the ring and the pool.
// Cancel the receives that use the group first. If the kernel refuses to
// unregister (wrong thread), nothing is unmapped. Close is idempotent, and
// Ring.Close closes the Ring's BufRings.
func (b *BufRing) Close() error {
	r := b.ring
	if r == nil {
		return nil
	}
	reg := bufReg{bgid: b.group}
	if _, err := r.register(IORING_UNREGISTER_PBUF_RING, unsafe.Pointer(&reg), 1); err != nil {
		return fmt.Errorf("uring: unregister buffer group %d: %w", b.group, err)
	}
	b.ring = nil
	r.bufRings = slices.DeleteFunc(r.bufRings, func(x *BufRing) bool { return x == b })
	var errs []error
	if err := unix.Munmap(b.pool); err != nil {
		errs = append(errs, fmt.Errorf("uring: munmap buffer pool: %w", err))
	}
	if err := unix.Munmap(b.mem); err != nil {
		errs = append(errs, fmt.Errorf("uring: munmap buffer ring: %w", err))
	}
	b.mem, b.pool, b.entries = nil, nil, nil
	return errors.Join(errs...)
}
