package route_test

import (
	"errors"
	"strconv"
	"strings"
	"testing"

	"google.golang.org/protobuf/proto"

	"servercore"
	"servercore/route"
	"servercore/route/internal/testpb"
)

// counter is a server and a client handler that counts the messages it
// gets, for the fuzz test.
type counter struct {
	testpb.UnimplementedServerHandler
	testpb.UnimplementedClientHandler
	calls int
	last  proto.Message
}

func (c *counter) HandleC_Scalars(_ *servercore.Session, m *testpb.C_Scalars) error {
	c.calls, c.last = c.calls+1, m
	return nil
}

func (c *counter) HandleS_Collections(_ *servercore.Session, m *testpb.S_Collections) error {
	c.calls, c.last = c.calls+1, m
	return nil
}

// FuzzDispatch feeds random ids and payloads to both sides' dispatch, with
// new and reused messages: it
// never panics, a packet reaches a method only if its id is that side's and
// its payload decodes, and every refusal is a PacketError naming the id.
func FuzzDispatch(f *testing.F) {
	sc, _ := proto.Marshal(scalars())
	coll, _ := proto.Marshal(&testpb.S_Collections{Body: &testpb.Collections{Nums: []int32{1}, Scores: map[string]int64{"a": 1}}})
	f.Add(testpb.C_ScalarsID, sc)
	f.Add(testpb.S_CollectionsID, coll)
	f.Add(testpb.C_LoginID, []byte{0x0a, 0x01, 0xff})
	f.Add(uint16(0), []byte{})
	f.Add(uint16(65535), []byte{0x0e})
	f.Fuzz(func(t *testing.T, id uint16, payload []byte) {
		for _, side := range []struct {
			name     string
			dispatch func(*counter) error
			handled  uint16
			decode   proto.Message
		}{
			{"server", func(c *counter) error { return testpb.DispatchServer(c, nil, id, payload) },
				testpb.C_ScalarsID, new(testpb.C_Scalars)},
			{"client", func(c *counter) error { return testpb.DispatchClient(c, nil, id, payload) },
				testpb.S_CollectionsID, new(testpb.S_Collections)},
			// Reused messages, each holding a packet decoded before: what
			// the method gets is still exactly the new payload's message.
			{"server reused", func(c *counter) error {
				var x testpb.ServerMessages
				if err := x.Dispatch(new(counter), nil, testpb.C_ScalarsID, sc); err != nil {
					t.Fatal(err)
				}
				return x.Dispatch(c, nil, id, payload)
			}, testpb.C_ScalarsID, new(testpb.C_Scalars)},
			{"client reused", func(c *counter) error {
				var x testpb.ClientMessages
				if err := x.Dispatch(new(counter), nil, testpb.S_CollectionsID, coll); err != nil {
					t.Fatal(err)
				}
				return x.Dispatch(c, nil, id, payload)
			}, testpb.S_CollectionsID, new(testpb.S_Collections)},
		} {
			c := new(counter)
			err := side.dispatch(c)
			if err == nil {
				if id != side.handled || c.calls != 1 {
					t.Fatalf("%s: id %d dispatched with no error to %d calls", side.name, id, c.calls)
				}
				if proto.Unmarshal(payload, side.decode) != nil || !proto.Equal(c.last, side.decode) {
					t.Fatalf("%s: id %d: the method got %v, proto.Unmarshal gives %v", side.name, id, c.last, side.decode)
				}
				continue
			}
			if c.calls != 0 {
				t.Fatalf("%s: id %d: error %v after a call", side.name, id, err)
			}
			var pe *route.PacketError
			if !errors.As(err, &pe) || pe.ID != id || !errors.Is(err, servercore.ErrProtocol) {
				t.Fatalf("%s: id %d: error %v is not a PacketError for that id", side.name, id, err)
			}
			if !strings.Contains(err.Error(), "packet id "+strconv.Itoa(int(id))) {
				t.Fatalf("%s: error %q does not name id %d", side.name, err, id)
			}
		}
	})
}
