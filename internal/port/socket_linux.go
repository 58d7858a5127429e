package port

import (
	"net/netip"

	"golang.org/x/sys/unix"
)

// family is the socket address family of ap.
func family(ap netip.AddrPort) int {
	if ap.Addr().Is6() {
		return unix.AF_INET6
	}
	return unix.AF_INET
}

// setNoDelay turns off Nagle's algorithm, as package net does for every TCP
// connection: a game's small packets must not wait for an acknowledgement.
func setNoDelay(fd int) {
	unix.SetsockoptInt(fd, unix.IPPROTO_TCP, unix.TCP_NODELAY, 1)
}
