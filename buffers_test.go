package servercore

import (
	"bytes"
	"fmt"
	"math/rand/v2"
	"sync"
	"testing"

	"servercore/internal/testkit"
)

// ---------------------------------------------------------------------------
// RecvBuffer

// fill writes s at the write cursor.
func fill(t *testing.T, b *recvBuffer, s string) {
	t.Helper()
	n := copy(b.WriteSlice(), s)
	if n != len(s) {
		t.Fatalf("only %d of %d bytes fit (free %d)", n, len(s), b.Free())
	}
	if !b.OnWrite(n) {
		t.Fatalf("OnWrite(%d) refused with %d free", n, b.Free()+n)
	}
}

func TestRecvBufferNew(t *testing.T) {
	tests := []struct{ size, minFree, max, wantCap, wantMin, wantMax int }{
		{16, 4, 64, 16, 4, 64},
		{0, 0, 0, 1, 1, 1},   // size and min free at least 1
		{8, 100, 4, 8, 8, 8}, // min free at most size, max at least size
		{10, -5, 20, 10, 1, 20},
	}
	for _, tt := range tests {
		b := newRecvBuffer(tt.size, tt.minFree, tt.max)
		if w := b.WriteSlice(); len(w) != tt.wantCap {
			t.Errorf("newRecvBuffer(%d, %d, %d): WriteSlice has %d bytes, want %d", tt.size, tt.minFree, tt.max, len(w), tt.wantCap)
		}
		if b.Cap() != tt.wantCap || int(b.lim.min) != tt.wantMin || int(b.lim.max) != tt.wantMax || b.Len() != 0 || b.Free() != tt.wantCap {
			t.Errorf("newRecvBuffer(%d, %d, %d): cap %d min %d max %d len %d free %d; want cap %d min %d max %d, empty",
				tt.size, tt.minFree, tt.max, b.Cap(), b.lim.min, b.lim.max, b.Len(), b.Free(), tt.wantCap, tt.wantMin, tt.wantMax)
		}
	}
}

func TestRecvBufferCursorBounds(t *testing.T) {
	b := newRecvBuffer(8, 2, 8)
	for _, n := range []int{-1, 9} {
		if b.OnWrite(n) {
			t.Errorf("OnWrite(%d) accepted with 8 free", n)
		}
	}
	fill(t, b, "abcde")
	if b.OnWrite(4) {
		t.Errorf("OnWrite(4) accepted with 3 free")
	}
	if !b.OnWrite(0) {
		t.Errorf("OnWrite(0) refused")
	}
	for _, n := range []int{-1, 6} {
		if b.OnRead(n) {
			t.Errorf("OnRead(%d) accepted with 5 unread", n)
		}
	}
	if got := string(b.Bytes()); got != "abcde" || b.Len() != 5 || b.Free() != 3 {
		t.Fatalf("after refused calls: %q len %d free %d, want \"abcde\" 5 3 (refusals must change nothing)", got, b.Len(), b.Free())
	}
	if !b.OnRead(2) || string(b.Bytes()) != "cde" {
		t.Fatalf("OnRead(2): %q", b.Bytes())
	}
	if !b.OnRead(3) || b.Len() != 0 {
		t.Fatalf("OnRead(3) of the rest: len %d", b.Len())
	}
}

func TestRecvBufferClean(t *testing.T) {
	t.Run("rewinds when all read", func(t *testing.T) {
		b := newRecvBuffer(16, 4, 16)
		fill(t, b, "0123456789")
		b.OnRead(10)
		b.Clean()
		if b.Free() != 16 || b.Len() != 0 {
			t.Fatalf("free %d len %d, want 16 0", b.Free(), b.Len())
		}
	})
	t.Run("no compaction while free >= min", func(t *testing.T) {
		b := newRecvBuffer(16, 4, 16)
		fill(t, b, "0123456789AB") // free 4
		b.OnRead(2)
		before := &b.Bytes()[0]
		b.Clean()
		if &b.Bytes()[0] != before || b.Free() != 4 {
			t.Fatalf("Clean moved the bytes although free (4) was not below min (4)")
		}
		if string(b.Bytes()) != "23456789AB" {
			t.Fatalf("bytes %q", b.Bytes())
		}
	})
	t.Run("compacts when free < min", func(t *testing.T) {
		b := newRecvBuffer(16, 4, 16)
		fill(t, b, "0123456789ABCD") // free 2
		b.OnRead(5)
		b.Clean()
		if string(b.Bytes()) != "56789ABCD" || b.Free() != 7 || &b.Bytes()[0] != &b.buf[0] {
			t.Fatalf("after Clean: %q free %d; want \"56789ABCD\" at the front, 7 free", b.Bytes(), b.Free())
		}
	})
	t.Run("overlapping compaction", func(t *testing.T) {
		// The unread run overlaps its destination (the original memcpy'd).
		b := newRecvBuffer(16, 8, 16)
		fill(t, b, "0123456789ABCDEF")
		b.OnRead(3)
		b.Clean()
		if string(b.Bytes()) != "3456789ABCDEF" {
			t.Fatalf("overlapping compaction corrupted the bytes: %q", b.Bytes())
		}
	})
}

