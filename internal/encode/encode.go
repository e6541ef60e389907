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
	"unsafe"

	"github.com/mlflowtrace/mlflowtrace-go/internal/rawjson"
)

// maxDepth bounds nesting; deeper values are written as a fallback string.
const maxDepth = 1000

// maxPooledBuf is the largest buffer an encoder keeps in its pool; the
// scratch stacks are capped at maxPooledScratch entries.
const (
	maxPooledBuf     = 64 << 10
	maxPooledScratch = 1 << 10
)

var encoderPool = sync.Pool{New: func() any {
	return &encoder{buf: make([]byte, 0, 256), path: make([]pathEntry, 0, 8)}
}}

func getEncoder() *encoder { return encoderPool.Get().(*encoder) }

// putEncoder returns e to the pool, dropping whatever it still references.
func putEncoder(e *encoder) {
	if cap(e.buf) > maxPooledBuf {
		e.buf = make([]byte, 0, 256)
	}
	e.buf = e.buf[:0]
	e.depth = 0
	e.path = e.path[:0]
	if cap(e.keys) > maxPooledScratch {
		e.keys = nil
	} else {
		clear(e.keys[:cap(e.keys)])
		e.keys = e.keys[:0]
	}
	if cap(e.entries) > maxPooledScratch {
		e.entries = nil
	} else {
		clear(e.entries[:cap(e.entries)])
		e.entries = e.entries[:0]
	}
	encoderPool.Put(e)
}

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
	case Formatted:
		return string(x)
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
	e := getEncoder()
	e.any(v)
	s := string(e.buf)
	putEncoder(e)
	return s
}

// ValidJSON is JSON text its producer has already validated (the LLM
// integrations check the request and response bodies they record): JSON
// writes it as it writes a json.RawMessage, without validating it again.
type ValidJSON []byte

// MarshalJSON returns v, for a ValidJSON met through reflection (which
// validates it as any MarshalJSON result).
func (v ValidJSON) MarshalJSON() ([]byte, error) { return v, nil }

// Formatted is text JSON returned: JSON returns it as it is, so a value
// recorded again and again (a client's tool definitions) is encoded once.
type Formatted string

// MarshalJSON returns f, for a Formatted met through reflection.
func (f Formatted) MarshalJSON() ([]byte, error) { return []byte(f), nil }

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
	e := getEncoder()
	own := e.buf
	e.buf = dst
	e.any(v)
	dst = e.buf
	e.buf = own
	putEncoder(e)
	return dst
}

// encoder writes one value. path holds the containers being written (for
// cycle detection); it is short in practice, so a linear scan is cheapest.
// keys and entries are scratch stacks for sorting map keys: a map appends
// its keys, sorts its own segment and truncates back when done.
type encoder struct {
	buf     []byte
	depth   int
	path    []pathEntry
	keys    []string
	entries []mapEntry
}

type pathEntry struct {
	p uintptr
	n int
}

func (e *encoder) push(p uintptr, n int) bool {
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

// Two walks share the helpers below and differ in a few corners: any is the
// walk of values held by the top-level argument, a map[string]any or a []any
// met on that walk (nil []string / map[string]string are [] / {}, they are not
// counted in the depth, a nil json.RawMessage is a fallback string), and
// ifaceValue the walk of a value held by an interface met through reflection
// (a struct field, a typed slice...), where every value is written by its
// type's encoder. The flag anyElems on the container helpers says which walk
// their elements take.

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
	case ValidJSON:
		if b := bytes.TrimSpace(x); len(b) > 0 {
			e.buf = appendReformatted(e.buf, b)
		} else {
			e.raw(x, "json.RawMessage")
		}
	case Formatted:
		e.buf = append(e.buf, x...)
	case []byte:
		e.bytes(x)
	case map[string]any:
		e.mapStringAny(x, true)
	case []any:
		e.sliceAny(x, true)
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
		start := len(e.keys)
		for k := range x {
			e.keys = append(e.keys, k)
		}
		e.writeStringMap(x, start)
	case []map[string]any:
		e.sliceMapStringAny(x)
	default:
		e.value(reflect.ValueOf(v))
	}
}

// ifaceValue writes x as its type's encoder does (the walk through
// reflection), with the common types first.
func (e *encoder) ifaceValue(x any) {
	switch x := x.(type) {
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
	case float64:
		e.buf = AppendFloat(e.buf, x, 64)
	case map[string]any:
		e.mapStringAny(x, false)
	case []any:
		e.sliceAny(x, false)
	case []map[string]any:
		e.sliceMapStringAny(x)
	default:
		e.value(reflect.ValueOf(x))
	}
}

func (e *encoder) enter() bool {
	if e.depth >= maxDepth {
		e.buf = append(e.buf, maxDepthLiteral...)
		return false
	}
	e.depth++
	return true
}

var maxDepthLiteral = AppendString(nil, "<max depth exceeded>", false)

func (e *encoder) leave() { e.depth-- }

var (
	cycleMapStringAny   = AppendString(nil, "<cycle map[string]interface {}>", false)
	cycleSliceAny       = AppendString(nil, "<cycle []interface {}>", false)
	cycleSliceString    = AppendString(nil, "<cycle []string>", false)
	cycleSliceMapString = AppendString(nil, "<cycle []map[string]interface {}>", false)
)

// mapPointer is the identity of a map for cycle detection.
func mapPointer[M ~map[string]V, V any](m M) uintptr {
	return uintptr(reflect.ValueOf(m).UnsafePointer())
}

