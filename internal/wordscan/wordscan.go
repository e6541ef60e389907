package wordscan

const (
	// Ones has a one in every byte: Ones * c repeats the byte c.
	Ones = 0x0101010101010101
	// Highs has the high bit of every byte.
	Highs = 0x8080808080808080
)

// FirstZero marks the zero bytes of x with their high bit, 0 when none is
// zero. The lowest mark is exact — bits.TrailingZeros64(m)/8 is the index
// of the first zero byte of a little-endian word — but a mark above it may
// be wrong (a borrow); Zeros marks exactly.
func FirstZero(x uint64) uint64 { return (x - Ones) &^ x & Highs }

// HasZero reports whether a byte of x is zero.
func HasZero(x uint64) bool { return FirstZero(x) != 0 }

// Zeros marks every zero byte of x with its high bit, and nothing else.
func Zeros(x uint64) uint64 {
	const low7 = 0x7f7f7f7f7f7f7f7f
	return ^(((x & low7) + low7) | x | low7)
}
