package route_test

import (
	"bytes"
	"errors"
	"strings"
	"testing"

	"google.golang.org/protobuf/proto"
	"google.golang.org/protobuf/types/descriptorpb"

	"servercore"
	"servercore/route"
	"servercore/route/internal/testpb"
)

func TestMarshal(t *testing.T) {
	tests := []struct {
		name string
		id   uint16
		m    proto.Message
	}{
		{"empty", testpb.C_EmptyID, &testpb.C_Empty{}},
		{"nil message", testpb.C_EmptyID, (*testpb.C_Empty)(nil)},
		{"string", testpb.C_LoginID, &testpb.C_Login{Name: "ann"}},
		{"nested", testpb.S_MoveID, &testpb.S_Move{PlayerId: 7, To: &testpb.Vec{X: 1, Y: -2}}},
		{"collections", testpb.C_CollectionsID, &testpb.C_Collections{Body: &testpb.Collections{
			Nums: []int32{1, -2, 3}, Names: []string{"a", "b"}, Scores: map[string]int64{"x": 1},
		}}},
		{"largest", testpb.C_BlobID, blobOfSize(servercore.MaxPacketSize - servercore.HeaderSize)},
		{"above a chunk", testpb.C_BlobID, blobOfSize(40 << 10)},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			b, err := route.Marshal(tt.id, tt.m)
			if err != nil {
				t.Fatal(err)
			}
			defer b.Release()
			want, err := proto.Marshal(tt.m)
			if err != nil {
				t.Fatal(err)
			}
			got := b.Bytes()
			h := servercore.ReadPacketHeader(got)
			if int(h.Size) != len(got) || h.ID != tt.id {
				t.Fatalf("header %+v for a %d-byte packet, want id %d", h, len(got), tt.id)
			}
			if !bytes.Equal(got[servercore.HeaderSize:], want) {
				t.Fatalf("payload differs from proto.Marshal's")
			}
		})
	}
}

// blobOfSize returns a C_Blob whose encoding is exactly n bytes.
func blobOfSize(n int) *testpb.C_Blob {
	m := &testpb.C_Blob{}
	// Field 1's tag and length take 1 + 1..3 bytes; shrink the data until
	// the whole fits n.
	for d := n - 2; d >= 0; d-- {
		m.Data = make([]byte, d)
		if proto.Size(m) == n {
			return m
		}
	}
	panic("no blob of that size")
}

func TestMarshalTooLarge(t *testing.T) {
	m := blobOfSize(servercore.MaxPacketSize - servercore.HeaderSize + 1)
	b, err := route.Marshal(testpb.C_BlobID, m)
	if !errors.Is(err, route.ErrTooLarge) {
		t.Fatalf("Marshal of a %d-byte message: %v, %v; want ErrTooLarge", proto.Size(m), b, err)
	}
	if !strings.Contains(err.Error(), "testpb.C_Blob") {
		t.Errorf("error %q does not name the message", err)
	}
	if err := route.Send(nil, testpb.C_BlobID, m); !errors.Is(err, route.ErrTooLarge) {
		t.Errorf("Send: %v, want ErrTooLarge", err)
	}
}

func TestMarshalInvalid(t *testing.T) {
	// proto3 strings must be UTF-8; protobuf refuses to encode others.
	b, err := route.Marshal(testpb.C_LoginID, &testpb.C_Login{Name: "\xff"})
	if err == nil {
		b.Release()
		t.Fatal("Marshal of an invalid string succeeded")
	}
}

// A proto2 message with a required field unset is refused, as
// proto.Marshal refuses it, unless the options allow a partial message.
func TestMarshalRequired(t *testing.T) {
	partial := &descriptorpb.UninterpretedOption_NamePart{NamePart: proto.String("x")} // is_extension unset
	if b, err := route.Marshal(7, partial); err == nil {
		b.Release()
		t.Fatal("Marshal of a message missing a required field succeeded")
	}
	if err := route.Send(nil, 7, partial); err == nil {
		t.Fatal("Send of a message missing a required field succeeded")
	}
	b, err := route.MarshalOptions{AllowPartial: true}.Marshal(7, partial)
	if err != nil {
		t.Fatalf("with AllowPartial: %v", err)
	}
	defer b.Release()
	want, _ := proto.MarshalOptions{AllowPartial: true}.Marshal(partial)
	if !bytes.Equal(b.Bytes()[servercore.HeaderSize:], want) {
		t.Fatal("payload differs from proto.Marshal's")
	}
	complete := &descriptorpb.UninterpretedOption_NamePart{NamePart: proto.String("x"), IsExtension: proto.Bool(true)}
	b2, err := route.Marshal(7, complete)
	if err != nil {
		t.Fatalf("Marshal of a complete message: %v", err)
	}
	b2.Release()
}
