package uring

import (
	"errors"
	"fmt"
	"runtime"
	"strings"
	"testing"
	"time"
	"unsafe"

	"golang.org/x/sys/unix"
)

func TestLayout(t *testing.T) {
	// Sizes and offsets from the kernel's include/uapi/linux/io_uring.h.
	var s SQE
	for _, c := range []struct {
		name      string
		got, want uintptr
	}{
		{"sizeof sqe", unsafe.Sizeof(s), 64},
		{"sqe.ioprio", unsafe.Offsetof(s.IoPrio), 2},
		{"sqe.fd", unsafe.Offsetof(s.Fd), 4},
		{"sqe.off", unsafe.Offsetof(s.Off), 8},
		{"sqe.addr", unsafe.Offsetof(s.Addr), 16},
		{"sqe.len", unsafe.Offsetof(s.Len), 24},
		{"sqe.op_flags", unsafe.Offsetof(s.OpFlags), 28},
		{"sqe.user_data", unsafe.Offsetof(s.UserData), 32},
		{"sqe.buf_index", unsafe.Offsetof(s.BufIndex), 40},
		{"sqe.personality", unsafe.Offsetof(s.Personality), 42},
		{"sqe.file_index", unsafe.Offsetof(s.FileIndex), 44},
		{"sqe.addr3", unsafe.Offsetof(s.Addr3), 48},
		{"sizeof cqe", unsafe.Sizeof(CQE{}), 16},
		{"sizeof params", unsafe.Sizeof(params{}), 120},
		{"params.sq_off", unsafe.Offsetof(params{}.sqOff), 40},
		{"params.cq_off", unsafe.Offsetof(params{}.cqOff), 80},
		{"sizeof timespec", unsafe.Sizeof(Timespec{}), 16},
		{"sizeof iovec", unsafe.Sizeof(Iovec{}), unix.SizeofIovec},
		{"sizeof msghdr", unsafe.Sizeof(Msghdr{}), unix.SizeofMsghdr},
		{"msghdr.iov", unsafe.Offsetof(Msghdr{}.Iov), unsafe.Offsetof(unix.Msghdr{}.Iov)},
		{"msghdr.iovlen", unsafe.Offsetof(Msghdr{}.Iovlen), unsafe.Offsetof(unix.Msghdr{}.Iovlen)},
		{"msghdr.control", unsafe.Offsetof(Msghdr{}.Control), unsafe.Offsetof(unix.Msghdr{}.Control)},
		{"msghdr.flags", unsafe.Offsetof(Msghdr{}.Flags), unsafe.Offsetof(unix.Msghdr{}.Flags)},
	} {
		if c.got != c.want {
			t.Errorf("%s = %d, want %d", c.name, c.got, c.want)
		}
	}
}

func TestSetupFlags(t *testing.T) {
	const (
		si   = IORING_SETUP_SINGLE_ISSUER
		dt   = IORING_SETUP_DEFER_TASKRUN
		coop = IORING_SETUP_COOP_TASKRUN
		nsa  = IORING_SETUP_NO_SQARRAY
	)
	for _, c := range []struct {
		name  string
		flags uint32
		cq    uint32
	}{
		{"none", 0, 0},
		{"COOP_TASKRUN", coop, 0},
		{"COOP_TASKRUN|TASKRUN_FLAG", coop | IORING_SETUP_TASKRUN_FLAG, 0},
		{"SINGLE_ISSUER", si, 0},
		{"SINGLE_ISSUER|DEFER_TASKRUN", si | dt, 0},
		{"SINGLE_ISSUER|DEFER_TASKRUN|NO_SQARRAY", si | dt | nsa, 0},
		{"SINGLE_ISSUER|DEFER_TASKRUN+CQSIZE", si | dt, 4096},
		{"NO_SQARRAY", nsa, 0},
		{"SUBMIT_ALL", IORING_SETUP_SUBMIT_ALL, 0},
		{"SQPOLL", IORING_SETUP_SQPOLL, 0},
	} {
		t.Run(c.name, func(t *testing.T) {
			runtime.LockOSThread()
			defer runtime.UnlockOSThread()
			r, err := New(Options{Entries: 16, CQEntries: c.cq, Flags: []uint32{c.flags}})
			if errors.Is(err, unix.EINVAL) {
				t.Skipf("kernel refuses setup flags %#x: %v", c.flags, err)
			}
			if err != nil {
				t.Fatal(err)
			}
			want := c.flags
			if c.cq != 0 {
				want |= IORING_SETUP_CQSIZE
			}
			if r.Flags() != want {
				t.Errorf("Flags() = %#x, want %#x", r.Flags(), want)
			}
			if r.SQEntries() != 16 {
				t.Errorf("SQEntries() = %d, want 16", r.SQEntries())
			}
			if wantCQ := max(c.cq, 32); r.CQEntries() != wantCQ {
				t.Errorf("CQEntries() = %d, want %d", r.CQEntries(), wantCQ)
			}
			nopRoundTrip(t, r, 3)
			if err := r.Close(); err != nil {
				t.Fatalf("Close: %v", err)
			}
			if err := r.Close(); err != nil {
				t.Fatalf("second Close: %v", err)
			}
			if r.Fd() != -1 || r.NextSQE() != nil || r.PeekBatch(make([]CQE, 1)) != 0 {
				t.Error("ring usable after Close")
			}
			if _, err := r.Submit(); !errors.Is(err, unix.EBADF) {
				t.Errorf("Submit after Close: %v, want EBADF", err)
			}
		})
	}
}

