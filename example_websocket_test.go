package servercore_test

import (
	"context"
	"fmt"
	"log"
	"time"

	"github.com/gorilla/websocket"

	"servercore"
)

// A WebSocket echo server: the same handler as over TCP, addressed by a
// ws:// URL. The client here is gorilla/websocket; a browser's WebSocket
// sends the same binary messages of packets.
func ExampleNewServerService_webSocket() {
	svc, err := servercore.NewServerService("ws://127.0.0.1:0/game", servercore.Config{
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

	c, _, err := websocket.DefaultDialer.Dial("ws://"+svc.Addr().String()+"/game", nil)
	if err != nil {
		log.Fatal(err)
	}
	defer c.Close()
	// One message, two packets.
	msg := servercore.NewPacket(7, []byte("hello")).Bytes()
	msg = append(msg, servercore.NewPacket(8, []byte("again")).Bytes()...)
	c.WriteMessage(websocket.BinaryMessage, msg)

	c.SetReadDeadline(time.Now().Add(5 * time.Second))
	for got := 0; got < 2; {
		_, m, err := c.ReadMessage()
		if err != nil {
			log.Fatal(err)
		}
		for len(m) > 0 {
			id, payload, size, _, _ := servercore.NextPacket(m, servercore.MaxPacketSize)
			fmt.Printf("id %d, payload %q\n", id, payload)
			m = m[size:]
			got++
		}
	}
	// Output:
	// id 7, payload "hello"
	// id 8, payload "again"
}
