package encode

import (
	"encoding/binary"
	"math"
	"math/bits"
	"strconv"
	"unicode/utf8"

	"github.com/mlflowtrace/mlflowtrace-go/internal/wordscan"
)

const hexDigits = "0123456789abcdef"

// AppendString appends s as a JSON string literal the way Python's json.dumps
// writes it: `"` and `\` escaped, \n \r \t \b \f short escapes, other control
// characters as \u00XX. With asciiOnly (Python's ensure_ascii=True) every
// character outside printable ASCII is written as \uXXXX (UTF-16 surrogate
// pairs above U+FFFF), which is what MLflow measures trace sizes with.
// Invalid UTF-8 bytes are written as U+FFFD, as encoding/json does.
func AppendString(dst []byte, s string, asciiOnly bool) []byte {
	dst = append(dst, '"')
	start := 0
	for i, end := 0, 0; i < len(s); {
		// Eight bytes at a time while none of them needs escaping (the
		// text of most attribute values), then byte by byte to the end of
		// the eight that do.
		if i >= end {
			if i+8 <= len(s) {
				if !needsEscape8(load8(s, i), asciiOnly) {
					i += 8
					continue
				}
				end = i + 8
			} else {
				end = len(s)
			}
		}
		c := s[i]
		if c < utf8.RuneSelf {
			if c >= 0x20 && c != '"' && c != '\\' && (c != 0x7f || !asciiOnly) {
				i++
				continue
			}
			dst = append(dst, s[start:i]...)
			switch c {
			case '"':
				dst = append(dst, '\\', '"')
			case '\\':
				dst = append(dst, '\\', '\\')
			case '\n':
				dst = append(dst, '\\', 'n')
			case '\r':
				dst = append(dst, '\\', 'r')
			case '\t':
				dst = append(dst, '\\', 't')
			case '\b':
				dst = append(dst, '\\', 'b')
			case '\f':
				dst = append(dst, '\\', 'f')
			default:
				dst = appendU4(dst, rune(c))
			}
			i++
			start = i
			continue
		}
		r, size := utf8.DecodeRuneInString(s[i:])
		if r == utf8.RuneError && size == 1 {
			dst = append(dst, s[start:i]...)
			if asciiOnly {
				dst = append(dst, `\ufffd`...)
			} else {
				dst = append(dst, "\uFFFD"...)
			}
			i++
			start = i
			continue
		}
		if asciiOnly {
			dst = append(dst, s[start:i]...)
			if r > 0xFFFF {
				r -= 0x10000
				dst = appendU4(dst, 0xD800+(r>>10))
				dst = appendU4(dst, 0xDC00+(r&0x3FF))
			} else {
				dst = appendU4(dst, r)
			}
			i += size
			start = i
			continue
		}
		i += size
	}
	dst = append(dst, s[start:]...)
	return append(dst, '"')
}

// load8 returns the eight bytes of s at i as a little-endian word (the
// compiler makes it one load).
func load8(s string, i int) uint64 {
	_ = s[i+7]
	return uint64(s[i]) | uint64(s[i+1])<<8 | uint64(s[i+2])<<16 | uint64(s[i+3])<<24 |
		uint64(s[i+4])<<32 | uint64(s[i+5])<<40 | uint64(s[i+6])<<48 | uint64(s[i+7])<<56
}

// printable8 reports whether the eight bytes in x are all printable ASCII
// (DEL counts as printable unless asciiOnly): written as themselves by
// AppendString, '"' and '\\' aside.
func printable8(x uint64, asciiOnly bool) bool {
	if x&wordscan.Highs != 0 {
		return false
	}
	// All bytes are < 0x80 now, so the borrow test is exact.
	return (x-wordscan.Ones*0x20)&^x&wordscan.Highs == 0 && (!asciiOnly || !wordscan.HasZero(x^(wordscan.Ones*0x7f)))
}

// needsEscape8 reports whether one of the eight bytes in x is not written
// as itself by AppendString: a control character, '"', '\\', a byte of a
// multi-byte character (>= 0x80), or DEL when asciiOnly.
func needsEscape8(x uint64, asciiOnly bool) bool {
	return !printable8(x, asciiOnly) || wordscan.HasZero(x^(wordscan.Ones*'"')) || wordscan.HasZero(x^(wordscan.Ones*'\\'))
}

