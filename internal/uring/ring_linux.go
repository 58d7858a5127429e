package uring

import (
	"errors"
	"fmt"
	"slices"
	"sync/atomic"
	"unsafe"

	"golang.org/x/sys/unix"
)

// Options configures New.
type Options struct {
	// Entries is the size of the submission queue, a power of two;
	// 0 means 256.
	Entries uint32
	// CQEntries, if not 0, sets the size of the completion queue
	// (IORING_SETUP_CQSIZE); otherwise the kernel makes it 2*Entries.
	CQEntries uint32
	// Flags lists the IORING_SETUP_* flag sets to try, in order; the first
	// one the kernel accepts is used. Nil means DefaultFlags().
	Flags []uint32
}

// DefaultFlags returns the setup flag sets New tries by default, best first:
// SINGLE_ISSUER|DEFER_TASKRUN, then COOP_TASKRUN, then none, each first with
// NO_SQARRAY and then without it.
func DefaultFlags() []uint32 {
	const (
		deferred = IORING_SETUP_SINGLE_ISSUER | IORING_SETUP_DEFER_TASKRUN
		coop     = IORING_SETUP_COOP_TASKRUN
		noArr    = IORING_SETUP_NO_SQARRAY
	)
	return []uint32{deferred | noArr, deferred, coop | noArr, coop, noArr, 0}
}

// Ring is one io_uring instance: its submission and completion queues
// mapped into this process. It is not safe for concurrent use.
type Ring struct {
	fd       int
	enterFd  int    // fd, or the registered ring index
	enterFlg uint32 // IORING_ENTER_REGISTERED_RING once registered
	flags    uint32
	features uint32

	sqMem, cqMem, sqeMem []byte
	cqMapped             bool // cqMem is its own mapping (no SINGLE_MMAP)

	// Submission queue.
	sqHead    *uint32 // written by the kernel
	sqTail    *uint32 // written by us
	sqFlags   *uint32 // written by the kernel
	sqMask    uint32
	sqEntries uint32
	sqes      []SQE
	sqeTail   uint32 // next free SQE; published to *sqTail by flush

	// Completion queue.
	cqHead     *uint32 // written by us
	cqTail     *uint32 // written by the kernel
	cqOverflow *uint32
	cqMask     uint32
	cqEntries  uint32
	cqes       []CQE

	// Scratch for the EXT_ARG of enter, kept here so it stays alive.
	extArg getEventsArg
	extTS  Timespec

	bufRings []*BufRing
}

// New sets up a ring. With the default Options it tries the flag sets of
// DefaultFlags and keeps the first the kernel accepts; Flags reports which.
// Lock the OS thread first (runtime.LockOSThread) when SINGLE_ISSUER may be
// used, and use the ring only from that goroutine.
func New(opts Options) (*Ring, error) {
	entries := opts.Entries
	if entries == 0 {
		entries = 256
	}
	candidates := opts.Flags
	if candidates == nil {
		candidates = DefaultFlags()
	}
	if len(candidates) == 0 {
		return nil, errors.New("uring: Options.Flags is empty")
	}
	var (
		p   params
		fd  int
		err error
	)
	for _, flags := range candidates {
		p = params{flags: flags}
		if opts.CQEntries != 0 {
			p.flags |= IORING_SETUP_CQSIZE
			p.cqEntries = opts.CQEntries
		}
		fd, err = setup(entries, &p)
		if err == nil || !errors.Is(err, unix.EINVAL) {
			break // success, or a failure no other flag set can cure
		}
	}
	if err != nil {
		return nil, setupError(err, p.flags, readSysctl(disabledSysctl))
	}
	r := &Ring{fd: fd, enterFd: fd, flags: p.flags, features: p.features}
	if err := r.mmap(&p); err != nil {
		unix.Close(fd)
		return nil, err
	}
	return r, nil
}

