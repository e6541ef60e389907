package encode

import (
	"bytes"
	"encoding"
	"encoding/base64"
	"encoding/json"
	"fmt"
	"reflect"
	"slices"
	"strconv"
	"sync"
	"unicode/utf8"
)

// maxDepth bounds nesting; deeper values are written as a fallback string.
const maxDepth = 1000

// maxPooledBuf is the largest buffer JSON returns to its pool.
const maxPooledBuf = 64 << 10

var bufPool = sync.Pool{New: func() any { b := make([]byte, 0, 256); return &b }}

// JSON returns the JSON encoding of v the way MLflow's Python SDK writes a
// span attribute value (json.dumps with MLflow's TraceJSONEncoder and
// ensure_ascii=False): ", " and ": " separators, non-ASCII characters kept as
// they are, floats as Python writes them ("1.0", "1e-05").
//
// Go values are mapped as encoding/json maps them: json.Marshaler and
// encoding.TextMarshaler are respected, structs follow their json tags, maps
// are sorted by key, []byte is base64. A value JSON cannot represent is
// replaced, on its own, by a readable string, and the rest of the value is
// kept: a chan becomes "<chan int>", a func "<func()>", a reference cycle
// "<cycle *pkg.T>", NaN and ±Inf "NaN" / "Infinity" / "-Infinity", a complex
// number "(1+2i)", an error its Error() text, a MarshalJSON that fails or
// panics "<pkg.T: error text>". JSON never panics.
func JSON(v any) string {
	switch x := v.(type) {
	case nil:
		return "null"
	case string:
		if isPlainASCII(x) {
			return `"` + x + `"`
		}
	case bool:
		if x {
			return "true"
		}
		return "false"
	case int:
		return strconv.Itoa(x)
	case int64:
		return strconv.FormatInt(x, 10)
	case float64:
		var buf [32]byte
		return string(AppendFloat(buf[:0], x, 64))
	}
	bp := bufPool.Get().(*[]byte)
	b := AppendJSON((*bp)[:0], v)
	s := string(b)
	if cap(b) <= maxPooledBuf {
		*bp = b
		bufPool.Put(bp)
	}
	return s
}

// isPlainASCII reports whether s needs no escaping at all.
func isPlainASCII(s string) bool {
	for i := 0; i < len(s); i++ {
		c := s[i]
		if c < 0x20 || c == '"' || c == '\\' || c >= utf8.RuneSelf {
			return false
		}
	}
	return true
}

// AppendJSON appends JSON(v) to dst and returns the extended buffer.
func AppendJSON(dst []byte, v any) []byte {
	e := encoder{buf: dst}
	e.any(v)
	return e.buf
}

// encoder writes one value. path holds the containers being written (for
// cycle detection); it is short in practice, so a linear scan is cheapest.
type encoder struct {
	buf   []byte
	depth int
	path  []pathEntry
}

type pathEntry struct {
	p uintptr
	n int
}

func (e *encoder) push(p uintptr, n int) bool {
	if e.path == nil {
		e.path = make([]pathEntry, 0, 8)
	}
	for _, x := range e.path {
		if x.p == p && x.n == n {
			return false
		}
	}
	e.path = append(e.path, pathEntry{p, n})
	return true
}

func (e *encoder) pop() { e.path = e.path[:len(e.path)-1] }

var (
	marshalerType     = reflect.TypeFor[json.Marshaler]()
	textMarshalerType = reflect.TypeFor[encoding.TextMarshaler]()
	errorType         = reflect.TypeFor[error]()
)

// any writes v, trying the common types without reflection first.
func (e *encoder) any(v any) {
	switch x := v.(type) {
	case nil:
		e.buf = append(e.buf, "null"...)
	case string:
		e.buf = AppendString(e.buf, x, false)
	case bool:
		e.buf = strconv.AppendBool(e.buf, x)
	case int:
		e.buf = strconv.AppendInt(e.buf, int64(x), 10)
	case int64:
		e.buf = strconv.AppendInt(e.buf, x, 10)
	case int32:
		e.buf = strconv.AppendInt(e.buf, int64(x), 10)
	case int16:
		e.buf = strconv.AppendInt(e.buf, int64(x), 10)
	case int8:
		e.buf = strconv.AppendInt(e.buf, int64(x), 10)
	case uint:
		e.buf = strconv.AppendUint(e.buf, uint64(x), 10)
	case uint64:
		e.buf = strconv.AppendUint(e.buf, x, 10)
	case uint32:
		e.buf = strconv.AppendUint(e.buf, uint64(x), 10)
	case uint16:
		e.buf = strconv.AppendUint(e.buf, uint64(x), 10)
	case uint8:
		e.buf = strconv.AppendUint(e.buf, uint64(x), 10)
	case float64:
		e.buf = AppendFloat(e.buf, x, 64)
	case float32:
		e.buf = AppendFloat(e.buf, float64(x), 32)
	case json.Number:
		e.number(x)
	case json.RawMessage:
		e.raw(x, "json.RawMessage")
	case []byte:
		e.bytes(x)
	case map[string]any:
		e.mapStringAny(x)
	case []any:
		e.sliceAny(x)
	case []string:
		e.buf = append(e.buf, '[')
		for i, s := range x {
			if i > 0 {
				e.buf = append(e.buf, ", "...)
			}
			e.buf = AppendString(e.buf, s, false)
		}
		e.buf = append(e.buf, ']')
	case map[string]string:
		keys := sortedKeys(x)
		e.buf = append(e.buf, '{')
		for i, k := range keys {
			if i > 0 {
				e.buf = append(e.buf, ", "...)
			}
			e.buf = AppendString(e.buf, k, false)
			e.buf = append(e.buf, ": "...)
			e.buf = AppendString(e.buf, x[k], false)
		}
		e.buf = append(e.buf, '}')
	default:
		e.value(reflect.ValueOf(v))
	}
}