func TestRecvBufferReserve(t *testing.T) {
	t.Run("room already", func(t *testing.T) {
		b := newRecvBuffer(16, 4, 64)
		fill(t, b, "abc")
		if !b.Reserve(16) || b.Cap() != 16 || string(b.Bytes()) != "abc" {
			t.Fatalf("Reserve(16): cap %d %q", b.Cap(), b.Bytes())
		}
	})
	t.Run("compacts", func(t *testing.T) {
		b := newRecvBuffer(16, 1, 64)
		fill(t, b, "0123456789ABCD")
		b.OnRead(10)
		if !b.Reserve(12) {
			t.Fatal("Reserve(12) refused")
		}
		if b.Cap() != 16 || string(b.Bytes()) != "ABCD" || b.Len()+b.Free() < 12 {
			t.Fatalf("Reserve(12): cap %d %q len+free %d", b.Cap(), b.Bytes(), b.Len()+b.Free())
		}
	})
	t.Run("grows", func(t *testing.T) {
		b := newRecvBuffer(16, 1, 64)
		fill(t, b, "0123456789")
		b.OnRead(4)
		if !b.Reserve(40) {
			t.Fatal("Reserve(40) refused below the limit")
		}
		if b.Cap() < 40 || string(b.Bytes()) != "456789" || b.Len()+b.Free() < 40 {
			t.Fatalf("Reserve(40): cap %d %q len+free %d", b.Cap(), b.Bytes(), b.Len()+b.Free())
		}
	})
	t.Run("limit", func(t *testing.T) {
		b := newRecvBuffer(16, 1, 64)
		fill(t, b, "xy")
		if !b.Reserve(64) || b.Len()+b.Free() < 64 {
			t.Fatalf("Reserve(64) at the limit: cap %d", b.Cap())
		}
		if b.Reserve(65) {
			t.Fatal("Reserve(65) above the 64-byte limit accepted")
		}
		if string(b.Bytes()) != "xy" {
			t.Fatalf("bytes %q", b.Bytes())
		}
	})
}

func TestRecvBufferGrow(t *testing.T) {
	b := newRecvBuffer(10, 2, 35)
	fill(t, b, "hello")
	var caps []int
	for b.Grow() {
		caps = append(caps, b.Cap())
		if len(caps) > 10 {
			t.Fatal("Grow never stops")
		}
	}
	if fmt.Sprint(caps) != "[20 35]" {
		t.Fatalf("capacities %v, want [20 35] (double, within the limit)", caps)
	}
	if string(b.Bytes()) != "hello" || b.Free() != 30 {
		t.Fatalf("after growing: %q free %d", b.Bytes(), b.Free())
	}
}

