package servercore

import (
	"context"
	"errors"
	"fmt"
	"log/slog"
	"net"
	"os"
	"reflect"
	"strconv"
	"strings"
	"syscall"
	"testing"
	"time"

	"golang.org/x/sys/unix"

	"servercore/internal/testkit"
)

// stalledListener returns the address of a listening socket whose accept
// queue is full and never drained, so that Linux drops further SYNs and a
// connect to it stays in progress until cancelled.
func stalledListener(t *testing.T) string {
	t.Helper()
	fd, err := syscall.Socket(syscall.AF_INET, syscall.SOCK_STREAM|syscall.SOCK_CLOEXEC, 0)
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { syscall.Close(fd) })
	if err := syscall.Bind(fd, &syscall.SockaddrInet4{Addr: [4]byte{127, 0, 0, 1}}); err != nil {
		t.Fatal(err)
	}
	if err := syscall.Listen(fd, 0); err != nil {
		t.Fatal(err)
	}
	sa, err := syscall.Getsockname(fd)
	if err != nil {
		t.Fatal(err)
	}
	addr := (&net.TCPAddr{IP: net.IPv4(127, 0, 0, 1), Port: sa.(*syscall.SockaddrInet4).Port}).String()
	// Fill the accept queue until a connect no longer completes.
	for i := 0; ; i++ {
		c, err := net.DialTimeout("tcp", addr, 300*time.Millisecond)
		if err != nil {
			return addr
		}
		t.Cleanup(func() { c.Close() })
		if i == 8 {
			t.Skip("cannot fill a listener's accept queue here: connects never stall")
		}
	}
}

// TestClientConnectStalled: a connect that stays in progress (the target
// drops SYNs) ends with ErrConnect when its context ends, and a Connect in
// progress when the service stops returns, as does Stop; nothing leaks.
func TestClientConnectStalled(t *testing.T) {
	testkit.ForEachBackend(t, func(t *testing.T, backend string) {
		addr := stalledListener(t) // before the snapshot: its descriptors outlive check
		check := testkit.LeakCheck(t)
		app := newTestApp()
		cl, err := NewClientService(addr, 0, app.configFor(backend))
		if err != nil {
			t.Fatal(err)
		}
		if err := cl.Start(context.Background()); err != nil {
			t.Fatal(err)
		}

		ctx, cancel := context.WithTimeout(context.Background(), 200*time.Millisecond)
		began := time.Now()
		_, err = cl.Connect(ctx)
		cancel()
		if !errors.Is(err, ErrConnect) {
			t.Errorf("Connect whose context expires: %v, want ErrConnect", err)
		}
		if took := time.Since(began); took > testkit.WaitShort {
			t.Errorf("Connect returned %v after its context expired", took)
		}

		done := make(chan error, 1)
		go func() {
			_, err := cl.Connect(context.Background())
			done <- err
		}()
		time.Sleep(100 * time.Millisecond) // the connect is in progress
		stopService(t, cl)
		err = testkit.Recv(t, done, testkit.WaitLong, "the Connect in progress to return after Stop")
		if !errors.Is(err, ErrServiceClosed) && !errors.Is(err, ErrConnect) {
			t.Errorf("Connect in progress at Stop: %v, want ErrServiceClosed or ErrConnect", err)
		}
		if app.connected.Load() != 0 {
			t.Errorf("%d sessions connected to a stalled listener", app.connected.Load())
		}
		app.check(t, true)
		check()
	})
}

