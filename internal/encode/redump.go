package encode

import (
	"encoding/binary"
	"math/bits"
	"strconv"
	"unsafe"

	"github.com/mlflowtrace/mlflowtrace-go/internal/rawjson"
	"github.com/mlflowtrace/mlflowtrace-go/internal/wordscan"
)

// Redump returns the text Python's json.dumps(json.loads(b)) writes for the
// JSON text b, with json.dumps' default separators (", " and ": "): object
// keys keep their order, strings are re-escaped as Python escapes them (every
// non-ASCII character as \uXXXX when asciiOnly, json.dumps' default
// ensure_ascii=True), and numbers with a fraction or an exponent are written
// as Python writes the float ("1.50" → "1.5", "1e2" → "100.0"). ok is false
// when b is not valid JSON. Python keeps the last of duplicate object keys;
// Redump keeps them all.
func Redump(b []byte, asciiOnly bool) (s string, ok bool) {
	if !rawjson.Valid(b) {
		return "", false
	}
	return string(reformat(nil, b, asciiOnly, true)), true
}

// AppendRedump appends Redump's text of b, which the caller knows is valid
// JSON (a member of a document it validated), without validating it again.
func AppendRedump(dst, b []byte, asciiOnly bool) []byte {
	return reformat(dst, b, asciiOnly, true)
}

// reformat copies valid JSON text b to dst, putting ", " and ": " between
// tokens and re-escaping strings as Python does; with floats it rewrites
// numbers that have a fraction or an exponent as Python floats.
func reformat(dst, b []byte, asciiOnly, floats bool) []byte {
	var scratchBuf [256]byte
	scratch := scratchBuf[:0] // an escaped string's text, decoded
	stops := &structStops
	if floats {
		stops = &numberStops
	}
	for i := 0; i < len(b); {
		c := b[i]
		switch {
		case c == ' ' || c == '\t' || c == '\n' || c == '\r':
			i++
		case c == ',':
			dst = append(dst, ", "...)
			i++
		case c == ':':
			dst = append(dst, ": "...)
			i++
		case c == '"':
			j := i + 1
			esc, high := false, false // high: a byte that is not printable ASCII
			for j < len(b) {
				if j+8 <= len(b) {
					// Eight bytes at a time up to the first that
					// ends the string, escapes, or is not printable
					// ASCII (a control character cannot be in valid
					// JSON, but is still escaped if it is).
					w := binary.LittleEndian.Uint64(b[j:])
					m := wordscan.FirstZero(w^(wordscan.Ones*'"')) | wordscan.FirstZero(w^(wordscan.Ones*'\\')) |
						wordscan.FirstZero(w^(wordscan.Ones*0x7f)) | w&wordscan.Highs | wordscan.FirstZero(w&(wordscan.Ones*0xe0))
					if m == 0 {
						j += 8
						continue
					}
					j += bits.TrailingZeros64(m) >> 3
				}
				d := b[j]
				if d == '\\' {
					esc = true
					j += 2
					continue
				}
				if d == '"' {
					break
				}
				if d >= 0x7f || d < 0x20 {
					high = true
				}
				j++
			}
			tok := b[i : j+1]
			switch {
			case !esc && !high:
				// Printable ASCII without escapes (most keys and values):
				// Python writes it as it is, as AppendString would.
				dst = append(dst, tok...)
			case !esc:
				dst = AppendString(dst, transient(tok[1:len(tok)-1]), asciiOnly)
			default:
				if text, ok := rawjson.AppendUnquoted(scratch[:0], tok); ok {
					dst = AppendString(dst, transient(text), asciiOnly)
					scratch = text
				} else {
					dst = append(dst, tok...)
				}
			}
			i = j + 1
		case floats && (c == '-' || c >= '0' && c <= '9'):
			j, isFloat := i+1, false
			for ; j < len(b); j++ {
				d := b[j]
				if d == '.' || d == 'e' || d == 'E' {
					isFloat = true
				} else if d != '+' && d != '-' && (d < '0' || d > '9') {
					break
				}
			}
			tok := b[i:j]
			switch f, err := strconv.ParseFloat(string(tok), 64); {
			case isFloat && err == nil:
				dst = AppendFloat(dst, f, 64)
			case string(tok) == "-0": // Python's int: 0
				dst = append(dst, '0')
			default: // integers, and floats out of range
				dst = append(dst, tok...)
			}
			i = j
		default:
			// Brackets, literals and (without floats) numbers: copied up
			// to the next byte another case handles.
			j := i + 1
			for j < len(b) && !stops[b[j]] {
				j++
			}
			dst = append(dst, b[i:j]...)
			i = j
		}
	}
	return dst
}

// structStops are the bytes at which reformat's copy of brackets, literals
// and numbers stops: white space, separators and strings; numberStops adds
// the bytes a number starts with, for the floats mode.
var structStops, numberStops = func() (s, n [256]bool) {
	for _, c := range []byte(" \t\n\r,:\"") {
		s[c], n[c] = true, true
	}
	for _, c := range []byte("-0123456789") {
		n[c] = true
	}
	return s, n
}()

// transient returns b as a string without copying it, for a call that only
// reads the string while b is unchanged (AppendString): a string
// conversion would copy every string longer than 32 bytes to the heap.
func transient(b []byte) string { return unsafe.String(unsafe.SliceData(b), len(b)) }
