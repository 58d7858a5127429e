package servercore

import (
	"sync"
)

// Group is a set of sessions that receive the same broadcasts: a room, a
// zone, a match. It is safe for concurrent use. A session that disconnects
// stays a member until removed (typically from OnDisconnected); Broadcast
// skips it.
type Group struct {
	mu      sync.RWMutex
	members map[*Session]struct{}
}

// NewGroup returns an empty group.
func NewGroup() *Group { return &Group{members: make(map[*Session]struct{})} }

// Add makes s a member.
func (g *Group) Add(s *Session) {
	g.mu.Lock()
	g.members[s] = struct{}{}
	g.mu.Unlock()
}

// Remove makes s no longer a member.
func (g *Group) Remove(s *Session) {
	g.mu.Lock()
	delete(g.members, s)
	g.mu.Unlock()
}

// Len is the number of members.
func (g *Group) Len() int {
	g.mu.RLock()
	defer g.mu.RUnlock()
	return len(g.members)
}

// Broadcast sends b to every member and returns how many queued it. b is
// shared, never copied; the caller keeps its own reference.
func (g *Group) Broadcast(b *SendBuffer) int {
	g.mu.RLock()
	defer g.mu.RUnlock()
	return sendToAll(b, g.members)
}