func sortedKeys[V any](m map[string]V) []string {
	keys := make([]string, 0, len(m))
	for k := range m {
		keys = append(keys, k)
	}
	slices.Sort(keys)
	return keys
}

func (e *encoder) enter() bool {
	if e.depth >= maxDepth {
		e.buf = AppendString(e.buf, "<max depth exceeded>", false)
		return false
	}
	e.depth++
	return true
}

func (e *encoder) leave() { e.depth-- }

func (e *encoder) mapStringAny(m map[string]any) {
	if m == nil {
		e.buf = append(e.buf, "null"...)
		return
	}
	if !e.enter() {
		return
	}
	defer e.leave()
	p := uintptr(reflect.ValueOf(m).UnsafePointer())
	if !e.push(p, -1) {
		e.buf = AppendString(e.buf, "<cycle map[string]interface {}>", false)
		return
	}
	defer e.pop()
	e.buf = append(e.buf, '{')
	if len(m) == 1 {
		for k, v := range m {
			e.buf = AppendString(e.buf, k, false)
			e.buf = append(e.buf, ": "...)
			e.any(v)
		}
	} else if len(m) > 1 {
		keys := sortedKeys(m)
		for i, k := range keys {
			if i > 0 {
				e.buf = append(e.buf, ", "...)
			}
			e.buf = AppendString(e.buf, k, false)
			e.buf = append(e.buf, ": "...)
			e.any(m[k])
		}
	}
	e.buf = append(e.buf, '}')
}

func (e *encoder) sliceAny(s []any) {
	if s == nil {
		e.buf = append(e.buf, "null"...)
		return
	}
	if !e.enter() {
		return
	}
	defer e.leave()
	if len(s) > 0 {
		if !e.push(uintptr(reflect.ValueOf(s).UnsafePointer()), len(s)) {
			e.buf = AppendString(e.buf, "<cycle []interface {}>", false)
			return
		}
		defer e.pop()
	}
	e.buf = append(e.buf, '[')
	for i, v := range s {
		if i > 0 {
			e.buf = append(e.buf, ", "...)
		}
		e.any(v)
	}
	e.buf = append(e.buf, ']')
}

func (e *encoder) bytes(b []byte) {
	if b == nil {
		e.buf = append(e.buf, "null"...)
		return
	}
	e.buf = append(e.buf, '"')
	e.buf = base64.StdEncoding.AppendEncode(e.buf, b)
	e.buf = append(e.buf, '"')
}

func (e *encoder) number(n json.Number) {
	if n == "" {
		e.buf = append(e.buf, '0')
		return
	}
	if json.Valid([]byte(n)) && (n[0] == '-' || (n[0] >= '0' && n[0] <= '9')) {
		e.buf = append(e.buf, n...)
		return
	}
	e.buf = AppendString(e.buf, string(n), false)
}

// fallback writes a readable placeholder string "<what>" or "<what: detail>".
func (e *encoder) fallback(what, detail string) {
	s := "<" + what + ">"
	if detail != "" {
		s = "<" + what + ": " + detail + ">"
	}
	e.buf = AppendString(e.buf, s, false)
}

// safeError returns err.Error(), or a note when Error itself panics.
func safeError(err error) (s string) {
	defer func() {
		if r := recover(); r != nil {
			s = fmt.Sprintf("panic in Error: %v", r)
		}
	}()
	return err.Error()
}

func (e *encoder) marshaler(m json.Marshaler) {
	b, err := callMarshalJSON(m)
	if err != nil {
		e.fallback(typeName(m), safeError(err))
		return
	}
	e.raw(b, typeName(m))
}

