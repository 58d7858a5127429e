package port

import (
	"net/netip"

	"golang.org/x/sys/windows"
)

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
