package encode

import (
	"encoding/json"
	"fmt"
	"math"
	"reflect"
	"slices"
	"strconv"
	"strings"
	"unicode"
	"unicode/utf8"
)

// PyStr returns the text Python's str() makes of v, for the places MLflow
// turns a value into text with it (a prompt variable's value in
// PromptVersion.format): a string as it is, nil "None", a bool "True" or
// "False", an integer in decimal, a float as Python writes it ("1.0",
// "1e-05", "nan", "inf"; a float32 with its own shortest digits), a
// json.Number as the int or float Python's json.loads makes of it, a slice
// or array as a list and a map as a dict, their elements as Python's repr
// writes them ("[1, 'a', None]", "{'k': 2.5}"; map keys sorted, as a Go map
// has no order), a non-nil pointer as what it points to. An error gives its
// Error(), a fmt.Stringer its String(), []byte its text, anything else
// fmt.Sprint's text. It does not panic.
func PyStr(v any) string {
	if s, ok := v.(string); ok {
		return s
	}
	return string(appendPy(nil, reflect.ValueOf(v), false, 0))
}

// PyRepr returns the text Python's repr() makes of v: PyStr's, with a
// string quoted and escaped as Python does ("'a'", "\"it's\"").
func PyRepr(v any) string { return string(appendPy(nil, reflect.ValueOf(v), true, 0)) }

// PyDict is a mapping that keeps the order of its keys, as a Python dict
// does (a JSON object decoded with its key order): PyStr writes its items
// in that order instead of sorting them.
type PyDict interface {
	PyItems() (keys []string, values []any)
}

// maxPyDepth bounds nesting (a cyclic value): deeper, "..." is written, as
// Python writes a recursive list.
const maxPyDepth = 100

// appendPy appends str(v), or repr(v) when repr.
func appendPy(b []byte, v reflect.Value, repr bool, depth int) []byte {
	if !v.IsValid() {
		return append(b, "None"...)
	}
	if depth > maxPyDepth {
		return append(b, "..."...)
	}
	if v.CanInterface() {
		switch x := v.Interface().(type) {
		case json.Number:
			return appendPyNumber(b, string(x))
		case PyDict:
			if v.Kind() != reflect.Pointer || !v.IsNil() {
				keys, vals := x.PyItems()
				b = append(b, '{')
				for i, k := range keys {
					if i > 0 {
						b = append(b, ", "...)
					}
					b = append(appendPyText(b, k, true), ": "...)
					b = appendPy(b, reflect.ValueOf(vals[i]), true, depth+1)
				}
				return append(b, '}')
			}
		case error:
			if v.Kind() != reflect.Pointer || !v.IsNil() {
				return appendPyText(b, safeText(x.Error), repr)
			}
		case fmt.Stringer:
			if v.Kind() != reflect.Pointer || !v.IsNil() {
				return appendPyText(b, safeText(x.String), repr)
			}
		}
	}
	switch v.Kind() {
	case reflect.String:
		return appendPyText(b, v.String(), repr)
	case reflect.Bool:
		if v.Bool() {
			return append(b, "True"...)
		}
		return append(b, "False"...)
	case reflect.Int, reflect.Int8, reflect.Int16, reflect.Int32, reflect.Int64:
		return strconv.AppendInt(b, v.Int(), 10)
	case reflect.Uint, reflect.Uint8, reflect.Uint16, reflect.Uint32, reflect.Uint64, reflect.Uintptr:
		return strconv.AppendUint(b, v.Uint(), 10)
	case reflect.Float32:
		return appendPyFloat(b, v.Float(), 32)
	case reflect.Float64:
		return appendPyFloat(b, v.Float(), 64)
	case reflect.Pointer, reflect.Interface:
		if v.IsNil() {
			return append(b, "None"...)
		}
		return appendPy(b, v.Elem(), repr, depth+1)
	case reflect.Slice, reflect.Array:
		if v.Kind() == reflect.Slice && v.IsNil() && v.Type().Elem().Kind() != reflect.Uint8 {
			return append(b, "[]"...)
		}
		if v.Type().Elem().Kind() == reflect.Uint8 && v.Kind() == reflect.Slice {
			return appendPyText(b, string(v.Bytes()), repr)
		}
		b = append(b, '[')
		for i := 0; i < v.Len(); i++ {
			if i > 0 {
				b = append(b, ", "...)
			}
			b = appendPy(b, v.Index(i), true, depth+1)
		}
		return append(b, ']')
	case reflect.Map:
		type entry struct{ k, v []byte }
		entries := make([]entry, 0, v.Len())
		it := v.MapRange()
		for it.Next() {
			entries = append(entries, entry{appendPy(nil, it.Key(), true, depth+1), appendPy(nil, it.Value(), true, depth+1)})
		}
		slices.SortFunc(entries, func(a, b entry) int { return strings.Compare(string(a.k), string(b.k)) })
		b = append(b, '{')
		for i, e := range entries {
			if i > 0 {
				b = append(b, ", "...)
			}
			b = append(append(append(b, e.k...), ": "...), e.v...)
		}
		return append(b, '}')
	}
	if v.CanInterface() {
		return appendPyText(b, fmt.Sprint(v.Interface()), repr)
	}
	return appendPyText(b, v.String(), repr)
}

