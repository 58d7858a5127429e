package uring

import (
	"fmt"
	"net/netip"
	"time"
	"unsafe"

	"golang.org/x/sys/unix"
)

// Timespec is struct __kernel_timespec, the time format of timeout SQEs and
// of SubmitAndWaitTimeout (64-bit fields on every architecture).
type Timespec struct {
	Sec  int64
	Nsec int64
}

// Set sets t to the duration d; a negative d counts as 0.
func (t *Timespec) Set(d time.Duration) {
	d = max(d, 0)
	t.Sec, t.Nsec = int64(d/time.Second), int64(d%time.Second)
}

// Iovec is struct iovec: the address and length of one buffer. It holds a
// raw address, invisible to the garbage collector.
type Iovec struct {
	Base uintptr
	Len  uintptr
}

// Set points v at b, which must stay valid and unmoved while the kernel
// may read it.
func (v *Iovec) Set(b []byte) {
	v.Base, v.Len = bufAddr(b), uintptr(len(b))
}

// Msghdr is struct msghdr with raw addresses: what a SENDMSG SQE points at.
// Keep it, and the iovecs it points at, off the Go heap (see Slab).
type Msghdr struct {
	Name       uintptr
	Namelen    uint32
	Iov        uintptr
	Iovlen     uintptr
	Control    uintptr
	Controllen uintptr
	Flags      int32
}

// SetIovecs points m at the iovecs iov.
func (m *Msghdr) SetIovecs(iov []Iovec) {
	m.Iov = uintptr(unsafe.Pointer(unsafe.SliceData(iov)))
	m.Iovlen = uintptr(len(iov))
}

// PutSockaddr writes ap into sa as a sockaddr_in or sockaddr_in6 and returns
// its length, for PrepConnect. IPv6 zones are not supported.
func PutSockaddr(sa *unix.RawSockaddrAny, ap netip.AddrPort) (uint32, error) {
	addr := ap.Addr()
	if addr.Zone() != "" {
		return 0, fmt.Errorf("uring: sockaddr %v: zones are not supported", ap)
	}
	*sa = unix.RawSockaddrAny{}
	port := ap.Port()
	switch {
	case addr.Is4():
		in := (*unix.RawSockaddrInet4)(unsafe.Pointer(sa))
		in.Family = unix.AF_INET
		putPort(&in.Port, port)
		in.Addr = addr.As4()
		return unix.SizeofSockaddrInet4, nil
	case addr.Is6():
		in := (*unix.RawSockaddrInet6)(unsafe.Pointer(sa))
		in.Family = unix.AF_INET6
		putPort(&in.Port, port)
		in.Addr = addr.As16()
		return unix.SizeofSockaddrInet6, nil
	}
	return 0, fmt.Errorf("uring: sockaddr %v: invalid address", ap)
}

// putPort stores port in network byte order.
func putPort(p *uint16, port uint16) {
	b := (*[2]byte)(unsafe.Pointer(p))
	b[0], b[1] = byte(port>>8), byte(port)
}
