package responsesagent

import (
	"bytes"
	"encoding/json"
	"errors"
	"fmt"
	"reflect"
	"slices"
	"strings"
	"sync"
)

// The JSON objects of the Responses API are open: MLflow validates some
// members and passes the rest through, and clients rely on the order of
// members only loosely — but MLflow's traces record the objects with their
// members in the order they were given. Every struct of this package
// therefore keeps (a) the members it does not model in Extra, as raw JSON,
// and (b) the order of the members it was decoded from, and writes them back
// in that order. A struct built in Go is written in its fields' declaration
// order (MLflow's helper order), then Extra sorted by key.

// member is one member of a JSON object.
type member struct {
	key string
	val json.RawMessage
}

// decodeMembers splits a JSON object into its members, in document order.
// A repeated key keeps its last value at its first position.
func decodeMembers(data []byte) ([]member, error) {
	dec := json.NewDecoder(bytes.NewReader(data))
	dec.UseNumber()
	tok, err := dec.Token()
	if err != nil {
		return nil, err
	}
	if d, ok := tok.(json.Delim); !ok || d != '{' {
		return nil, errors.New("must be a JSON object")
	}
	var out []member
	for dec.More() {
		tok, err := dec.Token()
		if err != nil {
			return nil, err
		}
		key, _ := tok.(string)
		var raw json.RawMessage
		if err := dec.Decode(&raw); err != nil {
			return nil, err
		}
		if bytes.ContainsAny(raw, " \t\r\n") {
			var c bytes.Buffer
			if err := json.Compact(&c, raw); err == nil {
				raw = c.Bytes()
			}
		}
		if i := slices.IndexFunc(out, func(m member) bool { return m.key == key }); i >= 0 {
			out[i].val = raw
			continue
		}
		out = append(out, member{key, raw})
	}
	if _, err := dec.Token(); err != nil {
		return nil, err
	}
	return out, nil
}

// structField is one JSON member of a struct of this package.
type structField struct {
	key   string
	index int
}

// structInfo lists a struct type's JSON members in declaration order.
type structInfo struct {
	fields []structField
	byKey  map[string]int // key -> position in fields
}

var structInfos sync.Map // reflect.Type -> *structInfo

func infoOf(t reflect.Type) *structInfo {
	if v, ok := structInfos.Load(t); ok {
		return v.(*structInfo)
	}
	si := &structInfo{byKey: map[string]int{}}
	for i := range t.NumField() {
		f := t.Field(i)
		tag := f.Tag.Get("json")
		if !f.IsExported() || tag == "" || tag == "-" {
			continue
		}
		key, _, _ := strings.Cut(tag, ",")
		si.byKey[key] = len(si.fields)
		si.fields = append(si.fields, structField{key: key, index: i})
	}
	structInfos.Store(t, si)
	return si
}

// unmarshalObject decodes data into the struct *dst: members with a json tag
// go to their field (a null leaves the field unset), the others to extra. It
// returns the member order (nulls of modelled fields excluded).
func unmarshalObject(data []byte, dst any) (extra map[string]json.RawMessage, keys []string, err error) {
	members, err := decodeMembers(data)
	if err != nil {
		return nil, nil, err
	}
	v := reflect.ValueOf(dst).Elem()
	si := infoOf(v.Type())
	keys = make([]string, 0, len(members))
	for _, m := range members {
		pos, ok := si.byKey[m.key]
		if !ok {
			if extra == nil {
				extra = make(map[string]json.RawMessage)
			}
			extra[m.key] = m.val
			keys = append(keys, m.key)
			continue
		}
		if string(m.val) == "null" {
			continue
		}
		f := v.Field(si.fields[pos].index)
		if err := decodeField(m.val, f); err != nil {
			return nil, nil, at(m.key, err)
		}
		keys = append(keys, m.key)
	}
	return extra, keys, nil
}

var unmarshalerType = reflect.TypeFor[json.Unmarshaler]()

// decodeField decodes raw into the field f. A list of this package's objects
// is decoded element by element, so an error names the element's index.
func decodeField(raw json.RawMessage, f reflect.Value) error {
	if f.Kind() == reflect.Slice && reflect.PointerTo(f.Type().Elem()).Implements(unmarshalerType) {
		var elems []json.RawMessage
		if err := json.Unmarshal(raw, &elems); err != nil {
			return &FieldError{Reason: typeReason(err)}
		}
		out := reflect.MakeSlice(f.Type(), len(elems), len(elems))
		for i, e := range elems {
			if err := out.Index(i).Addr().Interface().(json.Unmarshaler).UnmarshalJSON(e); err != nil {
				return at(fmt.Sprintf("[%d]", i), err)
			}
		}
		f.Set(out)
		return nil
	}
	dec := json.NewDecoder(bytes.NewReader(raw))
	dec.UseNumber() // numbers in maps and lists keep their text (1 stays 1, not 1.0)
	if err := dec.Decode(f.Addr().Interface()); err != nil {
		var fe *FieldError
		if errors.As(err, &fe) {
			return fe
		}
		return &FieldError{Reason: typeReason(err)}
	}
	return nil
}

