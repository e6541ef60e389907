package otlpconv

import (
	"math"

	coltracepb "go.opentelemetry.io/proto/otlp/collector/trace/v1"
	commonpb "go.opentelemetry.io/proto/otlp/common/v1"
	resourcepb "go.opentelemetry.io/proto/otlp/resource/v1"
	tracepb "go.opentelemetry.io/proto/otlp/trace/v1"
	"google.golang.org/protobuf/encoding/protowire"
	"google.golang.org/protobuf/proto"
)

// AppendRequest appends the protobuf encoding of req to b. An export writes
// its spans with AppendSpans, which writes the same bytes as
// AppendRequest(Request(...)) without the messages (the tests hold the two
// equal); AppendRequest is that reference, and the writer of a request
// built some other way. For the messages
// Request builds it writes the same bytes as proto.Marshal (fields in number
// order, proto3 defaults omitted, oneof members always written) without the
// reflection-driven size and marshal passes. A request carrying a field
// Request never sets (links, flags, trace state, scope, schema URLs, ...)
// goes through proto.MarshalOptions.MarshalAppend instead.
func AppendRequest(b []byte, req *coltracepb.ExportTraceServiceRequest) ([]byte, error) {
	if !plainRequest(req) {
		return proto.MarshalOptions{}.MarshalAppend(b, req)
	}
	for _, rs := range req.ResourceSpans {
		var s int
		b, s = begin(b, 1)
		if rs.Resource != nil {
			var r int
			b, r = begin(b, 1)
			b = appendKeyValues(b, 1, rs.Resource.Attributes)
			b = end(b, r)
		}
		for _, ss := range rs.ScopeSpans {
			var sc int
			b, sc = begin(b, 2)
			for _, sp := range ss.Spans {
				b = appendSpan(b, sp)
			}
			b = end(b, sc)
		}
		b = end(b, s)
	}
	return b, nil
}

// plainRequest reports whether req only uses the fields AppendRequest writes.
func plainRequest(req *coltracepb.ExportTraceServiceRequest) bool {
	if req == nil || len(req.ProtoReflect().GetUnknown()) > 0 {
		return false
	}
	for _, rs := range req.ResourceSpans {
		if rs == nil || rs.SchemaUrl != "" || len(rs.ProtoReflect().GetUnknown()) > 0 || !plainResource(rs.Resource) {
			return false
		}
		for _, ss := range rs.ScopeSpans {
			if ss == nil || ss.Scope != nil || ss.SchemaUrl != "" || len(ss.ProtoReflect().GetUnknown()) > 0 {
				return false
			}
			for _, sp := range ss.Spans {
				if sp == nil || sp.TraceState != "" || sp.Kind != 0 || sp.DroppedAttributesCount != 0 ||
					sp.DroppedEventsCount != 0 || len(sp.Links) != 0 || sp.DroppedLinksCount != 0 || sp.Flags != 0 ||
					len(sp.ProtoReflect().GetUnknown()) > 0 {
					return false
				}
				for _, e := range sp.Events {
					if e == nil || e.DroppedAttributesCount != 0 {
						return false
					}
				}
			}
		}
	}
	return true
}

func plainResource(r *resourcepb.Resource) bool {
	return r == nil || (r.DroppedAttributesCount == 0 && len(r.EntityRefs) == 0 && len(r.ProtoReflect().GetUnknown()) == 0)
}

func appendSpan(b []byte, sp *tracepb.Span) []byte {
	var s int
	b, s = begin(b, 2) // ScopeSpans.spans
	b = appendBytes(b, 1, sp.TraceId)
	b = appendBytes(b, 2, sp.SpanId)
	b = appendBytes(b, 4, sp.ParentSpanId)
	b = appendString(b, 5, sp.Name)
	b = appendFixed(b, 7, sp.StartTimeUnixNano)
	b = appendFixed(b, 8, sp.EndTimeUnixNano)
	b = appendKeyValues(b, 9, sp.Attributes)
	for _, e := range sp.Events {
		var es int
		b, es = begin(b, 11)
		b = appendFixed(b, 1, e.TimeUnixNano)
		b = appendString(b, 2, e.Name)
		b = appendKeyValues(b, 3, e.Attributes)
		b = end(b, es)
	}
	if st := sp.Status; st != nil {
		var ss int
		b, ss = begin(b, 15)
		b = appendString(b, 2, st.Message)
		if st.Code != 0 {
			b = protowire.AppendTag(b, 3, protowire.VarintType)
			b = protowire.AppendVarint(b, uint64(int64(st.Code)))
		}
		b = end(b, ss)
	}
	return end(b, s)
}

