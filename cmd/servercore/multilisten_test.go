package main

import (
	"bufio"
	"context"
	"crypto/tls"
	"crypto/x509"
	"io"
	"net"
	"net/http"
	"os"
	"regexp"
	"strings"
	"testing"

	"google.golang.org/protobuf/proto"

	"servercore"
	"servercore/examples/mmo/mmopb"
	"servercore/internal/testkit"
)

// startServe runs serve with args until the test ends, reads its first n
// stdout lines and returns them with serve's exit code to come; the rest of
// its output is drained.
func startServe(t *testing.T, n int, args ...string) (lines []string, cancel func(), done <-chan int) {
	t.Helper()
	ctx, stop := context.WithCancel(context.Background())
	t.Cleanup(stop)
	pr, pw := io.Pipe()
	exit := make(chan int, 1)
	go func() {
		exit <- runServe(ctx, args, pw, io.Discard)
		pw.Close()
	}()
	sc := bufio.NewScanner(pr)
	for len(lines) < n && sc.Scan() {
		lines = append(lines, sc.Text())
	}
	if len(lines) < n {
		stop()
		t.Fatalf("serve printed %q, want %d lines (exit %d)", lines, n, <-exit)
	}
	go io.Copy(io.Discard, pr) //nolint:errcheck // drain whatever follows
	return lines, stop, exit
}

// serve --listen twice: two listeners of one server, each printed in its
// order, each serving the application.
func TestServeTwoListeners(t *testing.T) {
	lines, cancel, done := startServe(t, 2, "--listen", "127.0.0.1:0", "--listen", "127.0.0.1:0", "--app", "echo")
	a, b := checkListening(t, lines[0]), checkListening(t, lines[1])
	if a == b {
		t.Fatalf("both listeners on %s", a)
	}
	expectEcho(t, a)
	expectEcho(t, b)
	cancel()
	if code := testkit.Recv(t, done, testTimeout, "serve to stop"); code != exitOK {
		t.Errorf("serve exited %d, want 0", code)
	}
}

// The game's listeners share one world: a player who came in on one sees
// the one who came in on the other spawn in the room, and hears its chat.
func TestServeTwoListenersOneGame(t *testing.T) {
	lines, cancel, done := startServe(t, 2, "--listen", "127.0.0.1:0", "--listen", "127.0.0.1:0", "--app", "mmo", "--rooms", "2")
	a := newTestPlayer(t, checkListening(t, lines[0]), "alice")
	a.enter(1)
	b := newTestPlayer(t, checkListening(t, lines[1]), "bob")
	b.enter(1)
	var spawn mmopb.S_SPAWN
	a.expect(mmopb.S_SPAWNID, &spawn)
	if len(spawn.Players) != 1 || spawn.Players[0].GetObjectId() != b.id || spawn.Players[0].GetName() != "bob" {
		t.Fatalf("alice saw %v spawn, want bob (player %d)", spawn.Players, b.id)
	}
	b.expect(mmopb.S_SPAWNID, &spawn) // alice, already there
	b.send(mmopb.C_CHATID, &mmopb.C_CHAT{Msg: "hi from the other listener"})
	var chat mmopb.S_CHAT
	a.expect(mmopb.S_CHATID, &chat)
	if chat.PlayerId != b.id || chat.Msg != "hi from the other listener" {
		t.Errorf("alice heard %v", &chat)
	}
	cancel()
	if code := testkit.Recv(t, done, testTimeout, "serve to stop"); code != exitOK {
		t.Errorf("serve exited %d, want 0", code)
	}
}

func TestServeListenAndWebFlags(t *testing.T) {
	for _, args := range [][]string{
		{"serve", "--app", "echo"},
		{"serve", "--listen", "127.0.0.1:0", "--listen", "", "--app", "echo"},
		{"serve", "--listen", "127.0.0.1:0", "--app", "echo", "--web", "127.0.0.1:0"},
		{"serve", "--listen", "127.0.0.1:0", "--app", "mmo", "--web", "127.0.0.1:0"},
	} {
		code, _, stderr := runCmd(t, args...)
		if code != exitUsage {
			t.Errorf("%v: exit %d, want %d", args, code, exitUsage)
		}
		if !strings.Contains(stderr, "--listen") && !strings.Contains(stderr, "--web") {
			t.Errorf("%v: stderr %q names neither --listen nor --web", args, stderr)
		}
	}
}

// A listener that cannot start fails serve, naming it, and the listeners
// already up are closed again.
func TestServeSecondListenerFails(t *testing.T) {
	busy, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	defer busy.Close()
	code, stdout, stderr := runCmd(t, "serve", "--listen", "127.0.0.1:0", "--listen", busy.Addr().String(), "--app", "echo")
	if code != exitFailed || stdout != "" || !strings.Contains(stderr, busy.Addr().String()) {
		t.Errorf("exit %d, stdout %q, stderr %q; want exit %d naming %s", code, stdout, stderr, exitFailed, busy.Addr())
	}
}

// testPlayer is a game client over TCP, written with mmopb's messages.
type testPlayer struct {
	t  *testing.T
	c  *testkit.Client
	id uint64
}

// newTestPlayer connects to addr and logs in as name.
func newTestPlayer(t *testing.T, addr, name string) *testPlayer {
	t.Helper()
	a, err := net.ResolveTCPAddr("tcp", addr)
	if err != nil {
		t.Fatal(err)
	}
	p := &testPlayer{t: t, c: testkit.Dial(t, a)}
	p.send(mmopb.C_LOGINID, &mmopb.C_LOGIN{Name: name})
	var login mmopb.S_LOGIN
	p.expect(mmopb.S_LOGINID, &login)
	if !login.Success {
		t.Fatalf("%s: login refused", name)
	}
	p.id = login.PlayerId
	return p
}