// typeReason turns a json decoding error into a short reason.
func typeReason(err error) string {
	var fe *FieldError
	if errors.As(err, &fe) {
		return fe.Error()
	}
	var te *json.UnmarshalTypeError
	if errors.As(err, &te) {
		if te.Field != "" {
			return fmt.Sprintf("%s: must be %s, got %s", te.Field, jsonKind(te.Type), te.Value)
		}
		return fmt.Sprintf("must be %s, got %s", jsonKind(te.Type), te.Value)
	}
	return err.Error()
}

func jsonKind(t reflect.Type) string {
	switch t.Kind() {
	case reflect.String:
		return "a string"
	case reflect.Bool:
		return "a boolean"
	case reflect.Int, reflect.Int64, reflect.Int32:
		return "an integer"
	case reflect.Float64, reflect.Float32:
		return "a number"
	case reflect.Slice:
		return "a list"
	case reflect.Map, reflect.Struct:
		return "an object"
	case reflect.Pointer:
		return jsonKind(t.Elem())
	}
	return t.String()
}

// marshalObject writes the struct src (a value, not a pointer) as a JSON
// object: every field that is set (non-zero, or named in keys, or for which
// always reports true), then extra; members named in keys come first, in
// that order.
func marshalObject(src any, extra map[string]json.RawMessage, keys []string, always func(string) bool) ([]byte, error) {
	v := reflect.ValueOf(src)
	si := infoOf(v.Type())
	inKeys := func(k string) bool { return slices.Contains(keys, k) }
	vals := make(map[string]json.RawMessage, len(si.fields)+len(extra))
	var canon []string
	for _, sf := range si.fields {
		f := v.Field(sf.index)
		if f.IsZero() && !inKeys(sf.key) {
			if always == nil || !always(sf.key) || isNilable(f.Kind()) {
				continue // unset (a required member without a value stays absent)
			}
		}
		b, err := json.Marshal(f.Interface())
		if err != nil {
			return nil, fmt.Errorf("%s: %w", sf.key, err)
		}
		vals[sf.key] = b
		canon = append(canon, sf.key)
	}
	extraKeys := make([]string, 0, len(extra))
	for k, raw := range extra {
		if _, modelled := si.byKey[k]; modelled {
			continue // a modelled member is written from its field
		}
		if len(raw) == 0 || !json.Valid(raw) {
			return nil, fmt.Errorf("%s: invalid raw JSON", k)
		}
		vals[k] = raw
		extraKeys = append(extraKeys, k)
	}
	slices.Sort(extraKeys)
	canon = append(canon, extraKeys...)

	var b bytes.Buffer
	b.WriteByte('{')
	n := 0
	write := func(k string) {
		raw, ok := vals[k]
		if !ok {
			return
		}
		delete(vals, k)
		if n > 0 {
			b.WriteByte(',')
		}
		n++
		kb, _ := json.Marshal(k)
		b.Write(kb)
		b.WriteByte(':')
		b.Write(raw)
	}
	for _, k := range keys {
		write(k)
	}
	for _, k := range canon {
		write(k)
	}
	b.WriteByte('}')
	return b.Bytes(), nil
}

// FieldError is a validation or decoding error of one field of a request,
// response or stream event. Field is a path such as "input[2].call_id".
type FieldError struct {
	Field  string
	Reason string
}

func (e *FieldError) Error() string {
	if e.Field == "" {
		return e.Reason
	}
	return e.Field + ": " + e.Reason
}

// at prefixes err's field path with prefix (a key or "[i]").
func at(prefix string, err error) error {
	if err == nil {
		return nil
	}
	var fe *FieldError
	if errors.As(err, &fe) {
		f := prefix
		if fe.Field != "" {
			if strings.HasPrefix(fe.Field, "[") {
				f += fe.Field
			} else {
				f += "." + fe.Field
			}
		}
		return &FieldError{Field: f, Reason: fe.Reason}
	}
	return &FieldError{Field: prefix, Reason: err.Error()}
}

func fieldErr(field, format string, args ...any) error {
	return &FieldError{Field: field, Reason: fmt.Sprintf(format, args...)}
}

func isNilable(k reflect.Kind) bool {
	switch k {
	case reflect.Pointer, reflect.Slice, reflect.Map, reflect.Interface:
		return true
	}
	return false
}