func callMarshalJSON(m json.Marshaler) (b []byte, err error) {
	defer func() {
		if r := recover(); r != nil {
			b, err = nil, fmt.Errorf("panic in MarshalJSON: %v", r)
		}
	}()
	return m.MarshalJSON()
}

func (e *encoder) textMarshaler(m encoding.TextMarshaler) {
	b, err := callMarshalText(m)
	if err != nil {
		e.fallback(typeName(m), safeError(err))
		return
	}
	e.buf = AppendString(e.buf, string(b), false)
}

func callMarshalText(m encoding.TextMarshaler) (b []byte, err error) {
	defer func() {
		if r := recover(); r != nil {
			b, err = nil, fmt.Errorf("panic in MarshalText: %v", r)
		}
	}()
	return m.MarshalText()
}

func (e *encoder) errorText(err error) {
	e.buf = AppendString(e.buf, safeError(err), false)
}

func typeName(v any) string { return reflect.TypeOf(v).String() }

// raw re-writes the JSON text b (a MarshalJSON result) with Python's
// separators and string escaping, keeping the order of object keys.
func (e *encoder) raw(b []byte, typ string) {
	b = bytes.TrimSpace(b)
	if len(b) == 0 || !json.Valid(b) {
		e.fallback(typ, "invalid JSON from MarshalJSON")
		return
	}
	e.buf = appendReformatted(e.buf, b)
}

// appendReformatted copies valid JSON text b to dst, putting ", " and ": "
// between tokens and re-escaping strings as Python does.
func appendReformatted(dst, b []byte) []byte {
	for i := 0; i < len(b); {
		c := b[i]
		switch c {
		case ' ', '\t', '\n', '\r':
			i++
		case ',':
			dst = append(dst, ", "...)
			i++
		case ':':
			dst = append(dst, ": "...)
			i++
		case '"':
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
				dst = AppendString(dst, string(tok[1:len(tok)-1]), false)
			} else {
				var s string
				if err := json.Unmarshal(tok, &s); err != nil {
					dst = append(dst, tok...)
				} else {
					dst = AppendString(dst, s, false)
				}
			}
			i = j + 1
		default:
			dst = append(dst, c)
			i++
		}
	}
	return dst
}

// value writes v by reflection, with encoding/json's rules.
func (e *encoder) value(v reflect.Value) {
	if !v.IsValid() {
		e.buf = append(e.buf, "null"...)
		return
	}
	t := v.Type()
	k := v.Kind()
	if k == reflect.Pointer || k == reflect.Interface {
		if v.IsNil() {
			e.buf = append(e.buf, "null"...)
			return
		}
	}
	// Methods first, as encoding/json does, including pointer receivers of
	// addressable values.
	if t.Implements(marshalerType) {
		e.marshaler(v.Interface().(json.Marshaler))
		return
	}
	if k != reflect.Pointer && v.CanAddr() && reflect.PointerTo(t).Implements(marshalerType) {
		e.marshaler(v.Addr().Interface().(json.Marshaler))
		return
	}
	if t.Implements(textMarshalerType) {
		e.textMarshaler(v.Interface().(encoding.TextMarshaler))
		return
	}
	if k != reflect.Pointer && v.CanAddr() && reflect.PointerTo(t).Implements(textMarshalerType) {
		e.textMarshaler(v.Addr().Interface().(encoding.TextMarshaler))
		return
	}
	if k != reflect.Interface && t.Implements(errorType) {
		e.errorText(v.Interface().(error))
		return
	}
	switch k {
	case reflect.Bool:
		e.buf = strconv.AppendBool(e.buf, v.Bool())
	case reflect.Int, reflect.Int8, reflect.Int16, reflect.Int32, reflect.Int64:
		e.buf = strconv.AppendInt(e.buf, v.Int(), 10)
	case reflect.Uint, reflect.Uint8, reflect.Uint16, reflect.Uint32, reflect.Uint64, reflect.Uintptr:
		e.buf = strconv.AppendUint(e.buf, v.Uint(), 10)
	case reflect.Float32:
		e.buf = AppendFloat(e.buf, v.Float(), 32)
	case reflect.Float64:
		e.buf = AppendFloat(e.buf, v.Float(), 64)
	case reflect.String:
		if t == reflect.TypeFor[json.Number]() {
			e.number(json.Number(v.String()))
			return
		}
		e.buf = AppendString(e.buf, v.String(), false)
	case reflect.Complex64, reflect.Complex128:
		e.buf = AppendString(e.buf, strconv.FormatComplex(v.Complex(), 'g', -1, bitSizeOf(k)), false)
	case reflect.Interface:
		e.value(v.Elem())
	case reflect.Pointer:
		if !e.enter() {
			return
		}
		defer e.leave()
		if !e.push(uintptr(v.UnsafePointer()), -2) {
			e.fallback("cycle "+t.String(), "")
			return
		}
		defer e.pop()
		e.value(v.Elem())
	case reflect.Map:
		e.mapValue(v)
	case reflect.Slice:
		if v.IsNil() {
			e.buf = append(e.buf, "null"...)
			return
		}
		if isByteSlice(t) {
			e.bytes(v.Bytes())
			return
		}
		if !e.enter() {
			return
		}
		defer e.leave()
		if v.Len() > 0 {
			if !e.push(uintptr(v.UnsafePointer()), v.Len()) {
				e.fallback("cycle "+t.String(), "")
				return
			}
			defer e.pop()
		}
		e.array(v)
	case reflect.Array:
		if !e.enter() {
			return
		}
		defer e.leave()
		e.array(v)
	case reflect.Struct:
		if !e.enter() {
			return
		}
		defer e.leave()
		e.structValue(v)
	default: // Chan, Func, UnsafePointer
		e.fallback(t.String(), "")
	}
}

