package testkit

import (
	"bytes"
	"fmt"
	"io"
	"net"
	"os"
	"slices"
	"strings"
	"syscall"
	"testing"
	"time"
)

func TestAppendReadPacket(t *testing.T) {
	for _, tc := range []struct {
		id      uint16
		payload []byte
		buf     []byte
	}{
		{0, nil, nil},
		{7, []byte("hello"), nil},
		{0xFFFF, Payload(3, 1000), make([]byte, 0, 16)},
		{1, Payload(1, 0xFFFF-headerSize), make([]byte, 0xFFFF)},
	} {
		t.Run(fmt.Sprintf("id %d %d bytes", tc.id, len(tc.payload)), func(t *testing.T) {
			b := AppendPacket([]byte("x"), tc.id, tc.payload)
			if len(b) != 1+headerSize+len(tc.payload) || b[0] != 'x' {
				t.Fatalf("AppendPacket appended %d bytes to a 1-byte slice", len(b)-1)
			}
			r := bytes.NewReader(b[1:])
			id, p, err := ReadPacket(r, tc.buf)
			if err != nil || id != tc.id || !bytes.Equal(p, tc.payload) {
				t.Fatalf("ReadPacket = %d, %d bytes, %v; want %d, %d bytes", id, len(p), err, tc.id, len(tc.payload))
			}
			if cap(tc.buf) >= max(headerSize, len(tc.payload)) && &p[:1][0] != &tc.buf[:1][0] {
				t.Error("ReadPacket did not read into a buffer large enough")
			}
			if _, _, err := ReadPacket(r, tc.buf); err != io.EOF {
				t.Errorf("ReadPacket at the end: %v, want io.EOF", err)
			}
		})
	}
}

func TestReadPacketMalformed(t *testing.T) {
	for _, tc := range []struct {
		name string
		in   []byte
		want string
	}{
		{"size below the header", []byte{3, 0, 1, 0}, "bad size 3"},
		{"short header", []byte{9, 0}, "unexpected EOF"},
		{"short payload", []byte{9, 0, 1, 0, 'a'}, "unexpected EOF"},
	} {
		t.Run(tc.name, func(t *testing.T) {
			_, _, err := ReadPacket(bytes.NewReader(tc.in), nil)
			if err == nil || !strings.Contains(err.Error(), tc.want) {
				t.Errorf("ReadPacket(% x): %v, want an error with %q", tc.in, err, tc.want)
			}
		})
	}
}

func TestPayload(t *testing.T) {
	if !bytes.Equal(Payload(5, 300), Payload(5, 300)) {
		t.Error("Payload is not deterministic")
	}
	if bytes.Equal(Payload(5, 300), Payload(6, 300)) {
		t.Error("Payload of two seeds is the same")
	}
	if n := len(Payload(1, 0)); n != 0 {
		t.Errorf("Payload(1, 0) has %d bytes", n)
	}
}

func TestIsReset(t *testing.T) {
	for _, tc := range []struct {
		err  error
		want bool
	}{
		{nil, false},
		{io.EOF, false},
		{os.ErrDeadlineExceeded, false},
		{syscall.ECONNRESET, true},
		{&net.OpError{Op: "read", Err: os.NewSyscallError("read", ResetErrors[len(ResetErrors)-1])}, true},
	} {
		if got := IsReset(tc.err); got != tc.want {
			t.Errorf("IsReset(%v) = %v, want %v", tc.err, got, tc.want)
		}
	}
}

// serve accepts one connection on a loopback listener and hands it to
// serve; it returns the listener's address. The server side is closed and
// waited for when the test ends.
func serve(t *testing.T, serve func(c *net.TCPConn)) net.Addr {
	t.Helper()
	ln, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	done := make(chan struct{})
	go func() {
		defer close(done)
		c, err := ln.Accept()
		ln.Close()
		if err != nil {
			return
		}
		defer c.Close()
		serve(c.(*net.TCPConn))
	}()
	t.Cleanup(func() { ln.Close(); <-done })
	return ln.Addr()
}

