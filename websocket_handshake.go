package servercore

import (
	"bufio"
	"bytes"
	"crypto/sha1"
	"encoding/base64"
	"fmt"
	"net"
	"net/textproto"
	"strconv"
	"strings"
)

// The opening handshake (RFC 6455 §4): an HTTP/1.1 GET that asks to
// upgrade, answered by 101 Switching Protocols, or by an HTTP error that
// says what was wrong.

// maxUpgradeRequest bounds the bytes of an upgrade request or response;
// a larger one is refused with 431.
const maxUpgradeRequest = 8 << 10

// wsGUID is appended to the client's key to make the accept key.
const wsGUID = "258EAFA5-E914-47DA-95CA-C5AB0DC85B11"

// upgradeEnd returns the size of the HTTP head at the front of p, up to
// and including the blank line that ends it, or 0 if it is not all there.
func upgradeEnd(p []byte) int {
	if i := bytes.Index(p, []byte("\r\n\r\n")); i >= 0 {
		return i + 4
	}
	return 0
}

// refusal is an upgrade request refused with an HTTP status.
type refusal struct {
	status int
	reason string
}

func (r *refusal) Error() string {
	return fmt.Sprintf("websocket upgrade refused with %d %s: %s", r.status, statusText(r.status), r.reason)
}

// response is the HTTP response that tells the client why it was refused.
func (r *refusal) response() []byte {
	body := r.reason + "\n"
	extra := ""
	switch r.status {
	case 426:
		extra = "Upgrade: websocket\r\nSec-WebSocket-Version: 13\r\n"
	case 405:
		extra = "Allow: GET\r\n"
	}
	return fmt.Appendf(nil, "HTTP/1.1 %d %s\r\nConnection: close\r\n%sContent-Type: text/plain; charset=utf-8\r\nContent-Length: %d\r\n\r\n%s",
		r.status, statusText(r.status), extra, len(body), body)
}

func statusText(code int) string {
	switch code {
	case 400:
		return "Bad Request"
	case 403:
		return "Forbidden"
	case 404:
		return "Not Found"
	case 405:
		return "Method Not Allowed"
	case 426:
		return "Upgrade Required"
	case 431:
		return "Request Header Fields Too Large"
	}
	return "Error"
}

// acceptUpgrade checks the upgrade request head for the service's path
// and origins, and returns the client's key or the refusal.
func acceptUpgrade(head []byte, path string, origins []string) (key string, r *refusal) {
	tp := textproto.NewReader(bufio.NewReader(bytes.NewReader(head)))
	line, err := tp.ReadLine()
	if err != nil {
		return "", &refusal{400, "malformed request line"}
	}
	method, rest, ok1 := strings.Cut(line, " ")
	target, proto, ok2 := strings.Cut(rest, " ")
	if !ok1 || !ok2 || !strings.HasPrefix(proto, "HTTP/") {
		return "", &refusal{400, "malformed request line"}
	}
	hdr, err := tp.ReadMIMEHeader()
	if err != nil {
		return "", &refusal{400, "malformed header: " + err.Error()}
	}
	target, _, _ = strings.Cut(target, "?")
	switch {
	case method != "GET":
		return "", &refusal{405, "a WebSocket upgrade is a GET, not " + method}
	case proto != "HTTP/1.1":
		return "", &refusal{400, "a WebSocket upgrade needs HTTP/1.1, not " + proto}
	case target != path:
		return "", &refusal{404, "no WebSocket endpoint at " + target + " (it is at " + path + ")"}
	case hdr.Get("Host") == "":
		return "", &refusal{400, "no Host header"}
	case !hasToken(hdr.Values("Upgrade"), "websocket"):
		return "", &refusal{426, "this endpoint speaks only WebSocket (Upgrade: websocket)"}
	case !hasToken(hdr.Values("Connection"), "upgrade"):
		return "", &refusal{400, "no Connection: Upgrade"}
	case hdr.Get("Sec-Websocket-Version") != "13":
		return "", &refusal{426, "WebSocket version " + strconv.Quote(hdr.Get("Sec-Websocket-Version")) + " is not supported (13 is)"}
	}
	key = hdr.Get("Sec-Websocket-Key")
	if k, err := base64.StdEncoding.DecodeString(key); err != nil || len(k) != 16 {
		return "", &refusal{400, "Sec-WebSocket-Key is not 16 bytes in base64"}
	}
	if origin := hdr.Get("Origin"); origin != "" && !originAllowed(origin, hdr.Get("Host"), origins) {
		return "", &refusal{403, "origin " + origin + " is not allowed"}
	}
	return key, nil
}

