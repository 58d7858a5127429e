package load

import (
	"context"
	"fmt"
	"io"
	"time"

	"servercore/internal/checkpacket"
)

// RunIdle measures memory per idle connection, the server's RSS growth per
// connection it holds: a base of o.Conns/10 connections first, so that what
// a server sets up once (loops, buffer pools, the runtime's first heap) is
// in place, then o.Conns more; every connection does one echo round trip
// (so the server has set the session up as it would for a logged-in
// player) and then holds still. RSSPerConn is the growth over the o.Conns
// divided by them; RSSPerConnCold counts from the fresh server over all of
// them, fixed costs included. The server runs the echo app.
func RunIdle(ctx context.Context, o Options) (*Result, error) {
	st := newRunState()
	size := max(o.Size, checkpacket.MinSize)
	return measureIdle(ctx, o, "idle", st, func(i int, c Conn) error {
		b := make([]byte, 2*size)
		putEcho(b[:size], uint32(i), 0)
		if err := c.SetDeadline(time.Now().Add(10 * time.Second)); err != nil {
			return err
		}
		if _, err := c.Write(b[:size]); err != nil {
			return err
		}
		if _, err := io.ReadFull(c, b[size:]); err != nil {
			return err
		}
		if err := checkEcho(b[size:], uint32(i), 0); err != nil {
			st.fail(&st.mismatches, "conn %d: %v", i, err)
		}
		return c.SetDeadline(time.Time{})
	})
}

// measureIdle measures the server's RSS growth per idle connection: a base
// of o.Conns/10 connections first, then o.Conns more, each made ready by
// setup (numbered from 0, which picks its source address) and then held
// still. mode names the measurement in errors.
func measureIdle(ctx context.Context, o Options, mode string, st *runState, setup func(i int, c Conn) error) (*Result, error) {
	if o.ServerPID <= 0 {
		return nil, fmt.Errorf("%s mode needs the server's pid", mode)
	}
	res := &Result{Options: o}
	fresh, err := ReadProc(o.ServerPID)
	if err != nil {
		return nil, err
	}
	baseConns := o.Conns / 10
	base, baseFailed, err := dialAll(ctx, o.Target, 0, baseConns, setup)
	defer abortAll(base)
	if err != nil || baseFailed > 0 {
		return nil, fmt.Errorf("%s: %d of %d base connections failed: %v", mode, baseFailed, baseConns, err)
	}
	sleepCtx(ctx, o.Warmup)
	before, err := ReadProc(o.ServerPID)
	if err != nil {
		return nil, err
	}
	conns, failed, err := dialAll(ctx, o.Target, baseConns, o.Conns, setup)
	defer abortAll(conns)
	res.DialErrors = int64(failed)
	if err != nil {
		res.FirstError = err.Error()
	}
	sleepCtx(ctx, o.Warmup)
	after, err := ReadProc(o.ServerPID)
	if err != nil {
		return nil, err
	}
	res.ServerRSSStart, res.ServerRSSEnd = before.RSS, after.RSS
	if n := o.Conns - failed; n > 0 {
		res.RSSPerConn = float64(after.RSS-before.RSS) / float64(n)
		res.RSSPerConnCold = float64(after.RSS-fresh.RSS) / float64(n+baseConns)
	}
	res.finish(st, nil)
	return res, ctx.Err()
}