// echo writes back what it reads until the peer closes. It copies through
// its own buffer: io.Copy between two sockets splices through pipes the
// runtime keeps for reuse, which later tests would count as leaked
// descriptors.
func echo(c *net.TCPConn) {
	buf := make([]byte, 4096)
	for {
		n, err := c.Read(buf)
		if _, werr := c.Write(buf[:n]); err != nil || werr != nil {
			return
		}
	}
}

// TestClient runs the packet client against plain loopback servers: what
// it sends and reads, and what it reports when the server misbehaves.
func TestClient(t *testing.T) {
	for _, tc := range []struct {
		name   string
		server func(c *net.TCPConn)
		client func(tb testing.TB, c *Client)
		want   string // the failure reported, if any
	}{{
		name:   "echo",
		server: echo,
		client: func(_ testing.TB, c *Client) {
			c.Echo(7, []byte("hello"))
			c.Echo(0xFFFF, nil)
			c.Echo(1, Payload(1, 20000))
		},
	}, {
		name:   "raw bytes",
		server: echo,
		client: func(tb testing.TB, c *Client) {
			c.MustWrite([]byte{9, 0, 7})
			if err := c.TimedWrite([]byte{0, 'h', 'e', 'l', 'l', 'o'}); err != nil {
				tb.Errorf("TimedWrite: %v", err)
			}
			c.Expect(7, []byte("hello"))
		},
	}, {
		name:   "packets read into one buffer",
		server: echo,
		client: func(tb testing.TB, c *Client) {
			c.Send(1, []byte("one"))
			c.Send(2, []byte("two"))
			buf := make([]byte, 0, 64)
			for _, want := range []string{"one", "two"} {
				if _, p, err := c.ReadPacket(WaitShort, buf); err != nil || string(p) != want {
					tb.Errorf("ReadPacket: %q, %v, want %q", p, err, want)
				}
			}
		},
	}, {
		name:   "another packet",
		server: func(c *net.TCPConn) { c.Write(AppendPacket(nil, 8, []byte("world"))) },
		client: func(_ testing.TB, c *Client) { c.Expect(7, []byte("hello")) },
		want:   `got packet id 8 payload "world" (5 bytes), want id 7 payload "hello" (5 bytes)`,
	}, {
		name:   "closed",
		server: func(c *net.TCPConn) { c.Write([]byte("bye")) },
		client: func(_ testing.TB, c *Client) { c.ExpectClosed(WaitShort) },
	}, {
		name:   "closed before a packet",
		server: func(*net.TCPConn) {},
		client: func(_ testing.TB, c *Client) { c.Expect(7, nil) },
		want:   "reading the packet (id 7, 0 bytes): EOF",
	}, {
		name:   "left open",
		server: func(c *net.TCPConn) { io.Copy(io.Discard, c) },
		client: func(_ testing.TB, c *Client) { c.ExpectClosed(50 * time.Millisecond) },
		want:   "the server did not close the connection within 50ms",
	}, {
		name: "reset",
		server: func(c *net.TCPConn) {
			// Only once the connection is up: a reset in the handshake
			// fails the dial.
			c.Read(make([]byte, 1))
			c.SetLinger(0)
		},
		client: func(tb testing.TB, c *Client) {
			c.MustWrite([]byte{0})
			_, _, err := c.ReadPacket(WaitShort, nil)
			if !IsReset(err) {
				tb.Errorf("read after the server's reset: %v, want a reset (%v)", err, ResetErrors)
			}
			c.ExpectClosed(WaitShort)
		},
	}} {
		t.Run(tc.name, func(t *testing.T) {
			addr := serve(t, tc.server)
			got := failures(t, func(tb testing.TB) {
				c := Dial(tb, addr)
				tc.client(tb, c)
			})
			var want []string
			if tc.want != "" {
				want = []string{tc.want}
			}
			if !slices.Equal(got, want) {
				t.Errorf("reported %q, want %q", got, want)
			}
		})
	}
}

// TestDialFails: a Client cannot be dialled to a closed port.
func TestDialFails(t *testing.T) {
	ln, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	addr := ln.Addr()
	ln.Close()
	got := failures(t, func(tb testing.TB) { Dial(tb, addr) })
	if len(got) != 1 || !strings.HasPrefix(got[0], "dial "+addr.String()+": ") {
		t.Errorf("Dial to a closed port reported %q", got)
	}
}
