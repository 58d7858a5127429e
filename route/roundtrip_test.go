package route_test

import (
	"context"
	"errors"
	"io"
	"net"
	"strconv"
	"strings"
	"testing"
	"time"

	"google.golang.org/protobuf/proto"

	"servercore"
	"servercore/internal/testkit"
	"servercore/route"
	"servercore/route/internal/testpb"
)

// errRefused is what the server's HandleC_Login returns for the name
// "refused": a handler ending its session with an error of its own.
var errRefused = errors.New("login refused")

// echoServer answers every C_ message with its S_ counterpart and reports
// each session's disconnect cause.
type echoServer struct {
	servercore.BaseHandler
	causes chan<- error
}

func (e *echoServer) OnDisconnected(_ *servercore.Session, cause error) {
	select {
	case e.causes <- cause:
	default: // nobody is waiting: a session the test does not watch
	}
}

func (e *echoServer) HandleC_Login(s *servercore.Session, m *testpb.C_Login) error {
	if m.Name == "refused" {
		return errRefused
	}
	return testpb.SendS_Login(s, &testpb.S_Login{Ok: true, PlayerId: 42})
}

func (e *echoServer) HandleC_Move(s *servercore.Session, m *testpb.C_Move) error {
	return testpb.SendS_Move(s, &testpb.S_Move{PlayerId: 42, To: m.To})
}

func (e *echoServer) HandleC_Scalars(s *servercore.Session, m *testpb.C_Scalars) error {
	return testpb.SendS_Scalars(s, &testpb.S_Scalars{Body: m.Body})
}

func (e *echoServer) HandleC_Collections(s *servercore.Session, m *testpb.C_Collections) error {
	return testpb.SendS_Collections(s, &testpb.S_Collections{Body: m.Body})
}

func (e *echoServer) HandleC_Choice(s *servercore.Session, m *testpb.C_Choice) error {
	return testpb.SendS_Choice(s, &testpb.S_Choice{Body: m.Body})
}

func (e *echoServer) HandleC_Empty(s *servercore.Session, _ *testpb.C_Empty) error {
	return testpb.SendS_Empty(s, &testpb.S_Empty{})
}

func (e *echoServer) HandleC_Blob(s *servercore.Session, m *testpb.C_Blob) error {
	return testpb.SendS_Blob(s, &testpb.S_Blob{Data: m.Data})
}

// recorder is a client that passes every S_ message it receives to got: a
// copy if its messages are reused.
type recorder struct {
	servercore.BaseHandler
	got    chan proto.Message
	reused bool
}

func (r *recorder) HandleS_Login(_ *servercore.Session, m *testpb.S_Login) error { return r.put(m) }
func (r *recorder) HandleS_Move(_ *servercore.Session, m *testpb.S_Move) error   { return r.put(m) }
func (r *recorder) HandleS_Scalars(_ *servercore.Session, m *testpb.S_Scalars) error {
	return r.put(m)
}
func (r *recorder) HandleS_Collections(_ *servercore.Session, m *testpb.S_Collections) error {
	return r.put(m)
}
func (r *recorder) HandleS_Choice(_ *servercore.Session, m *testpb.S_Choice) error { return r.put(m) }
func (r *recorder) HandleS_Empty(_ *servercore.Session, m *testpb.S_Empty) error   { return r.put(m) }
func (r *recorder) HandleS_Blob(_ *servercore.Session, m *testpb.S_Blob) error     { return r.put(m) }

func (r *recorder) put(m proto.Message) error {
	if r.reused {
		m = proto.Clone(m)
	}
	r.got <- m
	return nil
}

// adapters are the two ways the generated code turns a typed handler into
// a servercore.PacketHandler: a new message per packet, or one per session
// and type, reused.
var adapters = []struct {
	name   string
	reused bool
}{{"new", false}, {"reused", true}}

