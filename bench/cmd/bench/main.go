// Command bench runs servercore side by side with the Go networking
// libraries people use today (a goroutine-per-connection server on package
// net, gnet v2, nbio; over WebSocket gorilla/websocket, nbio's websocket
// and gws) and writes a report: a Markdown table and an SVG chart per
// scenario. The ws- scenarios run the same loads over WebSocket against the
// peers that speak it (--only '^ws-' selects them).
//
// Run it from the bench module:
//
//	cd bench && go run ./cmd/bench            # the full run, 3 rounds
//	cd bench && go run ./cmd/bench --quick    # under 2 minutes, for development
//	go -C bench run ./cmd/bench --quick       # the same, from the repository root
//
// It builds the peer servers and the load generator, checks that every peer
// answers every app it serves correctly (a peer that does not is reported
// and not timed), then runs every scenario with the servers interleaved
// (A B C D, A B C D, ...) for several rounds. The typed echo, an app only
// the servercore peer serves, runs on the servercore columns alone, its
// rounds interleaved with those of its raw echo twin, and is reported as a
// ratio to that twin, server by server. Each run starts the server, checks the
// app it serves, runs the load generator in a process of its own (which
// samples the server's CPU time and RSS from /proc at the edges of the
// measured window), and stops the server.
package main

import (
	"context"
	"encoding/json"
	"errors"
	"flag"
	"fmt"
	"os"
	"os/exec"
	"os/signal"
	"path/filepath"
	"regexp"
	"slices"
	"strings"
	"syscall"
	"time"

	"servercore/bench/internal/load"
	"servercore/bench/internal/report"
	"servercore/bench/internal/sysinfo"
)

type options struct {
	quick   bool
	rounds  int
	out     string
	peers   string
	backend string
	only    string
	warmup  time.Duration
	window  time.Duration
	publish bool
	list    bool
	render  string
}

func main() {
	var o options
	flag.BoolVar(&o.quick, "quick", false, "the short plan in one round, under 2 minutes")
	flag.IntVar(&o.rounds, "rounds", 0, "rounds (default 3, or 1 with --quick)")
	flag.StringVar(&o.out, "out", "", "report folder (default results/<timestamp> in the bench module)")
	flag.StringVar(&o.peers, "peers", "", "comma-separated servers to compare, baseline first (default servercore,servercore-uring,netstd,gnet,nbio; servercore-<backend> is servercore on that engine, options -threads<N> and -tick<DUR> set Config.IOThreads and SendInterval)")
	flag.StringVar(&o.backend, "backend", "std", "engine of the baseline servercore column: std, uring or auto")
	flag.StringVar(&o.only, "only", "", "run only the scenarios whose id matches this regular expression (and the raw twin of a typed one)")
	flag.DurationVar(&o.warmup, "warmup", 0, "warm-up before each measured window (default 1s, or 0.5s with --quick)")
	flag.DurationVar(&o.window, "window", 0, "measured window (default 3s, or 1.5s with --quick)")
	flag.BoolVar(&o.publish, "publish", false, "also write ../BENCHMARKS.md and the charts into charts/")
	flag.BoolVar(&o.list, "list", false, "list the scenarios and exit")
	flag.StringVar(&o.render, "render", "", "only render the report again from DIR/results.json (with --publish: publish it)")
	flag.Parse()
	if err := run(o); err != nil {
		fmt.Fprintln(os.Stderr, "bench:", err)
		os.Exit(1)
	}
}

