package typedecho_test

import (
	"testing"

	"google.golang.org/protobuf/proto"

	"servercore"
	"servercore/examples/typedecho/echopb"
	"servercore/route"
)

// echoPayload is the bytes field of the bench's 64-byte typed echo packet.
var echoPayload = make([]byte, 58)

// replier decodes like the typed echo and encodes its answer, without a
// session to send it on.
type replier struct {
	echopb.UnimplementedServerHandler
	reply echopb.S_Echo
}

func (r *replier) HandleC_Echo(_ *servercore.Session, m *echopb.C_Echo) error {
	r.reply.Payload = m.Payload
	b, err := echopb.MarshalS_Echo(&r.reply)
	r.reply.Payload = nil
	if err != nil {
		return err
	}
	b.Release()
	return nil
}

// BenchmarkEcho is the typed echo's work per packet beside the raw echo's,
// without the I/O: decode (into a new message, or the session's reused one,
// as typedecho does) and encode through the generated code, against copying
// the payload into a SendBuffer as SendPacket does.
func BenchmarkEcho(b *testing.B) {
	payload, _ := proto.Marshal(&echopb.C_Echo{Payload: echoPayload})
	b.Run("raw", func(b *testing.B) {
		b.ReportAllocs()
		for b.Loop() {
			servercore.NewPacket(echopb.S_EchoID, payload).Release()
		}
	})
	b.Run("typed", func(b *testing.B) {
		h := new(replier)
		b.ReportAllocs()
		for b.Loop() {
			if err := echopb.DispatchServer(h, nil, echopb.C_EchoID, payload); err != nil {
				b.Fatal(err)
			}
		}
	})
	b.Run("typed-reused", func(b *testing.B) {
		h := new(replier)
		var x echopb.ServerMessages
		b.ReportAllocs()
		for b.Loop() {
			if err := x.Dispatch(h, nil, echopb.C_EchoID, payload); err != nil {
				b.Fatal(err)
			}
		}
	})
	b.Run("decode", func(b *testing.B) {
		b.ReportAllocs()
		for b.Loop() {
			m := new(echopb.C_Echo)
			if err := route.Unmarshal(echopb.C_EchoID, payload, m); err != nil {
				b.Fatal(err)
			}
		}
	})
	b.Run("encode", func(b *testing.B) {
		m := &echopb.S_Echo{Payload: echoPayload}
		b.ReportAllocs()
		for b.Loop() {
			sb, err := echopb.MarshalS_Echo(m)
			if err != nil {
				b.Fatal(err)
			}
			sb.Release()
		}
	})
}