// enter enters room and expects to be in.
func (p *testPlayer) enter(room uint32) {
	p.t.Helper()
	p.send(mmopb.C_ENTER_GAMEID, &mmopb.C_ENTER_GAME{RoomId: room})
	var m mmopb.S_ENTER_GAME
	p.expect(mmopb.S_ENTER_GAMEID, &m)
	if !m.Success || m.Player.GetObjectId() != p.id {
		p.t.Fatalf("player %d: enter answered %v", p.id, &m)
	}
}

func (p *testPlayer) send(id uint16, m proto.Message) {
	p.t.Helper()
	b, err := proto.Marshal(m)
	if err != nil {
		p.t.Fatal(err)
	}
	p.c.Send(id, b)
}

// expect reads the next packet, which must be id, into m.
func (p *testPlayer) expect(id uint16, m proto.Message) {
	p.t.Helper()
	gid, payload, err := p.c.ReadPacket(testkit.WaitLong, nil)
	if err != nil {
		p.t.Fatalf("player %d: waiting for packet %d: %v", p.id, id, err)
	}
	if gid != id {
		p.t.Fatalf("player %d: got packet %d, want %d", p.id, gid, id)
	}
	if err := proto.Unmarshal(payload, m); err != nil {
		p.t.Fatalf("player %d: packet %d: %v", p.id, id, err)
	}
}

// With --metrics, each listener's service is exported: the first under the
// app's name, the next as name-2.
func TestServeTwoListenersMetrics(t *testing.T) {
	lines, cancel, done := startServe(t, 3, "--listen", "127.0.0.1:0", "--listen", "127.0.0.1:0", "--app", "echo", "--metrics", "127.0.0.1:0")
	expectEcho(t, checkListening(t, lines[1]))
	m := metricsLine.FindStringSubmatch(lines[2])
	if m == nil {
		t.Fatalf("serve printed %q, want the metrics line third", lines)
	}
	client := &http.Client{Timeout: testTimeout}
	res, err := client.Get("http://" + m[1] + "/metrics")
	if err != nil {
		t.Fatal(err)
	}
	body, err := io.ReadAll(res.Body)
	res.Body.Close()
	if err != nil {
		t.Fatal(err)
	}
	// The second listener accepted checkListening's dial and the echo's.
	for _, want := range []string{`servercore_accepted_total{service="echo"} 0`, `servercore_accepted_total{service="echo-2"} 2`} {
		if !strings.Contains(string(body), want) {
			t.Errorf("/metrics lacks %s:\n%s", want, grepLines(string(body), "servercore_accepted_total"))
		}
	}
	cancel()
	if code := testkit.Recv(t, done, testTimeout, "serve to stop"); code != exitOK {
		t.Errorf("serve exited %d, want 0", code)
	}
}

// grepLines returns the lines of s that contain sub.
func grepLines(s, sub string) string {
	var out []string
	for _, l := range strings.Split(s, "\n") {
		if strings.Contains(l, sub) {
			out = append(out, l)
		}
	}
	return strings.Join(out, "\n")
}

var wssListeningLine = regexp.MustCompile(`^listening on (wss://127\.0\.0\.1:[0-9]+/echo) \(backend std\)$`)

// echoClient hands each packet it receives to got.
type echoClient struct {
	servercore.BaseHandler
	got chan string
}

func (c *echoClient) OnRecvPacket(_ *servercore.Session, _ uint16, payload []byte) {
	c.got <- string(payload)
}

// A wss:// listener beside a TCP one: TLS runs on the std engine, the TCP
// listener keeps its own, and a client trusting the certificate is served.
func TestServeTCPAndSecureWebSocket(t *testing.T) {
	certFile, keyFile := writeCert(t, t.TempDir())
	lines, cancel, done := startServe(t, 2, "--app", "echo", "--listen", "127.0.0.1:0", "--listen", "wss://127.0.0.1:0/echo",
		"--tls-cert", certFile, "--tls-key", keyFile)
	expectEcho(t, checkListening(t, lines[0]))
	m := wssListeningLine.FindStringSubmatch(lines[1])
	if m == nil {
		t.Fatalf("serve printed %q, want \"listening on wss://127.0.0.1:PORT/echo (backend std)\"", lines[1])
	}
	pem, err := os.ReadFile(certFile)
	if err != nil {
		t.Fatal(err)
	}
	pool := x509.NewCertPool()
	pool.AppendCertsFromPEM(pem)
	c := &echoClient{got: make(chan string, 1)}
	svc, err := servercore.NewClientService(m[1], 0, servercore.Config{
		NewPacketSession: func() servercore.PacketHandler { return c },
		TLS:              &tls.Config{RootCAs: pool},
	})
	if err != nil {
		t.Fatal(err)
	}
	ctx, stop := context.WithTimeout(context.Background(), testTimeout)
	defer stop()
	if err := svc.Start(ctx); err != nil {
		t.Fatal(err)
	}
	defer svc.Stop(ctx) //nolint:errcheck // the test is over
	s, err := svc.Connect(ctx)
	if err != nil {
		t.Fatalf("connect to %s: %v", m[1], err)
	}
	if err := s.SendPacket(7, []byte("over tls")); err != nil {
		t.Fatal(err)
	}
	if got := testkit.Recv(t, c.got, testTimeout, "the echo over wss"); got != "over tls" {
		t.Errorf("echo %q, want \"over tls\"", got)
	}
	cancel()
	if code := testkit.Recv(t, done, testTimeout, "serve to stop"); code != exitOK {
		t.Errorf("serve exited %d, want 0", code)
	}
}
