package port_test

// Tests of the engines through their exported API only, outside the
// package, so that they can use internal/testkit, which imports the
// package.

import (
	"net"
	"sync/atomic"
	"testing"
	"time"

	"servercore/internal/port"
	"servercore/internal/testkit"
)

// closeOwner closes every connection it accepts.
type closeOwner struct{ accepted atomic.Int64 }

func (o *closeOwner) Dispatch(ev *port.Event) {
	if ev.Conn != nil {
		o.accepted.Add(1)
		ev.Conn.Close(nil)
	}
}

func (o *closeOwner) Gather(*port.Event) [][]byte { return nil }

// TestUringListenerCloseWhileAccepting closes a listener while connections
// pour in and are handed from the accepting loop to the others: Close
// returns, and once the engine is closed no descriptor is left.
func TestUringListenerCloseWhileAccepting(t *testing.T) {
	if err := port.ProbeUring(); err != nil {
		t.Skipf("io_uring unavailable: %v", err)
	}
	before := testkit.FdCount()
	if before < 0 {
		t.Fatal("cannot count the open descriptors in /proc/self/fd")
	}
	e, err := port.NewUring(3)
	if err != nil {
		t.Fatal(err)
	}
	o := &closeOwner{}
	ln, err := e.Listen("tcp", "127.0.0.1:0", &port.Event{Type: port.Accept, Owner: o})
	if err != nil {
		t.Fatal(err)
	}
	addr := ln.Addr().String()
	stop := make(chan struct{})
	dialed := make(chan int)
	for range 4 {
		go func() {
			n := 0
			for i := 0; i < 500; i++ {
				select {
				case <-stop:
					dialed <- n
					return
				default:
				}
				if c, err := net.Dial("tcp", addr); err == nil {
					c.Close()
					n++
				}
			}
			dialed <- n
		}()
	}
	for o.accepted.Load() < 100 {
		time.Sleep(time.Millisecond)
	}
	closed := make(chan struct{})
	go func() { ln.Close(); close(closed) }()
	select {
	case <-closed:
	case <-time.After(10 * time.Second):
		t.Fatal("Listener.Close did not return while connections were being handed off")
	}
	close(stop)
	for range 4 {
		<-dialed
	}
	e.Close()
	if after := testkit.FdCount(); after > before {
		t.Errorf("%d descriptors open after the engine closed, %d before", after, before)
	}
}
