package main

import (
	"fmt"
	"slices"
	"time"

	"servercore/bench/internal/report"
)

// peerDef is one column of the comparison: a peer binary and its arguments.
type peerDef struct {
	Name   string
	Bin    string // the binary built from servers/<Bin>
	Args   []string
	Speaks []string // the transports it serves: tcp (host:port) and ws (ws:// URL)
	Apps   []string // the apps it serves, if not those of apps()'s default
}

// apps are the apps p serves: echo and broadcast, and on the servercore
// peer also the typed echo and the MMO sample, unless p says otherwise (the
// MMO peers serve the game alone).
func (p peerDef) apps() []string {
	if p.Apps != nil {
		return p.Apps
	}
	if p.Bin == "servercore" {
		return []string{"echo", "broadcast", "typed", "mmo"}
	}
	return []string{"echo", "broadcast"}
}

// The transports a scenario runs over and a peer serves.
const (
	tcp = "tcp"
	ws  = "ws"
)

var (
	tcpOnly  = []string{tcp}
	wsOnly   = []string{ws}
	tcpAndWS = []string{tcp, ws}
)

// speaks reports whether p serves transport t.
func (p peerDef) speaks(t string) bool { return slices.Contains(p.Speaks, t) }

// defaultPeers are the servers compared, the baseline first. Each servercore
// engine is one line: a column named servercore-<backend> runs the
// servercore peer with that --backend (and --peers accepts any such name
// without editing). Where an engine cannot run, its column says why instead
// of figures.
// The ws- peers serve WebSocket only, the TCP ones TCP only, servercore
// both.
var defaultPeers = []peerDef{
	{"servercore", "servercore", []string{"--backend", "std"}, tcpAndWS, nil},
	{"servercore-uring", "servercore", []string{"--backend", "uring"}, tcpAndWS, nil},
	{"netstd", "netstd", nil, tcpOnly, nil},
	{"gnet", "gnet", nil, tcpOnly, nil},
	{"nbio", "nbio", nil, tcpOnly, nil},
	{"ws-gorilla", "ws-gorilla", nil, wsOnly, nil},
	{"ws-nbio", "ws-nbio", nil, wsOnly, nil},
	{"ws-gws", "ws-gws", nil, wsOnly, nil},
	{"mmo-net", "mmonet", nil, tcpOnly, []string{"mmo"}},
	{"mmo-gnet", "mmognet", nil, tcpOnly, []string{"mmo"}},
}

// scenario is one line of the plan.
type scenario struct {
	report.Scenario
	Kind     string // "echo", "broadcast", "idle", "mmo", "mmo-idle" or "mmo-search"
	App      string // the server's --app: "echo", "broadcast", "typed" or "mmo"; only the peers that serve it run it
	Over     string // the transport: tcp or ws; empty is tcp
	Conns    int
	Inflight int
	Size     int
	Rate     float64       // broadcast: packets/s per connection; mmo: moves/s per player
	Rooms    int           // mmo: rooms of the server and the bots
	Tick     time.Duration // mmo: the server's --tick
	Steps    []int         // mmo-search: the player counts tried, smallest first, one room per 100
	MaxP99   time.Duration // mmo-search: the p99 a count must hold to pass
	Warmup   time.Duration
	Window   time.Duration
	Quick    bool // part of --quick
}