// startEcho starts an echoServer on backend, its messages reused or not;
// causes, if not nil, gets each session's disconnect cause.
func startEcho(t *testing.T, backend string, causes chan error, reused bool) *servercore.Service {
	t.Helper()
	svc, err := servercore.NewServerService("127.0.0.1:0", servercore.Config{
		Backend: backend,
		NewPacketSession: func() servercore.PacketHandler {
			if reused {
				return testpb.ServerPacketHandlerReusing(&echoServer{causes: causes})
			}
			return testpb.ServerPacketHandler(&echoServer{causes: causes})
		},
	})
	return startService(t, svc, err)
}

// connectRecorder connects a typed client on backend to addr, its messages
// reused or not.
func connectRecorder(t *testing.T, backend string, addr net.Addr, reused bool) (*servercore.Session, *recorder) {
	t.Helper()
	r := &recorder{got: make(chan proto.Message, 16), reused: reused}
	adapter := testpb.ClientPacketHandler
	if reused {
		adapter = testpb.ClientPacketHandlerReusing
	}
	svc, err := servercore.NewClientService(addr.String(), 0, servercore.Config{
		Backend:          backend,
		NewPacketSession: func() servercore.PacketHandler { return adapter(r) },
	})
	startService(t, svc, err)
	ctx, cancel := context.WithTimeout(context.Background(), testkit.WaitLong)
	defer cancel()
	s, err := svc.Connect(ctx)
	if err != nil {
		t.Fatal(err)
	}
	return s, r
}

// exchange is one C_ message a client sends and the S_ reply it expects.
type exchange struct {
	name  string
	send  func(*servercore.Session) error
	reply proto.Message
}

// exchanges covers every message of testpb, both directions.
func exchanges() []exchange {
	vec := &testpb.Vec{X: 1.5, Y: -2}
	body := scalars().Body
	coll := &testpb.Collections{
		Nums: []int32{1, -2, 1 << 30}, Names: []string{"a", "", "ü"},
		Scores: map[string]int64{"x": -1, "y": 1 << 40}, Path: []*testpb.Vec{vec, {}},
	}
	choices := []*testpb.Choice{
		{Pick: &testpb.Choice_Text{Text: "hi"}},
		{Pick: &testpb.Choice_Number{Number: -7}},
		{Pick: &testpb.Choice_Where{Where: vec}},
	}
	blob := make([]byte, 65000)
	for i := range blob {
		blob[i] = byte(i * 7)
	}
	xs := []exchange{
		{"Login", func(s *servercore.Session) error { return testpb.SendC_Login(s, &testpb.C_Login{Name: "ann"}) },
			&testpb.S_Login{Ok: true, PlayerId: 42}},
		{"Move", func(s *servercore.Session) error { return testpb.SendC_Move(s, &testpb.C_Move{To: vec}) },
			&testpb.S_Move{PlayerId: 42, To: vec}},
		{"Scalars", func(s *servercore.Session) error { return testpb.SendC_Scalars(s, &testpb.C_Scalars{Body: body}) },
			&testpb.S_Scalars{Body: body}},
		{"Collections", func(s *servercore.Session) error {
			return testpb.SendC_Collections(s, &testpb.C_Collections{Body: coll})
		}, &testpb.S_Collections{Body: coll}},
		{"Empty", func(s *servercore.Session) error { return testpb.SendC_Empty(s, &testpb.C_Empty{}) },
			&testpb.S_Empty{}},
		{"Blob", func(s *servercore.Session) error { return testpb.SendC_Blob(s, &testpb.C_Blob{Data: blob}) },
			&testpb.S_Blob{Data: blob}},
	}
	for i, c := range choices {
		xs = append(xs, exchange{"Choice" + strconv.Itoa(i), func(s *servercore.Session) error {
			return testpb.SendC_Choice(s, &testpb.C_Choice{Body: c})
		}, &testpb.S_Choice{Body: c}})
	}
	return xs
}

