package encode

import (
	"encoding/json"
	"testing"
)

type roMarshal struct{ V int }

func (roMarshal) MarshalJSON() ([]byte, error) { return []byte(`"m"`), nil }

type roMarshal2 struct{ V int }

func (roMarshal2) MarshalJSON() ([]byte, error) { return []byte(`"m2"`), nil }

type roText struct{ V int }

func (*roText) MarshalText() ([]byte, error) { return []byte("t"), nil }

type roText2 struct{ V int }

func (*roText2) MarshalText() ([]byte, error) { return []byte("t2"), nil }

// roHolder reaches values with methods through unexported embedded fields
// that carry a json tag (the methods collide, so roHolder has none): reflect
// cannot hand them out as interfaces, so they are written by their kind. The
// encoder before the type cache panicked on them.
type roHolder struct {
	roMarshal  `json:"m"`
	roMarshal2 `json:"m2"`
	*roText    `json:"t"`
	roText2    `json:"t2"`
}

func TestUnexportedEmbeddedWithMethods(t *testing.T) {
	tests := []struct {
		in   any
		want string
	}{
		{roHolder{}, `{"m": {"V": 0}, "m2": {"V": 0}, "t": null, "t2": {"V": 0}}`},
		{&roHolder{roText: &roText{V: 2}, roText2: roText2{V: 3}}, `{"m": {"V": 0}, "m2": {"V": 0}, "t": {"V": 2}, "t2": {"V": 3}}`},
	}
	for _, tt := range tests {
		got := JSON(tt.in)
		if got != tt.want {
			t.Errorf("got  %s\nwant %s", got, tt.want)
		}
		if !json.Valid([]byte(got)) {
			t.Fatalf("invalid JSON %s", got)
		}
	}
	func() {
		defer func() {
			if r := recover(); r != nil {
				t.Logf("reference encoder panics: %v", r)
			}
		}()
		t.Log("reference:", referenceJSON(roHolder{}))
	}()
}
