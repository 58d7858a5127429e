package servercore_test

import (
	"context"
	"errors"
	"fmt"
	"log"
	"os"
	"os/signal"
	"syscall"
	"time"

	"servercore"
)

// Bot is the handler of one client session: it says hello on connect and
// reports the echo it gets back.
type Bot struct {
	servercore.BaseHandler
	got chan<- string
}

func (b *Bot) OnConnected(s *servercore.Session) { s.SendPacket(1, []byte("hello")) }

func (b *Bot) OnRecvPacket(s *servercore.Session, id uint16, payload []byte) {
	b.got <- string(payload) // copied: payload is valid only during the call
	s.Disconnect(nil)
}

// Bots on a client service: three sessions connect to an echo server, each
// sends a packet from OnConnected and checks the reply.
func ExampleNewClientService() {
	server, err := servercore.NewServerService("127.0.0.1:0", servercore.Config{
		NewPacketSession: func() servercore.PacketHandler { return GameSession{} },
	})
	if err != nil {
		log.Fatal(err)
	}
	if err := server.Start(context.Background()); err != nil {
		log.Fatal(err)
	}
	got := make(chan string, 3)
	bots, err := servercore.NewClientService(server.Addr().String(), 3, servercore.Config{
		NewPacketSession: func() servercore.PacketHandler { return &Bot{got: got} },
	})
	if err != nil {
		log.Fatal(err)
	}
	if err := bots.Start(context.Background()); err != nil {
		log.Fatal(err) // the sessions that failed to connect, by reason
	}
	for range 3 {
		fmt.Println(<-got)
	}
	ctx, cancel := context.WithTimeout(context.Background(), 5*time.Second)
	defer cancel()
	bots.Stop(ctx)
	server.Stop(ctx)
	// Output:
	// hello
	// hello
	// hello
}

// Kicker sends an error reply and ends the session once it is written.
type Kicker struct{ servercore.BaseHandler }

var errKicked = errors.New("kicked: bad login")

func (Kicker) OnRecvPacket(s *servercore.Session, id uint16, payload []byte) {
	s.SendPacket(2, []byte("bad login"))
	s.DisconnectAfterSends(errKicked, 2*time.Second)
}

// A kick that delivers its reason: DisconnectAfterSends writes what was
// queued, then closes the connection with the cause given.
func ExampleSession_DisconnectAfterSends() {
	ended := make(chan error, 1)
	server, err := servercore.NewServerService("127.0.0.1:0", servercore.Config{
		NewPacketSession: func() servercore.PacketHandler { return Kicker{} },
	})
	if err != nil {
		log.Fatal(err)
	}
	server.Start(context.Background())
	got := make(chan string, 1)
	client, _ := servercore.NewClientService(server.Addr().String(), 0, servercore.Config{
		NewPacketSession: func() servercore.PacketHandler {
			return &recorder{got: got, ended: ended}
		},
	})
	client.Start(context.Background())
	s, err := client.Connect(context.Background())
	if err != nil {
		log.Fatal(err)
	}
	s.SendPacket(1, []byte("login"))
	fmt.Println("reply:", <-got)
	fmt.Println("client's session ended by its peer:", errors.Is(<-ended, servercore.ErrPeerClosed))
	ctx, cancel := context.WithTimeout(context.Background(), 5*time.Second)
	defer cancel()
	client.Stop(ctx)
	server.Stop(ctx)
	// Output:
	// reply: bad login
	// client's session ended by its peer: true
}

// recorder passes on the first packet it gets and the cause its session
// ended with.
type recorder struct {
	servercore.BaseHandler
	got   chan<- string
	ended chan<- error
}

func (r *recorder) OnRecvPacket(s *servercore.Session, id uint16, payload []byte) {
	r.got <- string(payload)
}

func (r *recorder) OnDisconnected(s *servercore.Session, cause error) { r.ended <- cause }

// Shutting down on SIGINT or SIGTERM: every session writes what it queued,
// for up to ten seconds, and the rest are cut.
func ExampleService_Stop() {
	svc, err := servercore.NewServerService(":7777", servercore.Config{
		NewPacketSession: func() servercore.PacketHandler { return GameSession{} },
	})
	if err != nil {
		log.Fatal(err)
	}
	ctx, stop := signal.NotifyContext(context.Background(), os.Interrupt, syscall.SIGTERM)
	defer stop()
	if err := svc.Start(ctx); err != nil {
		log.Fatal(err)
	}
	<-ctx.Done()
	stopCtx, cancel := context.WithTimeout(context.Background(), 10*time.Second)
	defer cancel()
	if err := svc.Stop(stopCtx); err != nil {
		log.Printf("stop: %v", err) // some sessions were cut at the deadline
	}
}