// hasToken reports whether a comma-separated header holds token, in any
// case.
func hasToken(values []string, token string) bool {
	for _, v := range values {
		for t := range strings.SplitSeq(v, ",") {
			if strings.EqualFold(strings.TrimSpace(t), token) {
				return true
			}
		}
	}
	return false
}

// originAllowed reports whether a browser's Origin may connect: with no
// list, when its host:port is the request's Host; else when the list
// holds "*", its host, or its host:port.
func originAllowed(origin, host string, allowed []string) bool {
	o := origin
	scheme, rest, ok := strings.Cut(o, "://")
	if !ok {
		return false
	}
	o, _, _ = strings.Cut(rest, "/")
	if _, _, err := net.SplitHostPort(o); err != nil {
		port := "80"
		if scheme == "https" {
			port = "443"
		}
		o = net.JoinHostPort(strings.Trim(o, "[]"), port)
	}
	oHost, _, _ := net.SplitHostPort(o)
	if len(allowed) == 0 {
		if _, _, err := net.SplitHostPort(host); err != nil {
			host = net.JoinHostPort(strings.Trim(host, "[]"), "80")
		}
		return strings.EqualFold(o, host)
	}
	for _, a := range allowed {
		if a == "*" || strings.EqualFold(a, o) || strings.EqualFold(a, oHost) {
			return true
		}
	}
	return false
}

// acceptKey is the Sec-WebSocket-Accept answer to a client's key.
func acceptKey(key string) string {
	h := sha1.Sum([]byte(key + wsGUID))
	return base64.StdEncoding.EncodeToString(h[:])
}

// upgradeResponse is the server's 101 answer to key.
func upgradeResponse(key string) []byte {
	return []byte("HTTP/1.1 101 Switching Protocols\r\nUpgrade: websocket\r\nConnection: Upgrade\r\nSec-WebSocket-Accept: " + acceptKey(key) + "\r\n\r\n")
}

// upgradeRequest is a client's upgrade request for path on host.
func upgradeRequest(host, path, key string) []byte {
	return []byte("GET " + path + " HTTP/1.1\r\nHost: " + host + "\r\nUpgrade: websocket\r\nConnection: Upgrade\r\nSec-WebSocket-Key: " + key +
		"\r\nSec-WebSocket-Version: 13\r\n\r\n")
}

// checkUpgradeResponse checks a server's answer to a client's upgrade
// request made with key.
func checkUpgradeResponse(head []byte, key string) error {
	tp := textproto.NewReader(bufio.NewReader(bytes.NewReader(head)))
	line, err := tp.ReadLine()
	if err != nil {
		return fmt.Errorf("%w: websocket upgrade: malformed response", ErrProtocol)
	}
	hdr, herr := tp.ReadMIMEHeader()
	if _, status, _ := strings.Cut(line, " "); !strings.HasPrefix(status, "101") {
		return fmt.Errorf("%w: websocket upgrade refused: %s", ErrProtocol, line)
	}
	switch {
	case herr != nil:
		return fmt.Errorf("%w: websocket upgrade: malformed response header: %w", ErrProtocol, herr)
	case !hasToken(hdr.Values("Upgrade"), "websocket"), !hasToken(hdr.Values("Connection"), "upgrade"):
		return fmt.Errorf("%w: websocket upgrade: the response does not upgrade to websocket", ErrProtocol)
	case hdr.Get("Sec-Websocket-Accept") != acceptKey(key):
		return fmt.Errorf("%w: websocket upgrade: wrong Sec-WebSocket-Accept", ErrProtocol)
	case hdr.Get("Sec-Websocket-Extensions") != "":
		return fmt.Errorf("%w: websocket upgrade: the server chose extensions that were not offered", ErrProtocol)
	}
	return nil
}
