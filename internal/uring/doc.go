// Package uring is a small io_uring binding for Linux, written on
// golang.org/x/sys/unix without cgo.
//
// A Ring is created with New, filled with submission queue entries from
// NextSQE and the Prep methods of SQE, submitted with Submit or
// SubmitAndWait, and its completions are read in batches with PeekBatch.
// BufRing is a provided-buffer ring for multishot receives, and Slab keeps
// the structures the kernel reads (msghdr, iovecs, timespecs) off the Go
// heap. Probe tells whether io_uring can be used here at all, and why not.
//
// A Ring is not safe for concurrent use. Rings set up with
// IORING_SETUP_SINGLE_ISSUER (the default when the kernel has it) must also
// be used from one OS thread: call runtime.LockOSThread before New and use
// the Ring, and every BufRing made from it, only from that goroutine.
//
// The kernel keeps the raw addresses given in an SQE until the operation
// completes, and the garbage collector cannot see them. Every buffer and
// structure passed to a Prep method must stay valid and unmoved until its
// completion: keep it off the Go heap (BufRing, Slab, unix.Mmap) or pin it
// with a runtime.Pinner and keep a reference to it.
//
// On other systems the package is empty.
package uring