// mmap maps the rings and the SQE array and sets the pointers into them.
func (r *Ring) mmap(p *params) error {
	const prot = unix.PROT_READ | unix.PROT_WRITE
	const flags = unix.MAP_SHARED | unix.MAP_POPULATE

	// With NO_SQARRAY, sqOff.array is 0 and the SQ ring is only the header
	// shared with the CQ ring: the single mapping covers it.
	sqSize := int(p.sqOff.array) + int(p.sqEntries)*4
	cqSize := int(p.cqOff.cqes) + int(p.cqEntries)*int(unsafe.Sizeof(CQE{}))
	single := p.features&IORING_FEAT_SINGLE_MMAP != 0
	if single {
		sqSize = max(sqSize, cqSize)
	}

	var err error
	if r.sqMem, err = unix.Mmap(r.fd, IORING_OFF_SQ_RING, sqSize, prot, flags); err != nil {
		return fmt.Errorf("uring: mmap SQ ring: %w", err)
	}
	r.cqMem = r.sqMem
	if !single {
		if r.cqMem, err = unix.Mmap(r.fd, IORING_OFF_CQ_RING, cqSize, prot, flags); err != nil {
			r.unmap()
			return fmt.Errorf("uring: mmap CQ ring: %w", err)
		}
		r.cqMapped = true
	}
	sqeSize := int(p.sqEntries) * int(unsafe.Sizeof(SQE{}))
	if r.sqeMem, err = unix.Mmap(r.fd, IORING_OFF_SQES, sqeSize, prot, flags); err != nil {
		r.unmap()
		return fmt.Errorf("uring: mmap SQEs: %w", err)
	}

	sq := r.sqMem
	r.sqHead = u32At(sq, p.sqOff.head)
	r.sqTail = u32At(sq, p.sqOff.tail)
	r.sqFlags = u32At(sq, p.sqOff.flags)
	r.sqMask = *u32At(sq, p.sqOff.ringMask)
	r.sqEntries = *u32At(sq, p.sqOff.ringEntries)
	r.sqes = unsafe.Slice((*SQE)(unsafe.Pointer(&r.sqeMem[0])), r.sqEntries)
	r.sqeTail = atomic.LoadUint32(r.sqTail)
	if p.flags&IORING_SETUP_NO_SQARRAY == 0 {
		// Map SQ slot i to SQE i once; the array is never touched again.
		array := unsafe.Slice(u32At(sq, p.sqOff.array), r.sqEntries)
		for i := range array {
			array[i] = uint32(i)
		}
	}

	cq := r.cqMem
	r.cqHead = u32At(cq, p.cqOff.head)
	r.cqTail = u32At(cq, p.cqOff.tail)
	r.cqOverflow = u32At(cq, p.cqOff.overflow)
	r.cqMask = *u32At(cq, p.cqOff.ringMask)
	r.cqEntries = *u32At(cq, p.cqOff.ringEntries)
	r.cqes = unsafe.Slice((*CQE)(unsafe.Pointer(&cq[p.cqOff.cqes])), r.cqEntries)
	return nil
}

func u32At(mem []byte, off uint32) *uint32 {
	return (*uint32)(unsafe.Pointer(&mem[off]))
}

func (r *Ring) unmap() {
	if r.sqeMem != nil {
		unix.Munmap(r.sqeMem)
	}
	if r.cqMapped {
		unix.Munmap(r.cqMem)
	}
	if r.sqMem != nil {
		unix.Munmap(r.sqMem)
	}
	r.sqMem, r.cqMem, r.sqeMem, r.cqMapped = nil, nil, nil, false
	r.sqes, r.cqes = nil, nil
	r.sqHead, r.sqTail, r.sqFlags = nil, nil, nil
	r.cqHead, r.cqTail, r.cqOverflow = nil, nil, nil
}

// Close closes every BufRing made from the ring, unregisters the ring fd,
// unmaps the rings and closes the ring's fd. Operations still in flight are
// cancelled by the kernel, asynchronously. Call it from the ring's thread.
// Close is idempotent.
func (r *Ring) Close() error {
	if r.fd < 0 {
		return nil
	}
	var errs []error
	for _, b := range slices.Clone(r.bufRings) {
		// A BufRing the kernel would not unregister stays mapped (leaked):
		// the kernel may still write into its buffers.
		errs = append(errs, b.Close())
	}
	r.bufRings = nil
	if r.enterFlg&IORING_ENTER_REGISTERED_RING != 0 {
		errs = append(errs, r.unregisterRingFd())
	}
	r.unmap()
	if err := unix.Close(r.fd); err != nil {
		errs = append(errs, fmt.Errorf("uring: close ring: %w", err))
	}
	r.fd, r.enterFd = -1, -1
	return errors.Join(errs...)
}

// Fd returns the ring's file descriptor, or -1 after Close.
func (r *Ring) Fd() int { return r.fd }

// Flags returns the IORING_SETUP_* flags the ring was set up with.
func (r *Ring) Flags() uint32 { return r.flags }

// Features returns the IORING_FEAT_* flags the kernel reported.
func (r *Ring) Features() uint32 { return r.features }

// SQEntries returns the size of the submission queue.
func (r *Ring) SQEntries() uint32 { return r.sqEntries }

// CQEntries returns the size of the completion queue.
func (r *Ring) CQEntries() uint32 { return r.cqEntries }

// CQOverflow returns the kernel's count of completions it had to drop
// because the completion queue was full (0 with IORING_FEAT_NODROP unless
// the kernel ran out of memory).
func (r *Ring) CQOverflow() uint32 {
	if r.fd < 0 {
		return 0
	}
	return atomic.LoadUint32(r.cqOverflow)
}
