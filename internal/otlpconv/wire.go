package otlpconv

import (
	"math"

	commonpb "go.opentelemetry.io/proto/otlp/common/v1"
	"google.golang.org/protobuf/encoding/protowire"
)

// The protobuf wire writing AppendSpans is made of: fields in number order,
// proto3 defaults left out, oneof members always written, as proto.Marshal
// writes them.

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
