package encode


import (
	"encoding/json"
	"fmt"
	"unicode/utf8"
)

// JSON returns the MLflow-compatible JSON encoding of v. It never panics.
func JSON(v any) string { return string(AppendJSON(nil, v)) }

// AppendJSON appends the JSON encoding of v to dst and returns the result.
func AppendJSON(dst []byte, v any) (out []byte) {
	defer func() {
		if r := recover(); r != nil {
			b, _ := json.Marshal(fmt.Sprintf("%v", v))
			out = append(dst, b...)
		}
	}()
	b, err := json.Marshal(v)
	if err != nil {
		b, _ = json.Marshal(fmt.Sprintf("%v", v))
	}
	return append(dst, b...)
}

// Truncate cuts s to max characters (runes): when s is longer, the first
// max-3 characters followed by "...". max <= 0 means no limit.
func Truncate(s string, max int) string {
	if max <= 0 || len(s) <= max || utf8.RuneCountInString(s) <= max {
		return s
	}
	keep := max - 3
	if keep < 0 {
		keep = 0
	}
	i, n := 0, 0
	for i = range s {
		if n == keep {
			break
		}
		n++
	}
	return s[:i] + "..."
}
