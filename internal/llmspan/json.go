package llmspan

import (
	"bytes"
	"encoding/json"
	"errors"
)

// Field is one member of a JSON object, in document order.
type Field struct {
	Key   string
	Value json.RawMessage
}

var errNotObject = errors.New("llmspan: not a JSON object")

// ObjectFields returns the members of the JSON object b in document order.
func ObjectFields(b []byte) ([]Field, error) {
	dec := json.NewDecoder(bytes.NewReader(b))
	dec.UseNumber()
	tok, err := dec.Token()
	if err != nil {
		return nil, err
	}
	if d, ok := tok.(json.Delim); !ok || d != '{' {
		return nil, errNotObject
	}
	var out []Field
	for dec.More() {
		tok, err := dec.Token()
		if err != nil {
			return nil, err
		}
		key, _ := tok.(string)
		var v json.RawMessage
		if err := dec.Decode(&v); err != nil {
			return nil, err
		}
		out = append(out, Field{Key: key, Value: v})
	}
	if _, err := dec.Token(); err != nil {
		return nil, err
	}
	return out, nil
}

// Lookup returns the value of key in fields.
func Lookup(fields []Field, key string) (json.RawMessage, bool) {
	for _, f := range fields {
		if f.Key == key {
			return f.Value, true
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
	var s string
	_ = json.Unmarshal(v, &s)
	return s
}

// Object builds a JSON object with members in the given order, leaving out
// members whose value is nil. Values are json.RawMessage or anything
// encoding/json marshals.
type Object struct{ buf bytes.Buffer }

// Set appends a member.
func (o *Object) Set(key string, v any) {
	var raw []byte
	switch x := v.(type) {
	case nil:
		return
	case json.RawMessage:
		if len(x) == 0 {
			return
		}
		raw = x
	default:
		b, err := json.Marshal(v)
		if err != nil {
			return
		}
		raw = b
	}
	if o.buf.Len() == 0 {
		o.buf.WriteByte('{')
	} else {
		o.buf.WriteByte(',')
	}
	k, _ := json.Marshal(key)
	o.buf.Write(k)
	o.buf.WriteByte(':')
	o.buf.Write(raw)
}

// JSON returns the object.
func (o *Object) JSON() json.RawMessage {
	if o.buf.Len() == 0 {
		return json.RawMessage("{}")
	}
	b := append([]byte(nil), o.buf.Bytes()...)
	return append(b, '}')
}
