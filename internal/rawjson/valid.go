package rawjson

import (
	"encoding/binary"
	"math/bits"

	"github.com/mlflowtrace/mlflowtrace-go/internal/wordscan"
)

// maxDepth is encoding/json's nesting limit: a document nested deeper is
// invalid to it, so it is to Valid.
const maxDepth = 10000

// Valid reports whether b is exactly one JSON value (with optional white
// space around it), with encoding/json.Valid's rules: RFC 8259's grammar,
// any byte but '"', '\\' and control characters inside strings (invalid
// UTF-8 included), and at most 10000 nested arrays and objects. It reads
// string contents eight bytes at a time and keeps its own stack of open
// containers (no allocation up to 64 levels), where encoding/json runs a
// state machine through a function value per byte: the SDK validates every
// body and value it records and every root span's JSON it previews, so this
// is on the caller's path of each LLM call.
func Valid(b []byte) bool {
	var stackBuf [64]byte
	stack := stackBuf[:0] // '{' or '[' per open container
	i := skipSpace(b, 0)
	for {
		// A value starts at b[i].
		if i >= len(b) {
			return false
		}
		switch c := b[i]; c {
		case '{', '[':
			if len(stack) >= maxDepth {
				return false
			}
			closer := byte('}')
			if c == '[' {
				closer = ']'
			}
			i = skipSpace(b, i+1)
			if i < len(b) && b[i] == closer {
				i++ // empty: a whole value
				break
			}
			stack = append(stack, c)
			if c == '{' {
				if i = member(b, i); i < 0 {
					return false
				}
			}
			continue // the first member's or item's value
		case '"':
			if i = validString(b, i); i < 0 {
				return false
			}
		case 't':
			if i = literal(b, i, "true"); i < 0 {
				return false
			}
		case 'f':
			if i = literal(b, i, "false"); i < 0 {
				return false
			}
		case 'n':
			if i = literal(b, i, "null"); i < 0 {
				return false
			}
		default:
			if i = number(b, i); i < 0 {
				return false
			}
		}
		// A value ended at b[i]: close containers or go on to the next one.
		for {
			i = skipSpace(b, i)
			if len(stack) == 0 {
				return i == len(b)
			}
			if i >= len(b) {
				return false
			}
			top := stack[len(stack)-1]
			switch b[i] {
			case ',':
				i = skipSpace(b, i+1)
				if top == '{' {
					if i = member(b, i); i < 0 {
						return false
					}
				}
			case '}', ']':
				if (b[i] == '}') != (top == '{') {
					return false
				}
				stack = stack[:len(stack)-1]
				i++
				continue
			default:
				return false
			}
			break
		}
	}
}

// member reads an object member's name and colon at b[i] and returns the
// index of its value, or -1.
func member(b []byte, i int) int {
	if i >= len(b) || b[i] != '"' {
		return -1
	}
	if i = validString(b, i); i < 0 {
		return -1
	}
	i = skipSpace(b, i)
	if i >= len(b) || b[i] != ':' {
		return -1
	}
	return skipSpace(b, i+1)
}

func literal(b []byte, i int, lit string) int {
	if len(b)-i < len(lit) || string(b[i:i+len(lit)]) != lit {
		return -1
	}
	return i + len(lit)
}

// number reads -?(0|[1-9][0-9]*)(\.[0-9]+)?([eE][+-]?[0-9]+)? at b[i].
func number(b []byte, i int) int {
	if i < len(b) && b[i] == '-' {
		i++
	}
	switch {
	case i >= len(b):
		return -1
	case b[i] == '0':
		i++
	case b[i] >= '1' && b[i] <= '9':
		i = digits(b, i+1)
	default:
		return -1
	}
	if i < len(b) && b[i] == '.' {
		j := digits(b, i+1)
		if j == i+1 {
			return -1
		}
		i = j
	}
	if i < len(b) && (b[i] == 'e' || b[i] == 'E') {
		i++
		if i < len(b) && (b[i] == '+' || b[i] == '-') {
			i++
		}
		j := digits(b, i)
		if j == i {
			return -1
		}
		i = j
	}
	return i
}

func digits(b []byte, i int) int {
	for i < len(b) && b[i] >= '0' && b[i] <= '9' {
		i++
	}
	return i
}

// specialBytes marks (with its high bit) the first byte of w — w read
// little-endian, so the first byte in memory — that is '"', '\\' or a
// control character (< 0x20), the bytes a string cannot hold as they are;
// 0 when there is none (wordscan.FirstZero: bytes above the first mark may
// be marked wrongly).
func specialBytes(w uint64) uint64 {
	return wordscan.FirstZero(w^(wordscan.Ones*'"')) |
		wordscan.FirstZero(w^(wordscan.Ones*'\\')) |
		wordscan.FirstZero(w&(wordscan.Ones*0xe0)) // a zero byte where the byte is < 0x20
}

// nextSpecial returns the index of the first byte at or after j that may
// be special to a string: exact while eight bytes are left, j itself
// after that (the caller looks byte by byte).
func nextSpecial(b []byte, j int) int {
	for j+8 <= len(b) {
		if m := specialBytes(binary.LittleEndian.Uint64(b[j:])); m != 0 {
			return j + bits.TrailingZeros64(m)>>3
		}
		j += 8
	}
	return j
}

// validString checks the string starting at b[i] ('"') and returns the
// index after its closing quote, or -1.
func validString(b []byte, i int) int {
	j := i + 1
	for {
		j = nextSpecial(b, j)
		if j >= len(b) {
			return -1
		}
		switch c := b[j]; {
		case c == '"':
			return j + 1
		case c == '\\':
			if j+1 >= len(b) {
				return -1
			}
			switch b[j+1] {
			case '"', '\\', '/', 'b', 'f', 'n', 'r', 't':
				j += 2
			case 'u':
				if len(b)-j < 6 || !isHex(b[j+2]) || !isHex(b[j+3]) || !isHex(b[j+4]) || !isHex(b[j+5]) {
					return -1
				}
				j += 6
			default:
				return -1
			}
		case c < 0x20:
			return -1
		default:
			j++
		}
	}
}

func isHex(c byte) bool {
	return c >= '0' && c <= '9' || c >= 'a' && c <= 'f' || c >= 'A' && c <= 'F'
}