// nopRoundTrip submits n NOPs and checks that each completes with its
// user data, in order.
func nopRoundTrip(t *testing.T, r *Ring, n int) {
	t.Helper()
	for i := range n {
		s := sqe(t, r)
		s.PrepNop()
		s.UserData = uint64(1000 + i)
	}
	got := waitCQEs(t, r, n)
	if len(got) != n {
		t.Fatalf("want %d completions, got %+v", n, got)
	}
	for i, c := range got {
		if c.UserData != uint64(1000+i) || c.Res != 0 {
			t.Errorf("completion %d = %+v, want user data %d, res 0", i, c, 1000+i)
		}
	}
}

func TestDefaultFlags(t *testing.T) {
	r := newRing(t, Options{})
	want := uint32(IORING_SETUP_SINGLE_ISSUER | IORING_SETUP_DEFER_TASKRUN | IORING_SETUP_NO_SQARRAY)
	t.Logf("default ring: flags %#x, features %#x, %d SQEs, %d CQEs", r.Flags(), r.Features(), r.SQEntries(), r.CQEntries())
	if r.Flags() != want {
		t.Logf("kernel did not take the best flags %#x (got %#x)", want, r.Flags())
	}
	nopRoundTrip(t, r, 1)
}

func TestProbe(t *testing.T) {
	info, err := Probe()
	if err != nil {
		t.Fatalf("Probe: %v", err)
	}
	t.Logf("flags %#x, features %#x, last opcode %d", info.Flags, info.Features, info.Ops.Last())
	net := []uint8{IORING_OP_NOP, IORING_OP_ACCEPT, IORING_OP_CONNECT, IORING_OP_RECV, IORING_OP_SEND,
		IORING_OP_SENDMSG, IORING_OP_CLOSE, IORING_OP_SHUTDOWN, IORING_OP_ASYNC_CANCEL,
		IORING_OP_POLL_ADD, IORING_OP_READ, IORING_OP_TIMEOUT}
	if err := info.Ops.Require(net...); err != nil {
		t.Fatal(err)
	}
	if info.Ops.Has(255) {
		t.Error("opcode 255 reported as supported")
	}
	if err := info.Ops.Require(255); err == nil || !strings.Contains(err.Error(), "255") {
		t.Errorf("Require(255) = %v, want an error naming 255", err)
	}
	if info.Features&IORING_FEAT_EXT_ARG == 0 || info.Features&IORING_FEAT_NODROP == 0 {
		t.Errorf("features %#x lack EXT_ARG or NODROP", info.Features)
	}
}

func TestSetupError(t *testing.T) {
	for _, c := range []struct {
		errno    unix.Errno
		disabled string
		want     string
	}{
		{unix.ENOSYS, "", "no io_uring"},
		{unix.EPERM, "2", "io_uring_disabled=2"},
		{unix.EPERM, "1", "io_uring_disabled=1"},
		{unix.EPERM, "0", "seccomp"},
		{unix.EPERM, "", "seccomp"},
		{unix.EINVAL, "", "0x3000"},
		{unix.ENOMEM, "", "RLIMIT_MEMLOCK"},
	} {
		err := setupError(c.errno, 0x3000, c.disabled)
		if !errors.Is(err, c.errno) || !strings.Contains(err.Error(), c.want) {
			t.Errorf("setupError(%v, %q) = %v, want %v mentioning %q", c.errno, c.disabled, err, c.errno, c.want)
		}
	}
}

func TestSQFullAndBatches(t *testing.T) {
	r := newRing(t, Options{Entries: 8})
	for i := range 8 {
		s := sqe(t, r)
		s.PrepNop()
		s.UserData = uint64(i)
	}
	if r.NextSQE() != nil {
		t.Fatal("NextSQE returned an entry from a full queue")
	}
	if n, err := r.Submit(); err != nil || n != 8 {
		t.Fatalf("Submit = %d, %v; want 8", n, err)
	}
	if _, err := r.SubmitAndWait(8); err != nil {
		t.Fatal(err)
	}
	if r.CQReady() != 8 {
		t.Fatalf("CQReady = %d, want 8", r.CQReady())
	}
	// Reap in batches of 3: 3, 3, 2, in submission order.
	buf := make([]CQE, 3)
	var seen []uint64
	for _, want := range []int{3, 3, 2, 0} {
		n := r.PeekBatch(buf)
		if n != want {
			t.Fatalf("PeekBatch = %d, want %d", n, want)
		}
		for _, c := range buf[:n] {
			seen = append(seen, c.UserData)
		}
	}
	if fmt.Sprint(seen) != "[0 1 2 3 4 5 6 7]" {
		t.Errorf("user data %v", seen)
	}
	// The queue is free again, and wraps around.
	nopRoundTrip(t, r, 8)
	nopRoundTrip(t, r, 5)
}