func run(o options) error {
	started := time.Now()
	if o.render != "" {
		return render(o)
	}
	if o.rounds <= 0 {
		o.rounds = 3
		if o.quick {
			o.rounds = 1
		}
	}
	if o.warmup <= 0 {
		o.warmup = time.Second
		if o.quick {
			o.warmup = 500 * time.Millisecond
		}
	}
	if o.window <= 0 {
		o.window = 3 * time.Second
		if o.quick {
			o.window = 1500 * time.Millisecond
		}
	}
	scenarios := plan(o.quick, o.warmup, o.window)
	if o.only != "" {
		re, err := regexp.Compile(o.only)
		if err != nil {
			return err
		}
		all := scenarios
		scenarios = withTwins(slices.DeleteFunc(slices.Clone(all), func(sc scenario) bool { return !re.MatchString(sc.ID) }), all)
	}
	if o.list {
		for _, sc := range scenarios {
			fmt.Printf("%-24s %s\n", sc.ID, sc.Title)
		}
		return nil
	}
	if len(scenarios) == 0 {
		return errors.New("no scenario selected")
	}
	peers, err := selectPeers(o.peers, o.backend)
	if err != nil {
		return err
	}
	// A scenario of an app or transport only some peers serve runs on those
	// alone, and says which; one that none of the selected peers serves is
	// dropped.
	var served []scenario
	for _, sc := range scenarios {
		var on []string
		for _, p := range peers {
			if sc.runsOn(p) {
				on = append(on, p.Name)
			}
		}
		if len(on) == 0 {
			progress("skipping %s: none of the selected peers serves its app %q over %s", sc.ID, sc.App, sc.transport())
			continue
		}
		if sc.Peers = nil; len(on) < len(peers) {
			sc.Peers = on
		}
		served = append(served, sc)
	}
	if scenarios = served; len(scenarios) == 0 {
		return errors.New("none of the selected peers serves the selected scenarios")
	}
	modDir, err := benchModuleDir()
	if err != nil {
		return err
	}
	if o.out == "" {
		o.out = filepath.Join(modDir, "results", started.Format("20060102-150405"))
	}
	if err := os.MkdirAll(o.out, 0o755); err != nil {
		return err
	}
	logf, err := os.Create(filepath.Join(o.out, "servers.log"))
	if err != nil {
		return err
	}
	defer logf.Close()
	load.RaiseFileLimit()

	ctx, stop := signal.NotifyContext(context.Background(), os.Interrupt, syscall.SIGTERM)
	defer stop()

	binDir, err := os.MkdirTemp("", "servercore-bench-")
	if err != nil {
		return err
	}
	defer os.RemoveAll(binDir)
	progress("building the peers and the load generator into %s", binDir)
	build := exec.CommandContext(ctx, "go", "build", "-o", binDir+string(filepath.Separator), "./servers/...", "./cmd/loadgen")
	build.Dir = modDir
	build.Stdout, build.Stderr = os.Stderr, os.Stderr
	if err := build.Run(); err != nil {
		return fmt.Errorf("build: %w", err)
	}

	rep := &report.Report{
		Command:   commandLine(),
		Started:   started,
		Rounds:    o.rounds,
		Machine:   sysinfo.Machine(),
		Library:   libraryRev(filepath.Dir(modDir)),
		Baseline:  peers[0].Name,
		Preflight: map[string]string{},
		Notes: []string{
			"Load generator: bench/cmd/loadgen (bench/internal/load), one process per run, apart from the server; " +
				"it verifies every byte of every packet it gets back and samples the server's /proc/PID/stat (utime+stime, 100 Hz ticks), VmRSS and /proc/PID/io at the edges of the window. " +
				"'read/write calls' are syscr+syscw of /proc/PID/io: read- and write-class system calls (read, readv, write, writev, sendmsg...); io_uring operations are not among them, so the uring engine shows almost none.",
			"Every peer frames packets ([size u16 LE][id u16 LE][payload]) and closes a connection whose header says size < 4; " +
				"echo peers copy each packet into their reply and write the replies to one read together (servercore: SendPacket, gathered by the library).",
			fmt.Sprintf("Each run: start the server, check its app's correctness, warm up %s, measure %s, stop it. Interleaved: every server once per round, %d round(s).", o.warmup, o.window, o.rounds),
		},
	}
	for _, p := range peers {
		rep.Peers = append(rep.Peers, p.Name)
		if p.Bin == "servercore" {
			rep.Notes = append(rep.Notes, fmt.Sprintf("%s runs the servercore library with %s.", p.Name, strings.Join(p.Args, " ")))
		}
	}
	transports := usedTransports(scenarios)
	if slices.Contains(transports, ws) {
		rep.Notes = append(rep.Notes, "WebSocket scenarios (ws-*): each server listens on ws://127.0.0.1:PORT/bench; "+
			"the load generator's clients are github.com/gorilla/websocket clients sending masked binary messages of whole packets, "+
			"and the correctness checks also send a packet cut into 3-byte frames of one message and messages of many packets.")
	}
	for _, sc := range scenarios {
		rep.Scenarios = append(rep.Scenarios, sc.Scenario)
	}
	save := func() error {
		rep.Elapsed = time.Since(started)
		b, err := json.MarshalIndent(rep, "", "  ")
		if err != nil {
			return err
		}
		return os.WriteFile(filepath.Join(o.out, "results.json"), b, 0o644)
	}

	// Correctness of every app a peer serves, over each transport the
	// selected scenarios use, before anything is timed. A peer that fails
	// over one transport is still timed over the other.
	var timed []peerDef
	failedOver := map[string]map[string]bool{} // peer -> transport -> failed its check
	for _, p := range peers {
		var why []string
		passed := 0
		for _, t := range transports {
			if !p.speaks(t) {
				continue
			}
			apps := peerApps(p, t)
			if err := preflight(ctx, binDir, p, t, apps, logf); err != nil {
				progress("%s FAILED the correctness check over %s: %v", p.Name, t, err)
				why = append(why, fmt.Sprintf("over %s: %v", t, err))
				if failedOver[p.Name] == nil {
					failedOver[p.Name] = map[string]bool{}
				}
				failedOver[p.Name][t] = true
				continue
			}
			progress("%s passed the correctness check over %s (%s)", p.Name, t, strings.Join(apps, ", "))
			passed++
		}
		if len(why) > 0 {
			rep.Preflight[p.Name] = strings.Join(why, "; ")
		}
		if passed > 0 {
			timed = append(timed, p)
		}
	}
	runs := func(sc scenario, p peerDef) bool { return sc.runsOn(p) && !failedOver[p.Name][sc.transport()] }

	total := 0
	for _, sc := range scenarios {
		for _, p := range timed {
			if runs(sc, p) {
				total += o.rounds
			}
		}
	}
	n := 0
	stopNotes := map[string]bool{}
	for _, group := range rounds(scenarios) {
		for round := 1; round <= o.rounds; round++ {
			for _, sc := range group {
				for _, p := range timed {
					if !runs(sc, p) {
						continue
					}
					if ctx.Err() != nil {
						return ctx.Err()
					}
					n++
					r, note := runOne(ctx, binDir, sc, p, round, logf)
					if note != "" && !stopNotes[note] {
						stopNotes[note] = true
						rep.Notes = append(rep.Notes, "Seen during the run: "+note)
					}
					rep.Runs = append(rep.Runs, r)
					progress("[%d/%d] %s round %d %s: %s", n, total, sc.ID, round, p.Name, describe(sc, r))
					if err := save(); err != nil {
						return err
					}
				}
			}
		}
	}
	if err := save(); err != nil {
		return err
	}
	if err := writeReport(rep, o.out, o.publish, modDir); err != nil {
		return err
	}
	progress("report written to %s (took %s)", o.out, time.Since(started).Round(time.Second))
	return nil
}

