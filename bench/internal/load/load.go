// Package load is the benchmark's load generator: echo (N connections, P
// packets in flight each, every byte of every echoed packet verified; typed
// echo is the same load in the typed echo app's protobuf messages),
// broadcast (N connections in one room, each sending at a fixed rate,
// receivers checking every sender's order) and idle (N connections that did
// one round trip and then hold still, for memory per connection). Given a
// ws://host:port/path target, each connection is a WebSocket client
// (github.com/gorilla/websocket) instead, whose binary messages carry the
// same packets (Conn).
//
// It runs in its own process (cmd/loadgen), apart from the server, so that
// the server's /proc/PID/stat counts the server alone. Given the server's
// pid it samples the server's CPU time and RSS at the edges of the measured
// window, and its own CPU time too. Per packet it allocates nothing: each
// connection has fixed buffers, latencies go to sharded lock-free
// histograms, and replies to one read go out in one write.
package load

import (
	"fmt"
	"sync/atomic"
	"time"

	"servercore/internal/hist"
)

// Options configure one run.
type Options struct {
	Mode      string        // "echo", "typed-echo", "broadcast", "idle", "mmo" or "mmo-idle"
	Target    string        // server address host:port
	Conns     int           // connections
	Inflight  int           // echo: packets in flight per connection
	Size      int           // packet size in bytes, header included
	Rate      float64       // broadcast: packets per second each connection sends
	Warmup    time.Duration // before the window (echo, broadcast); settle time (idle)
	Duration  time.Duration // the measured window
	ServerPID int           // sampled at the window's edges when > 0

	// The MMO bots' settings (mmo, mmo-idle, check-mmo); Rate is their
	// moves a second.
	Rooms    int           // rooms the players spread over, at most the server's
	ChatRate float64       // chats a second per player
	Tick     time.Duration // the server's tick: the bots then check each player's latest move
	Churn    bool          // players leave their room now and then, and enter it again
	Backend  string        // the bots' servercore engine
}

// Result is what one run measured. Times are in microseconds, rates per
// second, CPU in seconds, memory in bytes.
type Result struct {
	Options
	Window float64 `json:"window_s"` // measured window, seconds

	Packets uint64  `json:"packets"` // echo: packets echoed in the window; broadcast: deliveries in the window
	Sent    uint64  `json:"sent"`    // broadcast: packets sent in the window
	PerSec  float64 `json:"per_sec"` // Packets / Window
	P50     float64 `json:"p50_us"`
	P99     float64 `json:"p99_us"`
	P999    float64 `json:"p999_us"`

	ServerCPU       float64 `json:"server_cpu_s"`
	ServerCPUPerPkt float64 `json:"server_cpu_us_per_pkt"`
	ClientCPU       float64 `json:"client_cpu_s"`
	ClientCPUPerPkt float64 `json:"client_cpu_us_per_pkt"`
	ServerSyscalls  float64 `json:"server_syscalls_per_pkt"` // read- and write-class system calls (/proc/PID/io) per packet
	ServerRSSStart  int64   `json:"server_rss_start"`
	ServerRSSEnd    int64   `json:"server_rss_end"`
	RSSPerConn      float64 `json:"rss_per_conn"`      // idle: growth per connection over a base
	RSSPerConnCold  float64 `json:"rss_per_conn_cold"` // idle: from the fresh server, fixed costs included

	DialErrors  int64   `json:"dial_errors"`
	ConnErrors  int64   `json:"conn_errors"` // connections that failed or closed during the run
	Mismatches  int64   `json:"mismatches"`  // packets with a wrong byte, size, id or sequence
	OrderErrors int64   `json:"order_errors"`
	Lost        int64   `json:"lost"`       // broadcast: deliveries that never arrived; mmo: moves never seen
	Violations  int64   `json:"violations"` // mmo: the game's rules broken, as the bots saw it
	MovesSent   uint64  `json:"moves_sent"` // mmo: moves the bots made over the whole run
	MovesSeen   uint64  `json:"moves_seen"` // mmo: S_MOVE the bots got over the whole run
	MaxLatency  float64 `json:"max_us"`     // mmo: the longest move-to-seen, whole run
	FirstError  string  `json:"first_error,omitempty"`
}

// Failed reports whether the server answered wrongly or dropped anything.
func (r *Result) Failed() bool {
	return r.DialErrors+r.ConnErrors+r.Mismatches+r.OrderErrors+r.Lost+r.Violations > 0
}