var (
	echoMetrics = []report.Metric{
		{Key: "cpu", Label: "server CPU/packet", Unit: "µs", Lower: true, Ratio: true, Chart: true},
		{Key: "pps", Label: "packets/s", Unit: "pkt/s", Ratio: true, Chart: true},
		{Key: "p50", Label: "p50", Unit: "ms", Lower: true},
		{Key: "p99", Label: "p99", Unit: "ms", Lower: true, Chart: true},
		{Key: "sys", Label: "server read/write calls/packet", Lower: true},
		{Key: "ccpu", Label: "client CPU/packet", Unit: "µs", Lower: true},
	}
	broadcastMetrics = []report.Metric{
		{Key: "cpu", Label: "server CPU/delivery", Unit: "µs", Lower: true, Ratio: true, Chart: true},
		{Key: "dps", Label: "deliveries/s", Unit: "pkt/s", Ratio: true, Chart: true},
		{Key: "p50", Label: "p50", Unit: "ms", Lower: true},
		{Key: "p99", Label: "p99 delivery", Unit: "ms", Lower: true, Chart: true},
		{Key: "rss", Label: "server RSS", Unit: "B", Lower: true, Chart: true},
		{Key: "sys", Label: "server read/write calls/delivery", Lower: true},
		{Key: "ccpu", Label: "client CPU/delivery", Unit: "µs", Lower: true},
	}
	idleMetrics = []report.Metric{
		{Key: "bpc", Label: "RSS per connection", Unit: "B", Lower: true, Ratio: true, Chart: true},
		{Key: "cold", Label: "RSS per connection from a fresh server", Unit: "B", Lower: true},
		{Key: "rss", Label: "server RSS", Unit: "B", Lower: true, Chart: true},
	}
)

var (
	mmoMetrics = []report.Metric{
		{Key: "cpu", Label: "server CPU/S_MOVE delivered", Unit: "µs", Lower: true, Ratio: true, Chart: true},
		{Key: "dps", Label: "S_MOVE delivered/s", Unit: "pkt/s", Ratio: true, Chart: true},
		{Key: "p50", Label: "move-to-seen p50", Unit: "ms", Lower: true},
		{Key: "p99", Label: "move-to-seen p99", Unit: "ms", Lower: true, Chart: true},
		{Key: "rsspp", Label: "server RSS/player", Unit: "B", Lower: true},
		{Key: "viol", Label: "violations", Lower: true},
		{Key: "ccpu", Label: "client CPU/S_MOVE", Unit: "µs", Lower: true},
	}
	mmoIdleMetrics = []report.Metric{
		{Key: "bpc", Label: "RSS per idle player", Unit: "B", Lower: true, Ratio: true, Chart: true},
		{Key: "cold", Label: "RSS per idle player from a fresh server", Unit: "B", Lower: true},
		{Key: "rss", Label: "server RSS", Unit: "B", Lower: true, Chart: true},
	}
	mmoSearchMetrics = []report.Metric{
		{Key: "players", Label: "most players held", Ratio: true, Chart: true},
		{Key: "p99", Label: "move-to-seen p99 there", Unit: "ms", Lower: true},
		{Key: "cpu", Label: "server CPU/S_MOVE there", Unit: "µs", Lower: true, Chart: true},
		{Key: "dps", Label: "S_MOVE delivered/s there", Unit: "pkt/s"},
	}
)

// mmoRoomSize is how many players a room of the MMO scenarios holds.
const mmoRoomSize = 100

