package mlflowrest

import (
	"encoding/json"
	"testing"
)

func TestInt64(t *testing.T) {
	for _, tc := range []struct {
		in   string
		want Int64
		ok   bool
	}{
		{`1700000000123`, 1700000000123, true},
		{`"1700000000456"`, 1700000000456, true},
		{`"-5"`, -5, true},
		{`null`, 0, true},
		{`""`, 0, true},
		{`"12x"`, 0, false},
		{`1.5`, 0, false},
		{`"9223372036854775808"`, 0, false},
	} {
		var v struct {
			N Int64 `json:"n"`
		}
		err := json.Unmarshal([]byte(`{"n": `+tc.in+`}`), &v)
		if (err == nil) != tc.ok || (tc.ok && v.N != tc.want) {
			t.Errorf("%s: got %d, %v; want %d, ok %v", tc.in, v.N, err, tc.want, tc.ok)
		}
	}
}
