package broadcast_test

import (
	"context"
	"fmt"
	"log"
	"time"

	"servercore"
	"servercore/examples/broadcast"
	"servercore/internal/bot"
)

// A broadcast server on a free loopback port, and its bot: five clients in
// one room, each sending 20 packets a second for half a second.
func Example() {
	svc, err := servercore.NewServerService("127.0.0.1:0", servercore.Config{NewPacketSession: broadcast.NewSession})
	if err != nil {
		log.Fatal(err)
	}
	ctx := context.Background()
	if err := svc.Start(ctx); err != nil {
		log.Fatal(err)
	}
	defer svc.Stop(ctx)

	res, err := bot.Stress(ctx, bot.Config{
		Target: svc.Addr().String(), Clients: 5, Duration: 500 * time.Millisecond,
		Size: 64, Inflight: 4, Rate: 20, Backend: "auto", Drain: time.Second, ConnectTimeout: 5 * time.Second,
	}, broadcast.NewBot, nil)
	if err != nil {
		log.Fatal(err)
	}
	fmt.Println("clients:", res.Connected, "everyone got everything:", res.Good == 5*res.Sent, "lost:", res.Lost)
	// Output: clients: 5 everyone got everything: true lost: 0
}
