package envconfig

import (
	"errors"
	"strings"
	"testing"
	"time"
)

func env(m map[string]string) Env { return New(func(k string) string { return m[k] }) }

func TestParsing(t *testing.T) {
	b := Bool{Var{Name: "B"}, true}
	i := Int{Var{Name: "I"}, 5, 1}
	d := Duration{Var{Name: "D"}, time.Second, time.Second, 0}
	f := Float{Var{Name: "F"}, 1, 0, 1}
	z := Bytes{Var{Name: "Z"}, 1 << 20, 1}
	kv := KeyValues{Var{Name: "KV"}}
	en := Enum{Var{Name: "EN", Default: "batch"}, []string{"batch", "none"}}
	for _, tc := range []struct {
		name, val string
		get       func(Env) (any, error)
		want      any
		wantErr   string
	}{
		{"bool unset", "", func(e Env) (any, error) { return b.Get(e) }, true, ""},
		{"bool TRUE", " TRUE ", func(e Env) (any, error) { return b.Get(e) }, true, ""},
		{"bool 0", "0", func(e Env) (any, error) { return b.Get(e) }, false, ""},
		{"bool yes", "yes", func(e Env) (any, error) { return b.Get(e) }, nil, "invalid B: want one of true, false, 1, 0"},
		{"int", " 7 ", func(e Env) (any, error) { return i.Get(e) }, 7, ""},
		{"int float", "1.5", func(e Env) (any, error) { return i.Get(e) }, nil, "invalid I: want an integer ≥ 1"},
		{"int below min", "0", func(e Env) (any, error) { return i.Get(e) }, nil, "invalid I"},
		{"duration", "30", func(e Env) (any, error) { return d.Get(e) }, 30 * time.Second, ""},
		{"duration unit", "30s", func(e Env) (any, error) { return d.Get(e) }, nil, "(seconds)"},
		{"duration overflow", "99999999999999", func(e Env) (any, error) { return d.Get(e) }, nil, "invalid D"},
		{"float", "0.25", func(e Env) (any, error) { return f.Get(e) }, 0.25, ""},
		{"float nan", "NaN", func(e Env) (any, error) { return f.Get(e) }, nil, "[0, 1]"},
		{"float out of range", "2", func(e Env) (any, error) { return f.Get(e) }, nil, "[0, 1]"},
		{"bytes MiB", "256MiB", func(e Env) (any, error) { return z.Get(e) }, int64(256 << 20), ""},
		{"bytes plain", "4096", func(e Env) (any, error) { return z.Get(e) }, int64(4096), ""},
		{"bytes bad", "lots", func(e Env) (any, error) { return z.Get(e) }, nil, "invalid Z"},
		{"enum unset", "", func(e Env) (any, error) { return en.Get(e) }, "batch", ""},
		{"enum any case", " NONE ", func(e Env) (any, error) { return en.Get(e) }, "none", ""},
		{"enum bad", "sometimes", func(e Env) (any, error) { return en.Get(e) }, nil, "invalid EN: want one of batch, none"},
		{"key values", "a=1, b=x%20y", func(e Env) (any, error) { return kv.Get(e) }, "[{a 1} {b x y}]", ""},
		{"key values bad escape", "a=%zz", func(e Env) (any, error) { return kv.Get(e) }, nil, "invalid KV"},
		{"key values no =", "secretvalue", func(e Env) (any, error) { return kv.Get(e) }, nil, "invalid KV"},
	} {
		t.Run(tc.name, func(t *testing.T) {
			e := env(map[string]string{"B": tc.val, "I": tc.val, "D": tc.val, "F": tc.val, "Z": tc.val, "KV": tc.val, "EN": tc.val})
			got, err := tc.get(e)
			if tc.wantErr != "" {
				var ee *Error
				if err == nil || !strings.Contains(err.Error(), tc.wantErr) || !errors.As(err, &ee) ||
					(strings.TrimSpace(tc.val) != "" && strings.Contains(err.Error(), strings.TrimSpace(tc.val))) {
					t.Fatalf("err = %v, want %q without the value", err, tc.wantErr)
				}
				return
			}
			if err != nil {
				t.Fatal(err)
			}
			if s, ok := tc.want.(string); ok && strings.HasPrefix(s, "[") {
				if g := fmtAny(got); g != s {
					t.Fatalf("got %s, want %s", g, s)
				}
				return
			}
			if got != tc.want {
				t.Fatalf("got %v, want %v", got, tc.want)
			}
		})
	}
}

func fmtAny(v any) string {
	kvs := v.([]KeyValue)
	parts := make([]string, len(kvs))
	for i, kv := range kvs {
		parts[i] = "{" + kv.Key + " " + kv.Value + "}"
	}
	return "[" + strings.Join(parts, " ") + "]"
}

func TestFlag(t *testing.T) {
	for val, want := range map[string]bool{"true": true, "TRUE": true, "1": true, "": false, "false": false, "maybe": false} {
		if got := ModelServing.Get(env(map[string]string{ModelServing.Name: val})); got != want {
			t.Errorf("%q: %v", val, got)
		}
	}
}
