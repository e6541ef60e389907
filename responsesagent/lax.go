package responsesagent

import (
	"bytes"
	"math"
	"strconv"
	"strings"

	"github.com/mlflowtrace/mlflowtrace-go/internal/rawjson"
)

// MLflow validates a request with pydantic 2 models in lax mode, from the
// Python values json.loads gives: an int, float or bool member accepts more
// than its JSON type, and the agent sees the value converted. The functions
// below follow pydantic-core 2.50's conversions (checked against MLflow
// 3.17.2's ResponsesAgentRequest; see TestLaxMembers):
//
//   - int: an integer; a number with no fractional part ("1.0", "1e2");
//     true/false (1/0); a string holding an integer after trimming white
//     space, with "_" only between digits and an optional fraction of zeros
//     (" 5 ", "1_000", "5.00"). Go's int bounds it: a larger integer, which
//     Python keeps, is rejected.
//   - float: a number; true/false; a string holding a number after trimming
//     white space and removing "_" (not first, last or doubled), or inf,
//     infinity, nan (any case, signed).
//   - bool: true/false; 0 or 1 (also 0.0, 1.0); one of the strings 0, off,
//     f, false, n, no, 1, on, t, true, y, yes (any case, not trimmed).

// laxInt converts a JSON value to an int as pydantic's lax mode does.
func laxInt(raw []byte) (int, error) {
	if s, ok := rawjson.StringValue(raw); ok {
		return intFromString(raw, s)
	}
	switch {
	case string(raw) == "true":
		return 1, nil
	case string(raw) == "false":
		return 0, nil
	case !isJSONNumber(raw):
		return 0, laxErr("an integer", raw)
	case bytes.ContainsAny(raw, ".eE"): // a float for Python
		f, err := strconv.ParseFloat(string(raw), 64)
		if err != nil || math.IsInf(f, 0) {
			return 0, laxErr("a finite integer", raw)
		}
		if f != math.Trunc(f) {
			return 0, laxErr("an integer (no fractional part)", raw)
		}
		if f <= -(1<<63) || f >= 1<<63 {
			return 0, laxErr("an integer within Go's int range", raw)
		}
		return fitInt(raw, int64(f))
	}
	n, err := strconv.ParseInt(string(raw), 10, 64)
	if err != nil {
		return 0, laxErr("an integer within Go's int range", raw)
	}
	return fitInt(raw, n)
}

func fitInt(raw []byte, n int64) (int, error) {
	if int64(int(n)) != n {
		return 0, laxErr("an integer within Go's int range", raw)
	}
	return int(n), nil
}

// intFromString parses s as pydantic's str -> int: white space trimmed, a
// fraction of zeros dropped, "_" only between digits.
func intFromString(raw []byte, s string) (int, error) {
	s = strings.TrimSpace(s)
	if i := strings.IndexByte(s, '.'); i >= 0 {
		frac := s[i+1:]
		if frac == "" || strings.Trim(frac, "0") != "" {
			return 0, laxErr("an integer", raw)
		}
		s = s[:i]
	}
	if strings.Contains(s, "_") {
		for i := range len(s) {
			if s[i] == '_' && (i == 0 || i == len(s)-1 || !isDigit(s[i-1]) || !isDigit(s[i+1])) {
				return 0, laxErr("an integer", raw)
			}
		}
		s = strings.ReplaceAll(s, "_", "")
	}
	n, err := strconv.ParseInt(s, 10, 64)
	if err != nil {
		if ne, ok := err.(*strconv.NumError); ok && ne.Err == strconv.ErrRange {
			return 0, laxErr("an integer within Go's int range", raw)
		}
		return 0, laxErr("an integer", raw)
	}
	return fitInt(raw, n)
}

// laxFloat converts a JSON value to a float64 as pydantic's lax mode does.
func laxFloat(raw []byte) (float64, error) {
	if s, ok := rawjson.StringValue(raw); ok {
		f, ok := floatFromString(s)
		if !ok {
			return 0, laxErr("a number", raw)
		}
		return f, nil
	}
	switch {
	case string(raw) == "true":
		return 1, nil
	case string(raw) == "false":
		return 0, nil
	case !isJSONNumber(raw):
		return 0, laxErr("a number", raw)
	}
	f, err := strconv.ParseFloat(string(raw), 64)
	if err != nil && !bytes.ContainsAny(raw, ".eE") {
		return 0, laxErr("a number within float range", raw) // an integer too large for a float
	}
	return f, nil // a float literal out of range is ±Inf, as json.loads makes it
}

