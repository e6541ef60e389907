package otlpconv

import (
	"testing"

	commonpb "go.opentelemetry.io/proto/otlp/common/v1"

	"github.com/mlflowtrace/mlflowtrace-go/internal/encode"
)

// TestValueJSONKeepsKeyOrder: a kvlist is written in its own key order, as
// json.dumps writes the dict Python decodes from it, with json.dumps's
// separators; nested lists and scalars as encode writes them; a repeated key
// falls back to Decode.
func TestValueJSONKeepsKeyOrder(t *testing.T) {
	str := func(s string) *commonpb.AnyValue {
		return &commonpb.AnyValue{Value: &commonpb.AnyValue_StringValue{StringValue: s}}
	}
	kv := func(k string, v *commonpb.AnyValue) *commonpb.KeyValue { return &commonpb.KeyValue{Key: k, Value: v} }
	list := func(kvs ...*commonpb.KeyValue) *commonpb.AnyValue {
		return &commonpb.AnyValue{Value: &commonpb.AnyValue_KvlistValue{KvlistValue: &commonpb.KeyValueList{Values: kvs}}}
	}
	arr := func(vs ...*commonpb.AnyValue) *commonpb.AnyValue {
		return &commonpb.AnyValue{Value: &commonpb.AnyValue_ArrayValue{ArrayValue: &commonpb.ArrayValue{Values: vs}}}
	}
	num := &commonpb.AnyValue{Value: &commonpb.AnyValue_DoubleValue{DoubleValue: 1}}
	for _, tc := range []struct {
		name string
		v    *commonpb.AnyValue
		want string
	}{
		{"message", list(kv("role", str("user")), kv("content", str("héllo"))), `{"role": "user", "content": "héllo"}`},
		{"nested", list(kv("z", arr(list(kv("b", num), kv("a", str("x"))))), kv("a", arr())), `{"z": [{"b": 1.0, "a": "x"}], "a": []}`},
		{"empty", list(), `{}`},
		{"scalar", str("plain"), `"plain"`},
		{"repeated key", list(kv("b", str("1")), kv("a", str("2")), kv("b", str("3"))), string(encode.AppendJSON(nil, map[string]any{"a": "2", "b": "3"}))},
	} {
		if got := string(appendValueJSON(nil, tc.v)); got != tc.want {
			t.Errorf("%s: %s, want %s", tc.name, got, tc.want)
		}
	}
}
