package uring

import (
	"sync/atomic"
	"time"
	"unsafe"

	"golang.org/x/sys/unix"
)

// NextSQE returns the next free submission queue entry, zeroed, or nil when
// the queue is full (submit first). Fill it with a Prep method; the next
// Submit or SubmitAndWait hands it to the kernel.
func (r *Ring) NextSQE() *SQE {
	if r.fd < 0 {
		return nil
	}
	// Load-acquire of the head: the kernel is done with the slots before it.
	if r.sqeTail-atomic.LoadUint32(r.sqHead) >= r.sqEntries {
		return nil
	}
	sqe := &r.sqes[r.sqeTail&r.sqMask]
	*sqe = SQE{}
	r.sqeTail++
	return sqe
}

// SQReady returns how many SQEs are prepared or published but not yet
// consumed by the kernel.
func (r *Ring) SQReady() uint32 {
	if r.fd < 0 {
		return 0
	}
	return r.sqeTail - atomic.LoadUint32(r.sqHead)
}

// flush publishes the prepared SQEs with a store-release of the SQ tail and
// returns how many the kernel has not consumed yet.
func (r *Ring) flush() uint32 {
	atomic.StoreUint32(r.sqTail, r.sqeTail)
	return r.sqeTail - atomic.LoadUint32(r.sqHead)
}

// Submit hands the prepared SQEs to the kernel and returns how many it
// consumed. It does not wait, and with IORING_SETUP_DEFER_TASKRUN it does not
// post completions either: use SubmitAndWait(0) to reap without blocking.
//
// Errors of Submit, SubmitAndWait and SubmitAndWaitTimeout are the kernel's
// errno (a unix.Errno), not wrapped, so that the loop's expected outcomes
// (ETIME, EBUSY, EAGAIN) do not allocate.
func (r *Ring) Submit() (int, error) {
	return r.submit(0, 0, nil)
}

// SubmitAndWait submits the prepared SQEs and waits until at least
// minComplete completions are ready in the completion queue. It always
// enters the kernel with IORING_ENTER_GETEVENTS, so SubmitAndWait(0) posts
// deferred completions and flushes overflowed ones without blocking. A
// signal can end the wait early when SQEs were submitted: callers loop.
func (r *Ring) SubmitAndWait(minComplete uint32) (int, error) {
	return r.submit(minComplete, IORING_ENTER_GETEVENTS, nil)
}

// SubmitAndWaitTimeout is SubmitAndWait bounded by a timeout
// (IORING_ENTER_EXT_ARG). When the time runs out first and nothing was
// submitted, it returns unix.ETIME.
func (r *Ring) SubmitAndWaitTimeout(minComplete uint32, timeout time.Duration) (int, error) {
	if r.features&IORING_FEAT_EXT_ARG == 0 {
		return 0, unix.EOPNOTSUPP
	}
	r.extTS.Set(timeout)
	r.extArg = getEventsArg{ts: uint64(uintptr(unsafe.Pointer(&r.extTS)))}
	return r.submit(minComplete, IORING_ENTER_GETEVENTS|IORING_ENTER_EXT_ARG, &r.extArg)
}

func (r *Ring) submit(minComplete, flags uint32, arg *getEventsArg) (int, error) {
	if r.fd < 0 {
		return 0, unix.EBADF
	}
	pending := r.flush()
	if r.flags&IORING_SETUP_SQPOLL != 0 {
		// The kernel thread consumes the SQ; enter only to wake it or wait.
		// The tail store above is sequentially consistent, so this load
		// cannot be reordered before it.
		if atomic.LoadUint32(r.sqFlags)&IORING_SQ_NEED_WAKEUP != 0 {
			flags |= IORING_ENTER_SQ_WAKEUP
		}
		if flags == 0 {
			return int(pending), nil
		}
	} else if pending == 0 && flags == 0 {
		return 0, nil
	}
	var (
		argPtr  unsafe.Pointer
		argSize uintptr
	)
	if arg != nil {
		argPtr, argSize = unsafe.Pointer(arg), unsafe.Sizeof(*arg)
	}
	n, err := enter(r.enterFd, pending, minComplete, flags|r.enterFlg, argPtr, argSize)
	if r.flags&IORING_SETUP_SQPOLL != 0 && err == nil {
		n = int(pending)
	}
	return n, err
}
