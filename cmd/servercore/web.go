package main

import (
	"fmt"
	"io"
	"net"
	"net/url"
	"os"
	"strings"

	"servercore/examples/mmo/web"
)

// webClient serves the MMO's browser client (serve --web) on a listener
// of its own: the page, its script, and where the game's WebSocket
// listener is.
type webClient struct{ *httpServer }

// listenWeb listens on addr for the web client.
func listenWeb(addr string) (*webClient, error) {
	h, err := listenHTTP("web", addr)
	if err != nil {
		return nil, err
	}
	return &webClient{h}, nil
}

// serve serves the page, which connects to wsURL and offers rooms rooms.
func (w *webClient) serve(wsURL string, rooms int, errLog io.Writer) error {
	h, err := web.Handler(web.Config{WebSocket: wsURL, Rooms: rooms})
	if err != nil {
		return err
	}
	w.start(h, errLog)
	return nil
}

// URL is the page's address, as serve prints it.
func (w *webClient) URL() string { return "http://" + w.Addr().String() + "/" }

// origins are the host:port values the page's Origin may show, for the
// WebSocket listeners' allow-list: the address it is served on, with
// localhost beside a loopback address; for an unspecified address, every
// address of the machine's interfaces, localhost and the host name.
func (w *webClient) origins() []string {
	tcp, ok := w.Addr().(*net.TCPAddr)
	if !ok {
		return []string{w.Addr().String()}
	}
	port := fmt.Sprint(tcp.Port)
	var hosts []string
	switch {
	case tcp.IP.IsUnspecified():
		hosts = append(hosts, "localhost")
		if name, err := os.Hostname(); err == nil && name != "" {
			hosts = append(hosts, name)
		}
		if addrs, err := net.InterfaceAddrs(); err == nil {
			for _, a := range addrs {
				if ipn, ok := a.(*net.IPNet); ok {
					hosts = append(hosts, ipn.IP.String())
				}
			}
		}
	case tcp.IP.IsLoopback():
		hosts = append(hosts, tcp.IP.String(), "localhost")
	default:
		hosts = append(hosts, tcp.IP.String())
	}
	out := make([]string, 0, len(hosts))
	for _, h := range hosts {
		out = append(out, net.JoinHostPort(h, port))
	}
	return out
}

// isWebSocket reports whether a --listen address is a WebSocket one.
func isWebSocket(addr string) bool {
	a := strings.ToLower(addr)
	return strings.HasPrefix(a, "ws://") || strings.HasPrefix(a, "wss://")
}

// isSecureWebSocket reports whether a --listen address is a wss:// one.
func isSecureWebSocket(addr string) bool { return strings.HasPrefix(strings.ToLower(addr), "wss://") }

// wsURL is the URL of a WebSocket listener started on listen, now bound
// to bound (host:port).
func wsURL(listen string, bound net.Addr) (string, error) {
	u, err := url.Parse(listen)
	if err != nil {
		return "", fmt.Errorf("listen address %q: %w", listen, err)
	}
	u.Scheme = strings.ToLower(u.Scheme)
	u.Host = bound.String()
	if u.Path == "" {
		u.Path = "/"
	}
	return u.String(), nil
}
