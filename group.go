package servercore

import (
	"iter"
	"sync"
)

// Group is a set of sessions that receive the same broadcasts: a room, a
// zone, a match. It is safe for concurrent use. A session that disconnects
// stays a member until removed, which its handler's OnDisconnected does;
// Broadcast skips it meanwhile.
type Group struct {
	mu      sync.RWMutex
	members map[*Session]struct{}
}

// NewGroup returns an empty group.
func NewGroup() *Group { return &Group{members: make(map[*Session]struct{})} }

// Add makes s a member and reports true, or reports false and does nothing
// if s is no longer connected: a session whose OnDisconnected may already
// have run is never added, so no closed session is held.
func (g *Group) Add(s *Session) bool {
	g.mu.Lock()
	defer g.mu.Unlock()
	if !s.Connected() {
		return false
	}
	g.members[s] = struct{}{}
	return true
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

// Members yields the sessions that were members when the loop began, in no
// particular order; the loop may Add and Remove members.
func (g *Group) Members() iter.Seq[*Session] {
	return func(yield func(*Session) bool) {
		g.mu.RLock()
		list := make([]*Session, 0, len(g.members))
		for s := range g.members {
			list = append(list, s)
		}
		g.mu.RUnlock()
		for _, s := range list {
			if !yield(s) {
				return
			}
		}
	}
}

// Broadcast sends b to every member and returns how many queued it. b is
// shared, never copied; the caller keeps its own reference.
func (g *Group) Broadcast(b *SendBuffer) int {
	g.mu.RLock()
	defer g.mu.RUnlock()
	return sendToAll(b, g.members, nil)
}

// BroadcastExcept sends b to every member but except (the sender, say) and
// returns how many queued it.
func (g *Group) BroadcastExcept(b *SendBuffer, except *Session) int {
	g.mu.RLock()
	defer g.mu.RUnlock()
	return sendToAll(b, g.members, except)
}
