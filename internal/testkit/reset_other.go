//go:build !windows

package testkit

import "syscall"

// ResetErrors are the errors a connection reset by its peer wraps.
var ResetErrors = []error{syscall.ECONNRESET}
