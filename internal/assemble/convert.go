package assemble

import (
	"strconv"
	"strings"
	"unsafe"

	"go.opentelemetry.io/otel/attribute"
	"go.opentelemetry.io/otel/codes"
	sdktrace "go.opentelemetry.io/otel/sdk/trace"

	"github.com/mlflowtrace/mlflowtrace-go/internal/encode"
	"github.com/mlflowtrace/mlflowtrace-go/internal/keys"
	"github.com/mlflowtrace/mlflowtrace-go/internal/rawjson"
	"github.com/mlflowtrace/mlflowtrace-go/internal/tracemodel"
)

// Span log levels MLflow's Python SDK writes in mlflow.spanLogLevel.
const (
	logLevelDebug = "10"
	logLevelInfo  = "20"
	logLevelError = "40"
)

// ConvertSpan converts an OpenTelemetry span into an MLflow span. It reads s
// only through its ReadOnlySpan methods, so it also works on a span that is
// still open (EndTime is then zero and the caller sets it).
//
// Attribute values become JSON strings: spans of this SDK's scope
// (keys.ScopeName) already hold JSON and are copied; for other scopes an
// `mlflow.*` string value that is valid JSON is kept, as is any string that is
// JSON text of a string, object or array (as MLflow's server stores it), and
// every other value is JSON-encoded from its OpenTelemetry type. A span of another scope that
// follows an OpenTelemetry GenAI convention (gen_ai.*, OpenInference,
// Traceloop, …) gets the span type, inputs, outputs, token usage, message
// format, tools, model and provider MLflow's tracking server derives from it
// (see genai.go), so it reads the same from every destination; so does a
// span of Genkit for Go (scope genkitScope, see genkit.go).
// mlflow.traceRequestId,
// mlflow.spanType ("UNKNOWN") and mlflow.spanLogLevel (what MLflow's Python
// SDK derives at span end: 40 with an exception event, 20 for LLM, CHAT_MODEL,
// TOOL, RETRIEVER, AGENT and EMBEDDING spans, else 10) are added when missing.
// Event and link attributes keep their raw values.
func ConvertSpan(s sdktrace.ReadOnlySpan) *tracemodel.Span { return convertSpan(s, true, false) }

// ConvertSpanContent is ConvertSpan with content capture on or off
// (tracing.WithContentCapture): off, a Genkit span keeps no inputs or
// outputs — neither genkit:input and genkit:output nor what their
// translation made of them — as the spans of package tracing's
// integrations keep none. Its model, token usage, tools and status stay.
func ConvertSpanContent(s sdktrace.ReadOnlySpan, content bool) *tracemodel.Span {
	return convertSpan(s, true, !content)
}