// mmoPlan is the MMO sample's scenarios: the game of examples/mmo, played
// by its own bots, on the servercore peer and on the peers that play the
// same game from the same .proto.
func mmoPlan() []scenario {
	return []scenario{
		{
			Scenario: report.Scenario{
				ID:    "mmo-1000p-10r",
				Title: "MMO, 1000 players in 10 rooms, 10 moves/s each, immediate relay",
				Desc: "The MMO sample (examples/mmo) played by its own bots (examples/mmo bot.go, as servercore stress --mode mmo runs them): " +
					"1000 players log in, enter room i mod 10 (100 a room) and move 10 times a second; every move is relayed at once as an S_MOVE " +
					"to the 99 others: about 990 000 deliveries/s offered. The bots check the game (spawn before moves, none after a despawn, " +
					"every move delivered in order, each room's membership converging); a run with a violation or a lost move does not count. " +
					"Server CPU is utime+stime over the window divided by the S_MOVE seen in it; latency is from a move's sending to its being seen.",
				Metrics: mmoMetrics,
			},
			Kind: "mmo", App: "mmo", Conns: 1000, Rooms: 10, Rate: 10,
		},
		{
			Scenario: report.Scenario{
				ID:    "mmo-idle",
				Title: "MMO, memory per idle player, 10 000 players",
				Desc: "Server RSS growth over 10 000 players that each logged in and entered a room (room i mod 110, at most 100 a room) and then hold still, " +
					"divided by them, measured on a server already holding 1 000 such players. The players read their own answers only; " +
					"the spawns of later players wait in their sockets.",
				Metrics: mmoIdleMetrics,
			},
			Kind: "mmo-idle", App: "mmo", Conns: 10000, Rooms: 110,
		},
		{
			Scenario: report.Scenario{
				ID:    "mmo-tick100ms",
				Title: "MMO with --tick 100ms: the most players held",
				Desc: "The server relays each moved player's latest position once per 100 ms tick. Player counts are tried smallest first " +
					"(50, 100, 200, 400, 800, 1600, 3200, 6400; 100 a room, at least 2 rooms, 10 moves/s each, a fresh server each), until one fails: " +
					"a count holds if move-to-seen p99 is at most 150 ms and the bots see nothing but superseded moves dropped " +
					"(each player's moves in order, and the latest of each seen by all). The figure is the largest count that held; 0 if none did.",
				Metrics: mmoSearchMetrics,
			},
			Kind: "mmo-search", App: "mmo", Rate: 10, Tick: 100 * time.Millisecond,
			Steps: []int{50, 100, 200, 400, 800, 1600, 3200, 6400}, MaxP99: 150 * time.Millisecond,
		},
	}
}

