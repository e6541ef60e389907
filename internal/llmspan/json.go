package llmspan

import (
	"bytes"
	"encoding/json"
	"strconv"

	"github.com/mlflowtrace/mlflowtrace-go/internal/exception"
	"github.com/mlflowtrace/mlflowtrace-go/internal/rawjson"
)

// Field is one member of a JSON object, in document order (see package
// rawjson, which splits JSON text for llmspan and the exporter).
type Field = rawjson.Field

// ObjectFields returns the members of the JSON object b in document order.
// It validates b, then splits it without decoding the values.
func ObjectFields(b []byte) ([]Field, error) { return rawjson.ObjectFields(b) }

// ValidObjectFields is ObjectFields of text already known to be valid JSON
// (a member of an object ObjectFields split): it splits b without
// validating it again.
func ValidObjectFields(b []byte) ([]Field, error) { return rawjson.ValidObjectFields(b) }

// ValidArrayItems returns the items of the JSON array b, already known to
// be valid JSON, without validating it again; ok is false when b is not an
// array.
func ValidArrayItems(b []byte) (items []json.RawMessage, ok bool) { return rawjson.ValidArrayItems(b) }

// Lookup returns the value of key in fields.
func Lookup(fields []Field, key string) (json.RawMessage, bool) { return rawjson.Lookup(fields, key) }

// IsNull reports whether v is absent or JSON null.
func IsNull(v json.RawMessage) bool { return rawjson.IsNull(v) }

// String decodes v as a JSON string ("" when it is not one).
func String(v json.RawMessage) string { return rawjson.String(v) }

// Object builds a JSON object with members in the given order, leaving out
// members whose value is nil. Values are json.RawMessage or anything
// encoding/json marshals.
type Object struct{ buf bytes.Buffer }

// Set appends a member.
func (o *Object) Set(key string, v any) {
	var raw []byte
	var num [20]byte
	switch x := v.(type) {
	case nil:
		return
	case json.RawMessage:
		if len(x) == 0 {
			return
		}
		raw = x
	case int: // what json.Marshal writes, without reflection
		raw = strconv.AppendInt(num[:0], int64(x), 10)
	case string:
		if !plainKey(x) {
			b, err := json.Marshal(x)
			if err != nil {
				return
			}
			raw = b
			break
		}
		o.open(key)
		o.buf.WriteByte('"')
		o.buf.WriteString(x)
		o.buf.WriteByte('"')
		return
	default:
		b, err := json.Marshal(v)
		if err != nil {
			return
		}
		raw = b
	}
	// Room for the member at once: a large value (a request's contents,
	// an answer) would otherwise grow the buffer through every doubling
	// from 64 bytes.
	o.buf.Grow(len(key) + len(raw) + 4)
	o.open(key)
	o.buf.Write(raw)
}

// open writes the separator and key of the next member.
func (o *Object) open(key string) {
	if o.buf.Len() == 0 {
		o.buf.WriteByte('{')
	} else {
		o.buf.WriteByte(',')
	}
	if plainKey(key) {
		o.buf.WriteByte('"')
		o.buf.WriteString(key)
		o.buf.WriteByte('"')
	} else {
		k, _ := json.Marshal(key)
		o.buf.Write(k)
	}
	o.buf.WriteByte(':')
}

// plainKey reports a key (or string) that is its own JSON text between
// quotes: ASCII without quotes, backslashes, control characters or the
// characters encoding/json escapes for HTML.
func plainKey(k string) bool {
	for i := 0; i < len(k); i++ {
		c := k[i]
		if c < 0x20 || c >= 0x7f || c == '"' || c == '\\' || c == '<' || c == '>' || c == '&' {
			return false
		}
	}
	return true
}

// Prepend returns the JSON object obj with the member key: v (encoded as
// Object.Set encodes it) put before its members, without decoding obj; ok
// is false when obj is not an object (or v cannot be encoded).
func Prepend(obj json.RawMessage, key string, v any) (json.RawMessage, bool) {
	b := bytes.TrimSpace(obj)
	if len(b) < 2 || b[0] != '{' || b[len(b)-1] != '}' {
		return nil, false
	}
	var o Object
	o.Set(key, v)
	if o.buf.Len() == 0 {
		return nil, false
	}
	rest := bytes.TrimSpace(b[1:])
	out := make([]byte, 0, o.buf.Len()+len(rest)+1)
	out = append(out, o.buf.Bytes()...)
	if len(rest) > 1 { // not "}"
		out = append(out, ',')
	}
	return append(out, rest...), true
}

// JSON returns the object.
func (o *Object) JSON() json.RawMessage {
	if o.buf.Len() == 0 {
		return json.RawMessage("{}")
	}
	b := append([]byte(nil), o.buf.Bytes()...)
	return append(b, '}')
}

// DecodeError is the failure of an SDK that cannot decode a successful
// answer's body as JSON, recorded as the Python clients raise it
// (JSONDecodeError; the message is Go's); nil when body is JSON or empty
// (the SDKs return an empty answer then). Give it the whole body, not one
// cut at MaxBody.
func DecodeError(body []byte) error {
	if len(bytes.TrimSpace(body)) == 0 || rawjson.Valid(body) {
		return nil
	}
	var v json.RawMessage
	err := json.Unmarshal(body, &v)
	if err == nil {
		return nil
	}
	return exception.New("JSONDecodeError", err)
}
