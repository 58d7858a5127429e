// Package port is servercore's completion model: an operation is registered
// together with its Event, and later the Event completes with (bytes, error)
// and is handed to its Owner's Dispatch. Three engines implement it — std on
// package net everywhere, uring on Linux, iocp on Windows — so that the
// session logic is written once against it; Choose and Start pick and start
// one, and an Engine answers for itself what it is and how it receives.
package port

import (
	"context"
	"net"
)

// EventType says which operation an Event belongs to.
type EventType uint8

// The operation kinds, as in the IOCP original.
const (
	Connect EventType = iota + 1
	Disconnect
	Accept
	Recv
	Send
)

func (t EventType) String() string {
	switch t {
	case Connect:
		return "connect"
	case Disconnect:
		return "disconnect"
	case Accept:
		return "accept"
	case Recv:
		return "recv"
	case Send:
		return "send"
	}
	return "unknown"
}

// Owner receives the completions of the operations registered with its events.
type Owner interface {
	// Dispatch handles a completion.
	Dispatch(ev *Event)
	// Gather returns the buffers a registered Send writes, in order, in one
	// gathered write: everything the owner queued by then, or what a
	// partial write left. Engines call it right before writing, on any
	// goroutine but never concurrently with the Send's completion.
	Gather(ev *Event) [][]byte
}

// Event is one reusable operation record: what the engine needs to carry
// an operation and to report its completion.
type Event struct {
	Owner Owner
	// Buf is where a Recv writes, for engines that receive into the
	// owner's memory; it must have room for at least one byte. Engines that
	// receive into memory of their own set it on completion to the bytes
	// received, valid only until Dispatch returns.
	Buf []byte
	// Err is the error of a failed operation, never folded into N.
	Err error
	// Conn is the new connection of an Accept or Connect completion.
	Conn Conn
	// N is the number of bytes transferred. A Recv that completes with
	// N == 0 and Err == nil means the peer closed the connection.
	N    int32
	Type EventType
}

// Conn is an engine's handle for one connection.
//
// Completions of one Conn are dispatched one at a time, never concurrently,
// and never from inside Recv, Send or Close: registering an operation does not
// dispatch on the caller's goroutine. At most one Recv and one Send may be
// registered at a time.
type Conn interface {
	// Recv registers a receive, into ev.Buf or into the engine's memory.
	// It is called only from the Conn's completions.
	Recv(ev *Event)
	// Send registers one gathered write of what ev.Owner.Gather returns. A
	// completion with N short of it and Err == nil is a partial write: the
	// owner registers again and gathers the rest.
	Send(ev *Event)
	// Close closes the connection. Every operation registered before Close
	// completes (with an error if it was cut short), and then ev, if not
	// nil, completes last. Close is idempotent; later calls are ignored.
	Close(ev *Event)
	// Post dispatches ev in order with the Conn's other completions: uring
	// and iocp now, on the caller's goroutine (a loop or a worker); std on
	// a goroutine of the connection's, since its caller is the accept loop.
	// The owner uses it to deliver Connect.
	Post(ev *Event)
	LocalAddr() net.Addr
	RemoteAddr() net.Addr
}

// Listener is a listening socket whose Accept completions go to one Event.
type Listener interface {
	Addr() net.Addr
	// Close stops accepting and waits until no Accept completion is running.
	Close() error
}

// Engine creates listeners and outgoing connections.
type Engine interface {
	// Name is the backend's name: "std", "uring" or "iocp".
	Name() string
	// RecvMemory reports whether Recv completions carry the bytes in the
	// engine's memory rather than in the owner's Event.Buf.
	RecvMemory() bool
	// Listen accepts connections on addr. Each accepted connection completes
	// ev with Type Accept and Conn set, one at a time; a failed accept that
	// the engine survives completes ev with Err set. The owner must take
	// ev.Conn before its Dispatch returns.
	Listen(network, addr string, ev *Event) (Listener, error)
	// Connect dials addr and completes ev with Type Connect: on success
	// ev.Conn is set and the completion is dispatched through ev.Conn's Post;
	// on failure ev.Err is set.
	Connect(ctx context.Context, network, addr string, ev *Event)
	// Close waits until every goroutine the engine started has returned.
	// Listeners and connections must be closed first.
	Close() error
}

// Advance drops the first n bytes of bufs, the part a partial write took,
// and returns the rest. It reslices the first remaining buffer in place.
func Advance(bufs [][]byte, n int) [][]byte {
	for n > 0 && len(bufs) > 0 {
		if n < len(bufs[0]) {
			bufs[0] = bufs[0][n:]
			break
		}
		n -= len(bufs[0])
		bufs = bufs[1:]
	}
	return bufs
}