// plan returns the scenarios; quick keeps the short list and shortens the
// windows.
func plan(quick bool, warmup, window time.Duration) []scenario {
	var out []scenario
	quickEcho := map[string]bool{"echo-64B-c100-p1": true, "echo-64B-c100-p16": true, "echo-64B-c1000-p16": true, "echo-1KiB-c1000-p16": true}
	for _, size := range []int{64, 1024} {
		for _, conns := range []int{100, 1000, 5000} {
			for _, inflight := range []int{1, 16} {
				sname, title := fmt.Sprintf("%dB", size), fmt.Sprintf("%d B", size)
				if size == 1024 {
					sname, title = "1KiB", "1 KiB"
				}
				id := fmt.Sprintf("echo-%s-c%d-p%d", sname, conns, inflight)
				out = append(out, scenario{
					Scenario: report.Scenario{
						ID:    id,
						Title: fmt.Sprintf("Echo %s, %d connections, %d in flight", title, conns, inflight),
						Desc: fmt.Sprintf("%d connections each keep %d packet(s) of %d bytes in flight; every echoed byte is verified. "+
							"Server CPU is utime+stime from /proc/PID/stat over the window, divided by the packets echoed in it.", conns, inflight, size),
						Metrics: echoMetrics,
					},
					Kind: "echo", App: "echo", Conns: conns, Inflight: inflight, Size: size,
					Quick: quickEcho[id],
				})
			}
		}
	}
	// The typed echo weighs the generated code (decode the C_Echo, encode
	// and send the S_Echo) against the raw echo of the same load on the
	// same server in the same run, the figure that holds on a noisy
	// machine. Only the servercore peer serves it: the others have no
	// typed messages to compare.
	for _, t := range []struct {
		size, conns, inflight int
		quick                 bool
	}{{64, 100, 16, true}} {
		twin := fmt.Sprintf("echo-%dB-c%d-p%d", t.size, t.conns, t.inflight)
		out = append(out, scenario{
			Scenario: report.Scenario{
				ID:    "typed-" + twin,
				Title: fmt.Sprintf("Typed echo %d B, %d connections, %d in flight", t.size, t.conns, t.inflight),
				Desc: fmt.Sprintf("The load of %s, each packet a C_Echo (id 1000, examples/typedecho/echopb) "+
					"whose bytes field carries a self-checking packet, %d bytes in all like the raw echo's; "+
					"the server decodes it and answers an S_Echo of the same bytes through the generated code "+
					"(examples/typedecho), and every byte of the answer is verified. servercore peers only; "+
					"the ratio to the same server's raw echo is the cost of the typed messages.", twin, t.size),
				Metrics:  echoMetrics,
				Twin:     twin,
				TwinName: "raw echo",
			},
			Kind: "echo", App: "typed", Conns: t.conns, Inflight: t.inflight, Size: t.size,
			Quick: t.quick,
		})
	}
	// Rooms of 100 and 1000 at a light load, where a delivery costs what
	// waking its receiver costs, and the room of 1000 at 2 packets/s per
	// member, 2 million deliveries/s offered: about all that client and
	// server together can carry on two cores, so what counts is delivering
	// every packet, in order, and the CPU per delivery.
	for _, b := range []struct {
		id, title string
		conns     int
		rate      float64
		quick     bool
	}{
		{"broadcast-n100", "Broadcast, one room of 100", 100, 10, true},
		{"broadcast-n1000", "Broadcast, one room of 1000", 1000, 0.1, true},
		{"broadcast-n1000-heavy", "Broadcast, one room of 1000, 2 packets/s each", 1000, 2, false},
	} {
		out = append(out, scenario{
			Scenario: report.Scenario{
				ID:    b.id,
				Title: b.title,
				Desc: fmt.Sprintf("%d connections in one room, each sending %g packets/s of 64 bytes (spread evenly), "+
					"the server sending each to all %d, the sender included: %s deliveries/s offered. "+
					"Receivers check every sender's order and that nothing is missing; latency is from send to delivery.",
					b.conns, b.rate, b.conns, report.FormatValue(float64(b.conns*b.conns)*b.rate, report.Metric{Unit: "pkt/s"})),
				Metrics: broadcastMetrics,
			},
			Kind: "broadcast", App: "broadcast", Conns: b.conns, Rate: b.rate, Size: 64, Quick: b.quick,
		})
	}
	out = append(out, scenario{
		Scenario: report.Scenario{
			ID:    "idle-10k",
			Title: "Memory per idle connection, 10 000 connections",
			Desc: "Server RSS (VmRSS) growth over 10 000 connections (from 16 loopback source addresses) " +
				"that each did one 64-byte echo and then stay idle for the settle time, divided by the connections, " +
				"measured on a server already holding 1 000 such connections, so that what a server sets up once " +
				"(loops, buffer pools, the runtime's first heap) is not counted per connection. " +
				"'From a fresh server' divides the growth since the server started by all 11 000: fixed costs included.",
			Metrics: idleMetrics,
		},
		Kind: "idle", App: "echo", Conns: 10000, Size: 64, Quick: true,
	})

	// Some of those loads again over WebSocket, against the servers that
	// speak it: the same packets, carried in binary messages.
	overWS := map[string]bool{"echo-64B-c100-p16": true, "echo-64B-c1000-p1": true, "broadcast-n100": true, "idle-10k": true}
	for _, sc := range slices.Clone(out) {
		if !overWS[sc.ID] {
			continue
		}
		sc.ID = "ws-" + sc.ID
		sc.Title += ", over WebSocket"
		per := "; figures are per packet, as over TCP. "
		if sc.Kind == "idle" {
			per = "; the server's WebSocket session counts in full. "
		}
		sc.Desc = "Over WebSocket (ws:// on loopback): the load generator's clients are github.com/gorilla/websocket clients, " +
			"each write of the load one masked binary message of whole packets, every message the server sends binary and of whole packets" +
			per + sc.Desc
		sc.Over, sc.Quick = ws, false
		out = append(out, sc)
	}
	out = append(out, mmoPlan()...)

	var sel []scenario
	for _, sc := range out {
		if quick && !sc.Quick {
			continue
		}
		sc.Warmup, sc.Window = warmup, window
		if sc.Kind == "idle" || sc.Kind == "mmo-idle" {
			sc.Warmup = max(warmup, time.Second) // settle time
		}
		sel = append(sel, sc)
	}
	return sel
}

