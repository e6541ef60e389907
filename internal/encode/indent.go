package encode

import (
	"bytes"
	"encoding/json"
	"errors"
	"io"
	"strconv"
	"strings"
)

// Indent returns what Python's json.dumps(json.loads(b), indent=n) writes
// for the JSON text b: object keys in their order, "," at line ends and
// ": " after keys, strings escaped as Python escapes them (non-ASCII as
// \uXXXX), numbers with a fraction or an exponent as Python floats, empty
// objects and lists as {} and [].
func Indent(b []byte, n int) ([]byte, error) {
	dec := json.NewDecoder(bytes.NewReader(b))
	dec.UseNumber()
	var out []byte
	out, err := indentValue(out, dec, strings.Repeat(" ", n), 0)
	if err != nil {
		return nil, err
	}
	if _, err := dec.Token(); err != io.EOF {
		return nil, errors.New("encode: trailing data after JSON value")
	}
	return out, nil
}

func indentValue(out []byte, dec *json.Decoder, unit string, depth int) ([]byte, error) {
	tok, err := dec.Token()
	if err != nil {
		return nil, err
	}
	switch t := tok.(type) {
	case json.Delim:
		closing := byte('}')
		if t == '[' {
			closing = ']'
		}
		out = append(out, byte(t))
		first := true
		for dec.More() {
			if !first {
				out = append(out, ',')
			}
			first = false
			out = append(out, '\n')
			out = append(out, strings.Repeat(unit, depth+1)...)
			if t == '{' {
				k, err := dec.Token()
				if err != nil {
					return nil, err
				}
				out = AppendString(out, k.(string), true)
				out = append(out, ": "...)
			}
			if out, err = indentValue(out, dec, unit, depth+1); err != nil {
				return nil, err
			}
		}
		if _, err := dec.Token(); err != nil {
			return nil, err
		}
		if !first {
			out = append(out, '\n')
			out = append(out, strings.Repeat(unit, depth)...)
		}
		return append(out, closing), nil
	case string:
		return AppendString(out, t, true), nil
	case json.Number:
		s := string(t)
		if strings.ContainsAny(s, ".eE") {
			if f, err := strconv.ParseFloat(s, 64); err == nil {
				return AppendFloat(out, f, 64), nil
			}
		}
		return append(out, s...), nil
	case bool:
		return strconv.AppendBool(out, t), nil
	case nil:
		return append(out, "null"...), nil
	}
	return nil, errors.New("encode: unexpected JSON token")
}
