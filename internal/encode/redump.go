package encode

import (
	"strconv"
	"unsafe"

	"github.com/mlflowtrace/mlflowtrace-go/internal/rawjson"
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
			esc := false
			for ; j < len(b); j++ {
				if b[j] == '\\' {
					esc = true
					j++
					continue
				}
				if b[j] == '"' {
					break
				}
			}
			tok := b[i : j+1]
			if !esc {
				dst = AppendString(dst, transient(tok[1:len(tok)-1]), asciiOnly)
			} else if text, ok := rawjson.AppendUnquoted(scratch[:0], tok); ok {
				dst = AppendString(dst, transient(text), asciiOnly)
				scratch = text
			} else {
				dst = append(dst, tok...)
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
			dst = append(dst, c)
			i++
		}
	}
	return dst
}

// transient returns b as a string without copying it, for a call that only
// reads the string while b is unchanged (AppendString): a string
// conversion would copy every string longer than 32 bytes to the heap.
func transient(b []byte) string { return unsafe.String(unsafe.SliceData(b), len(b)) }