// writeReport writes report.md and the charts into dir, publishes them if
// asked, and prints the Markdown.
func writeReport(rep *report.Report, dir string, pub bool, modDir string) error {
	md := rep.Markdown("")
	if err := os.WriteFile(filepath.Join(dir, "report.md"), []byte(md), 0o644); err != nil {
		return err
	}
	for _, sc := range rep.Scenarios {
		if err := os.WriteFile(filepath.Join(dir, sc.ID+".svg"), []byte(rep.SVG(sc)), 0o644); err != nil {
			return err
		}
	}
	if pub {
		if err := publish(rep, modDir); err != nil {
			return err
		}
	}
	fmt.Print(md)
	return nil
}

// render writes the report of an earlier run again, from its results.json.
func render(o options) error {
	b, err := os.ReadFile(filepath.Join(o.render, "results.json"))
	if err != nil {
		return err
	}
	var rep report.Report
	if err := json.Unmarshal(b, &rep); err != nil {
		return err
	}
	// Titles, descriptions and columns as the current plan words them.
	for i, sc := range rep.Scenarios {
		for _, cur := range plan(false, 0, 0) {
			if cur.ID == sc.ID {
				cur.Peers = sc.Peers // the peers that ran it then
				rep.Scenarios[i] = cur.Scenario
			}
		}
	}
	modDir := ""
	if o.publish {
		if modDir, err = benchModuleDir(); err != nil {
			return err
		}
	}
	return writeReport(&rep, o.render, o.publish, modDir)
}

