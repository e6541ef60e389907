package encode

import (
	"encoding"
	"encoding/json"
	"reflect"
	"slices"
	"strconv"
	"strings"
	"sync"
)

// encFn writes one value of the type it was compiled for. It follows the
// reflection rules of the original value walker exactly: a nil pointer or
// interface is null, then json.Marshaler, the pointer receiver's Marshaler
// when v is addressable, encoding.TextMarshaler (same), error, and at last
// the kind.
type encFn func(e *encoder, v reflect.Value)

// encCache maps reflect.Type to its encFn, built once per type, like
// encoding/json's encoder cache.
var encCache sync.Map

// typeEncoder returns the encoder of t, compiling it on first use. A
// recursive type sees a forwarding encoder for itself while it is compiled.
func typeEncoder(t reflect.Type) encFn {
	if f, ok := encCache.Load(t); ok {
		return f.(encFn)
	}
	var (
		wg sync.WaitGroup
		f  encFn
	)
	wg.Add(1)
	fi, loaded := encCache.LoadOrStore(t, encFn(func(e *encoder, v reflect.Value) {
		wg.Wait()
		f(e, v)
	}))
	if loaded {
		return fi.(encFn)
	}
	func() {
		defer wg.Done()
		defer func() {
			if r := recover(); r != nil {
				f = fallbackEncoder(t.String())
			}
		}()
		f = newTypeEncoder(t)
	}()
	encCache.Store(t, f)
	return f
}

var (
	numberType     = reflect.TypeFor[json.Number]()
	mapStringAnyT  = reflect.TypeFor[map[string]any]()
	mapStringStrT  = reflect.TypeFor[map[string]string]()
	sliceAnyT      = reflect.TypeFor[[]any]()
	sliceStringT   = reflect.TypeFor[[]string]()
	sliceMapAnyT   = reflect.TypeFor[[]map[string]any]()
	emptyInterface = reflect.TypeFor[any]()
)

func newTypeEncoder(t reflect.Type) encFn {
	k := t.Kind()
	f := kindEncoder(t)
	if k != reflect.Interface && t.Implements(errorType) {
		f = errorEncoder(f)
	}
	if k != reflect.Pointer && reflect.PointerTo(t).Implements(textMarshalerType) {
		f = addrTextEncoder(f)
	}
	if t.Implements(textMarshalerType) {
		f = textEncoder(f)
	}
	if k != reflect.Pointer && reflect.PointerTo(t).Implements(marshalerType) {
		f = addrMarshalerEncoder(f)
	}
	if t.Implements(marshalerType) {
		f = marshalerEncoder(f)
	}
	if k == reflect.Pointer || k == reflect.Interface {
		next := f
		f = func(e *encoder, v reflect.Value) {
			if v.IsNil() {
				e.buf = append(e.buf, "null"...)
				return
			}
			next(e, v)
		}
	}
	return f
}

// The method encoders fall back to next for a value read through an
// unexported embedded field, which reflect cannot hand out as an interface.

func marshalerEncoder(next encFn) encFn {
	return func(e *encoder, v reflect.Value) {
		if !v.CanInterface() {
			next(e, v)
			return
		}
		e.marshaler(v.Interface().(json.Marshaler))
	}
}

func addrMarshalerEncoder(next encFn) encFn {
	return func(e *encoder, v reflect.Value) {
		if !v.CanAddr() || !v.CanInterface() {
			next(e, v)
			return
		}
		e.marshaler(v.Addr().Interface().(json.Marshaler))
	}
}

func textEncoder(next encFn) encFn {
	return func(e *encoder, v reflect.Value) {
		if !v.CanInterface() {
			next(e, v)
			return
		}
		e.textMarshaler(v.Interface().(encoding.TextMarshaler))
	}
}

func addrTextEncoder(next encFn) encFn {
	return func(e *encoder, v reflect.Value) {
		if !v.CanAddr() || !v.CanInterface() {
			next(e, v)
			return
		}
		e.textMarshaler(v.Addr().Interface().(encoding.TextMarshaler))
	}
}

func errorEncoder(next encFn) encFn {
	return func(e *encoder, v reflect.Value) {
		if !v.CanInterface() {
			next(e, v)
			return
		}
		e.errorText(v.Interface().(error))
	}
}

