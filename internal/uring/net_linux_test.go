package uring

import (
	"net/netip"
	"testing"
	"unsafe"

	"golang.org/x/sys/unix"
)

func TestPutSockaddr(t *testing.T) {
	var sa unix.RawSockaddrAny
	n, err := PutSockaddr(&sa, netip.MustParseAddrPort("127.0.0.1:8080"))
	in4 := (*[unix.SizeofSockaddrInet4]byte)(unsafe.Pointer(&sa))
	if err != nil || n != unix.SizeofSockaddrInet4 || sa.Addr.Family != unix.AF_INET ||
		in4[2] != 0x1f || in4[3] != 0x90 || in4[4] != 127 || in4[7] != 1 {
		t.Errorf("IPv4: %d, %v, % x", n, err, in4[:8])
	}
	n, err = PutSockaddr(&sa, netip.MustParseAddrPort("[::1]:443"))
	in6 := (*unix.RawSockaddrInet6)(unsafe.Pointer(&sa))
	if err != nil || n != unix.SizeofSockaddrInet6 || in6.Family != unix.AF_INET6 || in6.Addr[15] != 1 {
		t.Errorf("IPv6: %d, %v, %+v", n, err, *in6)
	}
	if _, err := PutSockaddr(&sa, netip.MustParseAddrPort("[fe80::1%lo]:1")); err == nil {
		t.Error("zone accepted")
	}
}

func TestAcceptConnectSendRecv(t *testing.T) {
	r := newRing(t, Options{})
	ln, port := listenTCP(t)
	cfd, err := unix.Socket(unix.AF_INET, unix.SOCK_STREAM|unix.SOCK_NONBLOCK|unix.SOCK_CLOEXEC, 0)
	if err != nil {
		t.Fatal(err)
	}
	closeFd(t, cfd)

	addrs := newSlab[unix.RawSockaddrAny](t, 1)
	sa := slot(t, addrs)
	salen, err := PutSockaddr(sa, netip.AddrPortFrom(netip.MustParseAddr("127.0.0.1"), uint16(port)))
	if err != nil {
		t.Fatal(err)
	}
	s := sqe(t, r)
	s.PrepAccept(ln, unix.SOCK_NONBLOCK|unix.SOCK_CLOEXEC)
	s.UserData = 1
	s = sqe(t, r)
	s.PrepConnect(cfd, sa, salen)
	s.UserData = 2
	got := byUserData(t, waitCQEs(t, r, 2))
	if c := got[2]; c.Res != 0 {
		t.Fatalf("connect: %+v (%v)", c, c.Err())
	}
	acc := got[1]
	if acc.Res < 0 {
		t.Fatalf("accept: %+v (%v)", acc, acc.Err())
	}
	sfd := int(acc.Res)
	closeFd(t, sfd)

	bufs := newSlab[[64]byte](t, 2)
	out, in := slot(t, bufs), slot(t, bufs)
	msg := "hello over io_uring"
	copy(out[:], msg)
	s = sqe(t, r)
	s.PrepRecv(sfd, in[:], 0)
	s.UserData = 3
	s = sqe(t, r)
	s.PrepSend(cfd, out[:len(msg)], 0)
	s.UserData = 4
	got = byUserData(t, waitCQEs(t, r, 2))
	if c := got[4]; c.Res != int32(len(msg)) {
		t.Fatalf("send: %+v (%v)", c, c.Err())
	}
	if c := got[3]; c.Res != int32(len(msg)) || string(in[:c.Res]) != msg {
		t.Fatalf("recv: %+v %q", c, in[:max(c.Res, 0)])
	}

	// Shutdown of the client's write side reads as EOF on the server.
	s = sqe(t, r)
	s.PrepShutdown(cfd, unix.SHUT_WR)
	s.UserData = 5
	s = sqe(t, r)
	s.PrepRecv(sfd, in[:], 0)
	s.UserData = 6
	got = byUserData(t, waitCQEs(t, r, 2))
	if got[5].Res != 0 || got[6].Res != 0 {
		t.Fatalf("shutdown then recv: %+v", got)
	}
}

func TestSendmsgIovecs(t *testing.T) {
	r := newRing(t, Options{})
	sfd, client := tcpPair(t)
	parts := []string{"alpha-", "beta-", "gamma"}
	data := newSlab[[16]byte](t, len(parts))
	iovs := newSlab[[3]Iovec](t, 1)
	msgs := newSlab[Msghdr](t, 1)
	iov := slot(t, iovs)
	for i, p := range parts {
		b := slot(t, data)
		copy(b[:], p)
		iov[i].Set(b[:len(p)])
	}
	msg := slot(t, msgs)
	msg.SetIovecs(iov[:])
	s := sqe(t, r)
	s.PrepSendmsg(sfd, msg, unix.MSG_NOSIGNAL)
	s.UserData = 7
	c := waitCQE(t, r)
	want := "alpha-beta-gamma"
	if c.UserData != 7 || c.Res != int32(len(want)) {
		t.Fatalf("sendmsg: %+v (%v)", c, c.Err())
	}
	got := make([]byte, len(want))
	readFull(t, client, got)
	if string(got) != want {
		t.Fatalf("peer read %q, want %q", got, want)
	}
}

