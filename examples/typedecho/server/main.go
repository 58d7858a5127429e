// Command server runs the typed echo server until interrupted:
//
//	go run ./examples/typedecho/server -listen 127.0.0.1:7777
package main

import (
	"context"
	"flag"
	"fmt"
	"log"
	"os"
	"os/signal"
	"syscall"
	"time"

	"servercore"
	"servercore/examples/typedecho"
)

func main() {
	listen := flag.String("listen", "127.0.0.1:7777", "address to listen on")
	backend := flag.String("backend", "auto", "engine: auto, std, uring or iocp")
	flag.Parse()

	svc, err := servercore.NewServerService(*listen, servercore.Config{
		NewPacketSession: typedecho.NewSession,
		Backend:          *backend,
	})
	if err != nil {
		log.Fatal(err)
	}
	if err := svc.Start(context.Background()); err != nil {
		log.Fatal(err)
	}
	fmt.Printf("listening on %s (backend %s)\n", svc.Addr(), svc.Backend())

	ctx, stop := signal.NotifyContext(context.Background(), os.Interrupt, syscall.SIGTERM)
	defer stop()
	<-ctx.Done()
	ctx, cancel := context.WithTimeout(context.Background(), 5*time.Second)
	defer cancel()
	if err := svc.Stop(ctx); err != nil {
		log.Fatal(err)
	}
}
