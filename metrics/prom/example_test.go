package prom_test

import (
	"context"
	"log"
	"net/http"
	"sync/atomic"

	"github.com/prometheus/client_golang/prometheus"
	"github.com/prometheus/client_golang/prometheus/promhttp"

	"servercore"
	"servercore/examples/echo"
	"servercore/job"
	"servercore/metrics/prom"
)

// A game registers the collector of its service and pool, and figures of
// its own with the same service label, on a registry served on a port
// apart from the game's.
func ExampleNewCollector() {
	svc, err := servercore.NewServerService("127.0.0.1:0", servercore.Config{NewPacketSession: echo.NewSession})
	if err != nil {
		log.Fatal(err)
	}
	pool := job.NewPool(job.Options{})
	defer pool.Close(context.Background())
	var players atomic.Int64 // kept by the game's rooms

	reg := prometheus.NewRegistry()
	reg.MustRegister(
		prom.NewCollector("world", svc, pool),
		prometheus.NewGaugeFunc(prometheus.GaugeOpts{
			Name:        "world_players",
			Help:        "Players in a room now.",
			ConstLabels: prometheus.Labels{"service": "world"},
		}, func() float64 { return float64(players.Load()) }),
	)
	mux := http.NewServeMux()
	mux.Handle("/metrics", promhttp.HandlerFor(reg, promhttp.HandlerOpts{}))
	_ = &http.Server{Addr: "127.0.0.1:9100", Handler: mux} // then ListenAndServe
}
