package load

import (
	"context"
	"fmt"
	"io"
	"net"
	"time"
)

// RunIdle measures memory per idle connection: the server's RSS before, then
// o.Conns connections that each did one echo round trip (so the server has
// set the session up as it would for a logged-in player) and then hold
// still for o.Warmup, then the server's RSS again. The server runs the echo
// app.
func RunIdle(ctx context.Context, o Options) (*Result, error) {
	if o.ServerPID <= 0 {
		return nil, fmt.Errorf("idle mode needs the server's pid")
	}
	size := max(o.Size, MinEchoSize)
	res := &Result{Options: o}
	before, err := ReadProc(o.ServerPID)
	if err != nil {
		return nil, err
	}
	st := newRunState()
	conns, failed, err := dialAll(ctx, o.Target, o.Conns, func(i int, c *net.TCPConn) error {
		b := make([]byte, 2*size)
		PutEcho(b, size, uint32(i), 0)
		if err := c.SetDeadline(time.Now().Add(10 * time.Second)); err != nil {
			return err
		}
		if _, err := c.Write(b[:size]); err != nil {
			return err
		}
		if _, err := io.ReadFull(c, b[size:]); err != nil {
			return err
		}
		if err := CheckEcho(b[size:], size, uint32(i), 0); err != nil {
			st.fail(&st.mismatches, "conn %d: %v", i, err)
		}
		return c.SetDeadline(time.Time{})
	})
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
	}
	res.finish(st, nil)
	return res, ctx.Err()
}
