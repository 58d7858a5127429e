//go:build !linux && !windows

package testkit

// backends are the engines of the other systems: only the portable one.
var backends = []string{"std"}
