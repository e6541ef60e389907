package wordscan

import (
	"encoding/binary"
	"fmt"
	"math/bits"
	"testing"
)

// zerosByByte is Zeros written byte by byte.
func zerosByByte(x uint64) uint64 {
	var m uint64
	for i := range 8 {
		if byte(x>>(8*i)) == 0 {
			m |= 0x80 << (8 * i)
		}
	}
	return m
}

func check(t *testing.T, x uint64) {
	want := zerosByByte(x)
	if got := Zeros(x); got != want {
		t.Fatalf("Zeros(%#x) = %#x, want %#x", x, got, want)
	}
	if got := HasZero(x); got != (want != 0) {
		t.Fatalf("HasZero(%#x) = %v", x, got)
	}
	first := FirstZero(x)
	if (first == 0) != (want == 0) || first&-first != want&-want {
		t.Fatalf("FirstZero(%#x) = %#x: lowest mark differs from %#x", x, first, want)
	}
}

func TestWords(t *testing.T) {
	for _, x := range []uint64{0, ^uint64(0), Ones, Highs, 0x0100, 0x0001000000000000, 0xff00ff00ff00ff00, 0x0101010101010100, 0x8000000000000000} {
		check(t, x)
	}
}

func FuzzWords(f *testing.F) {
	f.Add([]byte("abc\x00def"))
	f.Add([]byte("\x01\x00\x00\x01\x00\x01\x01\x01"))
	f.Fuzz(func(t *testing.T, b []byte) {
		var w [8]byte
		copy(w[:], b)
		check(t, binary.LittleEndian.Uint64(w[:]))
	})
}

func Example() {
	word := binary.LittleEndian.Uint64([]byte(`ab"cd"ef`))
	quotes := word ^ (Ones * '"') // a zero byte where the byte is '"'
	fmt.Println("first quote at", bits.TrailingZeros64(FirstZero(quotes))/8)
	fmt.Println("quotes:", bits.OnesCount64(Zeros(quotes)))
	// Output:
	// first quote at 2
	// quotes: 2
}
