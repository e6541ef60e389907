package otlpconv

import (
	"math"
	"strconv"
	"strings"
	"unicode/utf16"
	"unicode/utf8"

	commonpb "go.opentelemetry.io/proto/otlp/common/v1"
)

// maxDepth mirrors CPython's recursion limit: json.loads of deeper input
// raises, and MLflow then keeps the raw string.
const maxDepth = 1000

// AttributeValue converts one MLflow span attribute (a JSON-encoded string)
// to the AnyValue MLflow's Python client sends for it
// (Span.to_otel_proto: json.loads, then _set_otel_proto_anyvalue):
//
//	""                      → empty AnyValue (Python treats it as None)
//	not JSON                → the raw string
//	"text"                  → string_value text (unquoted)
//	true / false            → bool_value
//	integer                 → int_value (double_value beyond int64: Python would fail)
//	number with . or e      → double_value (NaN, Infinity accepted like Python)
//	null                    → empty AnyValue
//	[...]                   → array_value
//	{...}                   → kvlist_value, keys in first-seen order, last value wins
//
// The server then re-encodes each value with json.dumps, so a Go span reads
// back exactly like a Python one.
func AttributeValue(s string) *commonpb.AnyValue {
	if s == "" {
		return &commonpb.AnyValue{}
	}
	// Fast path: a plain JSON string without escapes.
	if len(s) >= 2 && s[0] == '"' && s[len(s)-1] == '"' {
		body := s[1 : len(s)-1]
		if plainString(body) {
			return stringValue(body)
		}
	}
	v, ok := parse(s)
	if !ok {
		return stringValue(s)
	}
	return v
}

// parse decodes one JSON document; ok is false when s is not JSON.
func parse(s string) (*commonpb.AnyValue, bool) {
	p := parser{s: s}
	p.skipSpace()
	v, ok := p.value(0)
	if ok {
		p.skipSpace()
		ok = p.i == len(s)
	}
	return v, ok
}

func plainString(b string) bool {
	for i := 0; i < len(b); i++ {
		if c := b[i]; c == '"' || c == '\\' || c < 0x20 {
			return false
		}
	}
	return true
}

func stringValue(s string) *commonpb.AnyValue {
	return &commonpb.AnyValue{Value: &commonpb.AnyValue_StringValue{StringValue: sanitize(s)}}
}

// sanitize makes s valid UTF-8, as protobuf requires (Python: encode with
// errors="replace").
func sanitize(s string) string {
	if utf8.ValidString(s) {
		return s
	}
	return strings.ToValidUTF8(s, "\uFFFD")
}

// parser is a strict JSON parser (RFC 8259 plus Python's NaN/Infinity
// literals) that builds AnyValues directly.
type parser struct {
	s string
	i int
}

func (p *parser) skipSpace() {
	for p.i < len(p.s) {
		switch p.s[p.i] {
		case ' ', '\t', '\n', '\r':
			p.i++
		default:
			return
		}
	}
}

// afterItem reads what follows an array item or object member: a comma
// (more is true) or the closer (more is false); ok is false for anything
// else.
func (p *parser) afterItem(closer byte) (more, ok bool) {
	p.skipSpace()
	if p.i >= len(p.s) {
		return false, false
	}
	switch p.s[p.i] {
	case ',':
		p.i++
		return true, true
	case closer:
		p.i++
		return false, true
	}
	return false, false
}

func (p *parser) lit(word string) bool {
	if strings.HasPrefix(p.s[p.i:], word) {
		p.i += len(word)
		return true
	}
	return false
}

func (p *parser) value(depth int) (*commonpb.AnyValue, bool) {
	if p.i >= len(p.s) || depth > maxDepth {
		return nil, false
	}
	switch c := p.s[p.i]; {
	case c == '"':
		str, ok := p.str()
		if !ok {
			return nil, false
		}
		return &commonpb.AnyValue{Value: &commonpb.AnyValue_StringValue{StringValue: str}}, true
	case c == '{':
		return p.object(depth)
	case c == '[':
		return p.array(depth)
	case c == 't':
		if p.lit("true") {
			return &commonpb.AnyValue{Value: &commonpb.AnyValue_BoolValue{BoolValue: true}}, true
		}
	case c == 'f':
		if p.lit("false") {
			return &commonpb.AnyValue{Value: &commonpb.AnyValue_BoolValue{BoolValue: false}}, true
		}
	case c == 'n':
		if p.lit("null") {
			return &commonpb.AnyValue{}, true
		}
	case c == 'N':
		if p.lit("NaN") {
			return doubleValue(pyNaN), true
		}
	case c == 'I':
		if p.lit("Infinity") {
			return doubleValue(math.Inf(1)), true
		}
	case c == '-' || (c >= '0' && c <= '9'):
		if c == '-' && p.lit("-Infinity") {
			return doubleValue(math.Inf(-1)), true
		}
		return p.number()
	}
	return nil, false
}

