package uring

import (
	"errors"
	"runtime"
	"testing"
	"time"

	"golang.org/x/sys/unix"
)

// waitLimit bounds every wait of the tests.
const waitLimit = 5 * time.Second

// newRing locks the test's goroutine to its thread (the ring may be
// SINGLE_ISSUER) and sets up a ring that is closed when the test ends.
func newRing(t *testing.T, opts Options) *Ring {
	t.Helper()
	runtime.LockOSThread()
	r, err := New(opts)
	if err != nil {
		runtime.UnlockOSThread()
		t.Fatalf("New: %v", err)
	}
	t.Cleanup(func() {
		if err := r.Close(); err != nil {
			t.Errorf("Close: %v", err)
		}
		runtime.UnlockOSThread()
	})
	return r
}

// sqe returns the next SQE, failing the test if the queue is full.
func sqe(t *testing.T, r *Ring) *SQE {
	t.Helper()
	s := r.NextSQE()
	if s == nil {
		t.Fatal("submission queue full")
	}
	return s
}

// submit submits the prepared SQEs and reaps nothing.
func submit(t *testing.T, r *Ring) {
	t.Helper()
	if _, err := r.SubmitAndWait(0); err != nil {
		t.Fatalf("SubmitAndWait(0): %v", err)
	}
}

// waitCQEs submits what is prepared and collects completions until at least
// n have arrived, or fails after waitLimit.
func waitCQEs(t *testing.T, r *Ring, n int) []CQE {
	t.Helper()
	deadline := time.Now().Add(waitLimit)
	var got []CQE
	buf := make([]CQE, 16)
	for len(got) < n {
		left := time.Until(deadline)
		if left <= 0 {
			t.Fatalf("timed out with %d of %d completions: %+v", len(got), n, got)
		}
		if _, err := r.SubmitAndWaitTimeout(1, left); err != nil && !errors.Is(err, unix.ETIME) {
			t.Fatalf("SubmitAndWaitTimeout: %v", err)
		}
		k := r.PeekBatch(buf)
		got = append(got, buf[:k]...)
	}
	return got
}

// waitCQE waits for exactly one completion and returns it.
func waitCQE(t *testing.T, r *Ring) CQE {
	t.Helper()
	got := waitCQEs(t, r, 1)
	if len(got) != 1 {
		t.Fatalf("want 1 completion, got %+v", got)
	}
	return got[0]
}

// byUserData returns the completions indexed by UserData; each must be
// unique.
func byUserData(t *testing.T, cqes []CQE) map[uint64]CQE {
	t.Helper()
	m := make(map[uint64]CQE, len(cqes))
	for _, c := range cqes {
		if _, dup := m[c.UserData]; dup {
			t.Fatalf("two completions for user data %d: %+v", c.UserData, cqes)
		}
		m[c.UserData] = c
	}
	return m
}

// closeFd closes fd when the test ends.
func closeFd(t *testing.T, fd int) {
	t.Cleanup(func() { unix.Close(fd) })
}

// listenTCP opens a non-blocking loopback listener and returns it with its
// port.
func listenTCP(t *testing.T) (fd, port int) {
	t.Helper()
	fd, err := unix.Socket(unix.AF_INET, unix.SOCK_STREAM|unix.SOCK_NONBLOCK|unix.SOCK_CLOEXEC, 0)
	if err != nil {
		t.Fatal(err)
	}
	closeFd(t, fd)
	if err := unix.SetsockoptInt(fd, unix.SOL_SOCKET, unix.SO_REUSEADDR, 1); err != nil {
		t.Fatal(err)
	}
	if err := unix.Bind(fd, &unix.SockaddrInet4{Addr: [4]byte{127, 0, 0, 1}}); err != nil {
		t.Fatal(err)
	}
	if err := unix.Listen(fd, 128); err != nil {
		t.Fatal(err)
	}
	sa, err := unix.Getsockname(fd)
	if err != nil {
		t.Fatal(err)
	}
	return fd, sa.(*unix.SockaddrInet4).Port
}

// dial connects a blocking client socket to the loopback port.
func dial(t *testing.T, port int) int {
	t.Helper()
	fd, err := unix.Socket(unix.AF_INET, unix.SOCK_STREAM|unix.SOCK_CLOEXEC, 0)
	if err != nil {
		t.Fatal(err)
	}
	closeFd(t, fd)
	if err := unix.Connect(fd, &unix.SockaddrInet4{Port: port, Addr: [4]byte{127, 0, 0, 1}}); err != nil {
		t.Fatal(err)
	}
	return fd
}

// tcpPair returns a connected loopback pair without the ring: a
// non-blocking server side and a blocking client side.
func tcpPair(t *testing.T) (server, client int) {
	t.Helper()
	ln, port := listenTCP(t)
	client = dial(t, port)
	deadline := time.Now().Add(waitLimit)
	for {
		fd, _, err := unix.Accept4(ln, unix.SOCK_NONBLOCK|unix.SOCK_CLOEXEC)
		if err == nil {
			closeFd(t, fd)
			return fd, client
		}
		if err != unix.EAGAIN || time.Now().After(deadline) {
			t.Fatalf("accept: %v", err)
		}
		time.Sleep(time.Millisecond)
	}
}

// newSlab makes a Slab unmapped when the test ends.
func newSlab[T any](t *testing.T, n int) *Slab[T] {
	t.Helper()
	s, err := NewSlab[T](n)
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { s.Close() })
	return s
}

// slot allocates one value of a slab.
func slot[T any](t *testing.T, s *Slab[T]) *T {
	t.Helper()
	i, ok := s.Alloc()
	if !ok {
		t.Fatal("slab exhausted")
	}
	return s.At(i)
}

// readFull reads exactly len(buf) bytes from a blocking fd.
func readFull(t *testing.T, fd int, buf []byte) {
	t.Helper()
	for n := 0; n < len(buf); {
		k, err := unix.Read(fd, buf[n:])
		if err != nil || k == 0 {
			t.Fatalf("read after %d bytes: %d, %v", n, k, err)
		}
		n += k
	}
}

// write writes all of b to a blocking fd.
func write(t *testing.T, fd int, b []byte) {
	t.Helper()
	if n, err := unix.Write(fd, b); err != nil || n != len(b) {
		t.Fatalf("write: %d, %v", n, err)
	}
}

// armRecv submits a multishot receive on fd with buffers of group.
func armRecv(t *testing.T, r *Ring, fd int, group uint16, ud uint64) {
	t.Helper()
	s := sqe(t, r)
	s.PrepRecvMultishot(fd, group, 0)
	s.UserData = ud
	submit(t, r)
}
