package servercore

import "syscall"

func init() {
	// A reset reaches package net as WSAECONNRESET, or WSAECONNABORTED when
	// the local stack ended the connection.
	resetErrors = append(resetErrors, syscall.WSAECONNRESET, syscall.WSAECONNABORTED)
}
