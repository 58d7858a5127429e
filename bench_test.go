package servercore

import (
	"context"
	"io"
	"net"
	"runtime"
	"testing"
	"time"

	"servercore/internal/testkit"
)

// BenchmarkNextPacket cuts a buffer of 1000 64-byte packets.
func BenchmarkNextPacket(b *testing.B) {
	var stream []byte
	for i := range 1000 {
		stream = testkit.AppendPacket(stream, uint16(i), testkit.Payload(i, 64-HeaderSize))
	}
	b.SetBytes(int64(len(stream)))
	b.ReportAllocs()
	for b.Loop() {
		n := 0
		for data := stream; ; {
			_, _, size, _, err := NextPacket(data, MaxPacketSize)
			if err != nil || size == 0 {
				break
			}
			data = data[size:]
			n++
		}
		if n != 1000 {
			b.Fatalf("cut %d packets", n)
		}
	}
}

// BenchmarkNewPacketRelease takes a 64-byte packet from the SendBuffer pool
// and gives it back.
func BenchmarkNewPacketRelease(b *testing.B) {
	payload := testkit.Payload(1, 60)
	b.Run("serial", func(b *testing.B) {
		b.ReportAllocs()
		for b.Loop() {
			NewPacket(1, payload).Release()
		}
	})
	b.Run("parallel", func(b *testing.B) {
		b.ReportAllocs()
		b.RunParallel(func(pb *testing.PB) {
			for pb.Next() {
				NewPacket(1, payload).Release()
			}
		})
	})
	b.Run("large", func(b *testing.B) {
		big := make([]byte, 32<<10)
		b.ReportAllocs()
		for b.Loop() {
			NewPacket(1, big).Release()
		}
	})
}

// BenchmarkRecvBuffer runs the receive buffer's cycle: a read of a few
// packets' worth, consumption of the whole ones, Clean.
func BenchmarkRecvBuffer(b *testing.B) {
	rb := newRecvBuffer(4096, 1024, 4096+MaxPacketSize)
	chunk := make([]byte, 1000)
	b.SetBytes(int64(len(chunk)))
	b.ReportAllocs()
	for b.Loop() {
		n := copy(rb.WriteSlice(), chunk)
		rb.OnWrite(n)
		rb.OnRead(rb.Len() / 64 * 64) // whole 64-byte packets
		if rb.Len() > 0 {
			rb.Reserve(64)
		}
		rb.Clean()
	}
}

// benchEcho is a minimal echo handler.
type benchEcho struct{ BaseHandler }

func (benchEcho) OnRecvPacket(s *Session, id uint16, payload []byte) { s.SendPacket(id, payload) }

// BenchmarkSessionEcho64 runs a packet session's receive-and-reply path on a
// fake connection: a 64-byte packet arrives, the handler replies with
// SendPacket, the write completes. No network, so allocs/op is the
// session's own.
func BenchmarkSessionEcho64(b *testing.B) {
	h := newHarness(b, Config{NewPacketSession: func() PacketHandler { return benchEcho{} }})
	s, fc := h.connect()
	pkt := testkit.AppendPacket(nil, 1, testkit.Payload(1, 64-HeaderSize))
	b.SetBytes(int64(len(pkt)))
	b.ReportAllocs()
	for b.Loop() {
		ev := fc.takeRecv()
		ev.N = int32(copy(ev.Buf, pkt))
		s.dispatch(ev)
		fc.mu.Lock()
		sev := fc.send
		fc.send = nil
		fc.mu.Unlock()
		n := 0
		for _, p := range sev.Owner.Gather(sev) {
			n += len(p)
		}
		sev.N = int32(n)
		s.dispatch(sev)
	}
}

// BenchmarkEchoRoundTrip64 sends one 64-byte packet to an echo server over
// loopback and reads it back, on each engine available here. The client (a
// plain net.Conn with its buffers made up front) does not allocate, so
// server-allocs/op, the process's heap allocations per round trip, is the
// server's figure.
func BenchmarkEchoRoundTrip64(b *testing.B) {
	for _, backend := range testkit.Backends() {
		b.Run(backend, func(b *testing.B) {
			if err := testkit.Probe(backend); err != nil {
				b.Skipf("engine %q unavailable here: %v", backend, err)
			}
			benchEchoRoundTrip64(b, backend)
		})
	}
}

// startBenchServer starts a server with cfg; the benchmark's cleanup stops
// it.
func startBenchServer(b *testing.B, cfg Config) *Service {
	svc, err := NewServerService("127.0.0.1:0", cfg)
	if err != nil {
		b.Fatal(err)
	}
	if err := svc.Start(context.Background()); err != nil {
		b.Fatal(err)
	}
	b.Cleanup(func() { svc.Stop(context.Background()) })
	return svc
}

