package job_test

import (
	"context"
	"encoding/binary"
	"fmt"
	"io"
	"log"
	"net"
	"sync"
	"testing"
	"time"

	"servercore"
	"servercore/internal/testkit"
	"servercore/job"
)

// Room is game state that only its queue's jobs touch, so it needs no lock.
type Room struct {
	q       *job.Queue
	players map[*Player]int // the packets each player sent here
	left    chan int        // how many packets a leaving player had sent
}

// Player is one session's player.
type Player struct {
	s *servercore.Session
}

// chat is a packet decoded on the session's callback: its text is a copy,
// so it outlives the payload, which is valid only during the callback.
type chat struct {
	seq  uint32
	text string
}

func decodeChat(payload []byte) chat {
	return chat{seq: binary.LittleEndian.Uint32(payload), text: string(payload[4:])}
}

// PlayerSession hands every event of its session to the room as a job.
// The session's callbacks run one at a time and in order, and Post keeps
// the order of one goroutine's posts, so the room sees a player's join,
// packets and leave in the order they happened.
type PlayerSession struct {
	servercore.BaseHandler
	room   *Room
	player *Player
}

func (h *PlayerSession) OnConnected(s *servercore.Session) {
	p := &Player{s: s}
	h.player = p
	if err := h.room.q.Post(func() { h.room.players[p] = 0 }); err != nil {
		s.Disconnect(err) // the room is full of work, or closed
	}
}

func (h *PlayerSession) OnRecvPacket(s *servercore.Session, id uint16, payload []byte) {
	p, msg := h.player, decodeChat(payload) // decode before the payload goes
	err := h.room.q.Post(func() {
		if _, ok := h.room.players[p]; !ok {
			return // its join was refused
		}
		h.room.players[p]++
		p.s.SendPacket(id, fmt.Appendf(nil, "%d %s", msg.seq, msg.text))
	})
	if err != nil {
		s.Disconnect(err)
	}
}

func (h *PlayerSession) OnDisconnected(s *servercore.Session, cause error) {
	p := h.player
	// The leave must not be refused, or the room would keep a ghost: one
	// job per session may go beyond the mailbox's bound.
	h.room.q.PostUnbounded(func() {
		n, ok := h.room.players[p]
		delete(h.room.players, p)
		if ok && h.room.left != nil {
			h.room.left <- n
		}
	})
}

func sendChat(w io.Writer, seq uint32, text string) error {
	size := servercore.HeaderSize + 4 + len(text)
	b := binary.LittleEndian.AppendUint16(nil, uint16(size))
	b = binary.LittleEndian.AppendUint16(b, 1)
	b = binary.LittleEndian.AppendUint32(b, seq)
	b = append(b, text...)
	_, err := w.Write(b)
	return err
}

func readReply(r io.Reader) (string, error) {
	var h [servercore.HeaderSize]byte
	if _, err := io.ReadFull(r, h[:]); err != nil {
		return "", err
	}
	body := make([]byte, servercore.ReadPacketHeader(h[:]).Size-servercore.HeaderSize)
	_, err := io.ReadFull(r, body)
	return string(body), err
}

// A packet handler hands its packets to a room's queue: the payload is
// decoded (copied) on the callback, the room's jobs run one at a time in
// the order the packets arrived, and the disconnect reaches the room after
// the player's earlier jobs.
func Example_sessions() {
	pool := job.NewPool(job.Options{})
	defer pool.Close(context.Background())
	room := &Room{q: pool.NewQueue("lobby"), players: map[*Player]int{}, left: make(chan int, 1)}

	svc, err := servercore.NewServerService("127.0.0.1:0", servercore.Config{
		NewPacketSession: func() servercore.PacketHandler { return &PlayerSession{room: room} },
	})
	if err != nil {
		log.Fatal(err)
	}
	if err := svc.Start(context.Background()); err != nil {
		log.Fatal(err)
	}
	defer svc.Stop(context.Background())

	conn, err := net.Dial("tcp", svc.Addr().String())
	if err != nil {
		log.Fatal(err)
	}
	conn.SetDeadline(time.Now().Add(10 * time.Second))
	for i, text := range []string{"hello", "world"} {
		sendChat(conn, uint32(i), text)
	}
	for range 2 {
		reply, _ := readReply(conn)
		fmt.Println(reply)
	}
	conn.Close()
	fmt.Println("left after", <-room.left, "packets")
	// Output:
	// 0 hello
	// 1 world
	// left after 2 packets
}