// TestAcceptOutOfDescriptors: while the process has no descriptor left,
// connections that arrive cannot be accepted. The server must count the
// failed accepts and keep serving its sessions, then accept the waiting
// connections once descriptors are free again; nothing leaks.
func TestAcceptOutOfDescriptors(t *testing.T) {
	testkit.ForEachBackend(t, func(t *testing.T, backend string) {
		// A soft RLIMIT_NOFILE a little above what is open, set before the
		// server starts (io_uring samples the limit when an accept is
		// armed), so that the table can be filled.
		var lim syscall.Rlimit
		if err := syscall.Getrlimit(syscall.RLIMIT_NOFILE, &lim); err != nil {
			t.Fatal(err)
		}
		ents, err := os.ReadDir("/proc/self/fd")
		if err != nil {
			t.Skipf("no /proc/self/fd: %v", err)
		}
		top := 0
		for _, e := range ents {
			if n, err := strconv.Atoi(e.Name()); err == nil {
				top = max(top, n)
			}
		}
		low := lim
		low.Cur = min(lim.Cur, uint64(top+256))
		if err := syscall.Setrlimit(syscall.RLIMIT_NOFILE, &low); err != nil {
			t.Skipf("cannot lower RLIMIT_NOFILE: %v", err)
		}
		var fillers []int
		restore := func() {
			for _, fd := range fillers {
				syscall.Close(fd)
			}
			fillers = nil
			if err := syscall.Setrlimit(syscall.RLIMIT_NOFILE, &lim); err != nil {
				t.Errorf("restoring RLIMIT_NOFILE: %v", err)
			}
		}
		restored := false
		defer func() {
			if !restored {
				restore()
			}
		}()

		check := testkit.LeakCheck(t)
		app := newTestApp()
		var logs syncBuffer
		cfg := app.configFor(backend)
		cfg.Logger = slog.New(slog.NewTextHandler(&logs, nil))
		svc := startServer(t, app, cfg)
		began := time.Now()
		healthy := testkit.Dial(t, svc.Addr())
		healthy.Echo(1, []byte("before"))
		port := svc.Addr().(*net.TCPAddr).Port

		// The connections that will arrive: sockets made now, connected
		// once no descriptor is left (connect needs none).
		const waiting = 4
		var socks []int
		closeSocks := func() {
			for _, fd := range socks {
				syscall.Close(fd)
			}
			socks = nil
		}
		defer closeSocks()
		for range waiting {
			fd, err := syscall.Socket(syscall.AF_INET, syscall.SOCK_STREAM|syscall.SOCK_CLOEXEC, 0)
			if err != nil {
				t.Fatal(err)
			}
			socks = append(socks, fd)
		}

		// Fill the descriptor table.
		for {
			fd, err := syscall.Dup(0)
			if err != nil {
				break
			}
			fillers = append(fillers, fd)
		}
		for _, fd := range socks {
			if err := syscall.Connect(fd, &syscall.SockaddrInet4{Addr: [4]byte{127, 0, 0, 1}, Port: port}); err != nil {
				t.Fatalf("connect: %v", err)
			}
		}
		deadline := time.Now().Add(testkit.WaitShort)
		for svc.Stats().AcceptErrors == 0 && time.Now().Before(deadline) {
			time.Sleep(5 * time.Millisecond)
		}
		st := svc.Stats()
		healthy.Send(2, []byte("during"))
		_, _, healthyErr := healthy.ReadPacket(testkit.WaitLong, nil)
		restore()
		restored = true
		if st.AcceptErrors == 0 {
			t.Errorf("no failed accept was counted while no descriptor was left (Stats %+v)", st)
		}
		if healthyErr != nil {
			t.Fatalf("an established session stopped echoing while descriptors ran out: %v", healthyErr)
		}

		// Descriptors are back: the waiting connections are accepted.
		testkit.WaitFor(t, testkit.WaitLong, "the waiting connections to be accepted", func() bool {
			return app.connected.Load() == 1+waiting
		})
		closeSocks()
		testkit.WaitFor(t, testkit.WaitLong, "their sessions to end", func() bool { return app.disconnected.Load() == waiting })
		c := testkit.Dial(t, svc.Addr())
		c.Echo(3, []byte("after"))
		healthy.Echo(4, []byte("after"))
		// Every engine logs failed accepts at the same limit, a line a
		// second, however many there are.
		lines := strings.Count(logs.String(), "accept failed")
		if most := int(time.Since(began)/time.Second) + 1; lines < 1 || lines > most {
			t.Errorf("%d lines for %d failed accepts in %v, want 1..%d", lines, st.AcceptErrors, time.Since(began), most)
		}
		t.Logf("%d failed accepts counted, %d logged", st.AcceptErrors, lines)
		c.Close()
		healthy.Close()
		stopService(t, svc)
		check()
	})
}

// connDiag describes the kernel socket under an engine connection, for a
// failure message: TCP state, unread bytes and pending error. It reads the
// engine's descriptor by reflection (a uring connection's fd), so it may
// race with the engine; call it only once a test has failed.
func connDiag(conn any) string {
	v := reflect.ValueOf(conn)
	for v.Kind() == reflect.Pointer || v.Kind() == reflect.Interface {
		if v.IsNil() {
			return "nil conn"
		}
		v = v.Elem()
	}
	if v.Kind() != reflect.Struct {
		return ""
	}
	f := v.FieldByName("fd")
	if !f.IsValid() || !f.CanInt() {
		return ""
	}
	fd := int(f.Int())
	if fd < 0 {
		return "socket closed"
	}
	tcpStates := []string{"?", "ESTABLISHED", "SYN_SENT", "SYN_RECV", "FIN_WAIT1", "FIN_WAIT2", "TIME_WAIT", "CLOSE", "CLOSE_WAIT", "LAST_ACK", "LISTEN", "CLOSING"}
	var b strings.Builder
	if info, err := unix.GetsockoptTCPInfo(fd, unix.IPPROTO_TCP, unix.TCP_INFO); err == nil && int(info.State) < len(tcpStates) {
		fmt.Fprintf(&b, "socket %d: %s", fd, tcpStates[info.State])
	} else {
		fmt.Fprintf(&b, "socket %d: TCP_INFO %v", fd, err)
	}
	if n, err := unix.IoctlGetInt(fd, unix.SIOCINQ); err == nil {
		fmt.Fprintf(&b, ", %d bytes unread", n)
	}
	if e, err := unix.GetsockoptInt(fd, unix.SOL_SOCKET, unix.SO_ERROR); err == nil && e != 0 {
		fmt.Fprintf(&b, ", pending error %v", unix.Errno(e))
	}
	return b.String()
}
