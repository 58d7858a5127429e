package port

import (
	"net/netip"
	"syscall"

	"golang.org/x/sys/windows"
)

// peerGoneErrnos are the errors of a reset or vanished peer: Winsock's, the
// portable ones the iocp engine's errors also match, and the Win32 error an
// overlapped operation on a reset connection completes with.
var peerGoneErrnos = []error{
	syscall.ECONNRESET, syscall.EPIPE, syscall.ECONNABORTED,
	windows.WSAECONNRESET, windows.WSAECONNABORTED, windows.ERROR_NETNAME_DELETED,
}

// family is the socket address family of ap.
func family(ap netip.AddrPort) int32 {
	if ap.Addr().Is6() {
		return windows.AF_INET6
	}
	return windows.AF_INET
}

// setNoDelay turns off Nagle's algorithm, as package net does for every TCP
// connection: a game's small packets must not wait for an acknowledgement.
func setNoDelay(s windows.Handle) {
	windows.SetsockoptInt(s, windows.IPPROTO_TCP, windows.TCP_NODELAY, 1)
}