// pyNaN is CPython's NaN bit pattern (Go's math.NaN differs in one bit).
var pyNaN = math.Float64frombits(0x7ff8000000000000)

// kvValue is the value of a KeyValue: Python never touches the submessage
// for None, so it is absent rather than empty.
func kvValue(v *commonpb.AnyValue) *commonpb.AnyValue {
	if v.Value == nil {
		return nil
	}
	return v
}

func doubleValue(f float64) *commonpb.AnyValue {
	return &commonpb.AnyValue{Value: &commonpb.AnyValue_DoubleValue{DoubleValue: f}}
}

func (p *parser) number() (*commonpb.AnyValue, bool) {
	n, f, isInt, ok := p.numberLit()
	switch {
	case !ok:
		return nil, false
	case isInt:
		return &commonpb.AnyValue{Value: &commonpb.AnyValue_IntValue{IntValue: n}}, true
	}
	return doubleValue(f), true
}

// numberLit reads the number at p.i: an int_value (isInt) or a
// double_value.
func (p *parser) numberLit() (n int64, f float64, isInt, ok bool) {
	start := p.i
	if p.s[p.i] == '-' {
		p.i++
	}
	digits := func() int {
		n := 0
		for p.i < len(p.s) && p.s[p.i] >= '0' && p.s[p.i] <= '9' {
			p.i++
			n++
		}
		return n
	}
	if p.i < len(p.s) && p.s[p.i] == '0' {
		p.i++
	} else if digits() == 0 {
		return 0, 0, false, false
	}
	isFloat := false
	if p.i < len(p.s) && p.s[p.i] == '.' {
		p.i++
		isFloat = true
		if digits() == 0 {
			return 0, 0, false, false
		}
	}
	if p.i < len(p.s) && (p.s[p.i] == 'e' || p.s[p.i] == 'E') {
		p.i++
		isFloat = true
		if p.i < len(p.s) && (p.s[p.i] == '+' || p.s[p.i] == '-') {
			p.i++
		}
		if digits() == 0 {
			return 0, 0, false, false
		}
	}
	lit := p.s[start:p.i]
	if !isFloat {
		if n, err := strconv.ParseInt(lit, 10, 64); err == nil {
			return n, 0, true, true
		}
		// Beyond int64: Python's protobuf would reject it; a double keeps
		// the magnitude.
	}
	f, err := strconv.ParseFloat(lit, 64)
	if err != nil && !math.IsInf(f, 0) && f != 0 {
		return 0, 0, false, false
	}
	return 0, f, false, true
}

func (p *parser) array(depth int) (*commonpb.AnyValue, bool) {
	p.i++ // [
	arr := &commonpb.ArrayValue{}
	p.skipSpace()
	if p.i < len(p.s) && p.s[p.i] == ']' {
		p.i++
		return &commonpb.AnyValue{Value: &commonpb.AnyValue_ArrayValue{ArrayValue: arr}}, true
	}
	for {
		p.skipSpace()
		v, ok := p.value(depth + 1)
		if !ok {
			return nil, false
		}
		arr.Values = append(arr.Values, v)
		more, ok := p.afterItem(']')
		if !ok {
			return nil, false
		}
		if !more {
			return &commonpb.AnyValue{Value: &commonpb.AnyValue_ArrayValue{ArrayValue: arr}}, true
		}
	}
}