func bitSizeOf(k reflect.Kind) int {
	if k == reflect.Complex64 {
		return 64
	}
	return 128
}

func isByteSlice(t reflect.Type) bool {
	el := t.Elem()
	if el.Kind() != reflect.Uint8 {
		return false
	}
	p := reflect.PointerTo(el)
	return !p.Implements(marshalerType) && !p.Implements(textMarshalerType)
}

func (e *encoder) array(v reflect.Value) {
	e.buf = append(e.buf, '[')
	n := v.Len()
	for i := 0; i < n; i++ {
		if i > 0 {
			e.buf = append(e.buf, ", "...)
		}
		e.value(v.Index(i))
	}
	e.buf = append(e.buf, ']')
}

type mapEntry struct {
	key string
	val reflect.Value
}

func (e *encoder) mapValue(v reflect.Value) {
	if v.IsNil() {
		e.buf = append(e.buf, "null"...)
		return
	}
	if !e.enter() {
		return
	}
	defer e.leave()
	if !e.push(uintptr(v.UnsafePointer()), -1) {
		e.fallback("cycle "+v.Type().String(), "")
		return
	}
	defer e.pop()
	entries := make([]mapEntry, 0, v.Len())
	it := v.MapRange()
	for it.Next() {
		entries = append(entries, mapEntry{mapKey(it.Key()), it.Value()})
	}
	slices.SortFunc(entries, func(a, b mapEntry) int {
		switch {
		case a.key < b.key:
			return -1
		case a.key > b.key:
			return 1
		}
		return 0
	})
	e.buf = append(e.buf, '{')
	for i, en := range entries {
		if i > 0 {
			e.buf = append(e.buf, ", "...)
		}
		e.buf = AppendString(e.buf, en.key, false)
		e.buf = append(e.buf, ": "...)
		e.value(en.val)
	}
	e.buf = append(e.buf, '}')
}

// mapKey turns a map key into its JSON object key, like encoding/json
// (strings, TextMarshalers, integers) and beyond it like Python (floats,
// bools); any other key type is formatted with fmt.
func mapKey(k reflect.Value) string {
	if k.Kind() == reflect.String && !k.Type().Implements(textMarshalerType) {
		return k.String()
	}
	if k.Type().Implements(textMarshalerType) {
		if k.Kind() == reflect.Pointer && k.IsNil() {
			return ""
		}
		b, err := callMarshalText(k.Interface().(encoding.TextMarshaler))
		if err != nil {
			return "<" + k.Type().String() + ": " + safeError(err) + ">"
		}
		return string(b)
	}
	switch k.Kind() {
	case reflect.Int, reflect.Int8, reflect.Int16, reflect.Int32, reflect.Int64:
		return strconv.FormatInt(k.Int(), 10)
	case reflect.Uint, reflect.Uint8, reflect.Uint16, reflect.Uint32, reflect.Uint64, reflect.Uintptr:
		return strconv.FormatUint(k.Uint(), 10)
	case reflect.Float32:
		return string(AppendFloat(nil, k.Float(), 32))
	case reflect.Float64:
		return string(AppendFloat(nil, k.Float(), 64))
	case reflect.Bool:
		return strconv.FormatBool(k.Bool())
	case reflect.Interface:
		if k.IsNil() {
			return "null"
		}
		return mapKey(k.Elem())
	}
	return safeSprint(k)
}

func safeSprint(k reflect.Value) (s string) {
	defer func() {
		if r := recover(); r != nil {
			s = "<" + k.Type().String() + ">"
		}
	}()
	return fmt.Sprint(k.Interface())
}
