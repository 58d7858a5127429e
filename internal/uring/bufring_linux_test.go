package uring

import (
	"fmt"
	"testing"

	"golang.org/x/sys/unix"
)

// recvData checks that c is a multishot recv completion carrying want in a
// provided buffer, and returns the buffer's id.
func recvData(t *testing.T, b *BufRing, c CQE, want string, more bool) uint16 {
	t.Helper()
	id, ok := c.BufferID()
	if c.Res < 0 || !ok || c.More() != more {
		t.Fatalf("recv: %+v (%v), want data with a buffer and more=%v", c, c.Err(), more)
	}
	if got := string(b.Buf(id)[:c.Res]); got != want {
		t.Fatalf("buffer %d holds %q, want %q", id, got, want)
	}
	return id
}

func TestMultishotRecvBufRing(t *testing.T) {
	r := newRing(t, Options{})
	sfd, client := tcpPair(t)
	const group, count, size = 7, 4, 64
	b, err := r.NewBufRing(group, count, size, count)
	if err != nil {
		t.Fatal(err)
	}
	if b.Group() != group || b.Size() != size || len(b.Buf(count-1)) != size {
		t.Fatalf("group %d, size %d", b.Group(), b.Size())
	}
	arm := func() { armRecv(t, r, sfd, group, 50) }
	arm()

	// One send at a time, each into its own buffer; none recycled.
	seen := map[uint16]bool{}
	for i := range count {
		msg := fmt.Sprintf("message %d", i)
		write(t, client, []byte(msg))
		id := recvData(t, b, waitCQE(t, r), msg, true)
		if seen[id] || int(id) >= count {
			t.Fatalf("buffer id %d repeated or out of range", id)
		}
		seen[id] = true
	}

	// The pool is empty: the next data ends the multishot with ENOBUFS.
	write(t, client, []byte("late"))
	if c := waitCQE(t, r); c.Res != -int32(unix.ENOBUFS) || c.More() {
		t.Fatalf("exhausted pool: %+v (%v), want ENOBUFS without MORE", c, c.Err())
	}

	// Recycle everything and re-arm: the waiting data arrives.
	for id := range seen {
		b.Recycle(id)
	}
	b.Publish()
	arm()
	id := recvData(t, b, waitCQE(t, r), "late", true)

	// Recycling one buffer at a time keeps the receive going for more
	// rounds than there are buffers.
	for i := range 3 * count {
		b.Recycle(id)
		b.Publish()
		msg := fmt.Sprintf("round %d", i)
		write(t, client, []byte(msg))
		id = recvData(t, b, waitCQE(t, r), msg, true)
	}

	// Close with the receive armed: cancel it first, as documented.
	s := sqe(t, r)
	s.PrepCancel(50, 0)
	s.UserData = 51
	got := byUserData(t, waitCQEs(t, r, 2))
	if c := got[50]; c.Res != -int32(unix.ECANCELED) || c.More() {
		t.Fatalf("cancelled multishot recv: %+v", c)
	}
	if err := b.Close(); err != nil {
		t.Fatal(err)
	}
	if err := b.Close(); err != nil {
		t.Fatal(err)
	}
}

func TestMultishotRecvEOF(t *testing.T) {
	r := newRing(t, Options{})
	sfd, client := tcpPair(t)
	b, err := r.NewBufRing(1, 8, 128, 8)
	if err != nil {
		t.Fatal(err)
	}
	s := sqe(t, r)
	s.PrepRecvMultishot(sfd, b.Group(), 0)
	s.UserData = 60
	submit(t, r)
	write(t, client, []byte("bye"))
	recvData(t, b, waitCQE(t, r), "bye", true)
	if err := unix.Shutdown(client, unix.SHUT_WR); err != nil {
		t.Fatal(err)
	}
	if c := waitCQE(t, r); c.UserData != 60 || c.Res != 0 || c.More() {
		t.Fatalf("EOF: %+v (%v), want res 0 without MORE", c, c.Err())
	}
	// b is closed by the ring's Close.
}