func appendKeyValues(b []byte, num protowire.Number, kvs []*commonpb.KeyValue) []byte {
	for _, kv := range kvs {
		var s int
		b, s = begin(b, num)
		if kv != nil {
			b = appendString(b, 1, kv.Key)
			if kv.Value != nil {
				b = appendAnyValue(b, 2, kv.Value)
			}
		}
		b = end(b, s)
	}
	return b
}

func appendAnyValue(b []byte, num protowire.Number, v *commonpb.AnyValue) []byte {
	var s int
	b, s = begin(b, num)
	switch x := v.GetValue().(type) {
	case *commonpb.AnyValue_StringValue:
		b = protowire.AppendTag(b, 1, protowire.BytesType)
		b = protowire.AppendString(b, x.StringValue)
	case *commonpb.AnyValue_BoolValue:
		b = protowire.AppendTag(b, 2, protowire.VarintType)
		b = protowire.AppendVarint(b, protowire.EncodeBool(x.BoolValue))
	case *commonpb.AnyValue_IntValue:
		b = protowire.AppendTag(b, 3, protowire.VarintType)
		b = protowire.AppendVarint(b, uint64(x.IntValue))
	case *commonpb.AnyValue_DoubleValue:
		b = protowire.AppendTag(b, 4, protowire.Fixed64Type)
		b = protowire.AppendFixed64(b, math.Float64bits(x.DoubleValue))
	case *commonpb.AnyValue_ArrayValue:
		var a int
		b, a = begin(b, 5)
		if x.ArrayValue != nil {
			for _, e := range x.ArrayValue.Values {
				b = appendAnyValue(b, 1, e)
			}
		}
		b = end(b, a)
	case *commonpb.AnyValue_KvlistValue:
		var k int
		b, k = begin(b, 6)
		if x.KvlistValue != nil {
			b = appendKeyValues(b, 1, x.KvlistValue.Values)
		}
		b = end(b, k)
	case *commonpb.AnyValue_BytesValue:
		b = protowire.AppendTag(b, 7, protowire.BytesType)
		b = protowire.AppendBytes(b, x.BytesValue)
	}
	return end(b, s)
}

func appendBytes(b []byte, num protowire.Number, v []byte) []byte {
	if len(v) == 0 {
		return b
	}
	b = protowire.AppendTag(b, num, protowire.BytesType)
	return protowire.AppendBytes(b, v)
}

func appendString(b []byte, num protowire.Number, v string) []byte {
	if v == "" {
		return b
	}
	b = protowire.AppendTag(b, num, protowire.BytesType)
	return protowire.AppendString(b, v)
}

func appendFixed(b []byte, num protowire.Number, v uint64) []byte {
	if v == 0 {
		return b
	}
	b = protowire.AppendTag(b, num, protowire.Fixed64Type)
	return protowire.AppendFixed64(b, v)
}

// begin writes the tag of a length-delimited field and a one-byte length
// placeholder; end fills it in, widening it when the body needs more bytes.
func begin(b []byte, num protowire.Number) ([]byte, int) {
	b = protowire.AppendTag(b, num, protowire.BytesType)
	b = append(b, 0)
	return b, len(b)
}

func end(b []byte, start int) []byte {
	n := len(b) - start
	if n < 0x80 {
		b[start-1] = byte(n)
		return b
	}
	sz := protowire.SizeVarint(uint64(n))
	for range sz - 1 {
		b = append(b, 0)
	}
	copy(b[start-1+sz:], b[start:start+n])
	protowire.AppendVarint(b[start-1:start-1], uint64(n))
	return b
}
