package port

import (
	"context"
	"errors"
	"net"
	"net/netip"
)

// Socket chores the uring and iocp engines share: both dial and accept on
// raw sockets, so each resolves addresses and reports them the way package
// net does. The socket options themselves are set in socket_linux.go and
// socket_windows.go.

// resolveTCP resolves a TCP address to dial: the first address of its host
// (127.0.0.1 when the host is empty) of the family network asks for ("tcp",
// "tcp4" or "tcp6").
func resolveTCP(ctx context.Context, network, addr string) (netip.AddrPort, error) {
	var r net.Resolver
	host, port, err := net.SplitHostPort(addr)
	if err != nil {
		return netip.AddrPort{}, err
	}
	if host == "" {
		host = "127.0.0.1"
	}
	want := "ip"
	switch network {
	case "tcp4":
		want = "ip4"
	case "tcp6":
		want = "ip6"
	}
	ips, err := r.LookupNetIP(ctx, want, host)
	if err != nil {
		return netip.AddrPort{}, err
	}
	p, err := r.LookupPort(ctx, network, port)
	if err != nil {
		return netip.AddrPort{}, err
	}
	return netip.AddrPortFrom(ips[0].Unmap(), uint16(p)), nil
}

// tcpAddr is ap as a net.Addr. When ap is not known (a connection reset
// before its address could be learned) it is the zero TCPAddr, never nil,
// so that a caller's addr.String() does not crash on a peer that left.
func tcpAddr(ap netip.AddrPort) net.Addr {
	if !ap.IsValid() {
		return &net.TCPAddr{}
	}
	return net.TCPAddrFromAddrPort(ap)
}

// PeerGone reports whether err, the error of a receive or a send, says that
// the peer is gone: it reset the connection, or it closed it and a write
// found it closed. Every engine reports these as the platform's errnos.
func PeerGone(err error) bool {
	for _, target := range peerGoneErrnos {
		if errors.Is(err, target) {
			return true
		}
	}
	return false
}