// libraryRev names the servercore commit in root, and says so when the
// library's tracked files have changes not committed.
func libraryRev(root string) string {
	out, err := exec.Command("git", "-C", root, "log", "-1", "--format=%h %s").Output()
	if err != nil {
		return "unknown (not a git checkout)"
	}
	rev := strings.TrimSpace(string(out))
	st, err := exec.Command("git", "-C", root, "status", "--porcelain", "--untracked-files=no", "--", ".", ":(exclude)bench").Output()
	if err == nil && len(strings.TrimSpace(string(st))) > 0 {
		rev += " (with uncommitted changes)"
	}
	return "commit " + rev
}

// selectPeers turns --peers and --backend into the comparison's columns.
func selectPeers(list, backend string) ([]peerDef, error) {
	peers := slices.Clone(defaultPeers)
	for i := range peers {
		if peers[i].Name == "servercore" {
			peers[i].Args = []string{"--backend", backend}
		}
	}
	if list == "" {
		return peers, nil
	}
	var out []peerDef
	for name := range strings.SplitSeq(list, ",") {
		name = strings.TrimSpace(name)
		if name == "" {
			continue
		}
		i := slices.IndexFunc(peers, func(p peerDef) bool { return p.Name == name })
		switch {
		case i >= 0:
			out = append(out, peers[i])
		case strings.HasPrefix(name, "servercore-"):
			p, err := servercorePeer(name)
			if err != nil {
				return nil, err
			}
			out = append(out, p)
		default:
			return nil, fmt.Errorf("unknown peer %q", name)
		}
	}
	if len(out) == 0 {
		return nil, errors.New("no peer selected")
	}
	return out, nil
}

// servercorePeer is the servercore peer a name asks for:
// servercore-<backend>, optionally followed by -threads<N> (Config.IOThreads)
// and -tick<DURATION> (Config.SendInterval), as in servercore-uring-tick20ms.
func servercorePeer(name string) (peerDef, error) {
	parts := strings.Split(strings.TrimPrefix(name, "servercore-"), "-")
	args := []string{"--backend", parts[0]}
	for _, p := range parts[1:] {
		switch {
		case strings.HasPrefix(p, "threads"):
			args = append(args, "--io-threads", strings.TrimPrefix(p, "threads"))
		case strings.HasPrefix(p, "tick"):
			args = append(args, "--send-interval", strings.TrimPrefix(p, "tick"))
		default:
			return peerDef{}, fmt.Errorf("peer %q: unknown option %q (want threads<N> or tick<DURATION>)", name, p)
		}
	}
	return peerDef{name, "servercore", args, tcpAndWS, nil}, nil
}

// benchModuleDir finds the bench module: the working directory or one of
// its parents, or ./bench below it.
func benchModuleDir() (string, error) {
	wd, err := os.Getwd()
	if err != nil {
		return "", err
	}
	isBench := func(dir string) bool {
		b, err := os.ReadFile(filepath.Join(dir, "go.mod"))
		return err == nil && strings.Contains(string(b), "module servercore/bench\n")
	}
	for dir := wd; ; dir = filepath.Dir(dir) {
		if isBench(dir) {
			return dir, nil
		}
		if sub := filepath.Join(dir, "bench"); isBench(sub) {
			return sub, nil
		}
		if filepath.Dir(dir) == dir {
			return "", errors.New("run from the bench module (cd bench && go run ./cmd/bench)")
		}
	}
}

func commandLine() string {
	args := []string{"go", "run", "./cmd/bench"}
	return strings.Join(append(args, os.Args[1:]...), " ")
}