// QuotedLen returns len(AppendString(nil, s, asciiOnly)) without writing
// it: the length of s as a JSON string literal. Eight bytes at a time while
// they are printable ASCII, counting the quotes and backslashes among them
// (JSON text inside a string is dense with quotes).
func QuotedLen(s string, asciiOnly bool) int {
	n := 2
	for i := 0; i < len(s); {
		if i+8 <= len(s) {
			if x := load8(s, i); printable8(x, asciiOnly) {
				n += 8 + bits.OnesCount64(wordscan.Zeros(x^(wordscan.Ones*'"'))|wordscan.Zeros(x^(wordscan.Ones*'\\')))
				i += 8
				continue
			}
		}
		c := s[i]
		if c < utf8.RuneSelf {
			switch {
			case c == '"' || c == '\\' || c == '\n' || c == '\r' || c == '\t' || c == '\b' || c == '\f':
				n += 2
			case c < 0x20 || (c == 0x7f && asciiOnly):
				n += 6
			default:
				n++
			}
			i++
			continue
		}
		r, size := utf8.DecodeRuneInString(s[i:])
		switch {
		case r == utf8.RuneError && size == 1:
			n += 3 // U+FFFD
			if asciiOnly {
				n += 3 // \ufffd
			}
		case !asciiOnly:
			n += size
		case r > 0xFFFF:
			n += 12
		default:
			n += 6
		}
		i += size
	}
	return n
}

// ASCIILen returns the length the JSON text b would have if every non-ASCII
// character were written as a \uXXXX escape (two for characters above
// U+FFFF) and DEL as \u007f, which is how Python's json.dumps writes them
// with ensure_ascii: the length MLflow measures trace sizes with. Only valid
// for JSON text where such characters appear inside strings.
func ASCIILen(b []byte) int {
	n := len(b)
	for i := 0; i < len(b); {
		if i+8 <= len(b) {
			if x := binary.LittleEndian.Uint64(b[i:]); x&wordscan.Highs == 0 && !wordscan.HasZero(x^(wordscan.Ones*0x7f)) {
				i += 8 // eight ASCII bytes, none DEL
				continue
			}
		}
		c := b[i]
		if c < utf8.RuneSelf {
			if c == 0x7f {
				n += 5
			}
			i++
			continue
		}
		r, size := utf8.DecodeRune(b[i:])
		esc := 6
		if r > 0xFFFF {
			esc = 12
		}
		n += esc - size
		i += size
	}
	return n
}

func appendU4(dst []byte, r rune) []byte {
	return append(dst, '\\', 'u',
		hexDigits[(r>>12)&0xF], hexDigits[(r>>8)&0xF], hexDigits[(r>>4)&0xF], hexDigits[r&0xF])
}

// AppendFloat appends f the way Python's repr (and so json.dumps) writes a
// float: shortest round-trip digits, "1.0" for integral values, exponent form
// ("1e+16", "1e-05") when the decimal exponent is < -4 or >= 16. bitSize 32
// uses the shortest digits of a float32. NaN and ±Inf, which JSON cannot
// represent, are written as the JSON strings "NaN", "Infinity", "-Infinity".
func AppendFloat(dst []byte, f float64, bitSize int) []byte {
	switch {
	case math.IsNaN(f):
		return append(dst, `"NaN"`...)
	case math.IsInf(f, 1):
		return append(dst, `"Infinity"`...)
	case math.IsInf(f, -1):
		return append(dst, `"-Infinity"`...)
	}
	if f == 0 {
		if math.Signbit(f) {
			return append(dst, "-0.0"...)
		}
		return append(dst, "0.0"...)
	}
	// Shortest digits in exponent form: [-]d[.ddd]e±XX.
	var buf [32]byte
	b := strconv.AppendFloat(buf[:0], f, 'e', -1, bitSize)
	neg := b[0] == '-'
	if neg {
		b = b[1:]
	}
	ePos := 0
	for ePos < len(b) && b[ePos] != 'e' {
		ePos++
	}
	var digits [24]byte
	nd := 0
	for _, c := range b[:ePos] {
		if c != '.' {
			digits[nd] = c
			nd++
		}
	}
	exp, _ := strconv.Atoi(string(b[ePos+1:]))
	// value = 0.d1d2... × 10^decpt
	decpt := exp + 1
	if neg {
		dst = append(dst, '-')
	}
	if decpt > -4 && decpt <= 16 {
		switch {
		case decpt <= 0:
			dst = append(dst, '0', '.')
			for i := 0; i < -decpt; i++ {
				dst = append(dst, '0')
			}
			dst = append(dst, digits[:nd]...)
		case decpt >= nd:
			dst = append(dst, digits[:nd]...)
			for i := nd; i < decpt; i++ {
				dst = append(dst, '0')
			}
			dst = append(dst, '.', '0')
		default:
			dst = append(dst, digits[:decpt]...)
			dst = append(dst, '.')
			dst = append(dst, digits[decpt:nd]...)
		}
		return dst
	}
	dst = append(dst, digits[0])
	if nd > 1 {
		dst = append(dst, '.')
		dst = append(dst, digits[1:nd]...)
	}
	dst = append(dst, 'e')
	if exp < 0 {
		dst = append(dst, '-')
		exp = -exp
	} else {
		dst = append(dst, '+')
	}
	if exp < 10 {
		dst = append(dst, '0')
	}
	return strconv.AppendInt(dst, int64(exp), 10)
}