// fallbackEncoder writes the placeholder "<what>".
func fallbackEncoder(what string) encFn {
	lit := AppendString(nil, "<"+what+">", false)
	return func(e *encoder, _ reflect.Value) { e.buf = append(e.buf, lit...) }
}

func kindEncoder(t reflect.Type) encFn {
	switch k := t.Kind(); k {
	case reflect.Bool:
		return func(e *encoder, v reflect.Value) { e.buf = strconv.AppendBool(e.buf, v.Bool()) }
	case reflect.Int, reflect.Int8, reflect.Int16, reflect.Int32, reflect.Int64:
		return func(e *encoder, v reflect.Value) { e.buf = strconv.AppendInt(e.buf, v.Int(), 10) }
	case reflect.Uint, reflect.Uint8, reflect.Uint16, reflect.Uint32, reflect.Uint64, reflect.Uintptr:
		return func(e *encoder, v reflect.Value) { e.buf = strconv.AppendUint(e.buf, v.Uint(), 10) }
	case reflect.Float32:
		return func(e *encoder, v reflect.Value) { e.buf = AppendFloat(e.buf, v.Float(), 32) }
	case reflect.Float64:
		return func(e *encoder, v reflect.Value) { e.buf = AppendFloat(e.buf, v.Float(), 64) }
	case reflect.String:
		if t == numberType {
			return func(e *encoder, v reflect.Value) { e.number(json.Number(v.String())) }
		}
		return func(e *encoder, v reflect.Value) { e.buf = AppendString(e.buf, v.String(), false) }
	case reflect.Complex64, reflect.Complex128:
		bits := bitSizeOf(k)
		return func(e *encoder, v reflect.Value) {
			e.buf = AppendString(e.buf, strconv.FormatComplex(v.Complex(), 'g', -1, bits), false)
		}
	case reflect.Interface:
		return func(e *encoder, v reflect.Value) {
			if !v.CanInterface() {
				e.value(v.Elem())
				return
			}
			e.ifaceValue(v.Interface())
		}
	case reflect.Pointer:
		return newPointerEncoder(t)
	case reflect.Map:
		return newMapEncoder(t)
	case reflect.Slice:
		return newSliceEncoder(t)
	case reflect.Array:
		return newArrayEncoder(t)
	case reflect.Struct:
		return newStructEncoder(t)
	}
	// Chan, Func, UnsafePointer.
	return fallbackEncoder(t.String())
}

func cycleLiteral(t reflect.Type) []byte {
	return AppendString(nil, "<cycle "+t.String()+">", false)
}

func newPointerEncoder(t reflect.Type) encFn {
	elem := typeEncoder(t.Elem())
	cycle := cycleLiteral(t)
	return func(e *encoder, v reflect.Value) {
		if !e.enter() {
			return
		}
		if !e.push(uintptr(v.UnsafePointer()), -2) {
			e.buf = append(e.buf, cycle...)
			e.leave()
			return
		}
		elem(e, v.Elem())
		e.pop()
		e.leave()
	}
}

func newSliceEncoder(t reflect.Type) encFn {
	if isByteSlice(t) {
		return func(e *encoder, v reflect.Value) {
			if v.IsNil() {
				e.buf = append(e.buf, "null"...)
				return
			}
			e.bytes(v.Bytes())
		}
	}
	// The same walk as below, without reflection per element.
	switch t {
	case sliceAnyT:
		return func(e *encoder, v reflect.Value) {
			if !v.CanInterface() {
				e.sliceReflect(v, typeEncoder(emptyInterface), cycleLiteral(t))
				return
			}
			e.sliceAny(sliceOf[[]any](v), false)
		}
	case sliceStringT:
		return func(e *encoder, v reflect.Value) {
			if !v.CanInterface() {
				e.sliceReflect(v, typeEncoder(t.Elem()), cycleLiteral(t))
				return
			}
			e.sliceString(sliceOf[[]string](v))
		}
	case sliceMapAnyT:
		return func(e *encoder, v reflect.Value) {
			if !v.CanInterface() {
				e.sliceReflect(v, typeEncoder(t.Elem()), cycleLiteral(t))
				return
			}
			e.sliceMapStringAny(sliceOf[[]map[string]any](v))
		}
	}
	elem := typeEncoder(t.Elem())
	cycle := cycleLiteral(t)
	return func(e *encoder, v reflect.Value) { e.sliceReflect(v, elem, cycle) }
}