func TestWrongThread(t *testing.T) {
	r := newRing(t, Options{Flags: []uint32{IORING_SETUP_SINGLE_ISSUER | IORING_SETUP_DEFER_TASKRUN}})
	errc := make(chan error)
	go func() {
		runtime.LockOSThread() // certainly another thread than the locked test
		defer runtime.UnlockOSThread()
		_, err := r.ProbeOps()
		errc <- err
	}()
	err := <-errc
	if !errors.Is(err, unix.EEXIST) || !strings.Contains(err.Error(), "thread") {
		t.Fatalf("ProbeOps from another thread = %v, want EEXIST explaining the thread", err)
	}
}

func TestRegisterRingFd(t *testing.T) {
	r := newRing(t, Options{})
	if err := r.RegisterRingFd(); err != nil {
		t.Fatal(err)
	}
	if r.enterFd == r.Fd() {
		t.Fatalf("ring fd not replaced by its registered index %d", r.enterFd)
	}
	nopRoundTrip(t, r, 4)
	if err := r.Close(); err != nil { // also unregisters
		t.Fatal(err)
	}
}

func TestRegisterEventfd(t *testing.T) {
	r := newRing(t, Options{})
	efd, err := unix.Eventfd(0, unix.EFD_NONBLOCK|unix.EFD_CLOEXEC)
	if err != nil {
		t.Fatal(err)
	}
	closeFd(t, efd)
	if err := r.RegisterEventfd(efd); err != nil {
		t.Fatal(err)
	}
	nopRoundTrip(t, r, 2)
	var b [8]byte
	if n, err := unix.Read(efd, b[:]); err != nil || n != 8 {
		t.Fatalf("eventfd not signalled: %d, %v", n, err)
	}
	if err := r.UnregisterEventfd(); err != nil {
		t.Fatal(err)
	}
}

func TestSlab(t *testing.T) {
	s := newSlab[[3]Iovec](t, 2)
	a, ok1 := s.Alloc()
	b, ok2 := s.Alloc()
	if _, ok := s.Alloc(); !ok1 || !ok2 || ok || a == b {
		t.Fatalf("Alloc: %d %v, %d %v, third ok=%v", a, ok1, b, ok2, ok)
	}
	s.At(a)[2].Len = 7
	s.Free(a)
	c, ok := s.Alloc()
	if !ok || c != a || s.At(c)[2].Len != 0 {
		t.Fatalf("reused slot %d not zeroed: %+v", c, *s.At(c))
	}
	if s.Len() != 2 {
		t.Errorf("Len = %d", s.Len())
	}
	if err := s.Close(); err != nil {
		t.Fatal(err)
	}
	if err := s.Close(); err != nil {
		t.Fatal(err)
	}
	if _, err := NewSlab[unix.Msghdr](1); err == nil {
		t.Error("NewSlab accepted a type holding Go pointers")
	}
	if _, err := NewSlab[Msghdr](0); err == nil {
		t.Error("NewSlab accepted 0 values")
	}
}

func TestNoAllocs(t *testing.T) {
	r := newRing(t, Options{})
	cqes := make([]CQE, 8)
	allocs := testing.AllocsPerRun(100, func() {
		s := r.NextSQE()
		s.PrepNop()
		s.UserData = 1
		if _, err := r.SubmitAndWait(1); err != nil {
			t.Fatal(err)
		}
		if _, err := r.SubmitAndWaitTimeout(0, time.Millisecond); err != nil {
			t.Fatal(err)
		}
		if r.PeekBatch(cqes) != 1 {
			t.Fatal("no completion")
		}
	})
	if allocs != 0 {
		t.Errorf("%v allocations per submit and reap, want 0", allocs)
	}
}

// BenchmarkNop measures one enter per batch of 32 NOPs, reaped together.
func BenchmarkNop(b *testing.B) {
	runtime.LockOSThread()
	defer runtime.UnlockOSThread()
	r, err := New(Options{})
	if err != nil {
		b.Fatal(err)
	}
	defer r.Close()
	cqes := make([]CQE, 32)
	for b.Loop() {
		for range 32 {
			r.NextSQE().PrepNop()
		}
		if _, err := r.SubmitAndWait(32); err != nil {
			b.Fatal(err)
		}
		if r.PeekBatch(cqes) != 32 {
			b.Fatal("short batch")
		}
	}
}
