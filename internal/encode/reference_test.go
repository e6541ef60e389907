// Code copied from the encoder as of commit 17a7644 (before the per-type
// encoder cache) with every top-level name prefixed "ref": the oracle the
// differential tests and the fuzz target compare the new encoder against.
// Do not edit: it must keep the old behaviour byte for byte.

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
	"strings"
	"sync"
	"unicode/utf8"
)

// refMaxDepth bounds nesting; deeper values are written as a fallback string.
const refMaxDepth = 1000

// refMaxPooledBuf is the largest buffer referenceJSON returns to its pool.
const refMaxPooledBuf = 64 << 10

var refBufPool = sync.Pool{New: func() any { b := make([]byte, 0, 256); return &b }}

// referenceJSON returns the referenceJSON encoding of v the way MLflow's Python SDK writes a
// span attribute value (json.dumps with MLflow's TraceJSONEncoder and
// ensure_ascii=False): ", " and ": " separators, non-ASCII characters kept as
// they are, floats as Python writes them ("1.0", "1e-05").
//
// Go values are mapped as encoding/json maps them: json.Marshaler and
// encoding.TextMarshaler are respected, structs follow their json tags, maps
// are sorted by key, []byte is base64. A value referenceJSON cannot represent is
// replaced, on its own, by a readable string, and the rest of the value is
// kept: a chan becomes "<chan int>", a func "<func()>", a reference cycle
// "<cycle *pkg.T>", NaN and ±Inf "NaN" / "Infinity" / "-Infinity", a complex
// number "(1+2i)", an error its Error() text, a MarshalJSON that fails or
// panics "<pkg.T: error text>". referenceJSON never panics.
func referenceJSON(v any) string {
	switch x := v.(type) {
	case nil:
		return "null"
	case string:
		if refIsPlainASCII(x) {
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
		return string(refAppendFloat(buf[:0], x, 64))
	}
	bp := refBufPool.Get().(*[]byte)
	b := refAppendJSON((*bp)[:0], v)
	s := string(b)
	if cap(b) <= refMaxPooledBuf {
		*bp = b
		refBufPool.Put(bp)
	}
	return s
}

// refIsPlainASCII reports whether s needs no escaping at all.
func refIsPlainASCII(s string) bool {
	for i := 0; i < len(s); i++ {
		c := s[i]
		if c < 0x20 || c == '"' || c == '\\' || c >= utf8.RuneSelf {
			return false
		}
	}
	return true
}

// refAppendJSON appends referenceJSON(v) to dst and returns the extended buffer.
func refAppendJSON(dst []byte, v any) []byte {
	e := refEncoder{buf: dst}
	e.any(v)
	return e.buf
}

// refEncoder writes one value. path holds the containers being written (for
// cycle detection); it is short in practice, so a linear scan is cheapest.
type refEncoder struct {
	buf   []byte
	depth int
	path  []refPathEntry
}

type refPathEntry struct {
	p uintptr
	n int
}

func (e *refEncoder) push(p uintptr, n int) bool {
	if e.path == nil {
		e.path = make([]refPathEntry, 0, 8)
	}
	for _, x := range e.path {
		if x.p == p && x.n == n {
			return false
		}
	}
	e.path = append(e.path, refPathEntry{p, n})
	return true
}

func (e *refEncoder) pop() { e.path = e.path[:len(e.path)-1] }

var (
	refMarshalerType     = reflect.TypeFor[json.Marshaler]()
	refTextMarshalerType = reflect.TypeFor[encoding.TextMarshaler]()
	refErrorType         = reflect.TypeFor[error]()
)

// any writes v, trying the common types without reflection first.
func (e *refEncoder) any(v any) {
	switch x := v.(type) {
	case nil:
		e.buf = append(e.buf, "null"...)
	case string:
		e.buf = refAppendString(e.buf, x, false)
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
		e.buf = refAppendFloat(e.buf, x, 64)
	case float32:
		e.buf = refAppendFloat(e.buf, float64(x), 32)
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
			e.buf = refAppendString(e.buf, s, false)
		}
		e.buf = append(e.buf, ']')
	case map[string]string:
		keys := refSortedKeys(x)
		e.buf = append(e.buf, '{')
		for i, k := range keys {
			if i > 0 {
				e.buf = append(e.buf, ", "...)
			}
			e.buf = refAppendString(e.buf, k, false)
			e.buf = append(e.buf, ": "...)
			e.buf = refAppendString(e.buf, x[k], false)
		}
		e.buf = append(e.buf, '}')
	default:
		e.value(reflect.ValueOf(v))
	}
}

