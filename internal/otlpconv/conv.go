package otlpconv

import (
	"fmt"
	"math"
	"reflect"
	"slices"
	"time"

	commonpb "go.opentelemetry.io/proto/otlp/common/v1"
	tracepb "go.opentelemetry.io/proto/otlp/trace/v1"

	"github.com/mlflowtrace/mlflowtrace-go/internal/tracemodel"
)

func unixNano(t time.Time) uint64 {
	n := t.UnixNano()
	if n < 0 {
		return 0
	}
	return uint64(n)
}

// statusFields are the OTLP status code and message of st.
func statusFields(st tracemodel.Status) (tracepb.Status_StatusCode, string) {
	var code tracepb.Status_StatusCode
	switch st.Code {
	case tracemodel.StatusCodeOK, "OK":
		code = tracepb.Status_STATUS_CODE_OK
	case tracemodel.StatusCodeError, "ERROR":
		code = tracepb.Status_STATUS_CODE_ERROR
	}
	if st.Message == "" {
		return code, ""
	}
	return code, sanitize(st.Message)
}

// KeyValues converts raw attribute values (event attributes, resource
// attributes), sorted by key.
func KeyValues(m map[string]any) []*commonpb.KeyValue {
	if len(m) == 0 {
		return nil
	}
	keys := make([]string, 0, len(m))
	for k := range m {
		keys = append(keys, k)
	}
	slices.Sort(keys)
	out := make([]*commonpb.KeyValue, len(keys))
	kvs := make([]commonpb.KeyValue, len(keys)) // one allocation for all
	for i, k := range keys {
		kvs[i].Key, kvs[i].Value = sanitize(k), kvValue(Value(m[k]))
		out[i] = &kvs[i]
	}
	return out
}

// Value converts a raw Go value the way _set_otel_proto_anyvalue converts a
// Python one: nil → empty, bool, strings, integers, floats, []byte,
// slices → array, maps with string keys → kvlist, anything else → its
// fmt string.
func Value(v any) *commonpb.AnyValue {
	return value(v, 0)
}

func value(v any, depth int) *commonpb.AnyValue {
	if depth > maxDepth {
		return stringValue(fmt.Sprint(v))
	}
	switch x := v.(type) {
	case nil:
		return &commonpb.AnyValue{}
	case bool:
		return &commonpb.AnyValue{Value: &commonpb.AnyValue_BoolValue{BoolValue: x}}
	case string:
		return stringValue(x)
	case int:
		return intValue(int64(x))
	case int64:
		return intValue(x)
	case int32:
		return intValue(int64(x))
	case float64:
		if x != x {
			x = pyNaN
		}
		return doubleValue(x)
	case float32:
		return doubleValue(float64(x))
	case []byte:
		return &commonpb.AnyValue{Value: &commonpb.AnyValue_BytesValue{BytesValue: slices.Clone(x)}}
	case []string:
		arr := &commonpb.ArrayValue{Values: make([]*commonpb.AnyValue, len(x))}
		for i, s := range x {
			arr.Values[i] = stringValue(s)
		}
		return &commonpb.AnyValue{Value: &commonpb.AnyValue_ArrayValue{ArrayValue: arr}}
	case []any:
		arr := &commonpb.ArrayValue{Values: make([]*commonpb.AnyValue, len(x))}
		for i, e := range x {
			arr.Values[i] = value(e, depth+1)
		}
		return &commonpb.AnyValue{Value: &commonpb.AnyValue_ArrayValue{ArrayValue: arr}}
	case map[string]any:
		return &commonpb.AnyValue{Value: &commonpb.AnyValue_KvlistValue{KvlistValue: &commonpb.KeyValueList{Values: KeyValues(x)}}}
	case fmt.Stringer:
		return stringValue(safeString(x))
	}
	rv := reflect.ValueOf(v)
	switch rv.Kind() {
	case reflect.Int, reflect.Int8, reflect.Int16, reflect.Int32, reflect.Int64:
		return intValue(rv.Int())
	case reflect.Uint, reflect.Uint8, reflect.Uint16, reflect.Uint32, reflect.Uint64, reflect.Uintptr:
		u := rv.Uint()
		if u > math.MaxInt64 {
			return doubleValue(float64(u))
		}
		return intValue(int64(u))
	case reflect.Float32, reflect.Float64:
		return doubleValue(rv.Float())
	case reflect.String:
		return stringValue(rv.String())
	case reflect.Bool:
		return &commonpb.AnyValue{Value: &commonpb.AnyValue_BoolValue{BoolValue: rv.Bool()}}
	case reflect.Slice, reflect.Array:
		arr := &commonpb.ArrayValue{Values: make([]*commonpb.AnyValue, rv.Len())}
		for i := range rv.Len() {
			arr.Values[i] = value(rv.Index(i).Interface(), depth+1)
		}
		return &commonpb.AnyValue{Value: &commonpb.AnyValue_ArrayValue{ArrayValue: arr}}
	}
	return stringValue(fmt.Sprint(v))
}

func intValue(n int64) *commonpb.AnyValue {
	return &commonpb.AnyValue{Value: &commonpb.AnyValue_IntValue{IntValue: n}}
}

// safeString calls String, turning a panic into a placeholder: a user's
// broken Stringer must not take the exporter down.
func safeString(s fmt.Stringer) (out string) {
	defer func() {
		if recover() != nil {
			out = "<String() panicked>"
		}
	}()
	return s.String()
}
