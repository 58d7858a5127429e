package uring

import (
	"fmt"
	"unsafe"

	"golang.org/x/sys/unix"
)

// register calls io_uring_register on the ring and wraps its error.
func (r *Ring) register(op uint32, arg unsafe.Pointer, nrArgs uint32) (int, error) {
	if r.fd < 0 {
		return 0, fmt.Errorf("uring: register op %d: ring is closed: %w", op, unix.EBADF)
	}
	n, err := register(r.fd, op, arg, nrArgs)
	if err == unix.EEXIST && r.flags&IORING_SETUP_SINGLE_ISSUER != 0 {
		return 0, fmt.Errorf("uring: register op %d from a thread other than the ring's (SINGLE_ISSUER; lock the OS thread): %w", op, err)
	}
	if err != nil {
		return 0, fmt.Errorf("uring: register op %d: %w", op, err)
	}
	return n, nil
}

// RegisterRingFd registers the ring's fd with the calling thread
// (IORING_REGISTER_RING_FDS), which saves a file lookup on every enter.
// The registration belongs to the thread: the ring must then be entered
// from this thread only, and closed from it.
func (r *Ring) RegisterRingFd() error {
	if r.enterFlg&IORING_ENTER_REGISTERED_RING != 0 {
		return nil
	}
	up := rsrcUpdate{offset: ^uint32(0), data: uint64(r.fd)} // offset -1: any free slot
	if _, err := r.register(IORING_REGISTER_RING_FDS, unsafe.Pointer(&up), 1); err != nil {
		return err
	}
	r.enterFd = int(up.offset)
	r.enterFlg |= IORING_ENTER_REGISTERED_RING
	return nil
}

// unregisterRingFd drops the registration, which holds a reference to the
// ring that closing the fd alone would not drop.
func (r *Ring) unregisterRingFd() error {
	up := rsrcUpdate{offset: uint32(r.enterFd)}
	if _, err := r.register(IORING_UNREGISTER_RING_FDS, unsafe.Pointer(&up), 1); err != nil {
		return err
	}
	r.enterFd = r.fd
	r.enterFlg &^= IORING_ENTER_REGISTERED_RING
	return nil
}

// RegisterEventfd makes the kernel signal the eventfd efd whenever it posts
// a completion (IORING_REGISTER_EVENTFD).
func (r *Ring) RegisterEventfd(efd int) error {
	fd := int32(efd)
	_, err := r.register(IORING_REGISTER_EVENTFD, unsafe.Pointer(&fd), 1)
	return err
}

// UnregisterEventfd removes the eventfd registered with RegisterEventfd.
func (r *Ring) UnregisterEventfd() error {
	_, err := r.register(IORING_UNREGISTER_EVENTFD, nil, 0)
	return err
}
