package bot

import (
	"strings"
	"testing"

	"servercore/internal/checkpacket"
)

func TestReadPacket(t *testing.T) {
	run := &Run{Config: Config{Size: 48}}
	good := make([]byte, 48)
	want := checkpacket.Fields{Conn: 3, Seq: 9, SentAt: 1234}
	checkpacket.Put(good, want)
	_, id := checkpacket.ReadHeader(good)
	flipped := func(i int) []byte {
		p := append([]byte(nil), good...)
		p[i] ^= 0x10
		return p
	}
	for _, c := range []struct {
		name string
		id   uint16
		pkt  []byte
		want Fault
	}{
		{"good", id, good, FaultNone},
		{"short", id, good[:47], FaultSize},
		{"long", id, append(append([]byte(nil), good...), 0), FaultSize},
		{"id", id ^ 2, good, FaultID},
		{"field", id, flipped(9), FaultID},
		{"fill", id, flipped(40), FaultFill},
	} {
		got, f := run.ReadPacket(c.id, c.pkt[checkpacket.HeaderSize:])
		if f != c.want {
			t.Errorf("%s: fault %v, want %v", c.name, f, c.want)
		}
		if f == FaultNone && got != want {
			t.Errorf("%s: fields %+v, want %+v", c.name, got, want)
		}
	}
}

func TestFaultStrings(t *testing.T) {
	for f := FaultNone; f <= FaultExtra; f++ {
		if s := f.String(); s == "" || s == "unknown fault" {
			t.Errorf("Fault(%d) has no name", f)
		}
	}
	// The report names a fault in words a reader can act on.
	if !strings.Contains(FaultFill.String(), "fill") {
		t.Errorf("FaultFill is %q", FaultFill)
	}
}
