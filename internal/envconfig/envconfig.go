package envconfig

import (
	"math"
	"net/url"
	"os"
	"strconv"
	"strings"
	"time"
)

// Env reads variables through a getenv function. The zero Env reads the
// process environment.
type Env struct{ getenv func(string) string }

// New returns an Env reading through getenv (os.Getenv when nil).
func New(getenv func(string) string) Env { return Env{getenv: getenv} }

// Getenv returns the function e reads through.
func (e Env) Getenv() func(string) string {
	if e.getenv == nil {
		return os.Getenv
	}
	return e.getenv
}

// raw returns the trimmed value of name ("" when unset or blank).
func (e Env) raw(name string) string { return strings.TrimSpace(e.Getenv()(name)) }

// Var describes one environment variable for the documentation tables.
type Var struct {
	// Name is the variable's name.
	Name string
	// Default is the default as the documentation tables state it; a
	// table's default cell must contain it.
	Default string
	// Options are the options that override the variable
	// ("exporter.WithMaxWorkers"); a table's option cell must name each.
	Options []string
	// Package is the package whose doc.go table lists the variable.
	Package string
	// Secret marks a credential: its value never appears anywhere.
	Secret bool
}

// Error is a malformed variable. Its message names the variable and what it
// wants, never the value.
type Error struct {
	Name string
	Want string
}

func (e *Error) Error() string { return "invalid " + e.Name + ": want " + e.Want }

// String is a variable read as text.
type String struct{ Var }

// Get returns the trimmed value, "" when unset.
func (v String) Get(e Env) string { return e.raw(v.Name) }

// Bool is a boolean variable: true, false, 1 or 0 in any case (MLflow's
// _BooleanEnvironmentVariable).
type Bool struct {
	Var
	Def bool
}

// Get returns the value, or Def when unset.
func (v Bool) Get(e Env) (bool, error) {
	b, _, err := v.Lookup(e)
	return b, err
}

// Lookup returns the value and whether it is set.
func (v Bool) Lookup(e Env) (val, set bool, err error) {
	s := e.raw(v.Name)
	if s == "" {
		return v.Def, false, nil
	}
	b, ok := ParseBool(s)
	if !ok {
		return false, true, &Error{v.Name, "one of true, false, 1, 0"}
	}
	return b, true, nil
}

// ParseBool parses MLflow's boolean spellings: true, false, 1, 0, any case.
func ParseBool(s string) (val, ok bool) {
	switch strings.ToLower(strings.TrimSpace(s)) {
	case "true", "1":
		return true, true
	case "false", "0":
		return false, true
	}
	return false, false
}

// Flag is a variable that is on when it is "true" or "1" (any case) and off
// otherwise, never an error — MLflow's reading of IS_IN_DB_MODEL_SERVING_ENV.
type Flag struct{ Var }

// Get reports whether the flag is on.
func (v Flag) Get(e Env) bool {
	b, ok := ParseBool(e.raw(v.Name))
	return ok && b
}

// Lookup reports whether the flag is on and whether it is set (not blank).
func (v Flag) Lookup(e Env) (on, set bool) { return v.Get(e), e.raw(v.Name) != "" }

// Int is an integer variable (Python's int()), at least Min.
type Int struct {
	Var
	Def, Min int
}

// Get returns the value, or Def when unset.
func (v Int) Get(e Env) (int, error) {
	n, _, err := v.Lookup(e)
	return n, err
}

// Lookup returns the value and whether it is set.
func (v Int) Lookup(e Env) (n int, set bool, err error) {
	s := e.raw(v.Name)
	if s == "" {
		return v.Def, false, nil
	}
	n, err = strconv.Atoi(strings.TrimPrefix(s, "+"))
	if err != nil || n < v.Min {
		return 0, true, &Error{v.Name, "an integer ≥ " + strconv.Itoa(v.Min)}
	}
	return n, true, nil
}

// Duration is an integer count of Unit (MLflow's *_SECONDS and *_MILLIS
// variables), at least Min units.
type Duration struct {
	Var
	Def  time.Duration
	Unit time.Duration
	Min  int
}

// Get returns the value, or Def when unset.
func (v Duration) Get(e Env) (time.Duration, error) {
	d, _, err := v.Lookup(e)
	return d, err
}

// Lookup returns the value and whether it is set.
func (v Duration) Lookup(e Env) (d time.Duration, set bool, err error) {
	s := e.raw(v.Name)
	if s == "" {
		return v.Def, false, nil
	}
	n, err := strconv.Atoi(strings.TrimPrefix(s, "+"))
	if err != nil || n < v.Min || int64(n) > math.MaxInt64/int64(v.Unit) {
		return 0, true, &Error{v.Name, "an integer ≥ " + strconv.Itoa(v.Min) + " (" + unitName(v.Unit) + ")"}
	}
	return time.Duration(n) * v.Unit, true, nil
}

