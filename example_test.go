package servercore_test

import (
	"context"
	"encoding/binary"
	"fmt"
	"io"
	"log"
	"net"
	"time"

	"servercore"
)

// GameSession is a packet handler: BaseHandler supplies the callbacks it
// does not need.
type GameSession struct {
	servercore.BaseHandler
}

// OnRecvPacket echoes every packet back to its sender.
func (GameSession) OnRecvPacket(s *servercore.Session, id uint16, payload []byte) {
	s.SendPacket(id, payload)
}

// An echo server on a free loopback port, and a plain TCP client that sends
// one packet and reads back the echo.
func ExampleNewServerService() {
	svc, err := servercore.NewServerService("127.0.0.1:0", servercore.Config{
		NewPacketSession: func() servercore.PacketHandler { return GameSession{} },
	})
	if err != nil {
		log.Fatal(err)
	}
	if err := svc.Start(context.Background()); err != nil {
		log.Fatal(err)
	}
	defer func() {
		ctx, cancel := context.WithTimeout(context.Background(), 5*time.Second)
		defer cancel()
		svc.Stop(ctx)
	}()

	conn, err := net.Dial("tcp", svc.Addr().String())
	if err != nil {
		log.Fatal(err)
	}
	defer conn.Close()

	// A packet: size (header included) and id, little-endian, then payload.
	payload := []byte("hello")
	packet := binary.LittleEndian.AppendUint16(nil, uint16(servercore.HeaderSize+len(payload)))
	packet = binary.LittleEndian.AppendUint16(packet, 7)
	packet = append(packet, payload...)
	conn.Write(packet)

	reply := make([]byte, len(packet))
	conn.SetReadDeadline(time.Now().Add(5 * time.Second))
	if _, err := io.ReadFull(conn, reply); err != nil {
		log.Fatal(err)
	}
	h := servercore.ReadPacketHeader(reply)
	fmt.Printf("size %d, id %d, payload %q\n", h.Size, h.ID, reply[servercore.HeaderSize:])
	// Output: size 9, id 7, payload "hello"
}

func ExampleNewPacket() {
	b := servercore.NewPacket(0x0102, []byte("hi"))
	defer b.Release()
	fmt.Printf("% x\n", b.Bytes())
	// Output: 06 00 02 01 68 69
}

// Building a SendBuffer in place: open it with room for the largest
// message, write, and seal it with the size actually used.
func ExampleOpenSendBuffer() {
	b := servercore.OpenSendBuffer(64)
	w := b.Buffer()
	n := copy(w[servercore.HeaderSize:], "position 3,4")
	servercore.PacketHeader{Size: uint16(servercore.HeaderSize + n), ID: 12}.Put(w)
	b.Seal(servercore.HeaderSize + n)
	defer b.Release()
	fmt.Println(b.Len(), servercore.ReadPacketHeader(b.Bytes()).ID)
	// Output: 16 12
}

func ExampleNextPacket() {
	stream := []byte{
		6, 0, 1, 0, 'h', 'i', // packet 1: size 6, id 1
		4, 0, 2, 0, // packet 2: size 4, id 2, no payload
		9, 0, 3, // the start of a third
	}
	for {
		id, payload, size, need, err := servercore.NextPacket(stream, servercore.MaxPacketSize)
		if err != nil {
			fmt.Println(err)
			return
		}
		if size == 0 {
			fmt.Printf("incomplete: %d bytes buffered, need %d\n", len(stream), need)
			return
		}
		fmt.Printf("id %d payload %q\n", id, payload)
		stream = stream[size:]
	}
	// Output:
	// id 1 payload "hi"
	// id 2 payload ""
	// incomplete: 3 bytes buffered, need 0
}

// A room: members join on connect and leave on disconnect; a broadcast
// shares one buffer among all of them.
func ExampleGroup() {
	room := servercore.NewGroup()
	svc, err := servercore.NewServerService("127.0.0.1:0", servercore.Config{
		NewPacketSession: func() servercore.PacketHandler { return &member{room: room} },
	})
	if err != nil {
		log.Fatal(err)
	}
	if err := svc.Start(context.Background()); err != nil {
		log.Fatal(err)
	}
	defer svc.Stop(context.Background())

	var conns []net.Conn
	for range 3 {
		c, err := net.Dial("tcp", svc.Addr().String())
		if err != nil {
			log.Fatal(err)
		}
		defer c.Close()
		conns = append(conns, c)
	}
	for room.Len() < 3 {
		time.Sleep(time.Millisecond)
	}
	b := servercore.NewPacket(1, []byte("welcome"))
	fmt.Println("queued on", room.Broadcast(b), "members")
	b.Release()
	for i, c := range conns {
		buf := make([]byte, servercore.HeaderSize+len("welcome"))
		c.SetReadDeadline(time.Now().Add(5 * time.Second))
		if _, err := io.ReadFull(c, buf); err != nil {
			log.Fatal(err)
		}
		fmt.Printf("member %d got %q\n", i, buf[servercore.HeaderSize:])
	}
	// Output:
	// queued on 3 members
	// member 0 got "welcome"
	// member 1 got "welcome"
	// member 2 got "welcome"
}

type member struct {
	servercore.BaseHandler
	room *servercore.Group
}

func (m *member) OnConnected(s *servercore.Session)                { m.room.Add(s) }
func (m *member) OnDisconnected(s *servercore.Session, _ error)    { m.room.Remove(s) }
func (m *member) OnRecvPacket(*servercore.Session, uint16, []byte) {}

// A server whose sessions write at most once per 50 ms tick, like a game
// server's update rate: the replies queued between two ticks leave together
// in one write.
func ExampleConfig_sendInterval() {
	svc, err := servercore.NewServerService("127.0.0.1:0", servercore.Config{
		NewPacketSession: func() servercore.PacketHandler { return GameSession{} },
		SendInterval:     50 * time.Millisecond,
	})
	if err != nil {
		log.Fatal(err)
	}
	if err := svc.Start(context.Background()); err != nil {
		log.Fatal(err)
	}
	defer svc.Stop(context.Background())

	c, err := net.Dial("tcp", svc.Addr().String())
	if err != nil {
		log.Fatal(err)
	}
	defer c.Close()
	for _, word := range []string{"move", "jump", "fire"} {
		b := servercore.NewPacket(7, []byte(word))
		c.Write(b.Bytes())
		b.Release()
	}
	buf := make([]byte, 3*(servercore.HeaderSize+4))
	c.SetReadDeadline(time.Now().Add(5 * time.Second))
	if _, err := io.ReadFull(c, buf); err != nil {
		log.Fatal(err)
	}
	for p := buf; len(p) > 0; p = p[servercore.HeaderSize+4:] {
		fmt.Printf("%s\n", p[servercore.HeaderSize:servercore.HeaderSize+4])
	}
	// Output:
	// move
	// jump
	// fire
}