func progress(format string, args ...any) {
	fmt.Fprintf(os.Stderr, "%s "+format+"\n", append([]any{time.Now().Format(time.TimeOnly)}, args...)...)
}

// check checks the app a server at addr serves; tick is an mmo server's.
func check(ctx context.Context, app, addr string, tick time.Duration) error {
	ctx, cancel := context.WithTimeout(ctx, time.Minute)
	defer cancel()
	switch app {
	case "mmo":
		return load.CheckMMOServer(ctx, addr, tick)
	case "broadcast":
		return load.CheckBroadcastServer(ctx, addr)
	case "typed":
		return load.CheckTypedEchoServer(ctx, addr)
	}
	return load.CheckEchoServer(ctx, addr)
}

// peerApps are the apps p serves over transport t: all of its apps over
// TCP, and echo and broadcast over WebSocket, the ws- scenarios' apps.
func peerApps(p peerDef, t string) []string {
	if !p.speaks(t) {
		return nil
	}
	if t == tcp {
		return p.apps()
	}
	var apps []string
	for _, a := range p.apps() {
		if a == "echo" || a == "broadcast" {
			apps = append(apps, a)
		}
	}
	return apps
}

// usedTransports are the transports scs run over, tcp first.
func usedTransports(scs []scenario) []string {
	var out []string
	for _, t := range []string{tcp, ws} {
		if slices.ContainsFunc(scs, func(sc scenario) bool { return sc.transport() == t }) {
			out = append(out, t)
		}
	}
	return out
}

// preflight checks the apps of a peer over transport t.
func preflight(ctx context.Context, binDir string, p peerDef, t string, apps []string, log *os.File) error {
	for _, app := range apps {
		s, err := startServer(binDir, p, app, t, nil, log)
		if err != nil {
			return err
		}
		err = check(ctx, app, s.addr, 0)
		stopErr := s.stop()
		if err != nil {
			return fmt.Errorf("%s: %w", app, err)
		}
		if stopErr != nil {
			return fmt.Errorf("%s: %w", app, stopErr)
		}
	}
	return nil
}

// runOne measures one peer in one scenario. The note, if any, is something
// worth reporting that did not spoil the measurement.
func runOne(ctx context.Context, binDir string, sc scenario, p peerDef, round int, log *os.File) (report.Run, string) {
	r := report.Run{Scenario: sc.ID, Peer: p.Name, Round: round}
	if sc.Kind == "mmo-search" {
		return search(ctx, binDir, sc, p, r, log)
	}
	res, note, err := measure(ctx, binDir, sc, p, sc.Conns, true, log)
	if err != nil {
		r.Failed = err.Error()
		return r, ""
	}
	r.Values = values(sc, res)
	return r, note
}

// measure starts p for sc, checks it if asked, runs the load generator with
// conns connections and stops it. The error says why the run does not count;
// the note, if any, is something worth reporting that did not spoil it.
func measure(ctx context.Context, binDir string, sc scenario, p peerDef, conns int, checkFirst bool, log *os.File) (*load.Result, string, error) {
	s, err := startServer(binDir, p, sc.App, sc.transport(), sc.serverArgs(conns), log)
	if err != nil {
		return nil, "", fmt.Errorf("start: %w", err)
	}
	if checkFirst {
		if err := check(ctx, sc.App, s.addr, sc.Tick); err != nil {
			_ = s.stop()
			return nil, "", fmt.Errorf("correctness check: %w", err)
		}
	}
	res, err := loadgen(ctx, binDir, sc, conns, s, log)
	alive := s.alive()
	stopErr := s.stop()
	switch {
	case !alive:
		return nil, "", stopErr
	case err != nil:
		return nil, "", fmt.Errorf("load generator: %w", err)
	case res.Failed():
		return res, "", errors.New(failure(res))
	}
	note := ""
	if stopErr != nil {
		note = stopErr.Error()
	}
	return res, note, nil
}

