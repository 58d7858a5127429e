package uring

import (
	"sync/atomic"
	"unsafe"

	"golang.org/x/sys/unix"
)

// CQE is struct io_uring_cqe (16 bytes): one completion.
type CQE struct {
	// UserData is the SQE's UserData, returned unchanged.
	UserData uint64
	// Res is the operation's result: a count, a new fd, or -errno.
	Res int32
	// Flags holds IORING_CQE_F_* bits and, with IORING_CQE_F_BUFFER, the
	// provided buffer's id in the upper 16 bits.
	Flags uint32
}

var _ [16]byte = [unsafe.Sizeof(CQE{})]byte{}

// More reports IORING_CQE_F_MORE: the multishot request that produced this
// completion is still armed and will complete again.
func (c CQE) More() bool { return c.Flags&IORING_CQE_F_MORE != 0 }

// Notif reports IORING_CQE_F_NOTIF: this is the notification of a
// zero-copy send, saying the kernel is done with the send's buffers.
func (c CQE) Notif() bool { return c.Flags&IORING_CQE_F_NOTIF != 0 }

// BufferID returns the id of the provided buffer the kernel filled, and
// whether there is one (IORING_CQE_F_BUFFER).
func (c CQE) BufferID() (uint16, bool) {
	return uint16(c.Flags >> IORING_CQE_BUFFER_SHIFT), c.Flags&IORING_CQE_F_BUFFER != 0
}

// Err returns the error of a failed operation (Res < 0) as a unix.Errno,
// or nil.
func (c CQE) Err() error {
	if c.Res < 0 {
		return unix.Errno(-c.Res)
	}
	return nil
}

// CQReady returns how many completions are waiting in the completion queue.
func (r *Ring) CQReady() uint32 {
	if r.fd < 0 {
		return 0
	}
	return atomic.LoadUint32(r.cqTail) - atomic.LoadUint32(r.cqHead)
}

// PeekBatch copies up to len(dst) ready completions into dst, in order,
// releases their slots to the kernel with one store of the CQ head, and
// returns how many it copied. It does not enter the kernel.
func (r *Ring) PeekBatch(dst []CQE) int {
	if r.fd < 0 {
		return 0
	}
	head := atomic.LoadUint32(r.cqHead)
	tail := atomic.LoadUint32(r.cqTail) // load-acquire: the CQEs before it are written
	n := min(tail-head, uint32(len(dst)))
	if n == 0 {
		return 0
	}
	for i := range n {
		dst[i] = r.cqes[(head+i)&r.cqMask]
	}
	atomic.StoreUint32(r.cqHead, head+n) // store-release, once per batch
	return int(n)
}
