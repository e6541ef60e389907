package rawjson

import (
	"encoding/json"
	"reflect"
	"testing"
)

func TestObjectFields(t *testing.T) {
	tests := []struct {
		name    string
		in      string
		want    []Field
		wantErr bool
	}{
		{"members in order", ` { "b" : 1 , "a" : [1, {"x": "}"}] , "c": "s\"q" } `,
			[]Field{{"b", json.RawMessage(`1`)}, {"a", json.RawMessage(`[1, {"x": "}"}]`)}, {"c", json.RawMessage(`"s\"q"`)}}, false},
		{"escaped key", `{"k\u00e9": null}`, []Field{{"ké", json.RawMessage(`null`)}}, false},
		{"empty", `{}`, nil, false},
		{"array", `[1]`, nil, true},
		{"invalid", `{"a": }`, nil, true},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			got, err := ObjectFields([]byte(tt.in))
			if (err != nil) != tt.wantErr || !reflect.DeepEqual(got, tt.want) {
				t.Errorf("ObjectFields(%s) = %q, %v; want %q (error %v)", tt.in, got, err, tt.want, tt.wantErr)
			}
		})
	}
}

func TestValidArrayItems(t *testing.T) {
	items, ok := ValidArrayItems([]byte(` [ 1 , "a,]" , {"b": [2]} ] `))
	want := []json.RawMessage{json.RawMessage(`1`), json.RawMessage(`"a,]"`), json.RawMessage(`{"b": [2]}`)}
	if !ok || !reflect.DeepEqual(items, want) {
		t.Errorf("got %q, %v; want %q", items, ok, want)
	}
	if _, ok := ValidArrayItems([]byte(`{}`)); ok {
		t.Error("an object split as an array")
	}
}

func TestLookupAndStrings(t *testing.T) {
	fields, err := ObjectFields([]byte(`{"a": "first", "b": 2, "a": "last"}`))
	if err != nil {
		t.Fatal(err)
	}
	if v, _ := Lookup(fields, "a"); String(v) != "first" {
		t.Errorf("Lookup = %s", v)
	}
	if v, _ := LookupLast(fields, "a"); String(v) != "last" {
		t.Errorf("LookupLast = %s", v)
	}
	if _, ok := Lookup(fields, "z"); ok {
		t.Error("absent key found")
	}
	for _, tt := range []struct {
		in   string
		want string
		ok   bool
	}{{`"plain"`, "plain", true}, {` "esc\n\u00e9" `, "esc\né", true}, {`2`, "", false}, {`null`, "", false}} {
		if s, ok := StringValue(json.RawMessage(tt.in)); s != tt.want || ok != tt.ok {
			t.Errorf("StringValue(%s) = %q, %v; want %q, %v", tt.in, s, ok, tt.want, tt.ok)
		}
	}
	if !IsNull(nil) || !IsNull(json.RawMessage(" null ")) || IsNull(json.RawMessage("0")) {
		t.Error("IsNull")
	}
}
