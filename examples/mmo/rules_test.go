package mmo

import (
	"math"
	"strings"
	"testing"

	"servercore/examples/mmo/mmopb"
)

func TestValidName(t *testing.T) {
	for _, c := range []struct {
		name string
		want bool
	}{
		{"a", true}, {strings.Repeat("n", MaxName), true}, {"é日本", true}, {"two words", true},
		{"", false}, {strings.Repeat("n", MaxName+1), false}, {"\x00", false}, {"a\tb", false},
		{"\x7f", false}, {"\u0085", false}, {"\xc3\x28", false}, {strings.Repeat("é", MaxName/2+1), false},
	} {
		if got := validName(c.name); got != c.want {
			t.Errorf("validName(%q) = %v, want %v", c.name, got, c.want)
		}
	}
}

func TestValidPos(t *testing.T) {
	nan, inf := float32(math.NaN()), float32(math.Inf(-1))
	for _, c := range []struct {
		pos  *mmopb.PosInfo
		want bool
	}{
		{&mmopb.PosInfo{}, true}, {&mmopb.PosInfo{X: Bound, Y: -Bound, Z: Bound, Yaw: 7}, true},
		{nil, false}, {&mmopb.PosInfo{X: nan}, false}, {&mmopb.PosInfo{Y: inf}, false},
		{&mmopb.PosInfo{Z: Bound + 0.001}, false}, {&mmopb.PosInfo{X: -1e9}, false}, {&mmopb.PosInfo{Yaw: nan}, false},
	} {
		if got := validPos(c.pos); got != c.want {
			t.Errorf("validPos(%v) = %v, want %v", c.pos, got, c.want)
		}
	}
}

func TestValidChat(t *testing.T) {
	for _, c := range []struct {
		msg  string
		want bool
	}{{"", false}, {"x", true}, {strings.Repeat("x", MaxChat), true}, {strings.Repeat("x", MaxChat+1), false}} {
		if got := validChat(c.msg); got != c.want {
			t.Errorf("validChat(%d bytes) = %v, want %v", len(c.msg), got, c.want)
		}
	}
}

// Players spawn on the ground, inside the spawn box.
func TestSpawnPos(t *testing.T) {
	for id := uint64(1); id < 2000; id++ {
		p := spawnPos(id)
		if p.ObjectId != id || p.Z != 0 || math.Abs(float64(p.X)) > spawnBox || math.Abs(float64(p.Y)) > spawnBox {
			t.Fatalf("spawnPos(%d) = %v", id, p)
		}
	}
}
