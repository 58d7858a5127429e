package route_test

import (
	"testing"

	"google.golang.org/protobuf/encoding/protowire"
	"google.golang.org/protobuf/proto"

	"servercore/route/internal/testpb"
)

// A reused message holds the last packet's fields only, known or unknown,
// while the values a method kept from an earlier one stay as they were.
func TestMessagesReused(t *testing.T) {
	full, _ := proto.Marshal(scalars())
	unknown := protowire.AppendVarint(protowire.AppendTag(nil, 99, protowire.VarintType), 5)
	var x testpb.ServerMessages
	k := new(keep)
	if err := x.Dispatch(k, nil, testpb.C_ScalarsID, full); err != nil {
		t.Fatal(err)
	}
	first := k.last.(*testpb.C_Scalars)
	body := first.Body
	for _, tt := range []struct {
		name    string
		payload []byte
	}{
		{"unknown field only", unknown},
		{"empty", nil},
		{"again", full},
	} {
		if err := x.Dispatch(k, nil, testpb.C_ScalarsID, tt.payload); err != nil {
			t.Fatalf("%s: %v", tt.name, err)
		}
		if k.last != first {
			t.Fatalf("%s: a new message; want the reused one", tt.name)
		}
		want := new(testpb.C_Scalars)
		if err := proto.Unmarshal(tt.payload, want); err != nil {
			t.Fatal(err)
		}
		// proto.Equal compares the unknown fields too.
		if !proto.Equal(k.last, want) {
			t.Fatalf("%s: got %v (unknown %x), want %v", tt.name, k.last, first.ProtoReflect().GetUnknown(), want)
		}
	}
	if !proto.Equal(body, scalars().Body) || body == first.Body {
		t.Fatalf("the first packet's body, kept, is now %v", body)
	}
}