// runsOn reports whether peer p runs sc.
func (sc scenario) runsOn(p peerDef) bool {
	return slices.Contains(p.apps(), sc.App) && p.speaks(sc.transport())
}

// transport is what sc runs over: tcp or ws.
func (sc scenario) transport() string {
	if sc.Over == "" {
		return tcp
	}
	return sc.Over
}

// withTwins returns sel with the twin of every scenario in it that has one
// added from all, just before the first scenario that needs it, so that a
// ratio to the twin is always measured in the same run.
func withTwins(sel, all []scenario) []scenario {
	var out []scenario
	have := func(id string) bool {
		return slices.ContainsFunc(sel, func(s scenario) bool { return s.ID == id }) ||
			slices.ContainsFunc(out, func(s scenario) bool { return s.ID == id })
	}
	for _, sc := range sel {
		if sc.Twin != "" && !have(sc.Twin) {
			if i := slices.IndexFunc(all, func(s scenario) bool { return s.ID == sc.Twin }); i >= 0 {
				out = append(out, all[i])
			}
		}
		out = append(out, sc)
	}
	return out
}

// rounds groups the scenarios that are measured round by round together: a
// scenario and its twin, so that their rounds interleave (twin, scenario,
// twin, scenario, ...) and the ratio between them compares runs close in
// time; every other scenario is a group of its own.
func rounds(scs []scenario) [][]scenario {
	var groups [][]scenario
	at := map[string]int{} // scenario id -> its group
	for _, sc := range scs {
		if g, ok := at[sc.Twin]; ok && sc.Twin != "" {
			groups[g] = append(groups[g], sc)
			at[sc.ID] = g
			continue
		}
		at[sc.ID] = len(groups)
		groups = append(groups, []scenario{sc})
	}
	return groups
}

// serverArgs are the arguments of the server's app, beyond --app, for a
// run of sc with conns players.
func (sc scenario) serverArgs(conns int) []string {
	if sc.App != "mmo" {
		return nil
	}
	args := []string{"--rooms", fmt.Sprint(sc.rooms(conns)), "--room-capacity", fmt.Sprint(max(mmoRoomSize, conns/sc.rooms(conns)+1))}
	if sc.Tick > 0 {
		args = append(args, "--tick", sc.Tick.String())
	}
	return args
}

// rooms are the rooms of a run of sc with conns players.
func (sc scenario) rooms(conns int) int {
	if sc.Rooms > 0 {
		return sc.Rooms
	}
	return max(2, conns/mmoRoomSize)
}

// loadArgs are the load generator's arguments for sc.
func (sc scenario) loadArgs(target string, pid int) []string {
	return sc.loadArgsFor(target, pid, sc.Conns)
}

// loadArgsFor are the load generator's arguments for a run of sc with conns
// connections (a step of a search).
func (sc scenario) loadArgsFor(target string, pid, conns int) []string {
	mode := sc.Kind
	switch {
	case sc.App == "typed":
		mode = "typed-echo"
	case sc.Kind == "mmo-search":
		mode = "mmo"
	}
	args := []string{
		"--mode", mode, "--target", target, "--conns", fmt.Sprint(conns),
		"--size", fmt.Sprint(sc.Size), "--warmup", sc.Warmup.String(), "--duration", sc.Window.String(),
		"--server-pid", fmt.Sprint(pid),
	}
	switch sc.Kind {
	case "echo":
		args = append(args, "--inflight", fmt.Sprint(sc.Inflight))
	case "broadcast":
		args = append(args, "--rate", fmt.Sprint(sc.Rate))
	case "mmo", "mmo-search":
		args = append(args, "--rate", fmt.Sprint(sc.Rate), "--rooms", fmt.Sprint(sc.rooms(conns)), "--tick", sc.Tick.String())
	case "mmo-idle":
		args = append(args, "--rooms", fmt.Sprint(sc.rooms(conns)))
	}
	return args
}