func (e *encoder) mapStringAny(m map[string]any, anyElems bool) {
	if m == nil {
		e.buf = append(e.buf, "null"...)
		return
	}
	if !e.enter() {
		return
	}
	if !e.push(mapPointer(m), -1) {
		e.buf = append(e.buf, cycleMapStringAny...)
		e.leave()
		return
	}
	e.buf = append(e.buf, '{')
	if len(m) == 1 {
		for k, v := range m {
			e.buf = AppendString(e.buf, k, false)
			e.buf = append(e.buf, ": "...)
			if anyElems {
				e.any(v)
			} else {
				e.ifaceValue(v)
			}
		}
	} else if len(m) > 1 {
		start := len(e.keys)
		for k := range m {
			e.keys = append(e.keys, k)
		}
		end := len(e.keys)
		slices.Sort(e.keys[start:end])
		for i := start; i < end; i++ {
			if i > start {
				e.buf = append(e.buf, ", "...)
			}
			k := e.keys[i]
			e.buf = AppendString(e.buf, k, false)
			e.buf = append(e.buf, ": "...)
			if anyElems {
				e.any(m[k])
			} else {
				e.ifaceValue(m[k])
			}
		}
		clear(e.keys[start:end])
		e.keys = e.keys[:start]
	}
	e.buf = append(e.buf, '}')
	e.pop()
	e.leave()
}

// writeStringMap writes m, whose keys are e.keys[start:], sorted.
func (e *encoder) writeStringMap(m map[string]string, start int) {
	end := len(e.keys)
	slices.Sort(e.keys[start:end])
	e.buf = append(e.buf, '{')
	for i := start; i < end; i++ {
		if i > start {
			e.buf = append(e.buf, ", "...)
		}
		k := e.keys[i]
		e.buf = AppendString(e.buf, k, false)
		e.buf = append(e.buf, ": "...)
		e.buf = AppendString(e.buf, m[k], false)
	}
	e.buf = append(e.buf, '}')
	clear(e.keys[start:end])
	e.keys = e.keys[:start]
}

// mapStringString is the reflection walk of a map[string]string.
func (e *encoder) mapStringString(m map[string]string, cycle []byte) {
	if m == nil {
		e.buf = append(e.buf, "null"...)
		return
	}
	if !e.enter() {
		return
	}
	if !e.push(mapPointer(m), -1) {
		e.buf = append(e.buf, cycle...)
		e.leave()
		return
	}
	start := len(e.keys)
	for k := range m {
		e.keys = append(e.keys, k)
	}
	e.writeStringMap(m, start)
	e.pop()
	e.leave()
}

func (e *encoder) sliceAny(s []any, anyElems bool) {
	if s == nil {
		e.buf = append(e.buf, "null"...)
		return
	}
	if !e.enter() {
		return
	}
	if len(s) > 0 && !e.push(uintptr(unsafe.Pointer(unsafe.SliceData(s))), len(s)) {
		e.buf = append(e.buf, cycleSliceAny...)
		e.leave()
		return
	}
	e.buf = append(e.buf, '[')
	for i, v := range s {
		if i > 0 {
			e.buf = append(e.buf, ", "...)
		}
		if anyElems {
			e.any(v)
		} else {
			e.ifaceValue(v)
		}
	}
	e.buf = append(e.buf, ']')
	if len(s) > 0 {
		e.pop()
	}
	e.leave()
}

// sliceString is the reflection walk of a []string.
func (e *encoder) sliceString(s []string) {
	if s == nil {
		e.buf = append(e.buf, "null"...)
		return
	}
	if !e.enter() {
		return
	}
	if len(s) > 0 && !e.push(uintptr(unsafe.Pointer(unsafe.SliceData(s))), len(s)) {
		e.buf = append(e.buf, cycleSliceString...)
		e.leave()
		return
	}
	e.buf = append(e.buf, '[')
	for i, v := range s {
		if i > 0 {
			e.buf = append(e.buf, ", "...)
		}
		e.buf = AppendString(e.buf, v, false)
	}
	e.buf = append(e.buf, ']')
	if len(s) > 0 {
		e.pop()
	}
	e.leave()
}

// sliceMapStringAny is the reflection walk of a []map[string]any.
func (e *encoder) sliceMapStringAny(s []map[string]any) {
	if s == nil {
		e.buf = append(e.buf, "null"...)
		return
	}
	if !e.enter() {
		return
	}
	if len(s) > 0 && !e.push(uintptr(unsafe.Pointer(unsafe.SliceData(s))), len(s)) {
		e.buf = append(e.buf, cycleSliceMapString...)
		e.leave()
		return
	}
	e.buf = append(e.buf, '[')
	for i, m := range s {
		if i > 0 {
			e.buf = append(e.buf, ", "...)
		}
		e.mapStringAny(m, false)
	}
	e.buf = append(e.buf, ']')
	if len(s) > 0 {
		e.pop()
	}
	e.leave()
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
	if rawjson.Valid([]byte(n)) && (n[0] == '-' || (n[0] >= '0' && n[0] <= '9')) {
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
	if len(b) == 0 || !rawjson.Valid(b) {
		e.fallback(typ, "invalid JSON from MarshalJSON")
		return
	}
	e.buf = appendReformatted(e.buf, b)
}

// appendReformatted copies valid JSON text b to dst, putting ", " and ": "
// between tokens and re-escaping strings as Python does.
func appendReformatted(dst, b []byte) []byte { return reformat(dst, b, false, false) }

// value writes v with its type's compiled encoder.
func (e *encoder) value(v reflect.Value) {
	if !v.IsValid() {
		e.buf = append(e.buf, "null"...)
		return
	}
	typeEncoder(v.Type())(e, v)
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
