package prom

import (
	"context"
	"net"
	"net/http/httptest"
	"strconv"
	"testing"

	"github.com/prometheus/client_golang/prometheus"
	"github.com/prometheus/client_golang/prometheus/collectors"
	"github.com/prometheus/client_golang/prometheus/promhttp"

	"servercore"
	"servercore/examples/echo"
	"servercore/internal/testkit"
	"servercore/job"
)

// BenchmarkScrape is one scrape of a service with that many sessions
// connected, of its collector alone and of all that serve --metrics serves
// (the Go runtime's and the process's collectors too): the whole cost of
// metrics to a server scraped once a second, since nothing is counted per
// packet for them.
func BenchmarkScrape(b *testing.B) {
	for _, n := range []int{0, 1000} {
		b.Run(strconv.Itoa(n)+"sessions", func(b *testing.B) {
			svc, err := servercore.NewServerService("127.0.0.1:0", servercore.Config{NewPacketSession: echo.NewSession, MaxSessions: n + 1})
			if err != nil {
				b.Fatal(err)
			}
			if err := svc.Start(context.Background()); err != nil {
				b.Fatal(err)
			}
			defer svc.Stop(context.Background())
			conns := make([]net.Conn, n)
			for i := range conns {
				c, err := net.Dial("tcp", svc.Addr().String())
				if err != nil {
					b.Fatal(err)
				}
				defer c.Close()
				conns[i] = c
			}
			testkit.WaitFor(b, testkit.WaitLong, "every session connected", func() bool { return svc.Stats().Sessions == n })
			pool := job.NewPool(job.Options{})
			defer pool.Close(context.Background())
			for _, with := range []struct {
				name  string
				extra []prometheus.Collector
			}{
				{"servercore", nil},
				{"all", []prometheus.Collector{collectors.NewGoCollector(), collectors.NewProcessCollector(collectors.ProcessCollectorOpts{})}},
			} {
				b.Run(with.name, func(b *testing.B) {
					reg := prometheus.NewRegistry()
					reg.MustRegister(append(with.extra, NewCollector("echo", svc, pool))...)
					h := promhttp.HandlerFor(reg, promhttp.HandlerOpts{})
					req := httptest.NewRequest("GET", "/metrics", nil)
					for b.Loop() {
						h.ServeHTTP(httptest.NewRecorder(), req)
					}
				})
			}
		})
	}
}