func (p *parser) object(depth int) (*commonpb.AnyValue, bool) {
	p.i++ // {
	kvl := &commonpb.KeyValueList{}
	p.skipSpace()
	if p.i < len(p.s) && p.s[p.i] == '}' {
		p.i++
		return &commonpb.AnyValue{Value: &commonpb.AnyValue_KvlistValue{KvlistValue: kvl}}, true
	}
	var seen map[string]int // built lazily for larger objects
	for {
		p.skipSpace()
		if p.i >= len(p.s) || p.s[p.i] != '"' {
			return nil, false
		}
		key, ok := p.str()
		if !ok {
			return nil, false
		}
		p.skipSpace()
		if p.i >= len(p.s) || p.s[p.i] != ':' {
			return nil, false
		}
		p.i++
		p.skipSpace()
		v, ok := p.value(depth + 1)
		if !ok {
			return nil, false
		}
		// Python dicts keep the first position and the last value.
		dup := -1
		if len(kvl.Values) > 8 {
			if seen == nil {
				seen = make(map[string]int, 2*len(kvl.Values))
				for j, kv := range kvl.Values {
					seen[kv.Key] = j
				}
			}
			if j, ok := seen[key]; ok {
				dup = j
			}
		} else {
			for j, kv := range kvl.Values {
				if kv.Key == key {
					dup = j
					break
				}
			}
		}
		if dup >= 0 {
			kvl.Values[dup].Value = kvValue(v)
		} else {
			if seen != nil {
				seen[key] = len(kvl.Values)
			}
			kvl.Values = append(kvl.Values, &commonpb.KeyValue{Key: key, Value: kvValue(v)})
		}
		more, ok := p.afterItem('}')
		if !ok {
			return nil, false
		}
		if !more {
			return &commonpb.AnyValue{Value: &commonpb.AnyValue_KvlistValue{KvlistValue: kvl}}, true
		}
	}
}

// str parses a JSON string at p.i (which is '"'). Lone surrogates become
// '?', as Python's encode("utf-8", errors="replace") does.
func (p *parser) str() (string, bool) {
	p.i++ // opening quote
	start := p.i
	// Fast scan: no escapes.
	for p.i < len(p.s) {
		c := p.s[p.i]
		if c == '"' {
			out := p.s[start:p.i]
			p.i++
			return sanitize(out), true
		}
		if c == '\\' || c < 0x20 {
			break
		}
		p.i++
	}
	var b strings.Builder
	b.WriteString(p.s[start:p.i])
	for p.i < len(p.s) {
		c := p.s[p.i]
		switch {
		case c == '"':
			p.i++
			return sanitize(b.String()), true
		case c < 0x20:
			return "", false // Python's strict mode rejects raw control characters
		case c != '\\':
			b.WriteByte(c)
			p.i++
			continue
		}
		// escape
		p.i++
		if p.i >= len(p.s) {
			return "", false
		}
		e := p.s[p.i]
		p.i++
		switch e {
		case '"', '\\', '/':
			b.WriteByte(e)
		case 'b':
			b.WriteByte('\b')
		case 'f':
			b.WriteByte('\f')
		case 'n':
			b.WriteByte('\n')
		case 'r':
			b.WriteByte('\r')
		case 't':
			b.WriteByte('\t')
		case 'u':
			r, ok := p.hex4()
			if !ok {
				return "", false
			}
			if utf16.IsSurrogate(r) {
				if r < 0xDC00 && strings.HasPrefix(p.s[p.i:], `\u`) {
					save := p.i
					p.i += 2
					r2, ok := p.hex4()
					if ok && r2 >= 0xDC00 && r2 <= 0xDFFF {
						b.WriteRune(utf16.DecodeRune(r, r2))
						continue
					}
					p.i = save
					if !ok {
						return "", false
					}
				}
				b.WriteByte('?')
				continue
			}
			b.WriteRune(r)
		default:
			return "", false
		}
	}
	return "", false
}

func (p *parser) hex4() (rune, bool) {
	if p.i+4 > len(p.s) {
		return 0, false
	}
	var r rune
	for _, c := range []byte(p.s[p.i : p.i+4]) {
		r <<= 4
		switch {
		case c >= '0' && c <= '9':
			r |= rune(c - '0')
		case c >= 'a' && c <= 'f':
			r |= rune(c-'a') + 10
		case c >= 'A' && c <= 'F':
			r |= rune(c-'A') + 10
		default:
			return 0, false
		}
	}
	p.i += 4
	return r, true
}
