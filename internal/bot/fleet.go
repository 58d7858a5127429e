package bot

import (
	"sync"

	"servercore"
)

// Bot is an application's client: a packet handler built on Client.
type Bot interface {
	servercore.PacketHandler
	base() *Client
}

// Fleet is a driver's clients, numbered from 0 in the order the client
// service makes them. A driver embeds it.
type Fleet[B Bot] struct {
	mu      sync.Mutex // guards clients while the service makes sessions
	clients []B
}

// Add makes b the next client of run, numbered after those made before,
// and returns it.
func (f *Fleet[B]) Add(run *Run, b B) B {
	f.mu.Lock()
	defer f.mu.Unlock()
	c := b.base()
	c.ID, c.Run = uint32(len(f.clients)), run
	f.clients = append(f.clients, b)
	return b
}

// List is the clients made so far.
func (f *Fleet[B]) List() []B {
	f.mu.Lock()
	defer f.mu.Unlock()
	return f.clients
}

// Received implements Driver: the data packets the clients received.
func (f *Fleet[B]) Received() uint64 {
	var n uint64
	for _, b := range f.List() {
		n += b.base().Arrived.Load()
	}
	return n
}

// Connected implements Driver.
func (f *Fleet[B]) Connected() int {
	n := 0
	for _, b := range f.List() {
		if b.base().Connected { // set by OnConnected before Start returned
			n++
		}
	}
	return n
}