// convertSpan is ConvertSpan; genai false skips the GenAI translation (for
// the benchmarks that measure what it costs), noContent drops a Genkit
// span's inputs and outputs.
func convertSpan(s sdktrace.ReadOnlySpan, genai, noContent bool) *tracemodel.Span {
	sc := s.SpanContext()
	out := &tracemodel.Span{
		TraceID:   sc.TraceID(),
		SpanID:    sc.SpanID(),
		Name:      s.Name(),
		StartTime: s.StartTime(),
		EndTime:   s.EndTime(),
		Scope:     s.InstrumentationScope().Name,
	}
	if p := s.Parent(); p.IsValid() {
		out.ParentSpanID = p.SpanID()
	}
	st := s.Status()
	switch st.Code {
	case codes.Ok:
		out.Status.Code = tracemodel.StatusCodeOK
	case codes.Error:
		out.Status.Code = tracemodel.StatusCodeError
	default:
		out.Status.Code = tracemodel.StatusCodeUnset
	}
	out.Status.Message = st.Description

	attrs := s.Attributes()
	events := s.Events()
	ownScope := out.Scope == keys.ScopeName
	translate, wide := false, false
	if genai && !ownScope {
		translate, wide = genaiRelevant(attrs, events)
	}
	extra := 3
	if wide || out.Scope == genkitScope {
		extra += 8 // the keys translation may add
	}
	out.Attributes = make(map[string]string, len(attrs)+extra)
	convertAttributes(out.Attributes, attrs, ownScope)
	if translate {
		translateGenAI(out.Attributes, attrs, events)
	}
	if genai && out.Scope == genkitScope {
		translateGenkit(out.Attributes, attrs)
	}
	if noContent && out.Scope == genkitScope {
		for _, k := range genkitContent {
			delete(out.Attributes, k)
		}
	}
	hasException := false
	if len(events) > 0 {
		out.Events = make([]tracemodel.Event, len(events))
		for i, ev := range events {
			out.Events[i] = tracemodel.Event{Name: ev.Name, Time: ev.Time, Attributes: rawAttributes(ev.Attributes)}
			if ev.Name == "exception" {
				hasException = true
			}
		}
	}
	if links := s.Links(); len(links) > 0 {
		out.Links = make([]tracemodel.Link, len(links))
		for i, l := range links {
			out.Links[i] = tracemodel.Link{
				TraceID:    l.SpanContext.TraceID(),
				SpanID:     l.SpanContext.SpanID(),
				Attributes: rawAttributes(l.Attributes),
			}
		}
	}

	if _, ok := out.Attributes[keys.TraceRequestID]; !ok {
		out.Attributes[keys.TraceRequestID] = `"` + tracemodel.RequestID(out.TraceID) + `"`
	}
	spanType, ok := out.Attributes[keys.SpanType]
	if !ok {
		spanType = `"UNKNOWN"`
		out.Attributes[keys.SpanType] = spanType
	}
	if _, ok := out.Attributes[keys.SpanLogLevel]; !ok {
		out.Attributes[keys.SpanLogLevel] = defaultLogLevel(spanType, hasException)
	}
	return out
}

// DefaultLogLevel is the mlflow.spanLogLevel MLflow's Python SDK gives a
// span that did not set one (LiveSpan.end / add_event), from its JSON span
// type and whether it has an "exception" event. Package tracing leaves the
// attribute to this default: ConvertSpan adds it, and so does tracing's OTLP
// export.
func DefaultLogLevel(spanTypeJSON string, hasException bool) string {
	return defaultLogLevel(spanTypeJSON, hasException)
}

func defaultLogLevel(spanTypeJSON string, hasException bool) string {
	if hasException {
		return logLevelError
	}
	switch spanTypeJSON {
	case `"LLM"`, `"CHAT_MODEL"`, `"TOOL"`, `"RETRIEVER"`, `"AGENT"`, `"EMBEDDING"`:
		return logLevelInfo
	}
	return logLevelDebug
}

// convertAttributes fills dst. Encoded values are written into one buffer
// that becomes a single string, so a span costs one allocation for all of
// them.
func convertAttributes(dst map[string]string, attrs []attribute.KeyValue, ownScope bool) {
	type pending struct {
		key        string
		start, end int
	}
	var (
		buf  []byte
		todo []pending
		arr  [16]pending
	)
	todo = arr[:0]
	for _, kv := range attrs {
		k := string(kv.Key)
		if kv.Value.Type() == attribute.STRING {
			v := kv.Value.AsString()
			if ownScope || keepJSON(k, v) {
				dst[k] = v
				continue
			}
		}
		start := len(buf)
		buf = appendAttrValue(buf, kv.Value)
		todo = append(todo, pending{k, start, len(buf)})
	}
	if len(todo) == 0 {
		return
	}
	all := string(buf)
	for _, p := range todo {
		dst[p.key] = all[p.start:p.end]
	}
}