func unitName(u time.Duration) string {
	switch u {
	case time.Millisecond:
		return "milliseconds"
	case time.Second:
		return "seconds"
	}
	return u.String() + " units"
}

// Float is a floating-point variable (Python's float()) in [Min, Max].
type Float struct {
	Var
	Def, Min, Max float64
}

// Get returns the value, or Def when unset.
func (v Float) Get(e Env) (float64, error) {
	f, _, err := v.Lookup(e)
	return f, err
}

// Lookup returns the value and whether it is set.
func (v Float) Lookup(e Env) (f float64, set bool, err error) {
	s := e.raw(v.Name)
	if s == "" {
		return v.Def, false, nil
	}
	f, err = strconv.ParseFloat(s, 64)
	if err != nil || math.IsNaN(f) || f < v.Min || f > v.Max {
		return 0, true, &Error{v.Name, "a number in [" + fmtFloat(v.Min) + ", " + fmtFloat(v.Max) + "]"}
	}
	return f, true, nil
}

func fmtFloat(f float64) string {
	if math.IsInf(f, 1) {
		return "∞"
	}
	return strconv.FormatFloat(f, 'g', -1, 64)
}

// Bytes is a size in bytes: an integer, optionally with a binary suffix
// (KiB, MiB, GiB; K, M, G are read as the same powers of 1024), at least Min.
type Bytes struct {
	Var
	Def, Min int64
}

// Get returns the value, or Def when unset.
func (v Bytes) Get(e Env) (int64, error) {
	s := e.raw(v.Name)
	if s == "" {
		return v.Def, nil
	}
	n, ok := parseBytes(s)
	if !ok || n < v.Min {
		return 0, &Error{v.Name, "a size in bytes ≥ " + strconv.FormatInt(v.Min, 10) + " (an integer, optionally with KiB, MiB or GiB)"}
	}
	return n, nil
}

func parseBytes(s string) (int64, bool) {
	mult := int64(1)
	upper := strings.ToUpper(strings.TrimSpace(s))
	for _, u := range []struct {
		suffix string
		mult   int64
	}{{"KIB", 1 << 10}, {"MIB", 1 << 20}, {"GIB", 1 << 30}, {"KB", 1 << 10}, {"MB", 1 << 20}, {"GB", 1 << 30}, {"K", 1 << 10}, {"M", 1 << 20}, {"G", 1 << 30}, {"B", 1}} {
		if rest, ok := strings.CutSuffix(upper, u.suffix); ok {
			upper, mult = strings.TrimSpace(rest), u.mult
			break
		}
	}
	n, err := strconv.ParseInt(upper, 10, 64)
	if err != nil || n < 0 || n > math.MaxInt64/mult {
		return 0, false
	}
	return n * mult, true
}

// Enum is a variable that takes one of Values (any case; the value is
// returned in lower case).
type Enum struct {
	Var
	Values []string
}

// Get returns the value, or Default when unset.
func (v Enum) Get(e Env) (string, error) {
	s := strings.ToLower(e.raw(v.Name))
	if s == "" {
		return v.Default, nil
	}
	for _, ok := range v.Values {
		if s == ok {
			return s, nil
		}
	}
	return "", &Error{v.Name, "one of " + strings.Join(v.Values, ", ")}
}

// KeyValues is an OpenTelemetry list variable: comma-separated key=value
// pairs, keys and values percent-encoded (OTEL_RESOURCE_ATTRIBUTES,
// OTEL_EXPORTER_OTLP_HEADERS).
type KeyValues struct{ Var }

// KeyValue is one pair of a KeyValues variable.
type KeyValue struct{ Key, Value string }

// Get returns the pairs in order (nil when unset).
func (v KeyValues) Get(e Env) ([]KeyValue, error) {
	s := e.raw(v.Name)
	if s == "" {
		return nil, nil
	}
	var out []KeyValue
	for _, part := range strings.Split(s, ",") {
		part = strings.TrimSpace(part)
		if part == "" {
			continue
		}
		k, val, ok := strings.Cut(part, "=")
		k = strings.TrimSpace(k)
		if !ok || k == "" {
			return nil, &Error{v.Name, "comma-separated key=value pairs"}
		}
		dk, kerr := url.PathUnescape(k)
		dv, verr := url.PathUnescape(strings.TrimSpace(val))
		if kerr != nil || verr != nil {
			return nil, &Error{v.Name, "comma-separated key=value pairs, percent-encoded"}
		}
		out = append(out, KeyValue{dk, dv})
	}
	return out, nil
}