// sliceOf returns the slice v holds; it does not copy the slice header to
// the heap as Interface does for an addressable value.
func sliceOf[S any](v reflect.Value) S {
	if v.CanAddr() {
		return *(*S)(v.Addr().UnsafePointer())
	}
	return v.Interface().(S)
}

func (e *encoder) sliceReflect(v reflect.Value, elem encFn, cycle []byte) {
	if v.IsNil() {
		e.buf = append(e.buf, "null"...)
		return
	}
	if !e.enter() {
		return
	}
	n := v.Len()
	if n > 0 && !e.push(uintptr(v.UnsafePointer()), n) {
		e.buf = append(e.buf, cycle...)
		e.leave()
		return
	}
	e.buf = append(e.buf, '[')
	for i := 0; i < n; i++ {
		if i > 0 {
			e.buf = append(e.buf, ", "...)
		}
		elem(e, v.Index(i))
	}
	e.buf = append(e.buf, ']')
	if n > 0 {
		e.pop()
	}
	e.leave()
}

func newArrayEncoder(t reflect.Type) encFn {
	elem := typeEncoder(t.Elem())
	n := t.Len()
	return func(e *encoder, v reflect.Value) {
		if !e.enter() {
			return
		}
		e.buf = append(e.buf, '[')
		for i := 0; i < n; i++ {
			if i > 0 {
				e.buf = append(e.buf, ", "...)
			}
			elem(e, v.Index(i))
		}
		e.buf = append(e.buf, ']')
		e.leave()
	}
}

func newMapEncoder(t reflect.Type) encFn {
	cycle := cycleLiteral(t)
	switch t {
	case mapStringAnyT:
		return func(e *encoder, v reflect.Value) {
			if !v.CanInterface() {
				e.mapReflect(v, typeEncoder(t.Elem()), cycle, false)
				return
			}
			e.mapStringAny(v.Interface().(map[string]any), false)
		}
	case mapStringStrT:
		return func(e *encoder, v reflect.Value) {
			if !v.CanInterface() {
				e.mapReflect(v, typeEncoder(t.Elem()), cycle, false)
				return
			}
			e.mapStringString(v.Interface().(map[string]string), cycle)
		}
	}
	elem := typeEncoder(t.Elem())
	kt := t.Key()
	plainKeys := kt.Kind() == reflect.String && !kt.Implements(textMarshalerType)
	return func(e *encoder, v reflect.Value) { e.mapReflect(v, elem, cycle, plainKeys) }
}

type mapEntry struct {
	key string
	val reflect.Value
}

func compareEntries(a, b mapEntry) int { return strings.Compare(a.key, b.key) }

// mapReflect writes any map: keys as mapKey makes them, sorted.
func (e *encoder) mapReflect(v reflect.Value, elem encFn, cycle []byte, plainKeys bool) {
	if v.IsNil() {
		e.buf = append(e.buf, "null"...)
		return
	}
	if !e.enter() {
		return
	}
	if !e.push(uintptr(v.UnsafePointer()), -1) {
		e.buf = append(e.buf, cycle...)
		e.leave()
		return
	}
	start := len(e.entries)
	it := v.MapRange()
	for it.Next() {
		var key string
		if plainKeys {
			key = it.Key().String()
		} else {
			key = mapKey(it.Key())
		}
		e.entries = append(e.entries, mapEntry{key, it.Value()})
	}
	end := len(e.entries)
	slices.SortFunc(e.entries[start:end], compareEntries)
	e.buf = append(e.buf, '{')
	for i := start; i < end; i++ {
		if i > start {
			e.buf = append(e.buf, ", "...)
		}
		en := e.entries[i]
		e.buf = AppendString(e.buf, en.key, false)
		e.buf = append(e.buf, ": "...)
		elem(e, en.val)
	}
	e.buf = append(e.buf, '}')
	clear(e.entries[start:end])
	e.entries = e.entries[:start]
	e.pop()
	e.leave()
}
