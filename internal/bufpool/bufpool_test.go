package bufpool

import "testing"

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
