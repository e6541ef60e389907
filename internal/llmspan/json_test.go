package llmspan

import (
	"errors"
	"testing"

	"github.com/mlflowtrace/mlflowtrace-go/internal/exception"
)

func TestDecodeError(t *testing.T) {
	tests := []struct {
		body    string
		wantMsg string // "" : no error
	}{
		{`{"a": 1}`, ""},
		{" [1, 2] \n", ""},
		{"", ""},
		{" \r\n", ""},
		{`{"a": [`, "unexpected end of JSON input"},
		{"<html>bad gateway</html>", "invalid character '<' looking for beginning of value"},
		{`{"a": 1} {"b": 2}`, "invalid character '{' after top-level value"},
	}
	for _, tt := range tests {
		err := DecodeError([]byte(tt.body))
		if tt.wantMsg == "" {
			if err != nil {
				t.Errorf("%q: %v, want none", tt.body, err)
			}
			continue
		}
		var n *exception.Named
		if !errors.As(err, &n) || n.Type != "JSONDecodeError" || err.Error() != tt.wantMsg {
			t.Errorf("%q: %#v, want JSONDecodeError %q", tt.body, err, tt.wantMsg)
		}
	}
}
