package load

import (
	"context"
	"encoding/binary"
	"fmt"
	"sync"
	"time"

	"servercore/internal/checkpacket"
	"servercore/internal/hist"
)

// echoConn is one connection of the echo load: a closed loop that keeps
// inflight packets outstanding. One goroutine reads, verifies every echoed
// packet against the one it sent, and answers each with the next packet,
// all the replies to one read in one write.
type echoConn struct {
	typed    *typedFrame // nil: raw echo packets; else C_Echo out, S_Echo back
	st       *runState
	c        Conn
	id       uint32
	size     int
	inflight int
	rbuf     []byte
	wbuf     []byte
	sentAt   []int64 // send time of seq, at seq % inflight
	nextSend uint64
	nextRecv uint64
	hist     *hist.Hist
	count    *paddedCounter
}

func (e *echoConn) run() {
	// The first window of packets, in one write.
	t := e.st.now()
	for k := range e.inflight {
		e.put(e.wbuf[k*e.size:(k+1)*e.size], e.nextSend)
		e.sentAt[e.nextSend%uint64(e.inflight)] = t
		e.nextSend++
	}
	if _, err := e.c.Write(e.wbuf[:e.inflight*e.size]); err != nil {
		e.connFailed(err)
		return
	}
	have := 0
	for {
		n, err := e.c.Read(e.rbuf[have:])
		if err != nil {
			e.connFailed(err)
			return
		}
		have += n
		now := e.st.now()
		phase := e.st.phase.Load()
		off, k := 0, 0
		for have-off >= checkpacket.HeaderSize {
			size := int(binary.LittleEndian.Uint16(e.rbuf[off:]))
			if size != e.size {
				// The stream is out of step: nothing after this can be trusted.
				e.st.fail(&e.st.mismatches, "conn %d: echoed size field %d, want %d", e.id, size, e.size)
				abort(e.c)
				return
			}
			if have-off < size {
				break
			}
			if e.nextRecv >= e.nextSend+uint64(k) {
				e.st.fail(&e.st.mismatches, "conn %d: a packet that was never sent came back", e.id)
				abort(e.c)
				return
			}
			if err := e.check(e.rbuf[off:off+size], e.nextRecv); err != nil {
				e.st.fail(&e.st.mismatches, "conn %d: %v", e.id, err)
			}
			if phase == phaseMeasure {
				e.hist.Record(now - e.sentAt[e.nextRecv%uint64(e.inflight)])
				e.count.n.Add(1)
			}
			e.nextRecv++
			off += size
			if phase != phaseStop {
				e.put(e.wbuf[k*e.size:(k+1)*e.size], e.nextSend+uint64(k))
				k++
			}
		}
		have = copy(e.rbuf, e.rbuf[off:have])
		if k > 0 {
			t := e.st.now()
			for range k {
				e.sentAt[e.nextSend%uint64(e.inflight)] = t
				e.nextSend++
			}
			if _, err := e.c.Write(e.wbuf[:k*e.size]); err != nil {
				e.connFailed(err)
				return
			}
		}
	}
}

// put writes the packet of sequence seq into pkt, a whole packet.
func (e *echoConn) put(pkt []byte, seq uint64) {
	if e.typed != nil {
		e.typed.put(pkt, e.id, seq)
		return
	}
	putEcho(pkt, e.id, seq)
}

// check verifies that pkt, a whole packet, is the echo of sequence seq.
func (e *echoConn) check(pkt []byte, seq uint64) error {
	if e.typed != nil {
		return e.typed.check(pkt, e.id, seq)
	}
	return checkEcho(pkt, e.id, seq)
}

func (e *echoConn) connFailed(err error) {
	if e.st.phase.Load() != phaseStop {
		e.st.fail(&e.st.connErrs, "conn %d: %v", e.id, err)
	}
}

// RunEcho runs the echo load.
func RunEcho(ctx context.Context, o Options) (*Result, error) {
	if o.Size < checkpacket.MinSize || o.Size > checkpacket.MaxSize {
		return nil, fmt.Errorf("echo packet size %d outside %d..%d", o.Size, checkpacket.MinSize, checkpacket.MaxSize)
	}
	return runEcho(ctx, o, nil)
}

// runEcho runs the echo load with raw packets (typed nil) or typed ones.
func runEcho(ctx context.Context, o Options, typed *typedFrame) (*Result, error) {
	if o.Inflight < 1 || o.Conns < 1 {
		return nil, fmt.Errorf("need at least one connection and one packet in flight")
	}
	res := &Result{Options: o}
	st := newRunState()
	conns, failed, err := dialAll(ctx, o.Target, 0, o.Conns, nil)
	res.DialErrors = int64(failed)
	if err != nil {
		res.FirstError = err.Error()
	}
	var wg sync.WaitGroup
	rsize := max(4096, (o.Inflight+1)*o.Size)
	for i, c := range conns {
		if c == nil {
			continue
		}
		e := &echoConn{
			st: st, c: c, id: uint32(i), size: o.Size, inflight: o.Inflight, typed: typed,
			rbuf:   make([]byte, rsize),
			wbuf:   make([]byte, o.Inflight*o.Size),
			sentAt: make([]int64, o.Inflight),
			hist:   st.hist.Shard(i),
			count:  &st.count[i%hist.Shards],
		}
		wg.Add(1)
		go func() {
			defer wg.Done()
			e.run()
		}()
	}
	sleepCtx(ctx, o.Warmup)
	w := openWindow(st, o.ServerPID, res)
	sleepCtx(ctx, o.Duration)
	w.close(st)
	abortAll(conns)
	wg.Wait()
	res.finish(st, w)
	return res, ctx.Err()
}

func sleepCtx(ctx context.Context, d time.Duration) {
	t := time.NewTimer(d)
	defer t.Stop()
	select {
	case <-t.C:
	case <-ctx.Done():
	}
}