// search runs sc's steps on p, smallest first, until one fails, and reports
// the largest that held: zero violations and a p99 within sc.MaxP99.
func search(ctx context.Context, binDir string, sc scenario, p peerDef, r report.Run, log *os.File) (report.Run, string) {
	r.Values = map[string]float64{"players": 0}
	var notes []string
	for i, n := range sc.Steps {
		if ctx.Err() != nil {
			break
		}
		res, note, err := measure(ctx, binDir, sc, p, n, i == 0, log)
		if note != "" {
			notes = append(notes, note)
		}
		if err == nil && res.P99 > float64(sc.MaxP99.Microseconds()) {
			err = fmt.Errorf("p99 %.0f ms > %v", res.P99/1e3, sc.MaxP99)
		}
		if err != nil {
			progress("%s %s: %d players do not hold: %v", sc.ID, p.Name, n, err)
			if i == 0 && res == nil { // not a count that did not hold: a run that could not be made
				r.Failed = err.Error()
				r.Values = nil
			}
			break
		}
		progress("%s %s: %d players hold (p99 %.1f ms)", sc.ID, p.Name, n, res.P99/1e3)
		r.Values = map[string]float64{"players": float64(n), "p99": res.P99 / 1e3, "cpu": res.ServerCPUPerPkt, "dps": res.PerSec}
	}
	return r, strings.Join(notes, "; ")
}

// loadgen runs the load generator against s with conns connections and
// decodes its result.
func loadgen(ctx context.Context, binDir string, sc scenario, conns int, s *server, log *os.File) (*load.Result, error) {
	ctx, cancel := context.WithTimeout(ctx, sc.Warmup+sc.Window+2*time.Minute)
	defer cancel()
	cmd := exec.CommandContext(ctx, filepath.Join(binDir, "loadgen"), sc.loadArgsFor(s.addr, s.pid(), conns)...)
	var stderr strings.Builder
	cmd.Stderr = &stderr
	out, err := cmd.Output()
	if stderr.Len() > 0 {
		fmt.Fprintf(log, "--- loadgen (%s): %s", sc.ID, stderr.String())
	}
	if err != nil {
		if msg := strings.TrimSpace(stderr.String()); msg != "" {
			return nil, fmt.Errorf("%w: %s", err, msg)
		}
		return nil, err
	}
	var res load.Result
	if err := json.Unmarshal(out, &res); err != nil {
		return nil, fmt.Errorf("decode %q: %w", out, err)
	}
	return &res, nil
}

// failure says why a measured run does not count.
func failure(res *load.Result) string {
	var parts []string
	add := func(n int64, what string) {
		if n > 0 {
			parts = append(parts, fmt.Sprintf("%d %s", n, what))
		}
	}
	add(res.Mismatches, "wrong packets")
	add(res.OrderErrors, "out of order")
	add(res.Lost, "deliveries missing")
	add(res.Violations, "violations of the game's rules")
	add(res.ConnErrors, "connection errors")
	add(res.DialErrors, "failed connects")
	msg := strings.Join(parts, ", ")
	if res.FirstError != "" {
		msg += ": " + res.FirstError
	}
	return msg
}

// values maps a result onto the scenario's metrics.
func values(sc scenario, res *load.Result) map[string]float64 {
	switch sc.Kind {
	case "echo":
		return map[string]float64{
			"cpu": res.ServerCPUPerPkt, "pps": res.PerSec,
			"p50": res.P50 / 1e3, "p99": res.P99 / 1e3, "ccpu": res.ClientCPUPerPkt,
			"sys": res.ServerSyscalls,
		}
	case "broadcast":
		return map[string]float64{
			"cpu": res.ServerCPUPerPkt, "dps": res.PerSec,
			"p50": res.P50 / 1e3, "p99": res.P99 / 1e3,
			"rss": float64(res.ServerRSSEnd), "ccpu": res.ClientCPUPerPkt,
			"sys": res.ServerSyscalls,
		}
	case "idle", "mmo-idle":
		return map[string]float64{"bpc": res.RSSPerConn, "cold": res.RSSPerConnCold, "rss": float64(res.ServerRSSEnd)}
	case "mmo":
		return map[string]float64{
			"cpu": res.ServerCPUPerPkt, "dps": res.PerSec,
			"p50": res.P50 / 1e3, "p99": res.P99 / 1e3,
			"rsspp": float64(res.ServerRSSEnd) / float64(max(res.Conns, 1)),
			"viol":  float64(res.Violations), "ccpu": res.ClientCPUPerPkt,
		}
	}
	return nil
}

