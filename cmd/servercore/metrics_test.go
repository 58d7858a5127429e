package main

import (
	"bufio"
	"context"
	"encoding/json"
	"io"
	"net"
	"net/http"
	"os"
	"regexp"
	"strings"
	"testing"
	"time"

	dto "github.com/prometheus/client_model/go"
	"github.com/prometheus/common/expfmt"
	"github.com/prometheus/common/model"
	"google.golang.org/protobuf/proto"

	"servercore/examples/mmo"
	"servercore/examples/mmo/mmopb"
	"servercore/internal/testkit"
)

var metricsLine = regexp.MustCompile(`^metrics on http://(127\.0\.0\.1:[0-9]+)/metrics$`)

// serveMetrics runs serve --app app --metrics on free loopback ports until
// ctx ends, and returns the game's address, the metrics' and serve's exit
// code to come.
func serveMetrics(t *testing.T, ctx context.Context, app string) (addr, metricsAddr string, done <-chan int) {
	t.Helper()
	pr, pw := io.Pipe()
	exit := make(chan int, 1)
	go func() {
		exit <- runServe(ctx, []string{"--listen", "127.0.0.1:0", "--app", app, "--metrics", "127.0.0.1:0"}, pw, io.Discard)
		pw.Close()
	}()
	lines := bufio.NewScanner(pr)
	if !lines.Scan() {
		t.Fatalf("serve printed nothing (exit %d)", <-exit)
	}
	addr = checkListening(t, lines.Text())
	if !lines.Scan() {
		t.Fatalf("serve printed no metrics line (exit %d)", <-exit)
	}
	m := metricsLine.FindStringSubmatch(lines.Text())
	if m == nil || m[1] == addr {
		t.Fatalf("serve printed %q, want \"metrics on http://127.0.0.1:PORT/metrics\" on a port apart from %s", lines.Text(), addr)
	}
	go io.Copy(io.Discard, pr) //nolint:errcheck // drain whatever follows
	return addr, m[1], exit
}

// TestServeMetrics: serve --metrics serves the service's metrics and the
// profiles on a port of their own, and both stop with serve.
func TestServeMetrics(t *testing.T) {
	defer testkit.LeakCheck(t)()
	ctx, cancel := context.WithCancel(context.Background())
	defer cancel()
	addr, metricsAddr, done := serveMetrics(t, ctx, "echo")
	expectEcho(t, addr)

	client := &http.Client{Timeout: testTimeout, Transport: &http.Transport{DisableKeepAlives: true}}
	get := func(path string) string {
		t.Helper()
		resp, err := client.Get("http://" + metricsAddr + path)
		if err != nil {
			t.Fatal(err)
		}
		defer resp.Body.Close()
		body, err := io.ReadAll(resp.Body)
		if err != nil || resp.StatusCode != http.StatusOK {
			t.Fatalf("GET %s: %s, %v", path, resp.Status, err)
		}
		return string(body)
	}
	p := expfmt.NewTextParser(model.UTF8Validation)
	mfs, err := p.TextToMetricFamilies(strings.NewReader(get("/metrics")))
	if err != nil {
		t.Fatalf("parsing /metrics: %v", err)
	}
	for _, name := range []string{"servercore_sessions", "servercore_accepted_total", "servercore_disconnects_total", "go_goroutines", "process_cpu_seconds_total"} {
		if _, ok := mfs[name]; !ok {
			t.Errorf("/metrics has no %s", name)
		}
	}
	if acc := mfs["servercore_accepted_total"].GetMetric(); len(acc) != 1 || acc[0].GetCounter().GetValue() < 2 {
		t.Errorf("servercore_accepted_total %v, want the 2 connections made", acc)
	}
	if body := get("/debug/pprof/"); !strings.Contains(body, "goroutine") {
		t.Errorf("/debug/pprof/ lists no goroutine profile")
	}
	if body := get("/debug/pprof/goroutine?debug=1"); !strings.Contains(body, "goroutine profile") {
		t.Errorf("/debug/pprof/goroutine?debug=1 is no goroutine profile")
	}

	cancel()
	if code := testkit.Recv(t, done, testTimeout, "serve to stop after its context was cancelled"); code != exitOK {
		t.Errorf("serve exited %d on cancel, want 0", code)
	}
	if _, err := (&http.Client{Timeout: time.Second}).Get("http://" + metricsAddr + "/metrics"); err == nil {
		t.Error("the metrics are still served after serve stopped")
	}
}