// keepJSON reports whether the string value v of attribute k of another
// scope is stored as it is: an mlflow.* value that is valid JSON, or any
// value that is JSON text of a string, object or array — MLflow's server
// stores those as that JSON too (sanitize_attributes), so a GenAI
// instrumentation's JSON messages read back as messages everywhere.
func keepJSON(k, v string) bool {
	if strings.HasPrefix(k, "mlflow.") {
		return rawjson.Valid(stringBytes(v))
	}
	i := 0
	for i < len(v) && (v[i] == ' ' || v[i] == '\t' || v[i] == '\n' || v[i] == '\r') {
		i++
	}
	if i == len(v) || (v[i] != '"' && v[i] != '{' && v[i] != '[') {
		return false
	}
	return rawjson.Valid(stringBytes(v))
}

// stringBytes is s's bytes without a copy, for reading only (never
// written, nor kept past s).
func stringBytes(s string) []byte { return unsafe.Slice(unsafe.StringData(s), len(s)) }

// appendList writes xs as a JSON array with Python's ", " separator.
func appendList[T any](b []byte, xs []T, appendElem func([]byte, T) []byte) []byte {
	b = append(b, '[')
	for i, x := range xs {
		if i > 0 {
			b = append(b, ", "...)
		}
		b = appendElem(b, x)
	}
	return append(b, ']')
}

func appendInt(b []byte, x int64) []byte     { return strconv.AppendInt(b, x, 10) }
func appendFloat(b []byte, x float64) []byte { return encode.AppendFloat(b, x, 64) }
func appendString(b []byte, x string) []byte { return encode.AppendString(b, x, false) }

// appendAttrValue writes an OpenTelemetry attribute value as JSON.
func appendAttrValue(b []byte, v attribute.Value) []byte {
	switch v.Type() {
	case attribute.BOOL:
		return strconv.AppendBool(b, v.AsBool())
	case attribute.INT64:
		return strconv.AppendInt(b, v.AsInt64(), 10)
	case attribute.FLOAT64:
		return encode.AppendFloat(b, v.AsFloat64(), 64)
	case attribute.STRING:
		return encode.AppendString(b, v.AsString(), false)
	case attribute.BOOLSLICE:
		return appendList(b, v.AsBoolSlice(), strconv.AppendBool)
	case attribute.INT64SLICE:
		return appendList(b, v.AsInt64Slice(), appendInt)
	case attribute.FLOAT64SLICE:
		return appendList(b, v.AsFloat64Slice(), appendFloat)
	case attribute.STRINGSLICE:
		return appendList(b, v.AsStringSlice(), appendString)
	case attribute.BYTESLICE:
		return encode.AppendJSON(b, v.AsByteSlice())
	case attribute.SLICE:
		return appendList(b, v.AsSlice(), appendAttrValue)
	case attribute.MAP:
		b = append(b, '{')
		for i, kv := range v.AsMap() {
			if i > 0 {
				b = append(b, ", "...)
			}
			b = encode.AppendString(b, string(kv.Key), false)
			b = append(b, ": "...)
			b = appendAttrValue(b, kv.Value)
		}
		return append(b, '}')
	case attribute.EMPTY:
		return append(b, "null"...)
	}
	return encode.AppendJSON(b, v.AsInterface())
}

// rawValue returns v as a plain Go value: MAP as map[string]any and SLICE as
// []any, recursively; other types as Value.AsInterface returns them.
func rawValue(v attribute.Value) any {
	switch v.Type() {
	case attribute.SLICE:
		vs := v.AsSlice()
		out := make([]any, len(vs))
		for i, x := range vs {
			out[i] = rawValue(x)
		}
		return out
	case attribute.MAP:
		kvs := v.AsMap()
		out := make(map[string]any, len(kvs))
		for _, kv := range kvs {
			out[string(kv.Key)] = rawValue(kv.Value)
		}
		return out
	}
	return v.AsInterface()
}

func rawAttributes(attrs []attribute.KeyValue) map[string]any {
	if len(attrs) == 0 {
		return nil
	}
	m := make(map[string]any, len(attrs))
	for _, kv := range attrs {
		m[string(kv.Key)] = rawValue(kv.Value)
	}
	return m
}
