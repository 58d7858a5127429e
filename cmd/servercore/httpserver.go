package main

import (
	"context"
	"errors"
	"fmt"
	"io"
	"net"
	"net/http"
	"time"
)

// httpServer is an HTTP server on a listener of its own, beside the game's:
// the metrics' or the web client's.
type httpServer struct {
	what string // what it serves, for errors
	ln   net.Listener
	srv  *http.Server
}

// listenHTTP listens on addr, before the game's service starts, so that a
// bad address fails the command before any player connects.
func listenHTTP(what, addr string) (*httpServer, error) {
	ln, err := net.Listen("tcp", addr)
	if err != nil {
		return nil, fmt.Errorf("%s: %w", what, err)
	}
	return &httpServer{what: what, ln: ln, srv: &http.Server{ReadHeaderTimeout: 10 * time.Second}}, nil
}

// start serves h until stop; a failure to serve is logged on errLog.
func (h *httpServer) start(handler http.Handler, errLog io.Writer) {
	h.srv.Handler = handler
	go func() {
		if err := h.srv.Serve(h.ln); err != nil && !errors.Is(err, http.ErrServerClosed) {
			fmt.Fprintf(errLog, "%s serve: %s: %v\n", programName, h.what, err)
		}
	}()
}

// Addr is the address it serves on.
func (h *httpServer) Addr() net.Addr { return h.ln.Addr() }

// stop stops serving and closes the listener; requests in progress get up
// to a second, a CPU profile being taken is cut.
func (h *httpServer) stop() {
	if h.srv.Handler == nil { // never served
		h.ln.Close()
		return
	}
	ctx, cancel := context.WithTimeout(context.Background(), time.Second)
	defer cancel()
	if h.srv.Shutdown(ctx) != nil {
		h.srv.Close()
	}
	h.ln.Close() // in case Serve had not begun yet
}
