package otlpconv

import (
	"encoding/json"
	"fmt"
	"time"

	"go.opentelemetry.io/otel/trace"
	commonpb "go.opentelemetry.io/proto/otlp/common/v1"
	tracepb "go.opentelemetry.io/proto/otlp/trace/v1"
	"google.golang.org/protobuf/encoding/protojson"

	"github.com/mlflowtrace/mlflowtrace-go/internal/encode"
	"github.com/mlflowtrace/mlflowtrace-go/internal/keys"
	"github.com/mlflowtrace/mlflowtrace-go/internal/tracemodel"
)

// ToModel converts a span MLflow's tracking store returns (GetTrace,
// BatchGetTraces: OTLP spans) into the traces.json form, as MLflow's
// Span.from_otel_proto does: each attribute value is decoded and
// JSON-encoded again (json.dumps, ensure_ascii=False), and
// mlflow.traceRequestId is the trace's MLflow id requestID.
func ToModel(ps *tracepb.Span, requestID string) (*tracemodel.Span, error) {
	var s tracemodel.Span
	if len(ps.GetTraceId()) != len(s.TraceID) || len(ps.GetSpanId()) != len(s.SpanID) {
		return nil, fmt.Errorf("otlpconv: span %q has a malformed trace or span id", ps.GetName())
	}
	s.TraceID = trace.TraceID(ps.GetTraceId())
	s.SpanID = trace.SpanID(ps.GetSpanId())
	if p := ps.GetParentSpanId(); len(p) == len(s.ParentSpanID) {
		s.ParentSpanID = trace.SpanID(p)
	}
	s.Name = ps.GetName()
	s.StartTime = fromNano(ps.GetStartTimeUnixNano())
	s.EndTime = fromNano(ps.GetEndTimeUnixNano())
	switch ps.GetStatus().GetCode() {
	case tracepb.Status_STATUS_CODE_OK:
		s.Status.Code = tracemodel.StatusCodeOK
	case tracepb.Status_STATUS_CODE_ERROR:
		s.Status.Code = tracemodel.StatusCodeError
	default:
		s.Status.Code = tracemodel.StatusCodeUnset
	}
	s.Status.Message = ps.GetStatus().GetMessage()
	s.Attributes = make(map[string]string, len(ps.GetAttributes())+1)
	for _, kv := range ps.GetAttributes() {
		s.Attributes[kv.GetKey()] = string(appendValueJSON(nil, kv.GetValue()))
	}
	s.Attributes[keys.TraceRequestID] = string(encode.AppendJSON(nil, requestID))
	for _, e := range ps.GetEvents() {
		s.Events = append(s.Events, tracemodel.Event{Name: e.GetName(), Time: fromNano(e.GetTimeUnixNano()), Attributes: decodeKVs(e.GetAttributes())})
	}
	for _, l := range ps.GetLinks() {
		if len(l.GetTraceId()) != 16 || len(l.GetSpanId()) != 8 {
			continue
		}
		s.Links = append(s.Links, tracemodel.Link{TraceID: trace.TraceID(l.GetTraceId()), SpanID: trace.SpanID(l.GetSpanId()), Attributes: decodeKVs(l.GetAttributes())})
	}
	return &s, nil
}

// SpansFromJSON decodes spans in protobuf JSON (as MLflow's REST API writes
// them: base64 ids, proto or camelCase field names) and converts them with
// ToModel.
func SpansFromJSON(raws []json.RawMessage, requestID string) ([]*tracemodel.Span, error) {
	out := make([]*tracemodel.Span, 0, len(raws))
	opts := protojson.UnmarshalOptions{DiscardUnknown: true}
	for _, raw := range raws {
		var ps tracepb.Span
		if err := opts.Unmarshal(raw, &ps); err != nil {
			return nil, fmt.Errorf("otlpconv: decode span: %w", err)
		}
		s, err := ToModel(&ps, requestID)
		if err != nil {
			return nil, err
		}
		out = append(out, s)
	}
	return out, nil
}

func fromNano(n uint64) time.Time {
	if n == 0 {
		return time.Time{}
	}
	return time.Unix(0, int64(n))
}

func decodeKVs(kvs []*commonpb.KeyValue) map[string]any {
	if len(kvs) == 0 {
		return map[string]any{}
	}
	m := make(map[string]any, len(kvs))
	for _, kv := range kvs {
		m[kv.GetKey()] = Decode(kv.GetValue())
	}
	return m
}

// appendValueJSON appends the JSON of an AnyValue as json.dumps writes the
// value Python decodes from it: a kvlist's keys in their order (a Python
// dict keeps the order it was built in; a Go map would sort them), and a
// kvlist with a repeated key through Decode (Python keeps the first
// position and the last value; rare, so the map's order is accepted there).
func appendValueJSON(b []byte, v *commonpb.AnyValue) []byte {
	switch x := v.GetValue().(type) {
	case *commonpb.AnyValue_ArrayValue:
		b = append(b, '[')
		for i, e := range x.ArrayValue.GetValues() {
			if i > 0 {
				b = append(b, ", "...)
			}
			b = appendValueJSON(b, e)
		}
		return append(b, ']')
	case *commonpb.AnyValue_KvlistValue:
		kvs := x.KvlistValue.GetValues()
		seen := make(map[string]struct{}, len(kvs))
		for _, kv := range kvs {
			if _, dup := seen[kv.GetKey()]; dup {
				return encode.AppendJSON(b, Decode(v))
			}
			seen[kv.GetKey()] = struct{}{}
		}
		b = append(b, '{')
		for i, kv := range kvs {
			if i > 0 {
				b = append(b, ", "...)
			}
			b = encode.AppendJSON(b, kv.GetKey())
			b = append(b, ": "...)
			b = appendValueJSON(b, kv.GetValue())
		}
		return append(b, '}')
	}
	return encode.AppendJSON(b, Decode(v))
}

// Decode returns the Go value of an AnyValue (MLflow's
// _decode_otel_proto_anyvalue): nil, string, bool, int64, float64, []byte,
// []any or map[string]any.
func Decode(v *commonpb.AnyValue) any {
	switch x := v.GetValue().(type) {
	case *commonpb.AnyValue_StringValue:
		return x.StringValue
	case *commonpb.AnyValue_BoolValue:
		return x.BoolValue
	case *commonpb.AnyValue_IntValue:
		return x.IntValue
	case *commonpb.AnyValue_DoubleValue:
		return x.DoubleValue
	case *commonpb.AnyValue_BytesValue:
		return x.BytesValue
	case *commonpb.AnyValue_ArrayValue:
		out := make([]any, 0, len(x.ArrayValue.GetValues()))
		for _, e := range x.ArrayValue.GetValues() {
			out = append(out, Decode(e))
		}
		return out
	case *commonpb.AnyValue_KvlistValue:
		return decodeKVs(x.KvlistValue.GetValues())
	}
	return nil
}
