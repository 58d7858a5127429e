package load

import (
	"context"
	"encoding/binary"
	"errors"
	"fmt"
	"net"
	"sync"
	"sync/atomic"
	"time"

	"servercore/internal/checkpacket"
	"servercore/internal/hist"
)

// After the window, the broadcast run waits for what was sent to arrive
// while deliveries keep coming, at most drainMax; a gap of drainStall with
// none arriving ends the wait, and what is missing then counts as lost.
const (
	drainMax   = 30 * time.Second
	drainStall = 2 * time.Second
)

// bcastConn is one member of the broadcast room: its reader checks every
// packet it gets, each sender's packets in order with none missing.
type bcastConn struct {
	st       *runState
	c        Conn
	id       uint32
	size     int
	rbuf     []byte
	next     []uint32 // the next data seq expected from each sender
	synced   bool
	syncs    *atomic.Int64
	received atomic.Uint64 // data packets received, all phases
	hist     *hist.Hist
	count    *paddedCounter
}

func (b *bcastConn) run() {
	have := 0
	for {
		n, err := b.c.Read(b.rbuf[have:])
		if err != nil {
			if b.st.phase.Load() != phaseStop {
				b.st.fail(&b.st.connErrs, "conn %d: %v", b.id, err)
			}
			return
		}
		have += n
		now := b.st.now()
		phase := b.st.phase.Load()
		off := 0
		var got, inWindow uint64
		for have-off >= checkpacket.HeaderSize {
			size := int(binary.LittleEndian.Uint16(b.rbuf[off:]))
			if size != b.size {
				b.st.fail(&b.st.mismatches, "conn %d: size field %d, want %d", b.id, size, b.size)
				abort(b.c)
				return
			}
			if have-off < size {
				break
			}
			f, err := readPacket(b.rbuf[off : off+size])
			off += size
			switch {
			case err != nil:
				b.st.fail(&b.st.mismatches, "conn %d: %v", b.id, err)
			case f.Conn == pingConn:
				if !b.synced {
					b.synced = true
					b.syncs.Add(1)
				}
			case int(f.Conn) >= len(b.next):
				b.st.fail(&b.st.mismatches, "conn %d: sender %d out of range", b.id, f.Conn)
			default:
				if exp := b.next[f.Conn]; exp != f.Seq {
					b.st.fail(&b.st.orderErrs, "conn %d: from %d got seq %d, want %d", b.id, f.Conn, f.Seq, exp)
				}
				b.next[f.Conn] = f.Seq + 1
				got++
				if phase == phaseMeasure {
					inWindow++ // delivered in the window: throughput
				}
				if b.st.sentInWindow(f.SentAt) {
					b.hist.Record(now - f.SentAt) // sent in the window: latency, however late it comes
				}
			}
		}
		have = copy(b.rbuf, b.rbuf[off:have])
		if got > 0 {
			b.received.Add(got)
		}
		if inWindow > 0 {
			b.count.n.Add(inWindow)
		}
	}
}