// TestRecvBufferModel drives a buffer with random operations against a
// plain byte-slice model.
func TestRecvBufferModel(t *testing.T) {
	r := rand.New(rand.NewPCG(1, 2))
	for iter := range 200 {
		size := 1 + r.IntN(64)
		b := newRecvBuffer(size, r.IntN(size+1), size+r.IntN(128))
		var model []byte
		next := byte(0)
		for range 200 {
			switch r.IntN(6) {
			case 0, 1:
				n := r.IntN(b.Free() + 1)
				w := b.WriteSlice()
				for i := range n {
					w[i] = next
					model = append(model, next)
					next++
				}
				if !b.OnWrite(n) {
					t.Fatalf("iter %d: OnWrite(%d) refused with %d free", iter, n, b.Free())
				}
			case 2:
				n := r.IntN(b.Len() + 1)
				b.OnRead(n)
				model = model[n:]
			case 3:
				free := b.Free()
				b.Clean()
				if b.Free() < free {
					t.Fatalf("iter %d: Clean lost free space", iter)
				}
				if b.Len() == 0 && b.Free() != b.Cap() {
					t.Fatalf("iter %d: Clean of an empty buffer did not rewind", iter)
				}
			case 5:
				p := make([]byte, r.IntN(int(b.lim.max)+8))
				for i := range p {
					p[i] = next + byte(i)
				}
				fits := b.Len()+len(p) <= int(b.lim.max)
				if ok := b.Write(p); ok != fits {
					t.Fatalf("iter %d: Write of %d with %d unread, limit %d: %v", iter, len(p), b.Len(), b.lim.max, ok)
				}
				if fits {
					model = append(model, p...)
					next += byte(len(p))
				}
			case 4:
				n := r.IntN(int(b.lim.max) + 8)
				ok := b.Reserve(n)
				if ok != (n <= int(b.lim.max)) {
					t.Fatalf("iter %d: Reserve(%d) = %v with limit %d", iter, n, ok, b.lim.max)
				}
				if ok && b.Len()+b.Free() < n {
					t.Fatalf("iter %d: Reserve(%d) left only %d", iter, n, b.Len()+b.Free())
				}
			}
			if !bytes.Equal(b.Bytes(), model) {
				t.Fatalf("iter %d: buffer %v, model %v", iter, b.Bytes(), model)
			}
			if b.Cap() > int(b.lim.max) {
				t.Fatalf("iter %d: cap %d above the limit %d", iter, b.Cap(), b.lim.max)
			}
		}
	}
}

// ---------------------------------------------------------------------------
// SendBuffer

func mustPanic(t *testing.T, what string, f func()) {
	t.Helper()
	defer func() {
		if recover() == nil {
			t.Errorf("%s did not panic", what)
		}
	}()
	f()
}

func TestSendBufferOpenSeal(t *testing.T) {
	for _, size := range []int{0, 1, 100, sendChunkMax, sendChunkMax + 1, 70000} {
		t.Run(fmt.Sprint(size), func(t *testing.T) {
			b := OpenSendBuffer(size)
			w := b.Buffer()
			if len(w) != size {
				t.Fatalf("Buffer() has %d bytes, want %d", len(w), size)
			}
			want := testkit.Payload(size, size)
			copy(w, want)
			n := size / 2
			b.Seal(n)
			if b.Len() != n || !bytes.Equal(b.Bytes(), want[:n]) {
				t.Fatalf("sealed %d: Len %d, bytes differ", n, b.Len())
			}
			if size > sendChunkMax && b.chunk != nil {
				t.Errorf("a %d-byte buffer was cut from a chunk (max %d)", size, sendChunkMax)
			}
			if size <= sendChunkMax && b.chunk == nil {
				t.Errorf("a %d-byte buffer was not cut from a chunk", size)
			}
			mustPanic(t, "Buffer after Seal", func() { b.Buffer() })
			mustPanic(t, "a second Seal", func() { b.Seal(0) })
			b.Release()
		})
	}
	mustPanic(t, "OpenSendBuffer(-1)", func() { OpenSendBuffer(-1) })
	b := OpenSendBuffer(10)
	mustPanic(t, "Seal(11) of 10", func() { b.Seal(11) })
	mustPanic(t, "Seal(-1)", func() { b.Seal(-1) })
	b.Seal(10)
	b.Release()
}

func TestSendBufferRefs(t *testing.T) {
	b := NewPacket(1, []byte("x"))
	b.Retain()
	b.Retain()
	if got := b.refs.Load(); got != 3 {
		t.Fatalf("refs = %d after two Retains, want 3", got)
	}
	b.Release()
	b.Release()
	if got := b.refs.Load(); got != 1 || !bytes.Equal(b.Bytes(), testkit.AppendPacket(nil, 1, []byte("x"))) {
		t.Fatalf("refs = %d after two Releases, want 1, bytes intact", got)
	}
	b.Release()
	mustPanic(t, "a double Release", func() { b.Release() })
	mustPanic(t, "Retain after the last Release", func() { b.Retain() })
}

