package otlpconv

import (
	"math"
	"slices"

	commonpb "go.opentelemetry.io/proto/otlp/common/v1"
	"google.golang.org/protobuf/encoding/protowire"

	"github.com/mlflowtrace/mlflowtrace-go/internal/tracemodel"
)

// AppendSpans appends to b the protobuf encoding of the
// ExportTraceServiceRequest MLflow's Python client posts for spans
// (RestStore.log_spans → Span.to_otel_proto): one ResourceSpans carrying
// resource, one ScopeSpans with an empty scope, the spans in order, each
// attribute's JSON sent as a native AnyValue (AttributeValue). It writes the
// wire form straight from the attribute text, without AnyValue messages; an
// object with a repeated key, which Python merges (first position, last
// value), goes through AttributeValue. The tests hold it byte-equal to the
// message form marshalled (reference_test.go).
func AppendSpans(b []byte, spans []*tracemodel.Span, resource []*commonpb.KeyValue) []byte {
	var rs, r, sc int
	b, rs = begin(b, 1) // ResourceSpans
	b, r = begin(b, 1)  // Resource
	b = appendKeyValues(b, 1, resource)
	b = end(b, r)
	b, sc = begin(b, 2) // ScopeSpans
	var keys [32]string
	w := wireWriter{keys: keys[:0]}
	for _, s := range spans {
		if s != nil {
			b = w.span(b, s)
		}
	}
	b = end(b, sc)
	return end(b, rs)
}

// wireWriter writes spans; its buffers are reused across them.
type wireWriter struct {
	keys []string // sorted attribute keys of the span being written
	p    wireParser
}

// span writes one span as appendSpan writes Span(s).
func (w *wireWriter) span(b []byte, s *tracemodel.Span) []byte {
	var sp int
	b, sp = begin(b, 2) // ScopeSpans.spans
	b = appendBytes(b, 1, s.TraceID[:])
	b = appendBytes(b, 2, s.SpanID[:])
	if s.ParentSpanID.IsValid() {
		b = appendBytes(b, 4, s.ParentSpanID[:])
	}
	b = appendString(b, 5, sanitize(s.Name))
	if !s.StartTime.IsZero() {
		b = appendFixed(b, 7, unixNano(s.StartTime))
	}
	if !s.EndTime.IsZero() {
		b = appendFixed(b, 8, unixNano(s.EndTime))
	}
	w.keys = w.keys[:0]
	for k := range s.Attributes {
		w.keys = append(w.keys, k)
	}
	slices.Sort(w.keys)
	for _, k := range w.keys {
		b = w.attribute(b, k, s.Attributes[k])
	}
	for _, e := range s.Events {
		var es int
		b, es = begin(b, 11)
		if !e.Time.IsZero() {
			b = appendFixed(b, 1, unixNano(e.Time))
		}
		b = appendString(b, 2, sanitize(e.Name))
		b = appendKeyValues(b, 3, KeyValues(e.Attributes))
		b = end(b, es)
	}
	code, msg := statusFields(s.Status)
	var ss int
	b, ss = begin(b, 15)
	b = appendString(b, 2, msg)
	if code != 0 {
		b = protowire.AppendTag(b, 3, protowire.VarintType)
		b = protowire.AppendVarint(b, uint64(int64(code)))
	}
	b = end(b, ss)
	return end(b, sp)
}

// attribute writes the KeyValue {key, AttributeValue(value)} (its value
// absent for JSON null and ""), as Span and appendKeyValues write it.
func (w *wireWriter) attribute(b []byte, key, value string) []byte {
	start := len(b)
	var kv int
	b, kv = begin(b, 9)
	b = appendString(b, 1, sanitize(key))
	if out, ok := w.p.appendValue(b, value); ok {
		return end(out, kv)
	}
	return appendKeyValues(b[:start], 9, []*commonpb.KeyValue{{Key: sanitize(key), Value: kvValue(AttributeValue(value))}})
}

// wireParser converts JSON text to an AnyValue's wire form as parser
// converts it to messages.
type wireParser struct {
	parser
	b    []byte
	keys []string // the member names of the open objects, a frame each
	dup  bool     // an object repeats a key: the caller takes the message path
}

// appendValue appends field 2 of a KeyValue: the AnyValue of the JSON text
// s (nothing for null or ""), or the text itself as a string when it is not
// JSON. ok is false when s holds an object with a repeated key.
func (w *wireParser) appendValue(b []byte, s string) ([]byte, bool) {
	if s == "" {
		return b, true
	}
	if len(s) >= 2 && s[0] == '"' && s[len(s)-1] == '"' && plainString(s[1:len(s)-1]) {
		return appendStringValue(b, 2, sanitize(s[1:len(s)-1])), true
	}
	start := len(b)
	w.parser = parser{s: s}
	w.b, w.keys, w.dup = b, w.keys[:0], false
	w.skipSpace()
	ok := w.value(2, 0, true)
	if ok {
		w.skipSpace()
		ok = w.i == len(s)
	}
	b = w.b
	w.b = nil
	switch {
	case w.dup:
		return b[:start], false
	case !ok:
		return appendStringValue(b[:start], 2, sanitize(s)), true
	}
	return b, true
}

