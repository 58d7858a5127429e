//go:build !windows

package port

import "syscall"

// peerGoneErrnos are the errors of a reset or vanished peer.
var peerGoneErrnos = []error{syscall.ECONNRESET, syscall.EPIPE, syscall.ECONNABORTED}