const (
	phaseWarmup int32 = iota
	phaseMeasure
	phaseStop
)

// run state shared by the connections of one run.
type runState struct {
	phase      atomic.Int32
	base       time.Time
	winStart   atomic.Int64 // run-clock ns the window opened at; 0 before
	winEnd     atomic.Int64 // run-clock ns the window closed at; 0 before
	hist       hist.Sharded
	count      [hist.Shards]paddedCounter
	mismatches atomic.Int64
	orderErrs  atomic.Int64
	connErrs   atomic.Int64
	firstErr   atomic.Pointer[string]
}

type paddedCounter struct {
	n atomic.Uint64
	_ [56]byte
}

func newRunState() *runState { return &runState{base: time.Now()} }

// now is nanoseconds since the run began, on the monotonic clock.
func (s *runState) now() int64 { return int64(time.Since(s.base)) }

func (s *runState) fail(counter *atomic.Int64, format string, args ...any) {
	counter.Add(1)
	msg := fmt.Sprintf(format, args...)
	s.firstErr.CompareAndSwap(nil, &msg)
}

// sentInWindow reports whether a packet sent at run-clock time at was sent
// while the window was open.
func (s *runState) sentInWindow(at int64) bool {
	ws := s.winStart.Load()
	if ws == 0 || at < ws {
		return false
	}
	we := s.winEnd.Load()
	return we == 0 || at < we
}

func (s *runState) windowCount() uint64 {
	var n uint64
	for i := range s.count {
		n += s.count[i].n.Load()
	}
	return n
}

// window samples the server and this process at the start and end of the
// measured window and switches the phase at its edges.
type window struct {
	pid          int
	start        time.Time
	server0      ProcSample
	client0      ProcSample
	res          *Result
	serverErrMsg string
	sys          float64 // server system calls in the window
}

func openWindow(st *runState, pid int, res *Result) *window {
	w := &window{pid: pid, res: res}
	if pid > 0 {
		s, err := ReadProc(pid)
		if err != nil {
			w.serverErrMsg = err.Error()
		}
		w.server0 = s
	}
	w.client0, _ = ReadProc(0)
	w.start = time.Now()
	st.winStart.Store(max(st.now(), 1))
	st.phase.Store(phaseMeasure)
	return w
}

func (w *window) close(st *runState) {
	st.winEnd.Store(st.now())
	st.phase.Store(phaseStop)
	el := time.Since(w.start)
	client1, _ := ReadProc(0)
	r := w.res
	r.Window = el.Seconds()
	r.ClientCPU = client1.CPUSeconds() - w.client0.CPUSeconds()
	if w.pid > 0 {
		s, err := ReadProc(w.pid)
		if err != nil && w.serverErrMsg == "" {
			w.serverErrMsg = err.Error()
		}
		r.ServerCPU = s.CPUSeconds() - w.server0.CPUSeconds()
		if w.serverErrMsg != "" {
			r.ConnErrors++
			r.FirstError = "sampling the server: " + w.serverErrMsg
		}
		r.ServerRSSStart, r.ServerRSSEnd = w.server0.RSS, s.RSS
		w.sys = float64(s.SysR + s.SysW - w.server0.SysR - w.server0.SysW)
	}
}

func (r *Result) finish(st *runState, w *window) {
	h := st.hist.Merged()
	r.Packets = st.windowCount()
	if r.Window > 0 {
		r.PerSec = float64(r.Packets) / r.Window
	}
	r.P50 = float64(h.Quantile(0.50)) / 1e3
	r.P99 = float64(h.Quantile(0.99)) / 1e3
	r.P999 = float64(h.Quantile(0.999)) / 1e3
	if r.Packets > 0 {
		r.ServerCPUPerPkt = r.ServerCPU * 1e6 / float64(r.Packets)
		r.ClientCPUPerPkt = r.ClientCPU * 1e6 / float64(r.Packets)
		if w != nil {
			r.ServerSyscalls = w.sys / float64(r.Packets)
		}
	}
	r.Mismatches += st.mismatches.Load()
	r.OrderErrors += st.orderErrs.Load()
	r.ConnErrors += st.connErrs.Load()
	if p := st.firstErr.Load(); p != nil && r.FirstError == "" {
		r.FirstError = *p
	}
}