// floatFromString parses s as pydantic's str -> float (Rust's f64 grammar).
func floatFromString(s string) (float64, bool) {
	s = strings.TrimSpace(s)
	if strings.Contains(s, "_") {
		if strings.HasPrefix(s, "_") || strings.HasSuffix(s, "_") || strings.Contains(s, "__") {
			return 0, false
		}
		s = strings.ReplaceAll(s, "_", "")
	}
	body := strings.TrimLeft(s, "+-")
	if len(s)-len(body) > 1 {
		return 0, false
	}
	switch strings.ToLower(body) {
	case "inf", "infinity":
		if s[0] == '-' {
			return math.Inf(-1), true
		}
		return math.Inf(1), true
	case "nan":
		return math.NaN(), true
	}
	if body == "" || strings.Trim(body, "0123456789.eE+-") != "" {
		return 0, false // no hexadecimal, no words
	}
	f, err := strconv.ParseFloat(s, 64)
	if err != nil {
		if ne, ok := err.(*strconv.NumError); ok && ne.Err == strconv.ErrRange {
			return f, true // ±Inf, as Python's float()
		}
		return 0, false
	}
	return f, true
}

// laxBool converts a JSON value to a bool as pydantic's lax mode does.
func laxBool(raw []byte) (bool, error) {
	if s, ok := rawjson.StringValue(raw); ok {
		if b, ok := boolFromString(s); ok {
			return b, nil
		}
		return false, laxErr("a boolean", raw)
	}
	switch {
	case string(raw) == "true":
		return true, nil
	case string(raw) == "false":
		return false, nil
	case isJSONNumber(raw):
		if f, err := strconv.ParseFloat(string(raw), 64); err == nil && (f == 0 || f == 1) {
			return f == 1, nil
		}
	}
	return false, laxErr("a boolean", raw)
}

func boolFromString(s string) (value, ok bool) {
	if len(s) > 5 {
		return false, false
	}
	for i := range len(s) {
		if s[i] >= 0x80 {
			return false, false // only ASCII letters fold
		}
	}
	switch strings.ToLower(s) {
	case "0", "off", "f", "false", "n", "no":
		return false, true
	case "1", "on", "t", "true", "y", "yes":
		return true, true
	}
	return false, false
}

// truthy reports whether Python's bool() of the JSON value is true, as
// MLflow's agent server reads "stream": null, false, 0, "", [] and {} are
// false, every other value (the string "false" too) true.
func truthy(raw []byte) bool {
	switch {
	case len(raw) == 0:
		return false
	case isJSONNumber(raw):
		f, _ := strconv.ParseFloat(string(raw), 64) // ±Inf when out of range
		return f != 0
	}
	switch string(raw) {
	case "null", "false", `""`, "[]", "{}":
		return false
	}
	return true
}

// isJSONNumber reports whether raw is a number in JSON's grammar.
func isJSONNumber(raw []byte) bool {
	i := 0
	if i < len(raw) && raw[i] == '-' {
		i++
	}
	digits := func() bool {
		start := i
		for i < len(raw) && isDigit(raw[i]) {
			i++
		}
		return i > start
	}
	switch {
	case i < len(raw) && raw[i] == '0':
		i++
	case !digits():
		return false
	}
	if i < len(raw) && raw[i] == '.' {
		i++
		if !digits() {
			return false
		}
	}
	if i < len(raw) && (raw[i] == 'e' || raw[i] == 'E') {
		i++
		if i < len(raw) && (raw[i] == '+' || raw[i] == '-') {
			i++
		}
		if !digits() {
			return false
		}
	}
	return i == len(raw)
}

func isDigit(c byte) bool { return c >= '0' && c <= '9' }

// laxErr names what was expected and shows the value (shortened).
func laxErr(want string, raw []byte) error {
	v := string(raw)
	if len(v) > 40 {
		v = v[:37] + "..."
	}
	return &FieldError{Reason: "must be " + want + ", got " + v}
}
