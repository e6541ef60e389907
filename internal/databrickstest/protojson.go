package databrickstest

import (
	"bytes"
	"encoding/base64"
	"encoding/json"
	"fmt"
	"math"
	"regexp"
	"strconv"
	"strings"
	"time"
)

// Field kinds of the generated message descriptions (protos_gen.go).
type fieldKind int

const (
	kindString fieldKind = iota
	kindBytes
	kindBool
	kindInt
	kindInt64
	kindFloat
	kindEnum
	kindMessage
	kindMapString
	kindMapScalar
	kindMapMessage
	kindTimestamp
	kindDuration
	kindAnyJSON
)

type protoField struct {
	name, json string
	kind       fieldKind
	ref        string // message or enum full name
	repeated   bool
	oneof      string
}

// checkMessage validates data as the protobuf JSON form of message name,
// the way protobuf's JSON parser does without ignore_unknown_fields: an
// unknown field, a value of the wrong JSON type, a malformed timestamp or
// duration, an unknown enum value or two members of one oneof make it fail.
// Proto field names and lowerCamelCase JSON names are both accepted.
func checkMessage(data []byte, name string) error {
	dec := json.NewDecoder(bytes.NewReader(data))
	dec.UseNumber()
	var v any
	if err := dec.Decode(&v); err != nil {
		return fmt.Errorf("malformed JSON: %v", err)
	}
	if dec.More() {
		return fmt.Errorf("malformed JSON: trailing data")
	}
	return checkValue(v, name, "")
}

func checkValue(v any, msg, path string) error {
	fields, ok := protoMessages[msg]
	if !ok {
		return fmt.Errorf("%s: no description of message %s", path, msg)
	}
	obj, ok := v.(map[string]any)
	if !ok {
		return fmt.Errorf("%s: expected an object for %s", orRoot(path), msg)
	}
	seen := map[string]string{}
	oneofs := map[string]string{}
	for key, val := range obj {
		var f *protoField
		for i := range fields {
			if fields[i].name == key || fields[i].json == key {
				f = &fields[i]
				break
			}
		}
		p := join(path, key)
		if f == nil {
			return fmt.Errorf("%s: unknown field in %s", p, msg)
		}
		if prev, dup := seen[f.name]; dup {
			return fmt.Errorf("%s: field %s given twice (as %s)", p, f.name, prev)
		}
		seen[f.name] = key
		if val == nil {
			continue
		}
		if f.oneof != "" {
			if other, set := oneofs[f.oneof]; set {
				return fmt.Errorf("%s: oneof %s already set by %s", p, f.oneof, other)
			}
			oneofs[f.oneof] = f.name
		}
		if f.repeated {
			arr, ok := val.([]any)
			if !ok {
				return fmt.Errorf("%s: expected an array", p)
			}
			for i, e := range arr {
				if err := checkSingle(f, e, fmt.Sprintf("%s[%d]", p, i)); err != nil {
					return err
				}
			}
			continue
		}
		if err := checkSingle(f, val, p); err != nil {
			return err
		}
	}
	return nil
}

var durationRE = regexp.MustCompile(`^-?[0-9]+(\.[0-9]{1,9})?s$`)

func checkSingle(f *protoField, v any, p string) error {
	switch f.kind {
	case kindString:
		if _, ok := v.(string); !ok {
			return fmt.Errorf("%s: expected a string", p)
		}
	case kindBytes:
		s, ok := v.(string)
		if !ok {
			return fmt.Errorf("%s: expected base64 bytes", p)
		}
		if _, err := base64.StdEncoding.DecodeString(s); err != nil {
			if _, err := base64.URLEncoding.DecodeString(s); err != nil {
				return fmt.Errorf("%s: expected base64 bytes", p)
			}
		}
	case kindBool:
		if _, ok := v.(bool); !ok {
			return fmt.Errorf("%s: expected a boolean", p)
		}
	case kindInt, kindInt64:
		var s string
		switch x := v.(type) {
		case json.Number:
			s = x.String()
		case string:
			s = x
		default:
			return fmt.Errorf("%s: expected an integer", p)
		}
		if _, err := strconv.ParseInt(s, 10, 64); err != nil {
			if f, err := strconv.ParseFloat(s, 64); err != nil || f != math.Trunc(f) {
				return fmt.Errorf("%s: expected an integer", p)
			}
		}
	case kindFloat:
		switch x := v.(type) {
		case json.Number:
		case string:
			if x != "NaN" && x != "Infinity" && x != "-Infinity" {
				if _, err := strconv.ParseFloat(x, 64); err != nil {
					return fmt.Errorf("%s: expected a number", p)
				}
			}
		default:
			return fmt.Errorf("%s: expected a number", p)
		}
	case kindEnum:
		vals := protoEnums[f.ref]
		switch x := v.(type) {
		case string:
			if _, ok := vals[x]; !ok {
				return fmt.Errorf("%s: %q is not a value of enum %s", p, x, f.ref)
			}
		case json.Number:
			if _, err := x.Int64(); err != nil {
				return fmt.Errorf("%s: bad enum number", p)
			}
		default:
			return fmt.Errorf("%s: expected an enum name", p)
		}
	case kindMessage:
		return checkValue(v, f.ref, p)
	case kindMapString, kindMapScalar, kindMapMessage:
		m, ok := v.(map[string]any)
		if !ok {
			return fmt.Errorf("%s: expected an object (map)", p)
		}
		for k, mv := range m {
			switch f.kind {
			case kindMapString:
				if _, ok := mv.(string); !ok {
					return fmt.Errorf("%s: map value must be a string", join(p, k))
				}
			case kindMapMessage:
				if err := checkValue(mv, f.ref, join(p, k)); err != nil {
					return err
				}
			}
		}
	case kindTimestamp:
		s, ok := v.(string)
		if !ok {
			return fmt.Errorf("%s: expected an RFC 3339 timestamp string", p)
		}
		if _, err := time.Parse(time.RFC3339Nano, s); err != nil {
			return fmt.Errorf("%s: %q is not an RFC 3339 timestamp", p, s)
		}
	case kindDuration:
		s, ok := v.(string)
		if !ok || !durationRE.MatchString(s) {
			return fmt.Errorf("%s: %v is not a protobuf Duration (\"1.5s\")", p, v)
		}
	case kindAnyJSON:
	}
	return nil
}

func join(path, key string) string {
	if path == "" {
		return key
	}
	return path + "." + key
}

func orRoot(p string) string {
	if p == "" {
		return "(body)"
	}
	return p
}

// parseDuration parses a protobuf Duration string.
func parseDuration(s string) (time.Duration, error) {
	if !durationRE.MatchString(s) {
		return 0, fmt.Errorf("bad duration %q", s)
	}
	return time.ParseDuration(strings.TrimSpace(s))
}
