package route_test

import (
	"errors"
	"strings"
	"testing"

	"google.golang.org/protobuf/proto"
	"google.golang.org/protobuf/types/descriptorpb"

	"servercore"
	"servercore/route"
	"servercore/route/internal/testpb"
)

func TestPacketError(t *testing.T) {
	decodeErr := route.Unmarshal(1004, []byte{0xff}, new(testpb.C_Scalars))
	tests := []struct {
		name   string
		err    error
		reason error
		text   string
	}{
		{"unknown", route.UnknownID(77), route.ErrUnknownID,
			"servercore: protocol error: packet id 77: unknown packet id"},
		{"wrong direction", route.WrongDirection(1001, "testpb.S_Login"), route.ErrWrongDirection,
			"servercore: protocol error: packet id 1001 (testpb.S_Login): message of the wrong direction"},
		{"decode", decodeErr, route.ErrDecode,
			"servercore: protocol error: packet id 1004 (testpb.C_Scalars): payload does not decode: "},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			if !errors.Is(tt.err, servercore.ErrProtocol) {
				t.Errorf("%v does not wrap servercore.ErrProtocol", tt.err)
			}
			if !errors.Is(tt.err, tt.reason) {
				t.Errorf("%v does not wrap %v", tt.err, tt.reason)
			}
			if !strings.HasPrefix(tt.err.Error(), tt.text) {
				t.Errorf("error %q, want it to start with %q", tt.err, tt.text)
			}
			var pe *route.PacketError
			if !errors.As(tt.err, &pe) {
				t.Fatalf("%v is not a *PacketError", tt.err)
			}
		})
	}
}

func TestUnmarshal(t *testing.T) {
	want := &testpb.C_Login{Name: "ann"}
	payload, err := proto.Marshal(want)
	if err != nil {
		t.Fatal(err)
	}
	got := new(testpb.C_Login)
	if err := route.Unmarshal(testpb.C_LoginID, payload, got); err != nil {
		t.Fatal(err)
	}
	// The message must not alias the payload, which its callback reuses.
	clear(payload)
	if !proto.Equal(got, want) {
		t.Fatalf("got %v, want %v", got, want)
	}
}

// A payload that leaves a required field (proto2) unset does not decode,
// and one that sets it decodes.
func TestUnmarshalRequired(t *testing.T) {
	partial, _ := proto.MarshalOptions{AllowPartial: true}.Marshal(&descriptorpb.UninterpretedOption_NamePart{NamePart: proto.String("x")})
	err := route.Unmarshal(7, partial, new(descriptorpb.UninterpretedOption_NamePart))
	if !errors.Is(err, route.ErrDecode) || !errors.Is(err, servercore.ErrProtocol) {
		t.Fatalf("a payload missing a required field: %v, want ErrDecode", err)
	}
	rest, _ := proto.Marshal(&descriptorpb.UninterpretedOption_NamePart{NamePart: proto.String("y"), IsExtension: proto.Bool(true)})
	got := &descriptorpb.UninterpretedOption_NamePart{IsExtension: proto.Bool(false)}
	if err := route.Unmarshal(7, rest, got); err != nil {
		t.Fatal(err)
	}
	if got.GetNamePart() != "y" || !got.GetIsExtension() {
		t.Fatalf("got %v", got)
	}
}

func TestPacketErrorZero(t *testing.T) {
	// A PacketError built by hand, with no reason, still prints and unwraps.
	err := &route.PacketError{ID: 3}
	if got := err.Error(); got != "servercore: protocol error: packet id 3" {
		t.Errorf("Error() = %q", got)
	}
	if !errors.Is(err, servercore.ErrProtocol) {
		t.Error("does not wrap ErrProtocol")
	}
}