func TestMultishotAccept(t *testing.T) {
	r := newRing(t, Options{})
	ln, port := listenTCP(t)
	s := sqe(t, r)
	s.PrepMultishotAccept(ln, unix.SOCK_NONBLOCK|unix.SOCK_CLOEXEC)
	s.UserData = 42
	submit(t, r)
	const conns = 3
	for range conns {
		dial(t, port)
	}
	got := waitCQEs(t, r, conns)
	if len(got) != conns {
		t.Fatalf("want %d accepts, got %+v", conns, got)
	}
	for _, c := range got {
		if c.UserData != 42 || c.Res < 0 || !c.More() {
			t.Fatalf("accept: %+v (%v), want a fd with IORING_CQE_F_MORE", c, c.Err())
		}
		closeFd(t, int(c.Res))
	}

	// Cancelling ends the multishot: its last completion has no MORE.
	s = sqe(t, r)
	s.PrepCancel(42, 0)
	s.UserData = 43
	byUD := byUserData(t, waitCQEs(t, r, 2))
	if c := byUD[42]; c.Res != -int32(unix.ECANCELED) || c.More() {
		t.Errorf("cancelled accept: %+v", c)
	}
	if c := byUD[43]; c.Res != 0 {
		t.Errorf("cancel: %+v (%v)", c, c.Err())
	}
}

func TestCancelRecv(t *testing.T) {
	r := newRing(t, Options{})
	sfd, _ := tcpPair(t)
	bufs := newSlab[[64]byte](t, 1)
	buf := slot(t, bufs)

	// By user data.
	s := sqe(t, r)
	s.PrepRecv(sfd, buf[:], 0)
	s.UserData = 10
	submit(t, r)
	s = sqe(t, r)
	s.PrepCancel(10, 0)
	s.UserData = 11
	got := byUserData(t, waitCQEs(t, r, 2))
	if c := got[10]; c.Res != -int32(unix.ECANCELED) {
		t.Errorf("recv cancelled by user data: %+v (%v)", c, c.Err())
	}
	if c := got[11]; c.Res != 0 {
		t.Errorf("cancel by user data: %+v (%v)", c, c.Err())
	}

	// By fd.
	s = sqe(t, r)
	s.PrepRecv(sfd, buf[:], 0)
	s.UserData = 12
	submit(t, r)
	s = sqe(t, r)
	s.PrepCancelFd(sfd, 0)
	s.UserData = 13
	got = byUserData(t, waitCQEs(t, r, 2))
	if c := got[12]; c.Res != -int32(unix.ECANCELED) {
		t.Errorf("recv cancelled by fd: %+v (%v)", c, c.Err())
	}
	if c := got[13]; c.Res != 0 {
		t.Errorf("cancel by fd: %+v (%v)", c, c.Err())
	}

	// Nothing left to cancel.
	s = sqe(t, r)
	s.PrepCancel(10, 0)
	s.UserData = 14
	if c := waitCQE(t, r); c.Res != -int32(unix.ENOENT) {
		t.Errorf("cancel of nothing: %+v (%v)", c, c.Err())
	}
}

func TestSendZC(t *testing.T) {
	r := newRing(t, Options{})
	sfd, client := tcpPair(t)
	bufs := newSlab[[32]byte](t, 1)
	buf := slot(t, bufs)
	copy(buf[:], "zero copy")
	s := sqe(t, r)
	s.PrepSendZC(sfd, buf[:9], unix.MSG_NOSIGNAL)
	s.UserData = 20
	got := waitCQEs(t, r, 2)
	if len(got) != 2 {
		t.Fatalf("want 2 completions, got %+v", got)
	}
	if c := got[0]; c.UserData != 20 || c.Res != 9 || !c.More() || c.Notif() {
		t.Errorf("send_zc result: %+v (%v)", c, c.Err())
	}
	if c := got[1]; c.UserData != 20 || !c.Notif() || c.More() {
		t.Errorf("send_zc notification: %+v", c)
	}
	in := make([]byte, 9)
	readFull(t, client, in)
	if string(in) != "zero copy" {
		t.Errorf("peer read %q", in)
	}
}

func TestCloseOp(t *testing.T) {
	r := newRing(t, Options{})
	fd, err := unix.Eventfd(0, unix.EFD_CLOEXEC)
	if err != nil {
		t.Fatal(err)
	}
	s := sqe(t, r)
	s.PrepClose(fd)
	s.UserData = 30
	if c := waitCQE(t, r); c.UserData != 30 || c.Res != 0 {
		t.Fatalf("close: %+v (%v)", c, c.Err())
	}
	if _, err := unix.FcntlInt(uintptr(fd), unix.F_GETFD, 0); err != unix.EBADF {
		t.Errorf("fd still open after IORING_OP_CLOSE: %v", err)
	}
}
