package rawjson

import (
	"bytes"
	"encoding/json"
	"slices"
	"strconv"
)

// Members decodes the object obj (valid JSON) as encoding/json decodes it
// into a struct whose fields are named names, when the object is ordinary:
// it hands each member named in names to set (with the name's index;
// members with other names are skipped, as encoding/json skips them) and
// returns false — the caller then decodes obj with encoding/json, whose
// result it thereby always gets — when obj is not an object, set refuses a
// member (a value of the wrong type), a name comes twice, or a member's name
// matches one of names only when case is ignored. At most 64 names.
func Members(obj []byte, names []string, set func(name int, v json.RawMessage) bool) bool {
	var seen uint64
	return EachMember(obj, func(key []byte, v json.RawMessage) bool {
		k := KeyText(key)
		i := slices.IndexFunc(names, func(n string) bool { return string(k) == n })
		if i < 0 {
			for _, n := range names {
				if bytes.EqualFold(k, []byte(n)) {
					return false
				}
			}
			return true
		}
		if seen&(1<<i) != 0 || !set(i, v) {
			return false
		}
		seen |= 1 << i
		return true
	})
}

// MembersInto is Members that stores the text of the member named
// names[i] in *dst[i] (a slice of obj, not a copy); len(dst) is
// len(names).
func MembersInto(obj []byte, names []string, dst ...*json.RawMessage) bool {
	return Members(obj, names, func(i int, v json.RawMessage) bool {
		*dst[i] = v
		return true
	})
}

// Decode decodes data — valid JSON, or nil — as json.Unmarshal into a T
// does, ok false where Unmarshal fails: an ordinary object (Members)
// through set, which decodes the member named names[name] into v, without
// reflection; anything else with json.Unmarshal.
func Decode[T any](data []byte, names []string, set func(v *T, name int, value json.RawMessage) bool) (v T, ok bool) {
	if Members(data, names, func(name int, value json.RawMessage) bool { return set(&v, name, value) }) {
		return v, true
	}
	var zero T
	v = zero
	return v, json.Unmarshal(data, &v) == nil
}

// SetString decodes a member into a string field: a string, or null which
// leaves it as it is; false for another value.
func SetString(dst *string, v json.RawMessage) bool {
	if string(v) == "null" {
		return true
	}
	s, ok := StringValue(v)
	*dst = s
	return ok
}

// SetStringPointer decodes a member into a *string field: null is nil.
func SetStringPointer(dst **string, v json.RawMessage) bool {
	if string(v) == "null" {
		*dst = nil
		return true
	}
	s, ok := StringValue(v)
	*dst = &s
	return ok
}

// SetInt decodes a member into an int field (an integer in int's range;
// null leaves it as it is).
func SetInt(dst *int, v json.RawMessage) bool {
	if string(v) == "null" {
		return true
	}
	n, err := strconv.Atoi(string(v))
	*dst = n
	return err == nil
}

// SetIntPointer decodes a member into a *int field: null is nil.
func SetIntPointer(dst **int, v json.RawMessage) bool {
	if string(v) == "null" {
		*dst = nil
		return true
	}
	n, err := strconv.Atoi(string(v))
	*dst = &n
	return err == nil
}

// SetPointer decodes a member into a *T field, T an object type Decode
// decodes with names and set: null is nil, anything else a new T (ok false
// where encoding/json would fail).
func SetPointer[T any](dst **T, v json.RawMessage, names []string, set func(v *T, name int, value json.RawMessage) bool) bool {
	if string(v) == "null" {
		*dst = nil
		return true
	}
	x, ok := Decode(v, names, set)
	*dst = &x
	return ok
}

// SetRaw decodes a member into a json.RawMessage field: a copy of the
// value (null included), as json.RawMessage's UnmarshalJSON makes.
func SetRaw(dst *json.RawMessage, v json.RawMessage) bool {
	*dst = bytes.Clone(v)
	return true
}