// RunBroadcast runs the broadcast load: every connection sends o.Rate
// packets per second (evenly spread over the room), the server sends each
// to every connection, the sender included.
func RunBroadcast(ctx context.Context, o Options) (*Result, error) {
	if o.Size < checkpacket.MinSize || o.Size > checkpacket.MaxSize {
		return nil, fmt.Errorf("broadcast packet size %d outside %d..%d", o.Size, checkpacket.MinSize, checkpacket.MaxSize)
	}
	if o.Conns < 1 || o.Rate <= 0 {
		return nil, fmt.Errorf("need at least one connection and a positive rate")
	}
	res := &Result{Options: o}
	st := newRunState()
	conns, failed, err := dialAll(ctx, o.Target, 0, o.Conns, nil)
	res.DialErrors = int64(failed)
	if err != nil {
		res.FirstError = err.Error()
		abortAll(conns)
		return res, nil
	}
	var syncs atomic.Int64
	members := make([]*bcastConn, len(conns))
	var wg sync.WaitGroup
	for i, c := range conns {
		m := &bcastConn{
			st: st, c: c, id: uint32(i), size: o.Size,
			rbuf:  make([]byte, max(16<<10, 4*o.Size)),
			next:  make([]uint32, len(conns)),
			syncs: &syncs,
			hist:  st.hist.Shard(i),
			count: &st.count[i%hist.Shards],
		}
		members[i] = m
		wg.Add(1)
		go func() {
			defer wg.Done()
			m.run()
		}()
	}
	defer func() {
		abortAll(conns)
		wg.Wait()
	}()

	// Every member is in the room once it got a ping from connection 0.
	pkt := make([]byte, o.Size)
	deadline := time.Now().Add(10 * time.Second)
	for seq := uint32(0); syncs.Load() < int64(len(conns)); seq++ {
		if time.Now().After(deadline) || ctx.Err() != nil {
			res.ConnErrors++
			res.FirstError = fmt.Sprintf("only %d of %d connections got a broadcast within 10s", syncs.Load(), len(conns))
			st.phase.Store(phaseStop)
			return res, nil
		}
		putBroadcast(pkt, pingConn, seq, st.now())
		if _, err := conns[0].Write(pkt); err != nil {
			res.ConnErrors++
			res.FirstError = "ping: " + err.Error()
			st.phase.Store(phaseStop)
			return res, nil
		}
		time.Sleep(20 * time.Millisecond)
	}

	seqs := make([]uint32, len(conns))
	var sentTotal, sentInWindow atomic.Uint64
	pacerDone := make(chan struct{})
	go func() {
		defer close(pacerDone)
		pace(st, conns, o, seqs, pkt, &sentTotal, &sentInWindow)
	}()
	sleepCtx(ctx, o.Warmup)
	w := openWindow(st, o.ServerPID, res)
	sleepCtx(ctx, o.Duration)
	w.close(st)
	<-pacerDone

	// Let what was sent arrive, as long as it keeps arriving, then count
	// what never did.
	want := sentTotal.Load() * uint64(len(conns))
	received := func() uint64 {
		var n uint64
		for _, m := range members {
			n += m.received.Load()
		}
		return n
	}
	got, lastGot := received(), uint64(0)
	lastProgress, giveUp := time.Now(), time.Now().Add(drainMax)
	for got < want && ctx.Err() == nil && time.Now().Before(giveUp) && time.Since(lastProgress) < drainStall {
		time.Sleep(10 * time.Millisecond)
		if got = received(); got != lastGot {
			lastGot, lastProgress = got, time.Now()
		}
	}
	if got < want {
		res.Lost = int64(want - got)
		st.firstErr.CompareAndSwap(nil, ptr(fmt.Sprintf("%d of %d deliveries never arrived", want-got, want)))
	}
	res.Sent = sentInWindow.Load()
	res.finish(st, w)
	return res, ctx.Err()
}

func ptr[T any](v T) *T { return &v }

// pace sends o.Rate packets per second from each connection, spread evenly:
// the k-th packet of the room goes out at k/(conns*rate) seconds, from
// connection k mod conns.
func pace(st *runState, conns []Conn, o Options, seqs []uint32, pkt []byte, total, inWindow *atomic.Uint64) {
	perSec := o.Rate * float64(len(conns))
	start := time.Now()
	var k uint64
	for {
		phase := st.phase.Load()
		if phase == phaseStop {
			return
		}
		due := uint64(time.Since(start).Seconds() * perSec)
		for ; k < due; k++ {
			s := int(k % uint64(len(conns)))
			putBroadcast(pkt, uint32(s), seqs[s], st.now())
			if _, err := conns[s].Write(pkt); err != nil {
				if !errors.Is(err, net.ErrClosed) && st.phase.Load() != phaseStop {
					st.fail(&st.connErrs, "send from %d: %v", s, err)
				}
				return
			}
			seqs[s]++
			total.Add(1)
			if phase == phaseMeasure {
				inWindow.Add(1)
			}
		}
		time.Sleep(time.Millisecond)
	}
}
