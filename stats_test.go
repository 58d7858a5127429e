package servercore

import (
	"errors"
	"testing"

	"servercore/internal/testkit"
)

// TestStatsDisconnectsByCause: a scripted workload whose ends are known
// exactly is counted exactly, by cause.
func TestStatsDisconnectsByCause(t *testing.T) {
	testkit.ForEachBackend(t, func(t *testing.T, backend string) {
		app := newTestApp()
		cfg := app.configFor(backend)
		cfg.SendQueueLimit = 1000
		svc := startServer(t, app, cfg)
		open := func() (*testkit.Client, *testSession) {
			c := testkit.Dial(t, svc.Addr())
			c.Echo(1, nil)
			return c, app.session(t, c)
		}

		c, _ := open() // peer closes
		c.Close()
		c, _ = open() // a malformed header
		c.MustWrite([]byte{1, 0, 0, 0})
		_, ts := open() // local, no cause
		ts.s.Disconnect(nil)
		_, ts = open() // local, the application's own cause
		ts.s.Disconnect(errors.New("banned"))
		_, ts = open() // a slow reader: over the queue limit at once
		if err := ts.s.SendPacket(1, make([]byte, 2000)); !errors.Is(err, ErrSendQueueFull) {
			t.Fatalf("SendPacket over the limit: %v, want ErrSendQueueFull", err)
		}

		want := DisconnectCounts{PeerClosed: 1, Protocol: 1, Local: 1, Other: 1, SendQueueFull: 1}
		testkit.WaitFor(t, testkit.WaitLong, "every session counted", func() bool {
			d := svc.Stats().Disconnects
			return d.PeerClosed+d.Protocol+d.Local+d.Other+d.SendQueueFull == 5
		})
		if got := svc.Stats().Disconnects; got != want {
			t.Fatalf("Disconnects %+v, want %+v", got, want)
		}
	})
}

// Add sums every cause, other included, so no cause is left out of a sum.
func TestDisconnectCountsAdd(t *testing.T) {
	var d DisconnectCounts
	for _, c := range disconnectCauses {
		*c.field(&d) = uint64(len(c.name))
	}
	d.Other = 7
	var sum DisconnectCounts
	sum.Add(d)
	sum.Add(d)
	want := map[string]uint64{}
	for name, n := range d.All() {
		want[name] = 2 * n
	}
	for name, n := range sum.All() {
		if n != want[name] || n == 0 {
			t.Errorf("%s: %d, want %d", name, n, want[name])
		}
	}
}
