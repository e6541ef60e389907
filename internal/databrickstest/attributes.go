package databrickstest

import (
	"encoding/json"
	"fmt"
	"strconv"

	commonpb "go.opentelemetry.io/proto/otlp/common/v1"
	tracepb "go.opentelemetry.io/proto/otlp/trace/v1"
	"google.golang.org/protobuf/proto"

	"github.com/mlflowtrace/mlflowtrace-go/internal/encode"
)

// SpanAttributes returns the attributes of the trace's stored spans by span
// name, each value as MLflow's JSON text: from traces.json as uploaded
// (experiment traces), or from the OTLP spans (Unity Catalog tables) with
// each value written back as MLflow's Span.from_otel_proto does (json.dumps
// of the decoded value: a key-value list is an object, a double a Python
// float).
func (t Trace) SpanAttributes() (map[string]map[string]string, error) {
	out := map[string]map[string]string{}
	if t.Data != nil {
		var data struct {
			Spans []struct {
				Name       string            `json:"name"`
				Attributes map[string]string `json:"attributes"`
			} `json:"spans"`
		}
		if err := json.Unmarshal(t.Data, &data); err != nil {
			return nil, fmt.Errorf("traces.json: %w", err)
		}
		for _, s := range data.Spans {
			out[s.Name] = s.Attributes
		}
	}
	for _, b := range t.Spans {
		var sp tracepb.Span
		if err := proto.Unmarshal(b, &sp); err != nil {
			return nil, fmt.Errorf("OTLP span: %w", err)
		}
		attrs := make(map[string]string, len(sp.Attributes))
		for _, kv := range sp.Attributes {
			attrs[kv.Key] = string(appendJSON(nil, kv.Value))
		}
		out[sp.Name] = attrs
	}
	return out, nil
}

// appendJSON appends v as Python's json.dumps writes its decoded value.
func appendJSON(b []byte, v *commonpb.AnyValue) []byte {
	switch x := v.GetValue().(type) {
	case *commonpb.AnyValue_StringValue:
		return encode.AppendString(b, x.StringValue, false)
	case *commonpb.AnyValue_BoolValue:
		return strconv.AppendBool(b, x.BoolValue)
	case *commonpb.AnyValue_IntValue:
		return strconv.AppendInt(b, x.IntValue, 10)
	case *commonpb.AnyValue_DoubleValue:
		return encode.AppendFloat(b, x.DoubleValue, 64)
	case *commonpb.AnyValue_ArrayValue:
		b = append(b, '[')
		for i, e := range x.ArrayValue.GetValues() {
			if i > 0 {
				b = append(b, ", "...)
			}
			b = appendJSON(b, e)
		}
		return append(b, ']')
	case *commonpb.AnyValue_KvlistValue:
		b = append(b, '{')
		for i, kv := range x.KvlistValue.GetValues() {
			if i > 0 {
				b = append(b, ", "...)
			}
			b = encode.AppendString(b, kv.Key, false)
			b = append(b, ": "...)
			b = appendJSON(b, kv.Value)
		}
		return append(b, '}')
	}
	return append(b, "null"...)
}
