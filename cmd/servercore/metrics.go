package main

import (
	"fmt"
	"io"
	"net/http"
	"net/http/pprof"

	"github.com/prometheus/client_golang/prometheus"
	"github.com/prometheus/client_golang/prometheus/collectors"
	"github.com/prometheus/client_golang/prometheus/promhttp"

	"servercore/examples/mmo"
	"servercore/job"
	"servercore/metrics/prom"
)

// metricsServer serves a server's Prometheus metrics on /metrics and the
// runtime's profiles on /debug/pprof/, on a listener of their own: never
// the game port, which speaks only the game's protocol.
type metricsServer struct{ *httpServer }

// listenMetrics listens on addr, before the game's service starts, so that
// a bad address fails the command before any player connects.
func listenMetrics(addr string) (*metricsServer, error) {
	h, err := listenHTTP("metrics", addr)
	if err != nil {
		return nil, err
	}
	return &metricsServer{h}, nil
}

// serve serves srv's metrics, labelled service=name — its service's, its
// game's (of that many rooms) and its rooms' job pool's when it runs the
// game — with the Go runtime's and the process's, until stop. The services
// of further listeners are labelled name-2, name-3 and so on.
func (m *metricsServer) serve(name string, srv *server, rooms int, errLog io.Writer) {
	var pool *job.Pool
	if srv.game != nil {
		pool = srv.game.Pool()
	}
	reg := prometheus.NewRegistry()
	reg.MustRegister(
		prom.NewCollector(name, srv.Service, pool),
		collectors.NewGoCollector(),
		collectors.NewProcessCollector(collectors.ProcessCollectorOpts{}),
	)
	for i, svc := range srv.more {
		reg.MustRegister(prom.NewCollector(fmt.Sprintf("%s-%d", name, i+2), svc, nil))
	}
	if srv.game != nil {
		if rooms == 0 { // as mmo.NewGame reads it
			rooms = mmo.DefaultRooms
		}
		reg.MustRegister(gameCollector{name: name, game: srv.game, rooms: rooms})
	}
	mux := http.NewServeMux()
	mux.Handle("/metrics", promhttp.HandlerFor(reg, promhttp.HandlerOpts{}))
	// The profiles are registered on this mux only: importing net/http/pprof
	// also puts them on http.DefaultServeMux, which nothing here serves.
	mux.HandleFunc("/debug/pprof/", pprof.Index)
	mux.HandleFunc("/debug/pprof/cmdline", pprof.Cmdline)
	mux.HandleFunc("/debug/pprof/profile", pprof.Profile)
	mux.HandleFunc("/debug/pprof/symbol", pprof.Symbol)
	mux.HandleFunc("/debug/pprof/trace", pprof.Trace)
	m.start(mux, errLog)
}

// gameCollector exports the MMO sample's figures: players, rooms, what was
// relayed and what the rules refused or dropped, read from the game's Stats
// at scrape time.
type gameCollector struct {
	name  string
	game  *mmo.Game
	rooms int
}

var (
	gamePlayers = prometheus.NewDesc("servercore_mmo_players", "Players logged in now.", []string{"service"}, nil)
	gameInRooms = prometheus.NewDesc("servercore_mmo_players_in_rooms", "Players in a room now.", []string{"service"}, nil)
	gameRooms   = prometheus.NewDesc("servercore_mmo_rooms", "The game's rooms, each a job queue.", []string{"service"}, nil)
	gameRelayed = prometheus.NewDesc("servercore_mmo_relayed_total", "S_MOVE and S_CHAT packets queued to players.", []string{"service", "kind"}, nil)
	gameDropped = prometheus.NewDesc("servercore_mmo_dropped_total", "Requests refused or dropped, by the rule they broke.", []string{"service", "rule"}, nil)
)

func (c gameCollector) Describe(ch chan<- *prometheus.Desc) {
	for _, d := range []*prometheus.Desc{gamePlayers, gameInRooms, gameRooms, gameRelayed, gameDropped} {
		ch <- d
	}
}

func (c gameCollector) Collect(ch chan<- prometheus.Metric) {
	st := c.game.Stats()
	ch <- prometheus.MustNewConstMetric(gamePlayers, prometheus.GaugeValue, float64(st.Players), c.name)
	ch <- prometheus.MustNewConstMetric(gameInRooms, prometheus.GaugeValue, float64(st.InRooms), c.name)
	ch <- prometheus.MustNewConstMetric(gameRooms, prometheus.GaugeValue, float64(c.rooms), c.name)
	ch <- prometheus.MustNewConstMetric(gameRelayed, prometheus.CounterValue, float64(st.MovesSent), c.name, "move")
	ch <- prometheus.MustNewConstMetric(gameRelayed, prometheus.CounterValue, float64(st.ChatsSent), c.name, "chat")
	for _, d := range []struct {
		rule string
		n    uint64
	}{
		{"login_refused", st.LoginsRefused}, {"enter_refused", st.EntersRefused},
		{"invalid_move", st.InvalidMoves}, {"invalid_chat", st.InvalidChats},
		{"move_rate", st.LimitedMoves}, {"chat_rate", st.LimitedChats},
		{"out_of_room", st.OutOfRoom}, {"room_busy", st.RoomBusy},
	} {
		ch <- prometheus.MustNewConstMetric(gameDropped, prometheus.CounterValue, float64(d.n), c.name, d.rule)
	}
}
