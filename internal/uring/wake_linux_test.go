package uring

import (
	"encoding/binary"
	"errors"
	"sync"
	"testing"
	"time"
	"unsafe"

	"golang.org/x/sys/unix"
)

// newEventfd makes a non-blocking eventfd closed when the test ends.
func newEventfd(t *testing.T) int {
	t.Helper()
	efd, err := unix.Eventfd(0, unix.EFD_NONBLOCK|unix.EFD_CLOEXEC)
	if err != nil {
		t.Fatal(err)
	}
	closeFd(t, efd)
	return efd
}

// wakeLater adds n to the eventfd from another goroutine after delay.
func wakeLater(efd int, n uint64, delay time.Duration) {
	go func() {
		time.Sleep(delay)
		var b [8]byte
		binary.NativeEndian.PutUint64(b[:], n)
		unix.Write(efd, b[:])
	}()
}

func TestEventfdRead(t *testing.T) {
	r := newRing(t, Options{})
	efd := newEventfd(t)
	counters := newSlab[uint64](t, 1)
	cnt := slot(t, counters)
	s := sqe(t, r)
	s.PrepRead(efd, unsafe.Slice((*byte)(unsafe.Pointer(cnt)), 8), 0)
	s.UserData = 80
	submit(t, r)
	if r.CQReady() != 0 {
		t.Fatal("eventfd read completed before the write")
	}
	wakeLater(efd, 3, 20*time.Millisecond)
	if c := waitCQE(t, r); c.UserData != 80 || c.Res != 8 || *cnt != 3 {
		t.Fatalf("eventfd read: %+v (%v), counter %d", c, c.Err(), *cnt)
	}
}

func TestEventfdPoll(t *testing.T) {
	r := newRing(t, Options{})
	efd := newEventfd(t)
	s := sqe(t, r)
	s.PrepPollAdd(efd, unix.POLLIN)
	s.UserData = 81
	submit(t, r)
	wakeLater(efd, 1, 20*time.Millisecond)
	if c := waitCQE(t, r); c.UserData != 81 || c.Res&unix.POLLIN == 0 {
		t.Fatalf("poll: %+v (%v)", c, c.Err())
	}

	// A multishot poll stays armed while the eventfd stays readable.
	s = sqe(t, r)
	s.PrepPollMultishot(efd, unix.POLLIN)
	s.UserData = 82
	if c := waitCQE(t, r); c.UserData != 82 || c.Res&unix.POLLIN == 0 || !c.More() {
		t.Fatalf("multishot poll: %+v (%v)", c, c.Err())
	}
	s = sqe(t, r)
	s.PrepCancel(82, 0)
	s.UserData = 83
	if got := byUserData(t, waitCQEs(t, r, 2)); got[82].More() || got[83].Res != 0 {
		t.Fatalf("cancel multishot poll: %+v", got)
	}
}

func TestTimeoutOp(t *testing.T) {
	r := newRing(t, Options{})
	times := newSlab[Timespec](t, 1)
	ts := slot(t, times)
	const d = 20 * time.Millisecond
	ts.Set(d)
	start := time.Now()
	s := sqe(t, r)
	s.PrepTimeout(ts, 0, 0)
	s.UserData = 90
	c := waitCQE(t, r)
	if el := time.Since(start); c.UserData != 90 || c.Res != -int32(unix.ETIME) || el < d {
		t.Fatalf("timeout: %+v (%v) after %v", c, c.Err(), el)
	}
}

func TestSubmitAndWaitTimeout(t *testing.T) {
	r := newRing(t, Options{})
	start := time.Now()
	n, err := r.SubmitAndWaitTimeout(1, 10*time.Millisecond)
	if el := time.Since(start); n != 0 || !errors.Is(err, unix.ETIME) || el < 10*time.Millisecond {
		t.Fatalf("idle wait = %d, %v after %v; want ETIME after 10ms", n, err, el)
	}
}

// TestEnterEINTR blocks in io_uring_enter while another goroutine keeps
// sending signals to the blocked thread: the raw system call returns EINTR,
// the Ring's wait does not.
func TestEnterEINTR(t *testing.T) {
	r := newRing(t, Options{})
	efd := newEventfd(t)
	counters := newSlab[uint64](t, 1)
	cnt := slot(t, counters)
	tid := unix.Gettid()
	pid := unix.Getpid()

	// signal pesters the thread with SIGURG (which the Go runtime ignores
	// unless it asked for a preemption) until stop is closed, then wakes
	// the ring through the eventfd.
	signal := func(stop <-chan struct{}) *sync.WaitGroup {
		var wg sync.WaitGroup
		wg.Go(func() {
			tick := time.NewTicker(200 * time.Microsecond)
			defer tick.Stop()
			for {
				select {
				case <-stop:
					wakeLater(efd, 1, 0)
					return
				case <-tick.C:
					unix.Tgkill(pid, tid, unix.SIGURG)
				}
			}
		})
		return &wg
	}
	arm := func() {
		s := sqe(t, r)
		s.PrepRead(efd, unsafe.Slice((*byte)(unsafe.Pointer(cnt)), 8), 0)
		s.UserData = 100
		submit(t, r)
	}

	// The raw call: count the EINTRs it returns until the wake-up.
	arm()
	stop := make(chan struct{})
	wg := signal(stop)
	time.AfterFunc(30*time.Millisecond, func() { close(stop) })
	eintr := 0
	for r.CQReady() == 0 {
		_, _, errno := unix.Syscall6(unix.SYS_IO_URING_ENTER, uintptr(r.Fd()), 0, 1, IORING_ENTER_GETEVENTS, 0, 0)
		if errno == unix.EINTR {
			eintr++
		} else if errno != 0 {
			t.Fatal(errno)
		}
	}
	wg.Wait()
	r.PeekBatch(make([]CQE, 1))
	t.Logf("raw io_uring_enter returned EINTR %d times", eintr)

	// The Ring: one call, no error, despite the signals.
	arm()
	stop = make(chan struct{})
	wg = signal(stop)
	time.AfterFunc(30*time.Millisecond, func() { close(stop) })
	if _, err := r.SubmitAndWait(1); err != nil {
		t.Fatalf("SubmitAndWait under signals: %v", err)
	}
	wg.Wait()
	if c := waitCQE(t, r); c.UserData != 100 || c.Res != 8 {
		t.Fatalf("wake-up: %+v (%v)", c, c.Err())
	}
}
