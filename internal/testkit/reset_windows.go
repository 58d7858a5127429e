package testkit

import "syscall"

// ResetErrors are the errors a connection reset by its peer wraps. A reset
// reaches package net as WSAECONNRESET, or WSAECONNABORTED when the local
// stack ended the connection.
var ResetErrors = []error{syscall.ECONNRESET, syscall.WSAECONNRESET, syscall.WSAECONNABORTED}
