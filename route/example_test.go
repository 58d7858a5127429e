package route_test

import (
	"context"
	"errors"
	"fmt"
	"io"
	"log"
	"net"
	"time"

	"servercore"
	"servercore/examples/typedecho/echopb"
	"servercore/route"
)

// echoSession is a typed server session: one method per C_ message of
// echo.proto, and servercore.BaseHandler for the lifecycle callbacks.
type echoSession struct {
	servercore.BaseHandler
}

func (echoSession) HandleC_Echo(s *servercore.Session, m *echopb.C_Echo) error {
	return echopb.SendS_Echo(s, &echopb.S_Echo{Payload: m.Payload})
}

// A typed echo server, and a typed client that sends one C_Echo and gets
// the S_Echo back.
func Example() {
	srv, err := servercore.NewServerService("127.0.0.1:0", servercore.Config{
		NewPacketSession: func() servercore.PacketHandler {
			return echopb.ServerPacketHandler(echoSession{})
		},
	})
	if err != nil {
		log.Fatal(err)
	}
	if err := srv.Start(context.Background()); err != nil {
		log.Fatal(err)
	}
	defer srv.Stop(context.Background())

	replies := make(chan *echopb.S_Echo, 1)
	cli, err := servercore.NewClientService(srv.Addr().String(), 0, servercore.Config{
		NewPacketSession: func() servercore.PacketHandler {
			return echopb.ClientPacketHandler(&echoClient{replies: replies})
		},
	})
	if err != nil {
		log.Fatal(err)
	}
	if err := cli.Start(context.Background()); err != nil {
		log.Fatal(err)
	}
	defer cli.Stop(context.Background())
	s, err := cli.Connect(context.Background())
	if err != nil {
		log.Fatal(err)
	}

	echopb.SendC_Echo(s, &echopb.C_Echo{Payload: []byte("hello")})
	fmt.Printf("%s\n", (<-replies).Payload)
	// Output: hello
}

type echoClient struct {
	servercore.BaseHandler
	replies chan<- *echopb.S_Echo
}

func (c *echoClient) HandleS_Echo(_ *servercore.Session, m *echopb.S_Echo) error {
	c.replies <- m // the message is the handler's to keep
	return nil
}

// Marshalling a message into a packet once and broadcasting it: the
// SendBuffer is shared by every session, never copied.
func ExampleMarshal() {
	b, err := echopb.MarshalS_Echo(&echopb.S_Echo{Payload: []byte("hi")})
	if err != nil {
		log.Fatal(err)
	}
	defer b.Release()
	// room.Broadcast(b) would send it to a whole servercore.Group.
	fmt.Printf("% x\n", b.Bytes())
	// Output: 08 00 e9 03 0a 02 68 69
}

// A packet that cannot be dispatched ends its session with a cause that
// wraps servercore.ErrProtocol and names the packet's id.
func ExamplePacketError() {
	srv, err := servercore.NewServerService("127.0.0.1:0", servercore.Config{
		NewPacketSession: func() servercore.PacketHandler {
			return echopb.ServerPacketHandler(&loggedSession{})
		},
	})
	if err != nil {
		log.Fatal(err)
	}
	if err := srv.Start(context.Background()); err != nil {
		log.Fatal(err)
	}
	defer srv.Stop(context.Background())

	c, err := net.Dial("tcp", srv.Addr().String())
	if err != nil {
		log.Fatal(err)
	}
	defer c.Close()
	b := servercore.NewPacket(echopb.S_EchoID, nil) // a server does not receive S_ messages
	c.Write(b.Bytes())
	b.Release()
	c.SetReadDeadline(time.Now().Add(5 * time.Second))
	io.Copy(io.Discard, c) // until the server closes
	cause := <-disconnects
	var pe *route.PacketError
	fmt.Println(errors.Is(cause, servercore.ErrProtocol), errors.As(cause, &pe) && pe.ID == echopb.S_EchoID)
	fmt.Println(cause)
	// Output:
	// true true
	// servercore: protocol error: packet id 1001 (typedecho.S_Echo): message of the wrong direction
}

var disconnects = make(chan error, 1)

type loggedSession struct{ echoSession }

func (*loggedSession) OnDisconnected(_ *servercore.Session, cause error) { disconnects <- cause }