func TestRoundTrip(t *testing.T) {
	testkit.ForEachBackend(t, func(t *testing.T, backend string) {
		for _, a := range adapters {
			srv := startEcho(t, backend, nil, a.reused)
			s, r := connectRecorder(t, backend, srv.Addr(), a.reused)
			// Twice, so that the second time every reused message is
			// decoded into again.
			for range 2 {
				for _, x := range exchanges() {
					if err := x.send(s); err != nil {
						t.Fatalf("%s, %s: %v", a.name, x.name, err)
					}
					got := recv(t, r.got, x.name+"'s reply")
					if !proto.Equal(got, x.reply) {
						t.Errorf("%s, %s: got %v, want %v", a.name, x.name, got, x.reply)
					}
				}
			}
		}
	})
}

// rawPacket is a packet as bytes on the wire.
func rawPacket(id uint16, payload []byte) []byte {
	b := servercore.NewPacket(id, payload)
	defer b.Release()
	return append([]byte(nil), b.Bytes()...)
}

func TestBadInput(t *testing.T) {
	login, _ := proto.Marshal(&testpb.C_Login{Name: "refused"})
	tests := []struct {
		name   string
		packet []byte
		is     error  // what the cause wraps
		text   string // what the cause says
	}{
		{"unknown id", rawPacket(9, nil), route.ErrUnknownID, "packet id 9: unknown packet id"},
		{"id zero", rawPacket(0, []byte{1, 2}), route.ErrUnknownID, "packet id 0: unknown packet id"},
		{"wrong direction", rawPacket(testpb.S_LoginID, nil), route.ErrWrongDirection,
			"packet id 1001 (testpb.S_Login): message of the wrong direction"},
		{"truncated varint", rawPacket(testpb.C_LoginID, []byte{0x0a, 0x05, 'a'}), route.ErrDecode,
			"packet id 1000 (testpb.C_Login): payload does not decode"},
		{"invalid UTF-8", rawPacket(testpb.C_LoginID, []byte{0x0a, 0x01, 0xff}), route.ErrDecode,
			"packet id 1000 (testpb.C_Login): payload does not decode"},
		// Wire type 6 does not exist (a known field with another wire type
		// would be kept as an unknown field, which decodes).
		{"invalid wire type", rawPacket(testpb.C_ScalarsID, []byte{0x0e, 1, 2, 3, 4}), route.ErrDecode,
			"packet id 1004 (testpb.C_Scalars): payload does not decode"},
		{"handler error", rawPacket(testpb.C_LoginID, login), errRefused, "login refused"},
	}
	testkit.ForEachBackend(t, func(t *testing.T, backend string) {
		for _, a := range adapters {
			t.Run(a.name, func(t *testing.T) {
				causes := make(chan error, 4)
				srv := startEcho(t, backend, causes, a.reused)
				// A typed client stays connected through every bad packet.
				good, r := connectRecorder(t, backend, srv.Addr(), a.reused)
				for _, tt := range tests {
					t.Run(tt.name, func(t *testing.T) {
						c, err := net.Dial("tcp", srv.Addr().String())
						if err != nil {
							t.Fatal(err)
						}
						defer c.Close()
						if _, err := c.Write(tt.packet); err != nil {
							t.Fatal(err)
						}
						cause := recv(t, causes, "the disconnect")
						if !errors.Is(cause, tt.is) || !strings.Contains(cause.Error(), tt.text) {
							t.Errorf("cause %q, want one wrapping %v saying %q", cause, tt.is, tt.text)
						}
						if tt.is != errRefused && !errors.Is(cause, servercore.ErrProtocol) {
							t.Errorf("cause %q does not wrap ErrProtocol", cause)
						}
						c.SetReadDeadline(time.Now().Add(testkit.WaitLong))
						if n, err := io.Copy(io.Discard, c); err != nil || n != 0 {
							t.Errorf("after the bad packet: read %d bytes, %v; want the server to close", n, err)
						}
						if err := testpb.SendC_Empty(good, &testpb.C_Empty{}); err != nil {
							t.Fatal(err)
						}
						if got := recv(t, r.got, "the good client's reply"); !proto.Equal(got, &testpb.S_Empty{}) {
							t.Errorf("good client got %v", got)
						}
					})
				}
			})
		}
	})
}
