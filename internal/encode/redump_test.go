package encode

import "testing"

func TestRedump(t *testing.T) {
	// want: what Python 3.11 prints for json.dumps(json.loads(in)).
	tests := []struct{ name, in, want string }{
		{"object", `{"city":"Paris"}`, `{"city": "Paris"}`},
		{"numbers and order", `{"b":1,"a":[1,2.50,-0,1e2,3E-7,{"x":null}],"t":true,"f":false}`,
			`{"b": 1, "a": [1, 2.5, 0, 100.0, 3e-07, {"x": null}], "t": true, "f": false}`},
		{"strings", `{"q":"Zürich \u00e9 \ud83d\ude00 \"quoted\" \\ \n\t\u0001"}`,
			`{"q": "Z\u00fcrich \u00e9 \ud83d\ude00 \"quoted\" \\ \n\t\u0001"}`},
		{"spaces", "  [ ]  ", "[]"},
		{"empty object", "{}", "{}"},
		{"string", `"text"`, `"text"`},
		{"big integer", "12345678901234567890", "12345678901234567890"},
		{"exponent", "-1.0e+3", "-1000.0"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			got, ok := Redump([]byte(tt.in), true)
			if !ok || got != tt.want {
				t.Errorf("Redump(%s) = %s, %v; want %s", tt.in, got, ok, tt.want)
			}
		})
	}
	for _, bad := range []string{"", "{", `{"a":}`, "nope"} {
		if got, ok := Redump([]byte(bad), true); ok {
			t.Errorf("Redump(%q) = %q, true; want false", bad, got)
		}
	}
	if got, _ := Redump([]byte(`{"q":"é"}`), false); got != `{"q": "é"}` {
		t.Errorf("ensure_ascii=False: %s", got)
	}
}

func TestIndent(t *testing.T) {
	for _, tc := range []struct{ in, want string }{
		{`{}`, `{}`},
		{`{"a": [], "b": {"c": 1.50, "d": "é"}, "e": [true, null, 2]}`, "{\n  \"a\": [],\n  \"b\": {\n    \"c\": 1.5,\n    \"d\": \"\\u00e9\"\n  },\n  \"e\": [\n    true,\n    null,\n    2\n  ]\n}"},
	} {
		got, err := Indent([]byte(tc.in), 2)
		if err != nil || string(got) != tc.want {
			t.Errorf("Indent(%s) = %q, %v; want %q", tc.in, got, err, tc.want)
		}
	}
}