func appendStringValue(b []byte, num protowire.Number, s string) []byte {
	var v int
	b, v = begin(b, num)
	b = protowire.AppendTag(b, 1, protowire.BytesType)
	b = protowire.AppendString(b, s)
	return end(b, v)
}

// value writes the value at w.i as field num; member (a KeyValue's value,
// or the top level) writes nothing for null, as kvValue leaves it out.
func (w *wireParser) value(num protowire.Number, depth int, member bool) bool {
	if w.i >= len(w.s) || depth > maxDepth {
		return false
	}
	switch c := w.s[w.i]; {
	case c == '"':
		str, ok := w.str()
		if ok {
			w.b = appendStringValue(w.b, num, str)
		}
		return ok
	case c == '{':
		return w.object(num, depth)
	case c == '[':
		return w.array(num, depth)
	case c == 't' || c == 'f':
		if !w.lit("true") && !w.lit("false") {
			return false
		}
		var v int
		w.b, v = begin(w.b, num)
		w.b = protowire.AppendTag(w.b, 2, protowire.VarintType)
		w.b = protowire.AppendVarint(w.b, protowire.EncodeBool(c == 't'))
		w.b = end(w.b, v)
		return true
	case c == 'n':
		if !w.lit("null") {
			return false
		}
		if !member {
			var v int
			w.b, v = begin(w.b, num)
			w.b = end(w.b, v)
		}
		return true
	case c == 'N':
		return w.lit("NaN") && w.double(num, pyNaN)
	case c == 'I':
		return w.lit("Infinity") && w.double(num, math.Inf(1))
	case c == '-' || (c >= '0' && c <= '9'):
		if c == '-' && w.lit("-Infinity") {
			return w.double(num, math.Inf(-1))
		}
		n, f, isInt, ok := w.numberLit()
		switch {
		case !ok:
			return false
		case !isInt:
			return w.double(num, f)
		}
		var v int
		w.b, v = begin(w.b, num)
		w.b = protowire.AppendTag(w.b, 3, protowire.VarintType)
		w.b = protowire.AppendVarint(w.b, uint64(n))
		w.b = end(w.b, v)
		return true
	}
	return false
}

func (w *wireParser) double(num protowire.Number, f float64) bool {
	var v int
	w.b, v = begin(w.b, num)
	w.b = protowire.AppendTag(w.b, 4, protowire.Fixed64Type)
	w.b = protowire.AppendFixed64(w.b, math.Float64bits(f))
	w.b = end(w.b, v)
	return true
}

// open starts field num, an AnyValue holding the container at w.i in its
// field inner (5: array, 6: kvlist), and returns their starts; an empty
// container is closed at once (empty).
func (w *wireParser) open(num, inner protowire.Number, closer byte) (v, in int, empty bool) {
	w.i++ // [ or {
	w.b, v = begin(w.b, num)
	w.b, in = begin(w.b, inner)
	w.skipSpace()
	if w.i < len(w.s) && w.s[w.i] == closer {
		w.i++
		w.b = end(end(w.b, in), v)
		return v, in, true
	}
	return v, in, false
}

func (w *wireParser) array(num protowire.Number, depth int) bool {
	v, a, empty := w.open(num, 5, ']')
	if empty {
		return true
	}
	for {
		w.skipSpace()
		if !w.value(1, depth+1, false) {
			return false
		}
		more, ok := w.afterItem(']')
		if !more {
			if ok {
				w.b = end(end(w.b, a), v)
			}
			return ok
		}
	}
}

func (w *wireParser) object(num protowire.Number, depth int) bool {
	v, l, empty := w.open(num, 6, '}')
	if empty {
		return true
	}
	frame := len(w.keys)
	ok := w.members(depth, frame)
	w.keys = w.keys[:frame]
	if ok {
		w.b = end(end(w.b, l), v)
	}
	return ok
}

// members writes the members of a non-empty object, its names recorded in
// w.keys from frame on, through the closing '}'.
func (w *wireParser) members(depth, frame int) bool {
	var seen map[string]struct{} // the names, once the object is large
	for {
		w.skipSpace()
		if w.i >= len(w.s) || w.s[w.i] != '"' {
			return false
		}
		key, ok := w.str()
		if !ok {
			return false
		}
		names := w.keys[frame:]
		repeated := false
		switch {
		case len(names) <= 16:
			repeated = slices.Contains(names, key)
		case seen == nil:
			seen = make(map[string]struct{}, 2*len(names))
			for _, k := range names {
				seen[k] = struct{}{}
			}
			fallthrough
		default:
			_, repeated = seen[key]
			seen[key] = struct{}{}
		}
		if repeated {
			// Python keeps the first position and the last value: the
			// message path merges them.
			w.dup = true
			return false
		}
		w.keys = append(w.keys, key)
		w.skipSpace()
		if w.i >= len(w.s) || w.s[w.i] != ':' {
			return false
		}
		w.i++
		w.skipSpace()
		var kv int
		w.b, kv = begin(w.b, 1)
		w.b = appendString(w.b, 1, key)
		if !w.value(2, depth+1, true) {
			return false
		}
		w.b = end(w.b, kv)
		if more, ok := w.afterItem('}'); !more {
			return ok
		}
	}
}
