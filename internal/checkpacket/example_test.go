package checkpacket_test

import (
	"fmt"

	"servercore/internal/checkpacket"
)

func Example() {
	pkt := make([]byte, 64)
	checkpacket.Put(pkt, checkpacket.Fields{Conn: 7, Seq: 1, SentAt: 1500})
	size, id := checkpacket.ReadHeader(pkt)
	f, err := checkpacket.Check(id, pkt[checkpacket.HeaderSize:])
	fmt.Println(size, f, err)

	pkt[40] ^= 1 // one bit changed on the way
	_, err = checkpacket.Check(id, pkt[checkpacket.HeaderSize:])
	fmt.Println(err)
	// Output:
	// 64 {7 1 1500} <nil>
	// corrupted fill bytes
}