// safeText calls a user's Error or String method; a panic there gives the
// text fmt would print for it.
func safeText(f func() string) (s string) {
	defer func() {
		if r := recover(); r != nil {
			s = fmt.Sprintf("%%!v(PANIC=%v)", r)
		}
	}()
	return f()
}

// appendPyNumber appends the int or float json.loads makes of a JSON number.
func appendPyNumber(b []byte, n string) []byte {
	if !strings.ContainsAny(n, ".eE") {
		return append(b, n...)
	}
	f, err := strconv.ParseFloat(n, 64)
	if err != nil && !math.IsInf(f, 0) {
		return append(b, n...)
	}
	return appendPyFloat(b, f, 64)
}

func appendPyFloat(b []byte, f float64, bitSize int) []byte {
	switch {
	case math.IsNaN(f):
		return append(b, "nan"...)
	case math.IsInf(f, 1):
		return append(b, "inf"...)
	case math.IsInf(f, -1):
		return append(b, "-inf"...)
	}
	return AppendFloat(b, f, bitSize)
}

// appendPyText appends s, or with repr Python's repr of the str s: in
// single quotes unless s holds a single quote and no double one; the quote,
// backslash, \t, \n and \r escaped; other characters Python does not print
// (control characters, separators, format characters) as \xhh, \uhhhh or
// \Uhhhhhhhh.
func appendPyText(b []byte, s string, repr bool) []byte {
	if !repr {
		return append(b, s...)
	}
	quote := byte('\'')
	if strings.IndexByte(s, '\'') >= 0 && strings.IndexByte(s, '"') < 0 {
		quote = '"'
	}
	b = append(b, quote)
	for _, r := range s {
		switch {
		case r == rune(quote) || r == '\\':
			b = append(b, '\\', byte(r))
		case r == '\t':
			b = append(b, `\t`...)
		case r == '\n':
			b = append(b, `\n`...)
		case r == '\r':
			b = append(b, `\r`...)
		case r < ' ' || r == 0x7f:
			b = append(b, '\\', 'x', hexDigits[r>>4], hexDigits[r&0xF])
		case r < utf8.RuneSelf || unicode.IsPrint(r):
			b = utf8.AppendRune(b, r)
		case r <= 0xff:
			b = append(b, '\\', 'x', hexDigits[r>>4], hexDigits[r&0xF])
		case r <= 0xffff:
			b = append(b, fmt.Sprintf(`\u%04x`, r)...)
		default:
			b = append(b, fmt.Sprintf(`\U%08x`, r)...)
		}
	}
	return append(b, quote)
}
