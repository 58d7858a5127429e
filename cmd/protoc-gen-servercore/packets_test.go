package main

import (
	"strings"
	"testing"

	"google.golang.org/protobuf/compiler/protogen"
)

func TestPacketIDs(t *testing.T) {
	tests := []struct {
		set  string
		want map[string]uint16
	}{
		{"seed", map[string]uint16{
			"C_LOGIN": 1000, "S_LOGIN": 1001, "C_ENTER_GAME": 1002,
			"S_ENTER_GAME": 1003, "C_CHAT": 1004, "S_CHAT": 1005,
		}},
		{"explicit", map[string]uint16{
			"C_Hello": 1000, "C_Move": 1, "S_Moved": 1002, "S_Max": 65535, "S_Bye": 1004,
		}},
		{"nopackets", map[string]uint16{}},
	}
	for _, tt := range tests {
		t.Run(tt.set, func(t *testing.T) {
			gen, err := protogen.Options{}.New(request(t, tt.set, tt.set+".proto"))
			if err != nil {
				t.Fatal(err)
			}
			ps, err := packets(gen.FilesByPath[tt.set+".proto"])
			if err != nil {
				t.Fatal(err)
			}
			got := make(map[string]uint16)
			for _, p := range ps {
				got[p.name()] = p.id
				if wantDir := strings.HasPrefix(p.name(), "S_"); wantDir != (p.dir == toClient) {
					t.Errorf("%s: wrong direction", p.name())
				}
			}
			if len(got) != len(tt.want) {
				t.Errorf("packets %v, want %v", got, tt.want)
			}
			for name, id := range tt.want {
				if got[name] != id {
					t.Errorf("%s: id %d, want %d", name, got[name], id)
				}
			}
		})
	}
}

func TestRejected(t *testing.T) {
	tests := []struct {
		set   string
		files []string
		want  string
	}{
		{"dup_explicit", []string{"dup_explicit.proto"},
			"dup_explicit.proto: messages C_A and S_B have the same packet id 5 (C_A by its packet_id option, S_B by its packet_id option)"},
		{"dup_default", []string{"dup_default.proto"},
			"dup_default.proto: messages C_First and S_Second have the same packet id 1000 (C_First by declaration order from 1000, S_Second by its packet_id option)"},
		{"dup_later", []string{"dup_later.proto"},
			"dup_later.proto: messages C_Early and S_Later have the same packet id 1001 (C_Early by its packet_id option, S_Later by declaration order from 1000)"},
		{"range_zero", []string{"range_zero.proto"},
			"range_zero.proto: message C_Zero: packet id 0 is outside 1..65535"},
		{"range_high", []string{"range_high.proto"},
			"range_high.proto: message S_High: packet id 65536 is outside 1..65535"},
		{"not_packet", []string{"not_packet.proto"},
			"not_packet.proto: message Ping has a packet_id but is not a packet: a packet's name starts with C_ (client to server) or S_ (server to client)"},
		{"nested", []string{"nested.proto"},
			"nested.proto: message nested.S_Outer.C_Inner has a packet_id but is nested: only top-level messages are packets"},
		{"samepkg", []string{"samepkg_a.proto", "samepkg_b.proto"},
			"samepkg_a.proto and samepkg_b.proto both declare packets for Go package \"example.com/game/samepkg\": a Go package's packets are declared in one file"},
	}
	for _, tt := range tests {
		t.Run(tt.set, func(t *testing.T) {
			resp, err := runPlugin(t, request(t, tt.set, tt.files...))
			if err == nil {
				t.Fatalf("generated %d files, want the error %q", len(resp.File), tt.want)
			}
			if got := strings.TrimSpace(err.Error()); got != tt.want {
				t.Errorf("error:\n %s\nwant:\n %s", got, tt.want)
			}
		})
	}
}