func describe(sc scenario, r report.Run) string {
	if r.Failed != "" {
		return "FAILED: " + r.Failed
	}
	parts := []string{}
	for _, m := range sc.Metrics {
		if v, ok := r.Values[m.Key]; ok {
			parts = append(parts, fmt.Sprintf("%s %s%s", m.Label, report.FormatValue(v, m), unitSpace(m.Unit)))
		}
	}
	return strings.Join(parts, ", ")
}

func unitSpace(u string) string {
	switch u {
	case "pkt/s", "B", "":
		return ""
	}
	return " " + u
}

// publish writes ../BENCHMARKS.md and the charts into charts/.
func publish(rep *report.Report, modDir string) error {
	charts := filepath.Join(modDir, "charts")
	if err := os.MkdirAll(charts, 0o755); err != nil {
		return err
	}
	for _, sc := range rep.Scenarios {
		if err := os.WriteFile(filepath.Join(charts, sc.ID+".svg"), []byte(rep.SVG(sc)), 0o644); err != nil {
			return err
		}
	}
	var b strings.Builder
	b.WriteString(benchmarksIntro)
	b.WriteString(strings.TrimPrefix(rep.Markdown("bench/charts/"), "# servercore benchmarks\n\n"))
	return os.WriteFile(filepath.Join(filepath.Dir(modDir), "BENCHMARKS.md"), []byte(b.String()), 0o644)
}