func TestBufRingArgs(t *testing.T) {
	r := newRing(t, Options{})
	for _, c := range [][3]int{{0, 64, 0}, {3, 64, 0}, {1 << 16, 64, 0}, {4, 0, 0}, {4, 64, 5}, {4, 64, -1}} {
		if _, err := r.NewBufRing(2, c[0], c[1], c[2]); err == nil {
			t.Errorf("NewBufRing(%d, %d, %d) accepted", c[0], c[1], c[2])
		}
	}
	b, err := r.NewBufRing(3, 2, 16, 2)
	if err != nil {
		t.Fatal(err)
	}
	if _, err := r.NewBufRing(3, 2, 16, 2); err == nil {
		t.Error("registered buffer group 3 twice")
	}
	_ = b // closed by the ring's Close
}

// TestBufRingProvide: a pool provided in part runs out at what was
// provided, and Provide hands the kernel buffers it never had, up to the
// pool's size.
func TestBufRingProvide(t *testing.T) {
	r := newRing(t, Options{})
	sfd, client := tcpPair(t)
	const group, count, size = 4, 4, 64
	b, err := r.NewBufRing(group, count, size, 1)
	if err != nil {
		t.Fatal(err)
	}
	arm := func() { armRecv(t, r, sfd, group, 70) }
	arm()
	write(t, client, []byte("first"))
	if id := recvData(t, b, waitCQE(t, r), "first", true); id != 0 {
		t.Fatalf("first receive in buffer %d, want 0", id)
	}
	write(t, client, []byte("second"))
	if c := waitCQE(t, r); c.Res != -int32(unix.ENOBUFS) || c.More() {
		t.Fatalf("one buffer provided, second receive: %+v (%v), want ENOBUFS", c, c.Err())
	}
	if n := b.Provide(2); n != 2 || b.Provided() != 3 {
		t.Fatalf("Provide(2) = %d, provided %d; want 2 and 3", n, b.Provided())
	}
	arm()
	if id := recvData(t, b, waitCQE(t, r), "second", true); id != 1 {
		t.Fatalf("second receive in buffer %d, want 1, the first newly provided", id)
	}
	if n := b.Provide(5); n != 1 || b.Provided() != count {
		t.Fatalf("Provide(5) with one left = %d, provided %d; want 1 and %d", n, b.Provided(), count)
	}
	if n := b.Provide(1); n != 0 {
		t.Fatalf("Provide on a fully provided pool = %d, want 0", n)
	}
}

// TestBufRingWrap runs more buffers through a ring than its 16-bit tail
// counts, recycling each batch, and checks every byte in order.
func TestBufRingWrap(t *testing.T) {
	r := newRing(t, Options{CQEntries: 4096})
	sfd, client := tcpPair(t)
	b, err := r.NewBufRing(9, 256, 1, 256) // one byte per buffer: one buffer per byte
	if err != nil {
		t.Fatal(err)
	}
	const total = 1<<16 + 4000
	go func() {
		data := make([]byte, total)
		for i := range data {
			data[i] = byte(i % 251)
		}
		unix.Write(client, data) // blocking: returns once all is queued
	}()
	arm := func() {
		s := sqe(t, r)
		s.PrepRecvMultishot(sfd, b.Group(), 0)
		s.UserData = 70
	}
	arm()
	cqes := make([]CQE, 512)
	rearms := 0
	for n := 0; n < total; {
		if _, err := r.SubmitAndWaitTimeout(1, waitLimit); err != nil {
			t.Fatalf("after %d bytes: %v", n, err)
		}
		k := r.PeekBatch(cqes)
		for _, c := range cqes[:k] {
			if c.Res > 0 {
				id, _ := c.BufferID()
				if got := b.Buf(id)[0]; got != byte(n%251) {
					t.Fatalf("byte %d = %d, want %d", n, got, n%251)
				}
				n++
				b.Recycle(id)
			} else if c.Res != -int32(unix.ENOBUFS) {
				t.Fatalf("after %d bytes: %+v (%v)", n, c, c.Err())
			}
			if !c.More() {
				rearms++
				arm()
			}
		}
		b.Publish()
	}
	t.Logf("%d buffers through a 256-entry ring, %d re-arms", total, rearms)
}