// Many players in a few rooms: every player's packets reach its room in
// the order sent, with their own payloads, and its leave comes after all of
// them.
func TestSessionsMeetQueues(t *testing.T) {
	const rooms, players, packets = 4, 40, 150
	pool := job.NewPool(job.Options{})
	defer pool.Close(context.Background())

	var mu sync.Mutex // guards results, written by the rooms' leaves
	results := map[int]seen{}
	var wg sync.WaitGroup
	wg.Add(players)

	type orderedRoom struct {
		q     *job.Queue
		state map[int]*seen // per player id, touched only by the room's jobs
	}
	rs := make([]*orderedRoom, rooms)
	for i := range rs {
		rs[i] = &orderedRoom{q: pool.NewQueue(fmt.Sprint("room", i)), state: map[int]*seen{}}
	}
	var nextID sync.Mutex
	id := 0
	svc, err := servercore.NewServerService("127.0.0.1:0", servercore.Config{
		NewPacketSession: func() servercore.PacketHandler {
			nextID.Lock()
			defer nextID.Unlock()
			id++
			return &orderedSession{id: id, room: rs[id%rooms].q, state: rs[id%rooms].state,
				leave: func(player int, st seen) {
					mu.Lock()
					results[player] = st
					mu.Unlock()
					wg.Done()
				}}
		},
	})
	if err != nil {
		t.Fatal(err)
	}
	if err := svc.Start(context.Background()); err != nil {
		t.Fatal(err)
	}
	defer svc.Stop(context.Background())

	var clients sync.WaitGroup
	for range players {
		clients.Go(func() {
			conn, err := net.Dial("tcp", svc.Addr().String())
			if err != nil {
				t.Error(err)
				return
			}
			conn.SetDeadline(time.Now().Add(time.Minute))
			for seq := range uint32(packets) {
				if err := sendChat(conn, seq, fmt.Sprint("payload ", seq)); err != nil {
					t.Error(err)
				}
			}
			// Read one reply, so the packets were received, then leave.
			if _, err := readReply(conn); err != nil {
				t.Error(err)
			}
			conn.Close()
		})
	}
	clients.Wait()
	left := make(chan struct{})
	go func() { wg.Wait(); close(left) }()
	testkit.Recv(t, left, testkit.WaitLong, "every player's leave")
	for player, st := range results {
		if st.bad != nil {
			t.Errorf("player %d: %v", player, st.bad)
		} else if st.next != packets {
			t.Errorf("player %d left after %d packets, want %d", player, st.next, packets)
		}
	}
	if len(results) != players {
		t.Errorf("%d players left, want %d", len(results), players)
	}
}

// orderedSession checks, in its room's jobs, that its packets arrive in
// order and with their own payloads, and reports them when it leaves.
type orderedSession struct {
	servercore.BaseHandler
	id    int
	room  *job.Queue
	state map[int]*seen
	leave func(player int, st seen)
}

// seen is what a room knows of one player's packets.
type seen struct {
	next uint32 // the sequence number expected next
	bad  error
}

func (h *orderedSession) OnConnected(s *servercore.Session) {
	h.room.Post(func() { h.state[h.id] = &seen{} })
}

func (h *orderedSession) OnRecvPacket(s *servercore.Session, id uint16, payload []byte) {
	msg := decodeChat(payload)
	err := h.room.Post(func() {
		st := h.state[h.id]
		switch {
		case st.bad != nil:
		case msg.seq != st.next:
			st.bad = fmt.Errorf("packet %d after %d", msg.seq, st.next-1)
		case msg.text != fmt.Sprint("payload ", msg.seq):
			st.bad = fmt.Errorf("packet %d carries %q", msg.seq, msg.text)
		default:
			st.next++
		}
		if msg.seq == 0 {
			s.SendPacket(id, nil)
		}
	})
	if err != nil {
		s.Disconnect(err)
	}
}

func (h *orderedSession) OnDisconnected(s *servercore.Session, cause error) {
	h.room.PostUnbounded(func() {
		st := h.state[h.id]
		delete(h.state, h.id)
		h.leave(h.id, *st)
	})
}
