package main

import (
	"context"
	"fmt"
	"io"
	"text/tabwriter"
	"time"

	"servercore/examples/mmo"
)

// runGameDemo runs the MMO sample: a game server and o.clients bots against
// it, and returns the exit code: 0 only if the bots found no violation.
func runGameDemo(ctx context.Context, o demoOptions, stdout, stderr io.Writer) int {
	srv, err := startServer(ctx, serveOptions{listen: "127.0.0.1:0", app: "mmo", backend: o.backend,
		rooms: o.rooms, roomCapacity: mmo.DefaultRoomCapacity, tick: o.tick}, nil)
	if err != nil {
		fmt.Fprintf(stderr, "%s demo: %v\n", programName, err)
		return exitFailed
	}
	relay := "every move relayed at once"
	if o.tick > 0 {
		relay = fmt.Sprintf("the latest moves relayed every %v", o.tick)
	}
	fmt.Fprintf(stdout, "servercore demo: the MMO sample, %d bots in %d rooms for %v, %s\n", o.clients, o.rooms, o.duration, relay)
	fmt.Fprintf(stdout, "game server listening on %s (backend %s)\n", srv.Addr(), srv.Backend())

	cfg := o.stressConfig("mmo", srv.Addr().String(), o.duration)
	live := new(mmo.Live)
	cfg.mmo.Live = live
	var progress func(time.Duration, uint64)
	if isTerminal(stdout) {
		progress = gameProgressLine(stdout, srv.game, live)
	}
	rep, err := stress(ctx, cfg, progress)
	if progress != nil {
		fmt.Fprintf(stdout, "\r%90s\r", "") // clear the progress line
	}
	stopCtx, cancel := context.WithTimeout(context.Background(), defaultStopTimeout)
	defer cancel()
	game := srv.game.Stats()
	if stopErr := srv.Stop(stopCtx); stopErr != nil && err == nil {
		err = fmt.Errorf("stop server: %w", stopErr)
	}
	if err != nil {
		fmt.Fprintf(stderr, "%s demo: %v\n", programName, err)
		return exitFailed
	}
	if err := writeGameSummary(stdout, rep, game); err != nil {
		fmt.Fprintf(stderr, "%s demo: %v\n", programName, err)
		return exitFailed
	}
	if !rep.ok() || rep.Interrupted {
		return exitFailed
	}
	return exitOK
}

// gameProgressLine returns a progress callback that rewrites one terminal
// line with the players in rooms, the rooms, the moves seen a second since
// the last call and the latency's p99 so far.
func gameProgressLine(w io.Writer, g *mmo.Game, live *mmo.Live) func(time.Duration, uint64) {
	var lastAt time.Duration
	var last uint64
	return func(elapsed time.Duration, _ uint64) {
		seen := live.Seen()
		rate := 0.0
		if dt := (elapsed - lastAt).Seconds(); dt > 0 {
			rate = float64(seen-last) / dt
		}
		lastAt, last = elapsed, seen
		st := g.Stats()
		fmt.Fprintf(w, "\rmmo %5.1fs  %5d players, %4d in rooms  %9.0f deliveries/s  p99 %8v ",
			elapsed.Seconds(), st.Players, st.InRooms, rate, live.P99().Round(time.Microsecond))
	}
}

// writeGameSummary prints what the bots saw, what the server counted and
// the verdict.
func writeGameSummary(w io.Writer, r *report, g mmo.Stats) error {
	tw := tabwriter.NewWriter(w, 0, 0, 2, ' ', 0)
	fmt.Fprintln(tw, "bots\trooms\tmoves/s\tdeliveries/s\tp50 µs\tp99 µs\tmax µs\terrors\tviolations")
	fmt.Fprintf(tw, "%d\t%d\t%.0f\t%.0f\t%.1f\t%.1f\t%.1f\t%d\t%d\n", r.Connected, r.Rooms, r.MovesPerSec,
		r.PacketsPerSec, r.P50us, r.P99us, r.MaxUs, r.Errors, r.Mismatches)
	fmt.Fprintln(tw)
	fmt.Fprintln(tw, "server\tlogins\tenters\tleaves\tmoves\trelayed\tchats\trelayed\tdropped")
	fmt.Fprintf(tw, "game\t%d\t%d\t%d\t%d\t%d\t%d\t%d\t%d\n", g.Logins, g.Enters, g.Leaves, g.Moves, g.MovesSent,
		g.Chats, g.ChatsSent, g.InvalidMoves+g.InvalidChats+g.LimitedMoves+g.LimitedChats+g.OutOfRoom+g.RoomBusy)
	if err := tw.Flush(); err != nil {
		return fmt.Errorf("write summary: %w", err)
	}
	verdict := r.verdict()
	if r.FirstError != "" {
		verdict += "\nfirst error: " + r.FirstError
	}
	if r.FirstMismatch != "" {
		verdict += "\nfirst violation: " + r.FirstMismatch
	}
	_, err := fmt.Fprintf(w, "\n%s\n", verdict)
	return err
}
