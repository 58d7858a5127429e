package servercore

import (
	"bytes"
	"testing"
)

func TestFrameHeaderRoundTrip(t *testing.T) {
	mask := [4]byte{1, 2, 3, 4}
	tests := []struct {
		name   string
		op     wsOpcode
		length int
		mask   *[4]byte
		size   int
	}{
		{"empty", wsBinary, 0, nil, 2},
		{"short", wsBinary, 125, nil, 2},
		{"16-bit length", wsBinary, 126, nil, 4},
		{"16-bit length, largest", wsBinary, 0xffff, nil, 4},
		{"64-bit length", wsBinary, 0x10000, nil, 10},
		{"masked short", wsPing, 5, &mask, 6},
		{"masked 64-bit", wsBinary, 1 << 20, &mask, 14},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			p := appendFrameHeader(nil, tt.op, tt.length, tt.mask)
			if len(p) != tt.size {
				t.Fatalf("header is %d bytes, want %d", len(p), tt.size)
			}
			for cut := range len(p) {
				if _, ok := parseFrameHeader(p[:cut]); ok {
					t.Fatalf("a header cut to %d of %d bytes parsed", cut, len(p))
				}
			}
			h, ok := parseFrameHeader(p)
			if !ok || !h.fin || h.rsv != 0 || h.op != tt.op || h.length != int64(tt.length) || h.size != tt.size || h.masked != (tt.mask != nil) {
				t.Fatalf("parsed %+v (ok %v)", h, ok)
			}
			if tt.mask != nil && h.mask != *tt.mask {
				t.Fatalf("mask %v, want %v", h.mask, *tt.mask)
			}
		})
	}
}

func TestParseFrameHeaderNeeds(t *testing.T) {
	// The second byte says how long the header is before the rest arrives.
	tests := []struct {
		b1   byte
		need int
	}{{0x05, 2}, {0x7e, 4}, {0x7f, 10}, {0x85, 6}, {0xfe, 8}, {0xff, 14}}
	for _, tt := range tests {
		if h, ok := parseFrameHeader([]byte{0x82, tt.b1}); ok != (tt.need == 2) || h.size != tt.need {
			t.Errorf("second byte %#x: size %d (ok %v), want %d", tt.b1, h.size, ok, tt.need)
		}
	}
}

func TestMaskBytes(t *testing.T) {
	mask := [4]byte{0xa1, 0xb2, 0xc3, 0xd4}
	plain := bytes.Repeat([]byte("0123456789abcdef"), 5)[:77]
	// Masking in one go and in pieces at odd offsets gives the same bytes,
	// and masking again restores them.
	whole := bytes.Clone(plain)
	maskBytes(mask, 0, whole)
	for i := range plain {
		if whole[i] != plain[i]^mask[i%4] {
			t.Fatalf("byte %d: %#x, want %#x", i, whole[i], plain[i]^mask[i%4])
		}
	}
	pieces := bytes.Clone(plain)
	pos := 0
	for _, cut := range []int{3, 4, 13, 30, 61, 77} {
		pos = maskBytes(mask, pos, pieces[pos:cut])
	}
	if !bytes.Equal(pieces, whole) {
		t.Fatal("masking in pieces differs from masking at once")
	}
	maskBytes(mask, 0, whole)
	if !bytes.Equal(whole, plain) {
		t.Fatal("masking twice does not unmask")
	}
}

func TestParseClose(t *testing.T) {
	tests := []struct {
		name   string
		p      []byte
		code   int
		reason string
		ok     bool
	}{
		{"empty", nil, wsCloseNoStatus, "", true},
		{"one byte", []byte{3}, 0, "", false},
		{"normal", closePayload(1000, "bye"), 1000, "bye", true},
		{"application code", closePayload(4000, ""), 4000, "", true},
		{"reserved 1004", closePayload(1004, ""), 1004, "", false},
		{"never sent 1005", closePayload(1005, ""), 1005, "", false},
		{"below 1000", closePayload(999, ""), 999, "", false},
		{"invalid UTF-8 reason", append(closePayload(1000, ""), 0xff), 1000, "\xff", false},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			code, reason, ok := parseClose(tt.p)
			if ok != tt.ok || (ok && (code != tt.code || reason != tt.reason)) {
				t.Errorf("parseClose = (%d, %q, %v), want (%d, %q, %v)", code, reason, ok, tt.code, tt.reason, tt.ok)
			}
		})
	}
	if p := closePayload(1000, string(bytes.Repeat([]byte("é"), 100))); len(p) > wsMaxControlPayload {
		t.Errorf("a long reason makes a %d-byte close payload", len(p))
	} else if _, _, ok := parseClose(p); !ok {
		t.Error("a reason cut to fit is no longer valid UTF-8")
	}
}
