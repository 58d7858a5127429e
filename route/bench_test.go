package route_test

import (
	"testing"

	"google.golang.org/protobuf/proto"

	"servercore"
	"servercore/route"
	"servercore/route/internal/testpb"
)

// scalars is a message with a field of every scalar kind.
func scalars() *testpb.C_Scalars {
	maybe := int32(-5)
	return &testpb.C_Scalars{Body: &testpb.Scalars{
		I32: -1, I64: -2, U32: 3, U64: 4, S32: -5, S64: -6, F32: 7, F64: 8, Sf32: -9, Sf64: -10,
		Fl: 1.5, Db: 2.5, B: true, S: "position", By: []byte{1, 2, 3}, Color: testpb.Color_COLOR_BLUE, Maybe: &maybe,
	}}
}

// keep is a handler that keeps each message, as a game would, so that the
// message escapes the same way in the dispatch as in the baseline.
type keep struct {
	testpb.UnimplementedServerHandler
	last proto.Message
}

func (k *keep) HandleC_Scalars(_ *servercore.Session, m *testpb.C_Scalars) error {
	k.last = m
	return nil
}

var sink proto.Message

func TestAllocs(t *testing.T) {
	if raceEnabled {
		t.Skip("allocation counts are meaningless under the race detector (sync.Pool drops items)")
	}
	m := scalars()
	payload, _ := proto.Marshal(m)
	marshal := testing.AllocsPerRun(100, func() {
		b, err := route.Marshal(testpb.C_ScalarsID, m)
		if err != nil {
			t.Fatal(err)
		}
		b.Release()
	})
	if marshal != 0 {
		t.Errorf("Marshal allocates %v times per message, want 0", marshal)
	}
	unmarshal := testing.AllocsPerRun(100, func() {
		m := new(testpb.C_Scalars)
		if err := proto.Unmarshal(payload, m); err != nil {
			t.Fatal(err)
		}
		sink = m
	})
	h := new(keep)
	dispatch := testing.AllocsPerRun(100, func() {
		if err := testpb.DispatchServer(h, nil, testpb.C_ScalarsID, payload); err != nil {
			t.Fatal(err)
		}
	})
	if dispatch != unmarshal {
		t.Errorf("DispatchServer allocates %v times per packet, proto.Unmarshal alone %v", dispatch, unmarshal)
	}
	var x testpb.ServerMessages
	reused := testing.AllocsPerRun(100, func() {
		if err := x.Dispatch(h, nil, testpb.C_ScalarsID, payload); err != nil {
			t.Fatal(err)
		}
	})
	if reused != unmarshal-1 {
		t.Errorf("ServerMessages.Dispatch allocates %v times per packet, proto.Unmarshal into a new message %v; want one less", reused, unmarshal)
	}
}

func BenchmarkMarshal(b *testing.B) {
	m := scalars()
	b.ReportAllocs()
	for b.Loop() {
		sb, err := route.Marshal(testpb.C_ScalarsID, m)
		if err != nil {
			b.Fatal(err)
		}
		sb.Release()
	}
}

// BenchmarkProtoMarshal is the baseline of BenchmarkMarshal: protobuf
// encoding into a reused slice, with no packet around it.
func BenchmarkProtoMarshal(b *testing.B) {
	m := scalars()
	var buf []byte
	b.ReportAllocs()
	for b.Loop() {
		var err error
		buf, err = proto.MarshalOptions{}.MarshalAppend(buf[:0], m)
		if err != nil {
			b.Fatal(err)
		}
	}
}

func BenchmarkDispatch(b *testing.B) {
	payload, _ := proto.Marshal(scalars())
	h := new(keep)
	b.ReportAllocs()
	for b.Loop() {
		if err := testpb.DispatchServer(h, nil, testpb.C_ScalarsID, payload); err != nil {
			b.Fatal(err)
		}
	}
}

func BenchmarkDispatchReused(b *testing.B) {
	payload, _ := proto.Marshal(scalars())
	h := new(keep)
	var x testpb.ServerMessages
	b.ReportAllocs()
	for b.Loop() {
		if err := x.Dispatch(h, nil, testpb.C_ScalarsID, payload); err != nil {
			b.Fatal(err)
		}
	}
}

// BenchmarkUnmarshal is the baseline of BenchmarkDispatch: protobuf
// decoding into a new message that outlives the call.
func BenchmarkUnmarshal(b *testing.B) {
	payload, _ := proto.Marshal(scalars())
	b.ReportAllocs()
	for b.Loop() {
		m := new(testpb.C_Scalars)
		if err := proto.Unmarshal(payload, m); err != nil {
			b.Fatal(err)
		}
		sink = m
	}
}
