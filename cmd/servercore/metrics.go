package main

import (
	"context"
	"errors"
	"fmt"
	"io"
	"net"
	"net/http"
	"net/http/pprof"
	"time"

	"github.com/prometheus/client_golang/prometheus"
	"github.com/prometheus/client_golang/prometheus/collectors"
	"github.com/prometheus/client_golang/prometheus/promhttp"

	"servercore"
	"servercore/metrics/prom"
)

// metricsServer serves a server's Prometheus metrics on /metrics and the
// runtime's profiles on /debug/pprof/, on a listener of their own: never
// the game port, which speaks only the game's protocol.
type metricsServer struct {
	ln  net.Listener
	srv *http.Server
}

// listenMetrics listens on addr, before the game's service starts, so that
// a bad address fails the command before any player connects.
func listenMetrics(addr string) (*metricsServer, error) {
	ln, err := net.Listen("tcp", addr)
	if err != nil {
		return nil, fmt.Errorf("metrics: %w", err)
	}
	return &metricsServer{ln: ln, srv: &http.Server{ReadHeaderTimeout: 10 * time.Second}}, nil
}

// serve serves svc's metrics, labelled service=name, with the Go runtime's
// and the process's, until stop.
func (m *metricsServer) serve(name string, svc *servercore.Service, errLog io.Writer) {
	reg := prometheus.NewRegistry()
	reg.MustRegister(
		prom.NewCollector(name, svc, nil),
		collectors.NewGoCollector(),
		collectors.NewProcessCollector(collectors.ProcessCollectorOpts{}),
	)
	mux := http.NewServeMux()
	mux.Handle("/metrics", promhttp.HandlerFor(reg, promhttp.HandlerOpts{}))
	// The profiles are registered on this mux only: importing net/http/pprof
	// also puts them on http.DefaultServeMux, which nothing here serves.
	mux.HandleFunc("/debug/pprof/", pprof.Index)
	mux.HandleFunc("/debug/pprof/cmdline", pprof.Cmdline)
	mux.HandleFunc("/debug/pprof/profile", pprof.Profile)
	mux.HandleFunc("/debug/pprof/symbol", pprof.Symbol)
	mux.HandleFunc("/debug/pprof/trace", pprof.Trace)
	m.srv.Handler = mux
	go func() {
		if err := m.srv.Serve(m.ln); err != nil && !errors.Is(err, http.ErrServerClosed) {
			fmt.Fprintf(errLog, "%s serve: metrics: %v\n", programName, err)
		}
	}()
}

// Addr is the address the metrics are served on.
func (m *metricsServer) Addr() net.Addr { return m.ln.Addr() }

// stop stops serving and closes the listener; requests in progress get up
// to a second, a CPU profile being taken is cut.
func (m *metricsServer) stop() {
	if m.srv.Handler == nil { // never served
		m.ln.Close()
		return
	}
	ctx, cancel := context.WithTimeout(context.Background(), time.Second)
	defer cancel()
	if m.srv.Shutdown(ctx) != nil {
		m.srv.Close()
	}
	m.ln.Close() // in case Serve had not begun yet
}
