package responsesagent

import (
	"bytes"
	"encoding/json"
	"errors"
	"fmt"
	"reflect"
	"slices"
	"strconv"
	"strings"
	"sync"
	"unicode/utf8"

	"github.com/mlflowtrace/mlflowtrace-go/internal/encode"
	"github.com/mlflowtrace/mlflowtrace-go/internal/rawjson"
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
// A repeated key keeps its last value at its first position. Values are
// sub-slices of data, compacted when they held white space; callers copy
// what they keep. It checks the structure (strings, nesting, separators);
// the literals inside are checked where they are decoded.
func decodeMembers(data []byte) ([]member, error) {
	i := skipWS(data, 0)
	if i >= len(data) || data[i] != '{' {
		return nil, errors.New("must be a JSON object")
	}
	i = skipWS(data, i+1)
	out := make([]member, 0, 8)
	if i < len(data) && data[i] == '}' {
		if skipWS(data, i+1) != len(data) {
			return nil, errors.New("invalid JSON: data after the object")
		}
		return out, nil
	}
	for {
		if i >= len(data) || data[i] != '"' {
			return nil, errors.New("invalid JSON: expected a member name")
		}
		end, esc, err := scanString(data, i)
		if err != nil {
			return nil, err
		}
		var key string
		if esc {
			if err := json.Unmarshal(data[i:end], &key); err != nil {
				return nil, fmt.Errorf("invalid JSON: %w", err)
			}
		} else {
			key = string(data[i+1 : end-1])
		}
		i = skipWS(data, end)
		if i >= len(data) || data[i] != ':' {
			return nil, errors.New("invalid JSON: expected ':'")
		}
		i = skipWS(data, i+1)
		vend, ws, err := scanValue(data, i)
		if err != nil {
			return nil, err
		}
		raw := json.RawMessage(data[i:vend])
		if ws {
			var c bytes.Buffer
			if err := json.Compact(&c, raw); err != nil {
				return nil, fmt.Errorf("invalid JSON: %w", err)
			}
			raw = c.Bytes()
		}
		if j := slices.IndexFunc(out, func(m member) bool { return m.key == key }); j >= 0 {
			out[j].val = raw
		} else {
			out = append(out, member{key, raw})
		}
		i = skipWS(data, vend)
		if i >= len(data) {
			return nil, errors.New("invalid JSON: unexpected end of object")
		}
		switch data[i] {
		case ',':
			i = skipWS(data, i+1)
			continue
		case '}':
			if skipWS(data, i+1) != len(data) {
				return nil, errors.New("invalid JSON: data after the object")
			}
			return out, nil
		default:
			return nil, errors.New("invalid JSON: expected ',' or '}'")
		}
	}
}

func skipWS(b []byte, i int) int {
	for i < len(b) && (b[i] == ' ' || b[i] == '\t' || b[i] == '\n' || b[i] == '\r') {
		i++
	}
	return i
}

// scanString returns the index after the string starting at b[i] (a '"')
// and whether it holds escapes.
func scanString(b []byte, i int) (end int, esc bool, err error) {
	for j := i + 1; j < len(b); j++ {
		switch b[j] {
		case '\\':
			esc = true
			j++
		case '"':
			return j + 1, esc, nil
		}
	}
	return 0, false, errors.New("invalid JSON: unterminated string")
}

// scanValue returns the index after the value starting at b[i] and whether
// it holds white space outside strings.
func scanValue(b []byte, i int) (end int, ws bool, err error) {
	if i >= len(b) {
		return 0, false, errors.New("invalid JSON: expected a value")
	}
	switch b[i] {
	case '"':
		end, _, err := scanString(b, i)
		return end, false, err
	case '{', '[':
		depth := 0
		for j := i; j < len(b); j++ {
			switch c := b[j]; c {
			case '"':
				e, _, err := scanString(b, j)
				if err != nil {
					return 0, false, err
				}
				j = e - 1
			case '{', '[':
				depth++
			case '}', ']':
				depth--
				if depth == 0 {
					return j + 1, ws, nil
				}
			case ' ', '\t', '\n', '\r':
				ws = true
			}
		}
		return 0, false, errors.New("invalid JSON: unterminated value")
	}
	j := i
	for j < len(b) && b[j] != ',' && b[j] != '}' && b[j] != ']' && b[j] != ' ' && b[j] != '\t' && b[j] != '\n' && b[j] != '\r' {
		j++
	}
	if j == i {
		return 0, false, errors.New("invalid JSON: expected a value")
	}
	return j, false, nil
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
			extra[m.key] = append(json.RawMessage(nil), m.val...) // kept: copy
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

// decodeLax decodes raw into f, a *bool, *int or *float64 field, converting
// it as pydantic's lax mode does (see lax.go).
func decodeLax(raw json.RawMessage, f reflect.Value) error {
	v := reflect.New(f.Type().Elem())
	switch v.Elem().Kind() {
	case reflect.Bool:
		b, err := laxBool(raw)
		if err != nil {
			return err
		}
		v.Elem().SetBool(b)
	case reflect.Int:
		n, err := laxInt(raw)
		if err != nil {
			return err
		}
		v.Elem().SetInt(int64(n))
	default:
		x, err := laxFloat(raw)
		if err != nil {
			return err
		}
		v.Elem().SetFloat(x)
	}
	f.Set(v)
	return nil
}

// decodeField decodes raw into the field f. The common kinds take a fast
// path; a list of this package's objects is decoded element by element, so
// an error names the element's index.
func decodeField(raw json.RawMessage, f reflect.Value) error {
	switch f.Kind() {
	case reflect.String:
		if len(raw) >= 2 && raw[0] == '"' && bytes.IndexByte(raw, '\\') < 0 && utf8.Valid(raw) {
			f.SetString(string(raw[1 : len(raw)-1]))
			return nil
		}
	case reflect.Pointer:
		et := f.Type().Elem()
		switch {
		case reflect.PointerTo(et).Implements(unmarshalerType):
			v := reflect.New(et)
			if err := v.Interface().(json.Unmarshaler).UnmarshalJSON(raw); err != nil {
				return err
			}
			f.Set(v)
			return nil
		case et.Kind() == reflect.Bool, et.Kind() == reflect.Int, et.Kind() == reflect.Float64:
			return decodeLax(raw, f)
		}
	case reflect.Slice:
		if reflect.PointerTo(f.Type().Elem()).Implements(unmarshalerType) {
			if len(raw) == 0 || raw[0] != '[' {
				return &FieldError{Reason: "must be a list"}
			}
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
// always reports true; a nil pointer, slice or map is never written), then
// extra; members named in keys come first, in that order, then the fields in
// declaration order, then the rest of extra sorted by key.
func marshalObject(src any, extra map[string]json.RawMessage, keys []string, always func(string) bool) ([]byte, error) {
	v := reflect.ValueOf(src)
	si := infoOf(v.Type())
	b := make([]byte, 0, 128+32*len(si.fields))
	b = append(b, '{')
	first := true
	var done uint64 // fields handled (at most 64 per struct)
	writeKey := func(k string) {
		if !first {
			b = append(b, ',')
		}
		first = false
		b = encode.AppendString(b, k, false)
		b = append(b, ':')
	}
	field := func(pos int, inKeys bool) error {
		done |= 1 << pos
		sf := si.fields[pos]
		f := v.Field(sf.index)
		if f.IsZero() && (isNilable(f.Kind()) || !inKeys && (always == nil || !always(sf.key))) {
			return nil // unset (a required member without a value stays absent)
		}
		writeKey(sf.key)
		var err error
		b, err = appendValue(b, f)
		if err != nil {
			return fmt.Errorf("%s: %w", sf.key, err)
		}
		return nil
	}
	writeExtra := func(k string, raw json.RawMessage) error {
		if len(raw) == 0 || !rawjson.Valid(raw) {
			return fmt.Errorf("%s: invalid raw JSON", k)
		}
		writeKey(k)
		b = append(b, raw...)
		return nil
	}
	for _, k := range keys {
		if pos, ok := si.byKey[k]; ok {
			if done&(1<<pos) == 0 {
				if err := field(pos, true); err != nil {
					return nil, err
				}
			}
		} else if raw, ok := extra[k]; ok {
			if err := writeExtra(k, raw); err != nil {
				return nil, err
			}
		}
	}
	for pos := range si.fields {
		if done&(1<<pos) == 0 {
			if err := field(pos, false); err != nil {
				return nil, err
			}
		}
	}
	if len(extra) > 0 {
		rest := make([]string, 0, len(extra))
		for k := range extra {
			if _, modelled := si.byKey[k]; !modelled && !slices.Contains(keys, k) {
				rest = append(rest, k)
			}
		}
		slices.Sort(rest)
		for _, k := range rest {
			if err := writeExtra(k, extra[k]); err != nil {
				return nil, err
			}
		}
	}
	return append(b, '}'), nil
}

var marshalerType = reflect.TypeFor[json.Marshaler]()

// appendValue appends the JSON of a field value: strings, booleans, ints
// and this package's types directly, the rest with encoding/json.
func appendValue(b []byte, f reflect.Value) ([]byte, error) {
	switch f.Kind() {
	case reflect.String:
		return encode.AppendString(b, f.String(), false), nil
	case reflect.Int:
		return strconv.AppendInt(b, f.Int(), 10), nil
	case reflect.Pointer:
		switch e := f.Elem(); e.Kind() {
		case reflect.Bool:
			return strconv.AppendBool(b, e.Bool()), nil
		case reflect.Int:
			return strconv.AppendInt(b, e.Int(), 10), nil
		case reflect.String:
			return encode.AppendString(b, e.String(), false), nil
		}
		if f.Type().Implements(marshalerType) {
			out, err := f.Interface().(json.Marshaler).MarshalJSON()
			return append(b, out...), err
		}
	case reflect.Struct:
		if f.Type().Implements(marshalerType) {
			out, err := f.Interface().(json.Marshaler).MarshalJSON()
			return append(b, out...), err
		}
	case reflect.Slice:
		if f.Type().Elem().Implements(marshalerType) {
			b = append(b, '[')
			for i := range f.Len() {
				if i > 0 {
					b = append(b, ',')
				}
				out, err := f.Index(i).Interface().(json.Marshaler).MarshalJSON()
				if err != nil {
					return b, err
				}
				b = append(b, out...)
			}
			return append(b, ']'), nil
		}
	}
	out, err := json.Marshal(f.Interface())
	return append(b, out...), err
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
