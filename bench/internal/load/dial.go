package load

import (
	"context"
	"fmt"
	"net"
	"sync"
	"sync/atomic"
	"syscall"
	"time"
)

// Sources is how many loopback source addresses (127.0.0.2 upwards) the
// generator spreads its connections over, so that thousands of connections
// do not exhaust one address's ephemeral ports.
const Sources = 16

const dialParallel = 64

// SourceAddr is the local address of connection i.
func SourceAddr(i int) *net.TCPAddr {
	return &net.TCPAddr{IP: net.IPv4(127, 0, 0, byte(2+i%Sources))}
}

// RaiseFileLimit raises the soft RLIMIT_NOFILE to the hard limit.
func RaiseFileLimit() {
	var rl syscall.Rlimit
	if err := syscall.Getrlimit(syscall.RLIMIT_NOFILE, &rl); err != nil {
		return
	}
	if rl.Cur < rl.Max {
		rl.Cur = rl.Max
		_ = syscall.Setrlimit(syscall.RLIMIT_NOFILE, &rl)
	}
}

// Dial connects one connection, the i-th, from its source address: a TCP
// connection to a host:port target, a WebSocket client to a ws:// URL.
func Dial(ctx context.Context, target string, i int) (Conn, error) {
	if IsWebSocket(target) {
		return dialWS(ctx, target, i, wsBufferSize)
	}
	c, err := dialTCP(ctx, target, i)
	if err != nil {
		return nil, err
	}
	return tcpConn{c}, nil
}

// dialTCP connects the i-th TCP connection from its source address.
func dialTCP(ctx context.Context, target string, i int) (*net.TCPConn, error) {
	d := net.Dialer{LocalAddr: SourceAddr(i), Timeout: 10 * time.Second}
	// A loopback target is never an IPv6-only name here; tcp4 keeps the
	// source and target families equal.
	c, err := d.DialContext(ctx, "tcp4", target)
	if err != nil {
		return nil, err
	}
	return c.(*net.TCPConn), nil
}

// dialAll connects n connections, numbered from first, a few at a time and
// runs setup (if not nil) on each right after it connects, in the dialing
// goroutine. It returns the connections that succeeded (nil where one
// failed) and the first error.
func dialAll(ctx context.Context, target string, first, n int, setup func(i int, c Conn) error) ([]Conn, int, error) {
	conns := make([]Conn, n)
	var next atomic.Int64
	var failed atomic.Int64
	var errOnce sync.Once
	var firstErr error
	var wg sync.WaitGroup
	for range min(dialParallel, n) {
		wg.Add(1)
		go func() {
			defer wg.Done()
			for {
				i := int(next.Add(1) - 1)
				if i >= n || ctx.Err() != nil {
					return
				}
				c, err := Dial(ctx, target, first+i)
				if err == nil && setup != nil {
					if err = setup(first+i, c); err != nil {
						abort(c)
					}
				}
				if err != nil {
					failed.Add(1)
					errOnce.Do(func() { firstErr = fmt.Errorf("connection %d: %w", first+i, err) })
					continue
				}
				conns[i] = c
			}
		}()
	}
	wg.Wait()
	return conns, int(failed.Load()), firstErr
}

// abort closes c with a reset (SO_LINGER 0), so the generator's side leaves
// no TIME_WAIT behind to hold source ports between runs.
func abort(c Conn) {
	if c != nil {
		c.Abort()
	}
}

func abortTCP(c *net.TCPConn) {
	_ = c.SetLinger(0)
	_ = c.Close()
}

func abortAll(conns []Conn) {
	for _, c := range conns {
		abort(c)
	}
}
