package load

import (
	"context"
	"encoding/binary"
	"strings"
	"testing"
	"time"

	"google.golang.org/protobuf/proto"

	"servercore"
	"servercore/examples/typedecho"
	"servercore/examples/typedecho/echopb"
	"servercore/internal/checkpacket"
)

// typedServer runs the typed echo app in this process.
func typedServer(t *testing.T) string {
	t.Helper()
	svc, err := servercore.NewServerService("127.0.0.1:0", servercore.Config{NewPacketSession: typedecho.NewSession, Backend: "std"})
	if err != nil {
		t.Fatal(err)
	}
	if err := svc.Start(context.Background()); err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() {
		ctx, cancel := context.WithTimeout(context.Background(), 10*time.Second)
		defer cancel()
		_ = svc.Stop(ctx)
	})
	return svc.Addr().String()
}

// The hand-written encoding is what the generated code reads and writes:
// the ids are echopb's, a C_Echo packet decodes to the checkpacket it
// carries, and the S_Echo protobuf encodes for it is the frame check wants.
func TestTypedFrameIsTheProtobufEncoding(t *testing.T) {
	if TypedRequestID != echopb.C_EchoID || TypedReplyID != echopb.S_EchoID {
		t.Fatalf("ids %d/%d, echopb says %d/%d", TypedRequestID, TypedReplyID, echopb.C_EchoID, echopb.S_EchoID)
	}
	for _, size := range []int{64, 100, 1024, 16000, checkpacket.MaxSize} {
		f, err := newTypedFrame(size)
		if err != nil {
			t.Fatalf("size %d: %v", size, err)
		}
		pkt := make([]byte, size)
		f.put(pkt, 7, 42)
		if got, id := checkpacket.ReadHeader(pkt); got != size || id != echopb.C_EchoID {
			t.Fatalf("size %d: header says size %d id %d", size, got, id)
		}
		var m echopb.C_Echo
		if err := proto.Unmarshal(pkt[checkpacket.HeaderSize:], &m); err != nil {
			t.Fatalf("size %d: C_Echo does not decode: %v", size, err)
		}
		if err := checkEcho(m.Payload, 7, 42); err != nil {
			t.Fatalf("size %d: the payload is not the checkpacket: %v", size, err)
		}
		body, err := proto.Marshal(&echopb.S_Echo{Payload: m.Payload})
		if err != nil {
			t.Fatal(err)
		}
		reply := binary.LittleEndian.AppendUint16(nil, uint16(checkpacket.HeaderSize+len(body)))
		reply = binary.LittleEndian.AppendUint16(reply, echopb.S_EchoID)
		reply = append(reply, body...)
		if err := f.check(reply, 7, 42); err != nil {
			t.Fatalf("size %d: protobuf's S_Echo fails the check: %v", size, err)
		}
		for i := range min(len(reply), 1100) {
			bad := append([]byte(nil), reply...)
			bad[i] ^= 0x10
			if f.check(bad, 7, 42) == nil {
				t.Errorf("size %d: byte %d corrupted and not detected", size, i)
			}
		}
		if f.check(reply, 7, 43) == nil || f.check(pkt, 7, 42) == nil {
			t.Errorf("size %d: another sequence, or the C_Echo itself, accepted", size)
		}
	}
}

// Where no encoding is exactly the size asked for, the generator says so
// rather than measure packets of another size.
func TestTypedFrameRefusesImpossibleSizes(t *testing.T) {
	// 134 bytes would need a 128-byte payload behind a 1-byte length, or
	// 127 behind 2 bytes, neither of which protobuf writes.
	for _, size := range []int{134, checkpacket.MinSize} {
		if _, err := newTypedFrame(size); err == nil {
			t.Errorf("size %d accepted", size)
		}
	}
}

func TestTypedPacketsNoAllocs(t *testing.T) {
	f, err := newTypedFrame(1024)
	if err != nil {
		t.Fatal(err)
	}
	pkt := make([]byte, 1024)
	reply := make([]byte, 1024)
	allocs := testing.AllocsPerRun(100, func() {
		f.put(pkt, 1, 2)
		copy(reply, pkt)
		copy(reply, f.recv)
		if err := f.check(reply, 1, 2); err != nil {
			t.Fatal(err)
		}
	})
	if allocs != 0 {
		t.Errorf("%v allocations per packet, want 0", allocs)
	}
}

func TestRunTypedEchoAgainstTypedecho(t *testing.T) {
	ctx := context.Background()
	addr := typedServer(t)
	if err := CheckTypedEchoServer(ctx, addr); err != nil {
		t.Fatalf("typedecho fails the check: %v", err)
	}
	res, err := RunTypedEcho(ctx, Options{Target: addr, Conns: 4, Inflight: 4, Size: 64, Warmup: 50 * time.Millisecond, Duration: 200 * time.Millisecond})
	if err != nil {
		t.Fatal(err)
	}
	if res.Failed() || res.Packets == 0 || res.P99 <= 0 {
		t.Fatalf("result %+v", res)
	}
}

// A raw echo server is not a typed one: it answers C_Echo with C_Echo.
func TestTypedEchoRejectsRawEcho(t *testing.T) {
	ctx := context.Background()
	addr := echoServer(t, nil)
	if err := CheckTypedEchoServer(ctx, addr); err == nil || !strings.Contains(err.Error(), "wrong bytes") {
		t.Fatalf("raw echo passed the typed check: %v", err)
	}
	res, err := RunTypedEcho(ctx, Options{Target: addr, Conns: 2, Inflight: 2, Size: 64, Warmup: 20 * time.Millisecond, Duration: 100 * time.Millisecond})
	if err != nil {
		t.Fatal(err)
	}
	if res.Mismatches == 0 || !strings.Contains(res.FirstError, "S_Echo") {
		t.Fatalf("C_Echo echoed back not counted as wrong: %+v", res)
	}
}
