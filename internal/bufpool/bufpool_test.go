package bufpool

import (
	"runtime"
	"sync"
	"testing"
)

func TestPutKeepsSmallAndDropsHugeBuffers(t *testing.T) {
	for _, tt := range []struct {
		name string
		grow int
		kept bool
	}{
		{"within initial capacity", 10, true},
		{"grown up to max", 100, true},
		{"grown beyond max", 101, false},
	} {
		t.Run(tt.name, func(t *testing.T) {
			p := New(16, 100)
			bp := p.Get()
			b := append(*bp, make([]byte, tt.grow)...)
			b = b[:len(b):len(b)] // capacity exactly what was written
			p.Put(bp, b)
			if kept := cap(*bp) == tt.grow && len(*bp) == 0; kept != tt.kept {
				t.Fatalf("buffer kept = %v (len %d cap %d), want %v", kept, len(*bp), cap(*bp), tt.kept)
			}
		})
	}
}

func TestGetReturnsEmptyBuffer(t *testing.T) {
	p := New(8, 1<<10)
	bp := p.Get()
	p.Put(bp, append(*bp, "leftover"...))
	if got := p.Get(); len(*got) != 0 {
		t.Fatalf("Get returned %q, want an empty buffer", *got)
	}
}

// TestReturnedBufferOutlivesCollections: the buffer Put back is the one the
// next Get hands out, garbage collections in between (a sync.Pool would
// have dropped it after two).
func TestReturnedBufferOutlivesCollections(t *testing.T) {
	p := New(8, 1<<10)
	bp := p.Get()
	b := append(*bp, make([]byte, 100)...)
	p.Put(bp, b)
	runtime.GC()
	runtime.GC()
	got := p.Get()
	if cap(*got) != cap(b) || &(*got)[:1][0] != &b[0] {
		t.Fatalf("Get returned a buffer of capacity %d, not the one put back (capacity %d)", cap(*got), cap(b))
	}
}

// TestHoldsAtMostTwiceMax: buffers returned beyond 2*max bytes are left to
// the garbage collector, so a Pool never pins more.
func TestHoldsAtMostTwiceMax(t *testing.T) {
	p := New(8, 100)
	var out []*[]byte
	for range 5 {
		out = append(out, p.Get())
	}
	for _, bp := range out {
		p.Put(bp, append(*bp, make([]byte, 60)...)[:60:60]) // capacity 60 each
	}
	if len(p.free) != 3 || p.held != 180 {
		t.Fatalf("%d buffers of %d bytes kept, want 3 of 180", len(p.free), p.held)
	}
	for range 3 {
		p.Get()
	}
	if len(p.free) != 0 || p.held != 0 {
		t.Fatalf("after taking all: %d buffers, %d bytes held", len(p.free), p.held)
	}
}

// TestConcurrentUse: Get and Put from many goroutines (run with -race);
// no buffer is handed to two holders at once.
func TestConcurrentUse(t *testing.T) {
	p := New(8, 1<<10)
	var wg sync.WaitGroup
	for g := range 8 {
		wg.Add(1)
		go func() {
			defer wg.Done()
			for i := range 200 {
				bp := p.Get()
				b := append(*bp, byte(g), byte(i))
				runtime.Gosched()
				if len(b) != 2 || b[0] != byte(g) || b[1] != byte(i) {
					t.Errorf("buffer changed while held: %v", b)
					return
				}
				p.Put(bp, b)
			}
		}()
	}
	wg.Wait()
}