func benchEchoRoundTrip64(b *testing.B, backend string) {
	svc := startBenchServer(b, Config{
		Backend:          backend,
		NewPacketSession: func() PacketHandler { return benchEcho{} },
	})
	c, err := net.Dial("tcp", svc.Addr().String())
	if err != nil {
		b.Fatal(err)
	}
	defer c.Close()
	c.SetDeadline(time.Now().Add(10 * time.Minute))
	pkt := testkit.AppendPacket(nil, 1, testkit.Payload(1, 64-HeaderSize))
	back := make([]byte, len(pkt))
	roundTrip := func() {
		if _, err := c.Write(pkt); err != nil {
			b.Fatal(err)
		}
		if _, err := io.ReadFull(c, back); err != nil {
			b.Fatal(err)
		}
	}
	for range 1000 { // warm the pools and buffers up
		roundTrip()
	}
	b.SetBytes(int64(len(pkt)))
	b.ReportAllocs()
	var before, after runtime.MemStats
	runtime.ReadMemStats(&before)
	b.ResetTimer()
	for range b.N {
		roundTrip()
	}
	b.StopTimer()
	runtime.ReadMemStats(&after)
	b.ReportMetric(float64(after.Mallocs-before.Mallocs)/float64(b.N), "server-allocs/op")
}

// benchBroadcast broadcasts every packet it receives to every session.
type benchBroadcast struct{ BaseHandler }

func (benchBroadcast) OnRecvPacket(s *Session, id uint16, payload []byte) {
	b := NewPacket(id, payload)
	s.Service().Broadcast(b)
	b.Release()
}

// BenchmarkBroadcast64 has one client send 64-byte packets to a broadcast
// server that 100 clients read from, on each engine here, with writes at
// once and held for 5 ms send ticks. An op is one broadcast;
// server-allocs/delivery counts the process's heap allocations per packet
// delivered (the clients read into buffers made up front).
func BenchmarkBroadcast64(b *testing.B) {
	for _, backend := range testkit.Backends() {
		for _, interval := range []time.Duration{0, 5 * time.Millisecond} {
			b.Run(backend+"/SendInterval="+interval.String(), func(b *testing.B) {
				if err := testkit.Probe(backend); err != nil {
					b.Skipf("engine %q unavailable here: %v", backend, err)
				}
				benchBroadcast64(b, backend, interval)
			})
		}
	}
}

func benchBroadcast64(b *testing.B, backend string, interval time.Duration) {
	const clients, batch = 100, 50
	svc := startBenchServer(b, Config{
		Backend:          backend,
		SendInterval:     interval,
		NewPacketSession: func() PacketHandler { return benchBroadcast{} },
	})
	pkt := testkit.AppendPacket(nil, 1, testkit.Payload(1, 64-HeaderSize))
	got := make(chan int, clients)
	conns := make([]net.Conn, clients)
	for i := range conns {
		c, err := net.Dial("tcp", svc.Addr().String())
		if err != nil {
			b.Fatal(err)
		}
		defer c.Close()
		c.SetDeadline(time.Now().Add(10 * time.Minute))
		conns[i] = c
		go func() { // read and count whole packets until closed
			buf := make([]byte, 64<<10)
			n := 0
			for {
				m, err := c.Read(buf)
				n += m
				for n >= len(pkt) {
					n -= len(pkt)
					got <- 1
				}
				if err != nil {
					return
				}
			}
		}()
	}
	for svc.Stats().Sessions < clients {
		time.Sleep(time.Millisecond)
	}
	msg := make([]byte, 0, batch*len(pkt))
	for range batch {
		msg = append(msg, pkt...)
	}
	// round broadcasts batch packets and waits until every client has them.
	round := func(n int) {
		if _, err := conns[0].Write(msg[:n*len(pkt)]); err != nil {
			b.Fatal(err)
		}
		for range n * clients {
			<-got
		}
	}
	for range 20 { // warm the pools and the sessions' queues up
		round(batch)
	}
	b.ReportAllocs()
	var before, after runtime.MemStats
	runtime.ReadMemStats(&before)
	b.ResetTimer()
	for done := 0; done < b.N; done += batch {
		round(min(batch, b.N-done))
	}
	b.StopTimer()
	runtime.ReadMemStats(&after)
	b.ReportMetric(float64(after.Mallocs-before.Mallocs)/float64(b.N*clients), "server-allocs/delivery")
}
