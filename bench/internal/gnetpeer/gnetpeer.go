// Package gnetpeer holds what the gnet peers share: a logger that keeps
// gnet's messages off stdout, and the address a listener of port 0 bound.
package gnetpeer

import (
	"fmt"
	"net"
	"os"
	"strconv"
	"syscall"

	"github.com/panjf2000/gnet/v2"
)

// Logger keeps gnet's warnings and errors on stderr, off the stdout the
// harness reads the "listening on" line from.
type Logger struct{}

func (Logger) Debugf(string, ...any) {}
func (Logger) Infof(string, ...any)  {}
func (Logger) Warnf(f string, a ...any) {
	fmt.Fprintf(os.Stderr, "gnet: warning: "+f+"\n", a...)
}
func (Logger) Errorf(f string, a ...any) { fmt.Fprintf(os.Stderr, "gnet: error: "+f+"\n", a...) }
func (Logger) Fatalf(f string, a ...any) {
	fmt.Fprintf(os.Stderr, "gnet: fatal: "+f+"\n", a...)
	os.Exit(1)
}

// ListenAddr finds the port gnet bound, for a listen address with port 0.
func ListenAddr(eng gnet.Engine, want string) (string, error) {
	host, port, err := net.SplitHostPort(want)
	if err != nil {
		return "", err
	}
	if port != "0" {
		return want, nil
	}
	fd, err := eng.Dup()
	if err != nil {
		return "", err
	}
	defer syscall.Close(fd)
	sa, err := syscall.Getsockname(fd)
	if err != nil {
		return "", err
	}
	switch a := sa.(type) {
	case *syscall.SockaddrInet4:
		return net.JoinHostPort(host, strconv.Itoa(a.Port)), nil
	case *syscall.SockaddrInet6:
		return net.JoinHostPort(host, strconv.Itoa(a.Port)), nil
	}
	return "", fmt.Errorf("unexpected listener address %T", sa)
}