func refSortedKeys[V any](m map[string]V) []string {
	keys := make([]string, 0, len(m))
	for k := range m {
		keys = append(keys, k)
	}
	slices.Sort(keys)
	return keys
}

func (e *refEncoder) enter() bool {
	if e.depth >= refMaxDepth {
		e.buf = refAppendString(e.buf, "<max depth exceeded>", false)
		return false
	}
	e.depth++
	return true
}

func (e *refEncoder) leave() { e.depth-- }

func (e *refEncoder) mapStringAny(m map[string]any) {
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
		e.buf = refAppendString(e.buf, "<cycle map[string]interface {}>", false)
		return
	}
	defer e.pop()
	e.buf = append(e.buf, '{')
	if len(m) == 1 {
		for k, v := range m {
			e.buf = refAppendString(e.buf, k, false)
			e.buf = append(e.buf, ": "...)
			e.any(v)
		}
	} else if len(m) > 1 {
		keys := refSortedKeys(m)
		for i, k := range keys {
			if i > 0 {
				e.buf = append(e.buf, ", "...)
			}
			e.buf = refAppendString(e.buf, k, false)
			e.buf = append(e.buf, ": "...)
			e.any(m[k])
		}
	}
	e.buf = append(e.buf, '}')
}

func (e *refEncoder) sliceAny(s []any) {
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
			e.buf = refAppendString(e.buf, "<cycle []interface {}>", false)
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

func (e *refEncoder) bytes(b []byte) {
	if b == nil {
		e.buf = append(e.buf, "null"...)
		return
	}
	e.buf = append(e.buf, '"')
	e.buf = base64.StdEncoding.AppendEncode(e.buf, b)
	e.buf = append(e.buf, '"')
}

func (e *refEncoder) number(n json.Number) {
	if n == "" {
		e.buf = append(e.buf, '0')
		return
	}
	if json.Valid([]byte(n)) && (n[0] == '-' || (n[0] >= '0' && n[0] <= '9')) {
		e.buf = append(e.buf, n...)
		return
	}
	e.buf = refAppendString(e.buf, string(n), false)
}

// fallback writes a readable placeholder string "<what>" or "<what: detail>".
func (e *refEncoder) fallback(what, detail string) {
	s := "<" + what + ">"
	if detail != "" {
		s = "<" + what + ": " + detail + ">"
	}
	e.buf = refAppendString(e.buf, s, false)
}

// refSafeError returns err.Error(), or a note when Error itself panics.
func refSafeError(err error) (s string) {
	defer func() {
		if r := recover(); r != nil {
			s = fmt.Sprintf("panic in Error: %v", r)
		}
	}()
	return err.Error()
}

func (e *refEncoder) marshaler(m json.Marshaler) {
	b, err := refCallMarshalJSON(m)
	if err != nil {
		e.fallback(refTypeName(m), refSafeError(err))
		return
	}
	e.raw(b, refTypeName(m))
}

func refCallMarshalJSON(m json.Marshaler) (b []byte, err error) {
	defer func() {
		if r := recover(); r != nil {
			b, err = nil, fmt.Errorf("panic in MarshalJSON: %v", r)
		}
	}()
	return m.MarshalJSON()
}

func (e *refEncoder) textMarshaler(m encoding.TextMarshaler) {
	b, err := refCallMarshalText(m)
	if err != nil {
		e.fallback(refTypeName(m), refSafeError(err))
		return
	}
	e.buf = refAppendString(e.buf, string(b), false)
}

func refCallMarshalText(m encoding.TextMarshaler) (b []byte, err error) {
	defer func() {
		if r := recover(); r != nil {
			b, err = nil, fmt.Errorf("panic in MarshalText: %v", r)
		}
	}()
	return m.MarshalText()
}

func (e *refEncoder) errorText(err error) {
	e.buf = refAppendString(e.buf, refSafeError(err), false)
}

func refTypeName(v any) string { return reflect.TypeOf(v).String() }

// raw re-writes the referenceJSON text b (a MarshalJSON result) with Python's
// separators and string escaping, keeping the order of object keys.
func (e *refEncoder) raw(b []byte, typ string) {
	b = bytes.TrimSpace(b)
	if len(b) == 0 || !json.Valid(b) {
		e.fallback(typ, "invalid JSON from MarshalJSON")
		return
	}
	e.buf = refReformat(e.buf, b, false, false)
}

// refReformat copies valid JSON text b to dst, putting ", " and ": "
// between tokens and re-escaping strings as Python does (every non-ASCII
// character as \uXXXX when asciiOnly); with floats it writes numbers with a
// fraction or an exponent as Python floats. A byte at a time: the oracle of
// reformat (TestReformatAsReference).
func refReformat(dst, b []byte, asciiOnly, floats bool) []byte {
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
				dst = refAppendString(dst, string(tok[1:len(tok)-1]), asciiOnly)
			} else {
				var s string
				if err := json.Unmarshal(tok, &s); err != nil {
					dst = append(dst, tok...)
				} else {
					dst = refAppendString(dst, s, asciiOnly)
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
				dst = refAppendFloat(dst, f, 64)
			case string(tok) == "-0": // Python's int: 0
				dst = append(dst, '0')
			default:
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

// value writes v by reflection, with encoding/json's rules.
func (e *refEncoder) value(v reflect.Value) {
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
	if t.Implements(refMarshalerType) {
		e.marshaler(v.Interface().(json.Marshaler))
		return
	}
	if k != reflect.Pointer && v.CanAddr() && reflect.PointerTo(t).Implements(refMarshalerType) {
		e.marshaler(v.Addr().Interface().(json.Marshaler))
		return
	}
	if t.Implements(refTextMarshalerType) {
		e.textMarshaler(v.Interface().(encoding.TextMarshaler))
		return
	}
	if k != reflect.Pointer && v.CanAddr() && reflect.PointerTo(t).Implements(refTextMarshalerType) {
		e.textMarshaler(v.Addr().Interface().(encoding.TextMarshaler))
		return
	}
	if k != reflect.Interface && t.Implements(refErrorType) {
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
		e.buf = refAppendFloat(e.buf, v.Float(), 32)
	case reflect.Float64:
		e.buf = refAppendFloat(e.buf, v.Float(), 64)
	case reflect.String:
		if t == reflect.TypeFor[json.Number]() {
			e.number(json.Number(v.String()))
			return
		}
		e.buf = refAppendString(e.buf, v.String(), false)
	case reflect.Complex64, reflect.Complex128:
		e.buf = refAppendString(e.buf, strconv.FormatComplex(v.Complex(), 'g', -1, refBitSizeOf(k)), false)
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
		if refIsByteSlice(t) {
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

func refBitSizeOf(k reflect.Kind) int {
	if k == reflect.Complex64 {
		return 64
	}
	return 128
}

func refIsByteSlice(t reflect.Type) bool {
	el := t.Elem()
	if el.Kind() != reflect.Uint8 {
		return false
	}
	p := reflect.PointerTo(el)
	return !p.Implements(refMarshalerType) && !p.Implements(refTextMarshalerType)
}

func (e *refEncoder) array(v reflect.Value) {
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

type refMapEntry struct {
	key string
	val reflect.Value
}

func (e *refEncoder) mapValue(v reflect.Value) {
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
	entries := make([]refMapEntry, 0, v.Len())
	it := v.MapRange()
	for it.Next() {
		entries = append(entries, refMapEntry{refMapKey(it.Key()), it.Value()})
	}
	slices.SortFunc(entries, func(a, b refMapEntry) int {
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
		e.buf = refAppendString(e.buf, en.key, false)
		e.buf = append(e.buf, ": "...)
		e.value(en.val)
	}
	e.buf = append(e.buf, '}')
}

// refMapKey turns a map key into its referenceJSON object key, like encoding/json
// (strings, TextMarshalers, integers) and beyond it like Python (floats,
// bools); any other key type is formatted with fmt.
func refMapKey(k reflect.Value) string {
	if k.Kind() == reflect.String && !k.Type().Implements(refTextMarshalerType) {
		return k.String()
	}
	if k.Type().Implements(refTextMarshalerType) {
		if k.Kind() == reflect.Pointer && k.IsNil() {
			return ""
		}
		b, err := refCallMarshalText(k.Interface().(encoding.TextMarshaler))
		if err != nil {
			return "<" + k.Type().String() + ": " + refSafeError(err) + ">"
		}
		return string(b)
	}
	switch k.Kind() {
	case reflect.Int, reflect.Int8, reflect.Int16, reflect.Int32, reflect.Int64:
		return strconv.FormatInt(k.Int(), 10)
	case reflect.Uint, reflect.Uint8, reflect.Uint16, reflect.Uint32, reflect.Uint64, reflect.Uintptr:
		return strconv.FormatUint(k.Uint(), 10)
	case reflect.Float32:
		return string(refAppendFloat(nil, k.Float(), 32))
	case reflect.Float64:
		return string(refAppendFloat(nil, k.Float(), 64))
	case reflect.Bool:
		return strconv.FormatBool(k.Bool())
	case reflect.Interface:
		if k.IsNil() {
			return "null"
		}
		return refMapKey(k.Elem())
	}
	return refSafeSprint(k)
}

func refSafeSprint(k reflect.Value) (s string) {
	defer func() {
		if r := recover(); r != nil {
			s = "<" + k.Type().String() + ">"
		}
	}()
	return fmt.Sprint(k.Interface())
}

// refField is one referenceJSON refField of a struct type, found by encoding/json's rules.
type refField struct {
	name      string
	index     []int
	omitEmpty bool
	omitZero  bool
	quoted    bool
	tagged    bool
}

var refFieldCache sync.Map // reflect.Type -> []refField

func (e *refEncoder) structValue(v reflect.Value) {
	fields := refCachedFields(v.Type())
	e.buf = append(e.buf, '{')
	first := true
	for i := range fields {
		f := &fields[i]
		fv, ok := refFieldByIndex(v, f.index)
		if !ok {
			continue
		}
		if f.omitEmpty && refIsEmpty(fv) {
			continue
		}
		if f.omitZero && refIsZero(fv) {
			continue
		}
		if !first {
			e.buf = append(e.buf, ", "...)
		}
		first = false
		e.buf = refAppendString(e.buf, f.name, false)
		e.buf = append(e.buf, ": "...)
		if f.quoted && refQuotable(fv) {
			inner := refEncoder{}
			inner.value(fv)
			e.buf = refAppendString(e.buf, string(inner.buf), false)
			continue
		}
		e.value(fv)
	}
	e.buf = append(e.buf, '}')
}

// refFieldByIndex follows index through embedded structs; ok is false when an
// embedded pointer on the way is nil.
func refFieldByIndex(v reflect.Value, index []int) (reflect.Value, bool) {
	for i, x := range index {
		if i > 0 && v.Kind() == reflect.Pointer {
			if v.IsNil() {
				return reflect.Value{}, false
			}
			v = v.Elem()
		}
		v = v.Field(x)
	}
	return v, true
}

func refQuotable(v reflect.Value) bool {
	switch v.Kind() {
	case reflect.Bool, reflect.Int, reflect.Int8, reflect.Int16, reflect.Int32, reflect.Int64,
		reflect.Uint, reflect.Uint8, reflect.Uint16, reflect.Uint32, reflect.Uint64, reflect.Uintptr,
		reflect.Float32, reflect.Float64, reflect.String:
		return true
	}
	return false
}

func refIsEmpty(v reflect.Value) bool {
	switch v.Kind() {
	case reflect.Array, reflect.Map, reflect.Slice, reflect.String:
		return v.Len() == 0
	case reflect.Bool, reflect.Int, reflect.Int8, reflect.Int16, reflect.Int32, reflect.Int64,
		reflect.Uint, reflect.Uint8, reflect.Uint16, reflect.Uint32, reflect.Uint64, reflect.Uintptr,
		reflect.Float32, reflect.Float64, reflect.Interface, reflect.Pointer:
		return v.IsZero()
	}
	return false
}

type refIsZeroer interface{ IsZero() bool }

func refIsZero(v reflect.Value) (zero bool) {
	defer func() {
		if recover() != nil {
			zero = false
		}
	}()
	if z, ok := v.Interface().(refIsZeroer); ok {
		if v.Kind() == reflect.Pointer && v.IsNil() {
			return true
		}
		return z.IsZero()
	}
	return v.IsZero()
}

func refCachedFields(t reflect.Type) []refField {
	if f, ok := refFieldCache.Load(t); ok {
		return f.([]refField)
	}
	f, _ := refFieldCache.LoadOrStore(t, refTypeFields(t))
	return f.([]refField)
}

// refTypeFields lists the referenceJSON fields of struct type t: exported fields and the
// promoted fields of embedded structs, named by their json tag; among fields
// with the same name the shallowest wins, then a tagged one, and a tie drops
// them all (encoding/json's rules).
func refTypeFields(t reflect.Type) []refField {
	type candidate struct {
		refField
		depth int
	}
	var all []candidate
	type level struct {
		t     reflect.Type
		index []int
	}
	current := []level{{t: t}}
	visited := map[reflect.Type]bool{}
	for depth := 0; len(current) > 0; depth++ {
		var next []level
		for _, lv := range current {
			if visited[lv.t] {
				continue
			}
			visited[lv.t] = true
			for i := 0; i < lv.t.NumField(); i++ {
				sf := lv.t.Field(i)
				if sf.Anonymous {
					ft := sf.Type
					if ft.Kind() == reflect.Pointer {
						ft = ft.Elem()
					}
					if !sf.IsExported() && ft.Kind() != reflect.Struct {
						continue
					}
				} else if !sf.IsExported() {
					continue
				}
				tag := sf.Tag.Get("json")
				if tag == "-" {
					continue
				}
				name, opts, _ := strings.Cut(tag, ",")
				index := append(append([]int(nil), lv.index...), i)
				ft := sf.Type
				if ft.Name() == "" && ft.Kind() == reflect.Pointer {
					ft = ft.Elem()
				}
				if name == "" && sf.Anonymous && ft.Kind() == reflect.Struct {
					next = append(next, level{t: ft, index: index})
					continue
				}
				tagged := name != ""
				if name == "" {
					name = sf.Name
				}
				all = append(all, candidate{refField: refField{
					name:      name,
					index:     index,
					omitEmpty: refHasOpt(opts, "omitempty"),
					omitZero:  refHasOpt(opts, "omitzero"),
					quoted:    refHasOpt(opts, "string"),
					tagged:    tagged,
				}, depth: depth})
			}
		}
		current = next
	}
	// Resolve name conflicts, keeping declaration order.
	byName := map[string][]int{}
	for i, c := range all {
		byName[c.name] = append(byName[c.name], i)
	}
	out := make([]refField, 0, len(all))
	for i, c := range all {
		idx := byName[c.name]
		if len(idx) == 1 {
			out = append(out, c.refField)
			continue
		}
		best, ties := -1, 0
		for _, j := range idx {
			o := all[j]
			switch {
			case best < 0 || o.depth < all[best].depth || (o.depth == all[best].depth && o.tagged && !all[best].tagged):
				best, ties = j, 1
			case o.depth == all[best].depth && o.tagged == all[best].tagged:
				ties++
			}
		}
		if best == i && ties == 1 {
			out = append(out, c.refField)
		}
	}
	slices.SortStableFunc(out, func(a, b refField) int { return slices.Compare(a.index, b.index) })
	return out
}

func refHasOpt(opts, name string) bool {
	for opts != "" {
		var o string
		o, opts, _ = strings.Cut(opts, ",")
		if o == name {
			return true
		}
	}
	return false
}

// The string and float writers did not change when the encoder was
// compiled per type, so the oracle uses the package's own.
func refAppendString(dst []byte, s string, asciiOnly bool) []byte {
	return AppendString(dst, s, asciiOnly)
}

func refAppendFloat(dst []byte, f float64, bitSize int) []byte { return AppendFloat(dst, f, bitSize) }