// TestServeMetricsBadAddr: a metrics address that cannot be listened on
// fails serve before the game's port opens.
func TestServeMetricsBadAddr(t *testing.T) {
	code, stdout, stderr := runCmd(t, "serve", "--listen", "127.0.0.1:0", "--app", "echo", "--metrics", "127.0.0.1:-1")
	if code != exitFailed || strings.Contains(stdout, "listening") || !strings.Contains(stderr, "metrics") {
		t.Fatalf("exit %d, stdout %q, stderr %q; want exit %d, no listening line, a metrics error", code, stdout, stderr, exitFailed)
	}
}

// TestServeGameMetrics: with the game, /metrics also has its players, what
// its rules dropped, and its rooms' job pool.
func TestServeGameMetrics(t *testing.T) {
	ctx, cancel := context.WithCancel(context.Background())
	defer cancel()
	addr, metricsAddr, done := serveMetrics(t, ctx, "mmo")

	a, err := net.ResolveTCPAddr("tcp", addr)
	if err != nil {
		t.Fatal(err)
	}
	player := testkit.Dial(t, a)
	login := func(name string) {
		t.Helper()
		b, err := proto.Marshal(&mmopb.C_LOGIN{Name: name})
		if err != nil {
			t.Fatal(err)
		}
		player.Send(mmopb.C_LOGINID, b)
		if id, _, err := player.ReadPacket(testkit.WaitLong, nil); err != nil || id != mmopb.S_LOGINID {
			t.Fatalf("login reply: id %d, %v", id, err)
		}
	}
	login("ann")
	login("ann") // a second login is refused

	client := &http.Client{Timeout: testTimeout, Transport: &http.Transport{DisableKeepAlives: true}}
	value := func(mfs map[string]*dto.MetricFamily, name, label, want string) float64 {
		for _, mt := range mfs[name].GetMetric() {
			for _, lp := range mt.GetLabel() {
				if label == "" || (lp.GetName() == label && lp.GetValue() == want) {
					if g := mt.GetGauge(); g != nil {
						return g.GetValue()
					}
					return mt.GetCounter().GetValue()
				}
			}
		}
		return -1
	}
	var mfs map[string]*dto.MetricFamily
	testkit.WaitFor(t, testkit.WaitLong, "the game's figures on /metrics", func() bool {
		resp, err := client.Get("http://" + metricsAddr + "/metrics")
		if err != nil {
			return false
		}
		defer resp.Body.Close()
		p := expfmt.NewTextParser(model.UTF8Validation)
		if mfs, err = p.TextToMetricFamilies(resp.Body); err != nil {
			return false
		}
		return value(mfs, "servercore_mmo_players", "", "") == 1 &&
			value(mfs, "servercore_mmo_dropped_total", "rule", "login_refused") == 1
	})
	if n := value(mfs, "servercore_mmo_rooms", "", ""); n != mmo.DefaultRooms {
		t.Errorf("servercore_mmo_rooms %v, want %d", n, mmo.DefaultRooms)
	}
	if n := value(mfs, "servercore_job_queues_created_total", "", ""); n != mmo.DefaultRooms {
		t.Errorf("servercore_job_queues_created_total %v, want a queue per room, %d", n, mmo.DefaultRooms)
	}
	if lat := mfs["servercore_job_start_latency_seconds"]; lat.GetType() != dto.MetricType_HISTOGRAM {
		t.Errorf("servercore_job_start_latency_seconds is %v, want a histogram", lat.GetType())
	}
	checkDashboardGame(t, mfs)
	player.Close()
	cancel()
	if code := testkit.Recv(t, done, testTimeout, "serve to stop"); code != exitOK {
		t.Errorf("serve exited %d on cancel, want 0", code)
	}
}

// checkDashboardGame: every series of the game's that the Grafana dashboard
// queries is one serve exports, and every one it exports has a panel (the
// collector's own are checked alike in metrics/prom).
func checkDashboardGame(t *testing.T, exported map[string]*dto.MetricFamily) {
	t.Helper()
	b, err := os.ReadFile("../../metrics/grafana/servercore.json")
	if err != nil {
		t.Fatal(err)
	}
	var d struct {
		Panels []struct {
			Title   string
			Targets []struct{ Expr string }
		}
	}
	if err := json.Unmarshal(b, &d); err != nil {
		t.Fatalf("the dashboard is not JSON: %v", err)
	}
	queried := map[string]bool{}
	for _, p := range d.Panels {
		for _, target := range p.Targets {
			for _, m := range gameSeries.FindAllString(target.Expr, -1) {
				queried[m] = true
				if _, ok := exported[m]; !ok {
					t.Errorf("panel %q queries %s, which serve --app mmo does not export", p.Title, m)
				}
			}
		}
	}
	for m := range exported {
		if gameSeries.MatchString(m) && !queried[m] {
			t.Errorf("the dashboard has no panel for %s", m)
		}
	}
}

var gameSeries = regexp.MustCompile(`servercore_mmo_[a-z_]+`)
