package rawjson

import (
	"bytes"
	"encoding/json"
	"errors"
	"unicode/utf8"
	"unsafe"
)

// Field is one member of a JSON object, in document order.
type Field struct {
	Key   string
	Value json.RawMessage
}

var (
	errInvalid   = errors.New("rawjson: invalid JSON")
	errNotObject = errors.New("rawjson: not a JSON object")
)

// ObjectFields returns the members of the JSON object b in document order.
// It validates b, then splits it without decoding the values.
func ObjectFields(b []byte) ([]Field, error) {
	if !Valid(b) {
		return nil, errInvalid
	}
	return ValidObjectFields(b)
}

// ValidObjectFields is ObjectFields of text already known to be valid JSON
// (a member of an object ObjectFields split): it splits b without
// validating it again.
func ValidObjectFields(b []byte) ([]Field, error) {
	out := make([]Field, 0, 8)
	var err error
	ok := EachMember(b, func(key []byte, v json.RawMessage) bool {
		var k string
		if k, err = decodeString(key); err != nil {
			return false
		}
		out = append(out, Field{Key: k, Value: v})
		return true
	})
	if err != nil {
		return nil, err
	}
	if !ok {
		return nil, errNotObject
	}
	if len(out) == 0 {
		return nil, nil
	}
	return out, nil
}

// EachMember calls fn with each member of b, an object already known to be
// valid JSON, in document order: the member's name as its JSON string
// literal (quotes included; compare it with Key) and its value, both
// slices of b. It stops when fn returns false, and returns false then or
// when b is not an object.
func EachMember(b []byte, fn func(key []byte, v json.RawMessage) bool) bool {
	i := skipSpace(b, 0)
	if i >= len(b) || b[i] != '{' {
		return false
	}
	i = skipSpace(b, i+1)
	for i < len(b) && b[i] != '}' {
		// b is valid JSON: a key string, ':', a value, then ',' or '}'.
		end := skipString(b, i)
		key := b[i:end]
		i = skipSpace(b, end)
		i = skipSpace(b, i+1) // ':'
		vend := skipValue(b, i)
		if !fn(key, json.RawMessage(b[i:vend])) {
			return false
		}
		i = skipSpace(b, vend)
		if i < len(b) && b[i] == ',' {
			i = skipSpace(b, i+1)
		}
	}
	return true
}

// KeyText returns the text of a member's name as EachMember gives it (its
// JSON string literal), decoded as encoding/json decodes it: the bytes
// between the quotes (no copy) when that is already the name — valid UTF-8
// without escapes.
func KeyText(key []byte) []byte {
	if len(key) >= 2 && plainString(key[1:len(key)-1]) {
		return key[1 : len(key)-1]
	}
	s, _ := decodeString(key)
	return []byte(s)
}

// ValidArrayItems returns the items of the JSON array b, already known to
// be valid JSON, without validating it again; ok is false when b is not an
// array.
func ValidArrayItems(b []byte) (items []json.RawMessage, ok bool) {
	i := skipSpace(b, 0)
	if i >= len(b) || b[i] != '[' {
		return nil, false
	}
	i = skipSpace(b, i+1)
	for i < len(b) && b[i] != ']' {
		end := skipValue(b, i)
		items = append(items, json.RawMessage(b[i:end]))
		i = skipSpace(b, end)
		if i < len(b) && b[i] == ',' {
			i = skipSpace(b, i+1)
		}
	}
	return items, true
}

func skipSpace(b []byte, i int) int {
	for i < len(b) && (b[i] == ' ' || b[i] == '\t' || b[i] == '\n' || b[i] == '\r') {
		i++
	}
	return i
}

// skipString returns the index after the string starting at b[i] ('"'),
// eight bytes at a time up to the next quote or backslash.
func skipString(b []byte, i int) int {
	for j := i + 1; j < len(b); j++ {
		if j = nextSpecial(b, j); j >= len(b) {
			break
		}
		switch b[j] {
		case '\\':
			j++
		case '"':
			return j + 1
		}
	}
	return len(b)
}

// skipValue returns the index after the (valid) value starting at b[i].
func skipValue(b []byte, i int) int {
	if i >= len(b) {
		return i
	}
	switch b[i] {
	case '"':
		return skipString(b, i)
	case '{', '[':
		depth := 0
		for j := i; j < len(b); j++ {
			switch b[j] {
			case '"':
				j = skipString(b, j) - 1
			case '{', '[':
				depth++
			case '}', ']':
				depth--
				if depth == 0 {
					return j + 1
				}
			}
		}
		return len(b)
	}
	j := i
	for j < len(b) && b[j] != ',' && b[j] != '}' && b[j] != ']' && b[j] != ' ' && b[j] != '\t' && b[j] != '\n' && b[j] != '\r' {
		j++
	}
	return j
}

// Lookup returns the value of the first member key in fields.
func Lookup(fields []Field, key string) (json.RawMessage, bool) {
	for _, f := range fields {
		if f.Key == key {
			return f.Value, true
		}
	}
	return nil, false
}

// LastMember returns the value of the last member named name of obj, an
// object already known to be valid JSON (the member encoding/json keeps
// when it decodes an object into a map), without splitting obj into Fields;
// ok is false when obj is not an object or has no such member.
func LastMember(obj []byte, name string) (v json.RawMessage, ok bool) {
	EachMember(obj, func(key []byte, value json.RawMessage) bool {
		if string(KeyText(key)) == name {
			v, ok = value, true
		}
		return true
	})
	return v, ok
}

// LookupLast returns the value of the last member key in fields: the one
// encoding/json keeps when it decodes an object into a map.
func LookupLast(fields []Field, key string) (json.RawMessage, bool) {
	for i := len(fields) - 1; i >= 0; i-- {
		if fields[i].Key == key {
			return fields[i].Value, true
		}
	}
	return nil, false
}

// IsNull reports whether v is absent or JSON null.
func IsNull(v json.RawMessage) bool {
	v = bytes.TrimSpace(v)
	return len(v) == 0 || string(v) == "null"
}

// String decodes v as a JSON string ("" when it is not one).
func String(v json.RawMessage) string {
	s, _ := decodeString(bytes.TrimSpace(v))
	return s
}

// StringValue decodes v, known to be valid JSON, as encoding/json decodes a
// string; ok is false when v is not a string.
func StringValue(v json.RawMessage) (s string, ok bool) {
	v = bytes.TrimSpace(v)
	if len(v) == 0 || v[0] != '"' {
		return "", false
	}
	s, err := decodeString(v)
	return s, err == nil
}

// decodeString decodes the JSON string literal b; one without escapes is
// taken as it is.
func decodeString(b []byte) (string, error) {
	if len(b) >= 2 && b[0] == '"' && b[len(b)-1] == '"' && plainString(b[1:len(b)-1]) {
		return string(b[1 : len(b)-1]), nil
	}
	if text, ok := AppendUnquoted(make([]byte, 0, len(b)), b); ok {
		// text is this call's own: the string takes it over.
		return unsafe.String(unsafe.SliceData(text), len(text)), nil
	}
	var s string
	err := json.Unmarshal(b, &s) // the error encoding/json gives
	return s, err
}

// plainString reports string content JSON decodes to itself: valid UTF-8
// without quotes, backslashes or control characters.
func plainString(b []byte) bool {
	for _, c := range b {
		if c < 0x20 || c == '"' || c == '\\' {
			return false
		}
	}
	return utf8.Valid(b)
}