const benchmarksIntro = `# servercore benchmarks

servercore measured side by side with the Go networking libraries people use
today, on this project's machine, with one command:

    cd bench && go run ./cmd/bench            # full run: 17 scenarios × 5 servers and 4 WebSocket ones × 5, 3 rounds, about 30 minutes
    cd bench && go run ./cmd/bench --quick    # 8 scenarios, 1 round, about 100 s, for development
    go -C bench run ./cmd/bench --quick       # the same from the repository root

Flags: ` + "`--rounds N`, `--only REGEXP` (scenario ids, see `--list`), `--peers servercore,netstd` (any subset, baseline first; `servercore-<engine>` for another engine, `servercore-<engine>-threads1-tick20ms` with Config.IOThreads 1 and SendInterval 20 ms), " +
	"`--backend std|uring|auto` (the servercore column's engine), `--warmup`, `--window`, `--out DIR`, " +
	"`--publish` (rewrite this file and bench/charts/), `--render DIR` (re-render a run's report from its results.json)." + `

## How it measures

- **Peers** (bench/servers/, a module of its own so the library keeps depending on
  golang.org/x/sys only), each written the way its users write it, all framing
  ` + "`[size u16 LE][id u16 LE][payload]`" + ` and closing a connection whose header says size < 4:
  - servercore: a PacketHandler; echo is ` + "`Session.SendPacket`" + `, broadcast is one
    ` + "`NewPacket`" + ` + ` + "`Service.Broadcast`" + ` + ` + "`Release`" + `. Two columns: the
    portable engine (servercore, ` + "`--backend std`" + `, the baseline of every ratio)
    and the io_uring engine (servercore-uring, ` + "`--backend uring`" + `). It alone also
    serves the typed echo (examples/typedecho: each C_Echo decoded and answered
    with an S_Echo through the generated code), measured against the same
    column's raw echo of the same load, their rounds interleaved.
  - netstd: a goroutine per connection on package net, bufio + io.ReadFull; echo
    flushes its bufio.Writer when the reader has nothing buffered; broadcast is
    the chat-hub shape (a mutex-protected set of clients, each with a channel
    and a writer goroutine).
  - gnet v2.9.7: Peek/Discard in OnTraffic, echo replies written with one
    Conn.Write per OnTraffic; broadcast AsyncWrites one copy of the packet to
    every connection (gnet's way to write to other connections). Multicore.
  - nbio v1.6.8 (defaults): OnData with a per-connection buffer for the partial
    packet, echo replies written with one Conn.Write per OnData; broadcast
    Conn.Writes to every connection (safe from any goroutine).
  - Over WebSocket (the ws- scenarios; each binary message holds one or more
    whole packets, and a server closes a connection whose message does not):
    servercore's WebSocket sessions (` + "`ws://`" + ` listen address, the same
    handlers) on both engines; ws-gorilla, gorilla/websocket v1.5.3 on net/http,
    a goroutine per connection, echo copying each message's packets into a
    reply written as one message (as every echo peer does), broadcast the chat example's hub (a channel and a writer
    goroutine per client, the packets queued at that moment joined into one
    message); ws-nbio, nbio v1.6.8's nbhttp engine and websocket Upgrader,
    OnMessage, broadcast WriteMessage to every connection; ws-gws, gws v1.8.9
    on net/http with ReadLoop per connection, broadcast through
    gws.Broadcaster (the frame encoded once). None compresses.
  - mmo-net and mmo-gnet, the MMO scenarios' peers: the MMO sample's game
    (examples/mmo, the same .proto and rules) with each room a set of players
    behind a mutex (bench/internal/mmopeer). mmo-net is a goroutine per
    connection on package net, bufio + io.ReadFull, and per connection an
    outbox a writer goroutine empties with one writev; mmo-gnet plays each
    packet in OnTraffic and sends everything through Conn.AsyncWrite.
    servercore plays examples/mmo itself (rooms as job queues).
- **Load generator**: bench/cmd/loadgen, a process of its own per run, so the
  server's /proc/PID/stat counts the server alone. Connections come from 16
  source addresses 127.0.0.2–17, so 10 000 of them do not exhaust ephemeral
  ports. Echo keeps P packets in flight per connection and answers every
  packet with the next, all the replies to one read in one write; every packet
  carries its connection, sequence number and a pattern derived from both, and
  every byte that comes back is checked. The typed echo sends the same
  packets wrapped as C_Echo messages (` + "`0x0a <uvarint length> <packet>`" + `,
  encoded by hand, the whole packet as long as the raw echo's) and checks
  every byte of the S_Echo that comes back. Broadcast paces sends evenly, and
  every receiver checks every sender's order and that nothing is missing.
  No allocation per packet; latencies go to lock-free log-linear histograms.
  It was measured against ` + "`servercore stress`" + ` (the library's own client) by
  client CPU per packet, whole process, against the same gnet echo server,
  1000 connections × 16 in flight, 64 B, two runs each: loadgen **1.5–1.8 µs**,
  ` + "`servercore stress --backend std`" + ` 2.1–2.4 µs, ` + "`--backend uring`" + ` 1.6–1.7 µs.
  loadgen is used: it is at least as cheap, does not depend on the library
  under test (a client bug cannot hide a server bug), runs where io_uring is
  blocked, and samples the server's /proc at the window's edges itself.
  The MMO scenarios are the exception: their load is the game's own bots
  (examples/mmo, on a servercore client service, as ` + "`servercore stress --mode mmo`" + `
  runs them), which check the game's rules rather than bytes.
- **Correctness first**: before anything is timed, each peer must pass both
  apps' checks (packets of 4 to 65 535 bytes several to a write, a packet cut
  into 1-byte writes, headers with size 0, 1 and 3 closing only their
  connection, broadcast reaching every member in per-sender order); each run
  checks its app again. A peer that fails is reported, not timed.
- **Each run**: start the server, wait for its ` + "`listening on`" + ` line, check,
  warm up, measure the window, stop it with SIGTERM. The generator samples the
  server's utime+stime (/proc/PID/stat, 100 Hz ticks), VmRSS and syscr+syscw
  (/proc/PID/io) at the window's edges. Servers run interleaved — A B C D,
  A B C D, … — never all of A first.
- The figure that holds on a small shared machine is the **server CPU time per
  message** and the ratios between servers measured in the same run, not the
  absolute packets/s, which move with whatever else the machine is doing.

Each run writes its tables, charts and raw results.json to bench/results/<timestamp>/;
what follows is the latest full run (` + "`go run ./cmd/bench --publish`" + `).

`
