package job_test

import (
	"bytes"
	"context"
	"fmt"
	"io"
	"net"
	"sync"
	"testing"
	"time"

	"servercore"
	"servercore/internal/hist"
	"servercore/job"
)

// work stands for a packet's game logic: d of computation.
func work(d time.Duration) {
	if d <= 0 {
		return
	}
	for start := time.Now(); time.Since(start) < d; {
	}
}

// serverSession replies to every packet after d of work, done where where
// says: "loop" in OnRecvPacket, on the engine's loop; "pool" or "inline"
// in a job on the player's room.
type serverSession struct {
	servercore.BaseHandler
	room *job.Queue
	d    time.Duration
}

func (h *serverSession) OnRecvPacket(s *servercore.Session, id uint16, payload []byte) {
	if h.room == nil {
		work(h.d)
		s.SendPacket(id, payload)
		return
	}
	msg := bytes.Clone(payload) // valid only during this call
	if err := h.room.Post(func() {
		work(h.d)
		s.SendPacket(id, msg)
	}); err != nil {
		s.Disconnect(err)
	}
}

// BenchmarkServer measures where a packet's job best runs, on a real
// server on loopback: 32 clients each send a packet and wait for its reply;
// the server does the packet's work on the engine's loop (loop), in a job
// on the player's room on the pool (pool), or in that job run by the
// engine's loop when the room is idle (inline), with IOThreads engine
// threads. An op is one round trip; p50 and p99 are the clients', and
// cpu-ns/op is the process's CPU per round trip, clients included.
func BenchmarkServer(b *testing.B) {
	const clients, rooms = 32, 8
	for _, d := range []time.Duration{0, 20 * time.Microsecond} {
		for _, where := range []string{"loop", "pool", "inline"} {
			for _, threads := range []int{1, 2} {
				name := fmt.Sprintf("work=%v/%s/io=%d", d, where, threads)
				b.Run(name, func(b *testing.B) {
					benchServer(b, clients, rooms, d, where, threads)
				})
			}
		}
	}
}

func benchServer(b *testing.B, clients, rooms int, d time.Duration, where string, threads int) {
	var queues []*job.Queue
	if where != "loop" {
		pool := job.NewPool(job.Options{Inline: where == "inline"})
		defer pool.Close(context.Background())
		for i := range rooms {
			queues = append(queues, pool.NewQueue(fmt.Sprint("room", i)))
		}
	}
	var mu sync.Mutex
	next := 0
	svc, err := servercore.NewServerService("127.0.0.1:0", servercore.Config{
		IOThreads: threads,
		NewPacketSession: func() servercore.PacketHandler {
			mu.Lock()
			defer mu.Unlock()
			h := &serverSession{d: d}
			if queues != nil {
				h.room = queues[next%rooms]
			}
			next++
			return h
		},
	})
	if err != nil {
		b.Fatal(err)
	}
	if err := svc.Start(context.Background()); err != nil {
		b.Fatal(err)
	}
	defer svc.Stop(context.Background())

	conns := make([]net.Conn, clients)
	for i := range conns {
		c, err := net.Dial("tcp", svc.Addr().String())
		if err != nil {
			b.Fatal(err)
		}
		defer c.Close()
		c.SetDeadline(time.Now().Add(10 * time.Minute))
		conns[i] = c
	}
	pkt := []byte{12, 0, 1, 0, 'p', 'o', 's', 'i', 't', 'i', 'o', 'n'}
	roundTrip := func(c net.Conn, back []byte) {
		if _, err := c.Write(pkt); err != nil {
			b.Error(err)
		}
		if _, err := io.ReadFull(c, back); err != nil {
			b.Error(err)
		}
	}
	for _, c := range conns { // warm up
		back := make([]byte, len(pkt))
		for range 100 {
			roundTrip(c, back)
		}
	}
	var lat hist.Sharded
	b.ResetTimer()
	cpu := cpuTime()
	var wg sync.WaitGroup
	for i, c := range conns {
		n := b.N / clients
		if i < b.N%clients {
			n++
		}
		wg.Go(func() {
			back := make([]byte, len(pkt))
			h := lat.Shard(i)
			for range n {
				start := time.Now()
				roundTrip(c, back)
				h.Record(int64(time.Since(start)))
			}
		})
	}
	wg.Wait()
	b.StopTimer()
	reportCPU(b, cpu) // the clients' CPU included, alike in every variant
	all := lat.Merged()
	b.ReportMetric(float64(all.Quantile(0.5))/1e3, "p50-µs")
	b.ReportMetric(float64(all.Quantile(0.99))/1e3, "p99-µs")
}
