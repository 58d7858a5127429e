//go:build !linux

package servercore

// connDiag describes the socket under an engine connection; Linux only.
func connDiag(any) string { return "" }
