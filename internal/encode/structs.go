package encode

import (
	"reflect"
	"slices"
	"strings"
)

// field is one JSON field of a struct type, found by encoding/json's rules.
type field struct {
	name      string
	index     []int
	omitEmpty bool
	omitZero  bool
	quoted    bool
	tagged    bool
}

// structField is a field of a compiled struct encoder.
type structField struct {
	prefix    []byte // the quoted name and ": "
	index     []int
	omitEmpty bool
	omitZero  bool
	quoted    bool // a ",string" field of a kind the option applies to
	enc       encFn
}

func newStructEncoder(t reflect.Type) encFn {
	fields := typeFields(t)
	sfs := make([]structField, len(fields))
	for i, f := range fields {
		ft := t.FieldByIndex(f.index).Type
		sfs[i] = structField{
			prefix:    append(AppendString(nil, f.name, false), ": "...),
			index:     f.index,
			omitEmpty: f.omitEmpty,
			omitZero:  f.omitZero,
			quoted:    f.quoted && quotableKind(ft.Kind()),
			enc:       typeEncoder(ft),
		}
	}
	return func(e *encoder, v reflect.Value) {
		if !e.enter() {
			return
		}
		e.buf = append(e.buf, '{')
		first := true
		for i := range sfs {
			f := &sfs[i]
			var fv reflect.Value
			if len(f.index) == 1 {
				fv = v.Field(f.index[0])
			} else {
				var ok bool
				if fv, ok = fieldByIndex(v, f.index); !ok {
					continue
				}
			}
			if f.omitEmpty && isEmpty(fv) {
				continue
			}
			if f.omitZero && isZero(fv) {
				continue
			}
			if !first {
				e.buf = append(e.buf, ", "...)
			}
			first = false
			e.buf = append(e.buf, f.prefix...)
			if f.quoted {
				// Written on its own, then as a JSON string.
				inner := encoder{}
				f.enc(&inner, fv)
				e.buf = AppendString(e.buf, string(inner.buf), false)
				continue
			}
			f.enc(e, fv)
		}
		e.buf = append(e.buf, '}')
		e.leave()
	}
}

// fieldByIndex follows index through embedded structs; ok is false when an
// embedded pointer on the way is nil.
func fieldByIndex(v reflect.Value, index []int) (reflect.Value, bool) {
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

func quotableKind(k reflect.Kind) bool {
	switch k {
	case reflect.Bool, reflect.Int, reflect.Int8, reflect.Int16, reflect.Int32, reflect.Int64,
		reflect.Uint, reflect.Uint8, reflect.Uint16, reflect.Uint32, reflect.Uint64, reflect.Uintptr,
		reflect.Float32, reflect.Float64, reflect.String:
		return true
	}
	return false
}

func isEmpty(v reflect.Value) bool {
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

type isZeroer interface{ IsZero() bool }

func isZero(v reflect.Value) (zero bool) {
	defer func() {
		if recover() != nil {
			zero = false
		}
	}()
	if z, ok := v.Interface().(isZeroer); ok {
		if v.Kind() == reflect.Pointer && v.IsNil() {
			return true
		}
		return z.IsZero()
	}
	return v.IsZero()
}

// typeFields lists the JSON fields of struct type t: exported fields and the
// promoted fields of embedded structs, named by their json tag; among fields
// with the same name the shallowest wins, then a tagged one, and a tie drops
// them all (encoding/json's rules).
func typeFields(t reflect.Type) []field {
	type candidate struct {
		field
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
				all = append(all, candidate{field: field{
					name:      name,
					index:     index,
					omitEmpty: hasOpt(opts, "omitempty"),
					omitZero:  hasOpt(opts, "omitzero"),
					quoted:    hasOpt(opts, "string"),
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
	out := make([]field, 0, len(all))
	for i, c := range all {
		idx := byName[c.name]
		if len(idx) == 1 {
			out = append(out, c.field)
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
			out = append(out, c.field)
		}
	}
	slices.SortStableFunc(out, func(a, b field) int { return slices.Compare(a.index, b.index) })
	return out
}

func hasOpt(opts, name string) bool {
	for opts != "" {
		var o string
		o, opts, _ = strings.Cut(opts, ",")
		if o == name {
			return true
		}
	}
	return false
}
