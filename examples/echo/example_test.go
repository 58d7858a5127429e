package echo_test

import (
	"context"
	"fmt"
	"log"
	"time"

	"servercore"
	"servercore/examples/echo"
	"servercore/internal/bot"
)

// An echo server on a free loopback port, and its bot checking every reply
// for half a second.
func Example() {
	svc, err := servercore.NewServerService("127.0.0.1:0", servercore.Config{NewPacketSession: echo.NewSession})
	if err != nil {
		log.Fatal(err)
	}
	ctx := context.Background()
	if err := svc.Start(ctx); err != nil {
		log.Fatal(err)
	}
	defer svc.Stop(ctx)

	res, err := bot.Stress(ctx, bot.Config{
		Target: svc.Addr().String(), Clients: 4, Duration: 500 * time.Millisecond,
		Size: 64, Inflight: 4, Backend: "auto", Drain: time.Second, ConnectTimeout: 5 * time.Second,
	}, echo.NewBot, nil)
	if err != nil {
		log.Fatal(err)
	}
	fmt.Println("clients:", res.Connected, "all back:", res.Good == res.Sent, "mismatches:", res.Mismatches)
	// Output: clients: 4 all back: true mismatches: 0
}