// TestSendChunkCutting drives one allocator directly: buffers are cut in
// order from one chunk, Seal gives unused space back, and a chunk is
// released once its allocator moved on and every buffer was released.
func TestSendChunkCutting(t *testing.T) {
	var a sendAllocator
	open := func(size int) *SendBuffer {
		b := new(SendBuffer)
		b.refs.Store(1)
		a.cut(b, size)
		return b
	}
	b1 := open(100)
	c := b1.chunk
	if b1.off != 0 || c.refs.Load() != 2 || c.used.Load() != 100 {
		t.Fatalf("first cut: off %d, chunk refs %d used %d; want 0, 2 (allocator + buffer), 100", b1.off, c.refs.Load(), c.used.Load())
	}
	b1.Seal(10)
	if c.used.Load() != 10 {
		t.Fatalf("Seal(10) of the last buffer cut: used %d, want 10", c.used.Load())
	}
	b2 := open(1000)
	if b2.chunk != c || b2.off != 10 {
		t.Fatalf("second cut at chunk %p off %d, want the same chunk at 10", b2.chunk, b2.off)
	}
	b1.Release() // a buffer before b2: nothing given back
	if c.used.Load() != 1010 {
		t.Fatalf("used %d, want 1010", c.used.Load())
	}
	copy(b2.Buffer(), "abc")
	b2.Seal(3)
	if c.used.Load() != 13 {
		t.Fatalf("Seal(3) of the last cut: used %d, want 13", c.used.Load())
	}
	b3 := open(sendChunkSize - 13) // exactly fills the chunk
	if b3.chunk != c || c.used.Load() != sendChunkSize {
		t.Fatalf("an exactly fitting cut moved to another chunk")
	}
	b3.Seal(0)
	b4 := open(sendChunkSize) // forces a new chunk
	if b4.chunk == c || a.cur == c {
		t.Fatalf("a cut that does not fit stayed in the full chunk")
	}
	if got := c.refs.Load(); got != 2 {
		t.Fatalf("old chunk refs %d, want 2 (b2, b3): the allocator must drop its own", got)
	}
	b3.Release()
	if string(b2.Bytes()) != "abc" {
		t.Fatalf("b2 bytes %q", b2.Bytes())
	}
	b2.Release()
	if got := c.refs.Load(); got != 0 {
		t.Fatalf("old chunk refs %d after every buffer was released, want 0 (back to the pool)", got)
	}
	b4.Release()
}

// TestSendBufferConcurrent cuts, fills, seals and releases buffers from many
// goroutines and checks that no buffer's bytes are overwritten by another's:
// the chunk cutting and Seal's give-back must never hand out overlapping
// memory.
func TestSendBufferConcurrent(t *testing.T) {
	const workers, rounds = 8, 2000
	var wg sync.WaitGroup
	errs := make(chan error, workers)
	for w := range workers {
		wg.Add(1)
		go func() {
			defer wg.Done()
			r := rand.New(rand.NewPCG(uint64(w), 7))
			var held []*SendBuffer
			var want [][]byte
			for i := range rounds {
				size := r.IntN(3000)
				if r.IntN(50) == 0 {
					size = sendChunkMax + r.IntN(1000)
				}
				b := OpenSendBuffer(size)
				n := r.IntN(size + 1)
				p := testkit.Payload(w*rounds+i, n)
				copy(b.Buffer(), p)
				b.Seal(n)
				held = append(held, b)
				want = append(want, p)
				if len(held) > 20 || r.IntN(3) == 0 {
					k := r.IntN(len(held))
					if !bytes.Equal(held[k].Bytes(), want[k]) {
						errs <- fmt.Errorf("worker %d: a held buffer's bytes changed", w)
						return
					}
					held[k].Release()
					held = append(held[:k], held[k+1:]...)
					want = append(want[:k], want[k+1:]...)
				}
			}
			for k, b := range held {
				if !bytes.Equal(b.Bytes(), want[k]) {
					errs <- fmt.Errorf("worker %d: a held buffer's bytes changed", w)
					return
				}
				b.Release()
			}
		}()
	}
	wg.Wait()
	close(errs)
	for err := range errs {
		t.Error(err)
	}
}
