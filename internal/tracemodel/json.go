package tracemodel

import (
	"encoding/base64"
	"encoding/hex"
	"encoding/json"
	"errors"
	"fmt"
	"slices"
	"strconv"
	"strings"
	"time"

	"go.opentelemetry.io/otel/trace"

	"github.com/mlflowtrace/mlflowtrace-go/internal/bufpool"
	"github.com/mlflowtrace/mlflowtrace-go/internal/encode"
)

// The span JSON below is written byte for byte as MLflow's Python SDK writes
// it with json.dumps(span.to_dict()): keys in to_dict order, ", " and ": "
// separators, attribute and map keys sorted (Python keeps insertion order,
// which Go maps do not have).

// MarshalJSON encodes s in MLflow's traces.json span form (Span.to_dict of
// MLflow 3.17): base64 ids, parent_span_id null for a root span, times as
// integer nanoseconds (end_time_unix_nano null while the span is open),
// events with raw attribute values, status code/message, attributes as
// JSON-encoded strings, links.
func (s *Span) MarshalJSON() ([]byte, error) {
	return appendSpan(nil, s, nil), nil
}

// MarshalTraceData encodes spans as MLflow's traces.json, {"spans": [...]},
// byte for byte as the Python SDK uploads it (json.dumps with
// ensure_ascii=False), except for the order of attribute keys.
func MarshalTraceData(spans []*Span) ([]byte, error) {
	b := make([]byte, 0, 1024*len(spans)+16)
	b = append(b, `{"spans": [`...)
	for i, s := range spans {
		if i > 0 {
			b = append(b, ", "...)
		}
		if s == nil {
			return nil, errors.New("tracemodel: nil span")
		}
		b = appendSpan(b, s, nil)
	}
	return append(b, "]}"...), nil
}

// SpanSize returns the size MLflow's Python SDK assigns to s in the
// mlflow.trace.sizeStats metadata: the length in bytes of
// json.dumps(span.to_dict()) with Python's default ensure_ascii=True.
func SpanSize(s *Span) int {
	bp := sizeBufs.Get()
	attrLen := 0
	b := appendSpan(*bp, s, &attrLen)
	n := encode.ASCIILen(b) + attrLen
	sizeBufs.Put(bp, b)
	return n
}

// sizeBufs holds the scratch buffers SpanSize and TraceInfoSize write into
// to measure: the JSON is only measured, never kept, so one buffer serves
// every span of every trace instead of a freshly grown one per span.
var sizeBufs = bufpool.New(8<<10, 1<<20)

func appendB64(dst, id []byte) []byte {
	dst = append(dst, '"')
	dst = base64.StdEncoding.AppendEncode(dst, id)
	return append(dst, '"')
}

func appendKey(dst []byte, k string) []byte {
	dst = encode.AppendString(dst, k, false)
	return append(dst, ": "...)
}

// When attrLen is not nil, the attribute values are not written: the length
// they would have with Python's ensure_ascii is added to *attrLen instead
// (SpanSize: they are most of a span, and only their length is wanted).
func appendSpan(b []byte, s *Span, attrLen *int) []byte {
	b = append(b, '{')
	b = appendKey(b, "trace_id")
	b = appendB64(b, s.TraceID[:])
	b = append(b, ", "...)
	b = appendKey(b, "span_id")
	b = appendB64(b, s.SpanID[:])
	b = append(b, ", "...)
	b = appendKey(b, "parent_span_id")
	if s.ParentSpanID.IsValid() {
		b = appendB64(b, s.ParentSpanID[:])
	} else {
		b = append(b, "null"...)
	}
	b = append(b, ", "...)
	b = appendKey(b, "name")
	b = encode.AppendString(b, s.Name, false)
	b = append(b, ", "...)
	b = appendKey(b, "start_time_unix_nano")
	b = appendNanos(b, s.StartTime, "0")
	b = append(b, ", "...)
	b = appendKey(b, "end_time_unix_nano")
	b = appendNanos(b, s.EndTime, "null")
	b = append(b, ", "...)
	b = appendKey(b, "events")
	b = append(b, '[')
	for i := range s.Events {
		if i > 0 {
			b = append(b, ", "...)
		}
		ev := &s.Events[i]
		b = append(b, '{')
		b = appendKey(b, "name")
		b = encode.AppendString(b, ev.Name, false)
		b = append(b, ", "...)
		b = appendKey(b, "time_unix_nano")
		b = appendNanos(b, ev.Time, "0")
		b = append(b, ", "...)
		b = appendKey(b, "attributes")
		b = appendRawMap(b, ev.Attributes, "{}")
		b = append(b, '}')
	}
	b = append(b, "], "...)
	b = appendKey(b, "status")
	b = append(b, '{')
	b = appendKey(b, "code")
	code := s.Status.Code
	if code == "" {
		code = StatusCodeUnset
	}
	b = encode.AppendString(b, code, false)
	b = append(b, ", "...)
	b = appendKey(b, "message")
	b = encode.AppendString(b, s.Status.Message, false)
	b = append(b, "}, "...)
	b = appendKey(b, "attributes")
	b = append(b, '{')
	if attrLen != nil {
		// Measured: the length does not depend on the order of the keys.
		i := 0
		for k, v := range s.Attributes {
			if i > 0 {
				b = append(b, ", "...)
			}
			i++
			b = appendKey(b, k)
			*attrLen += encode.QuotedLen(v, true)
		}
	} else {
		for i, k := range sortedKeys(s.Attributes) {
			if i > 0 {
				b = append(b, ", "...)
			}
			b = appendKey(b, k)
			b = encode.AppendString(b, s.Attributes[k], false)
		}
	}
	b = append(b, "}, "...)
	b = appendKey(b, "links")
	b = append(b, '[')
	for i := range s.Links {
		if i > 0 {
			b = append(b, ", "...)
		}
		l := &s.Links[i]
		b = append(b, '{')
		b = appendKey(b, "trace_id")
		b = encode.AppendString(b, RequestID(l.TraceID), false)
		b = append(b, ", "...)
		b = appendKey(b, "span_id")
		b = encode.AppendString(b, l.SpanID.String(), false)
		b = append(b, ", "...)
		b = appendKey(b, "attributes")
		b = appendRawMap(b, l.Attributes, "null")
		b = append(b, '}')
	}
	return append(b, "]}"...)
}

func appendNanos(b []byte, t time.Time, zero string) []byte {
	if t.IsZero() {
		return append(b, zero...)
	}
	return strconv.AppendInt(b, t.UnixNano(), 10)
}

func appendRawMap(b []byte, m map[string]any, empty string) []byte {
	if len(m) == 0 {
		if m == nil {
			return append(b, empty...)
		}
		return append(b, "{}"...)
	}
	b = append(b, '{')
	for i, k := range sortedKeys(m) {
		if i > 0 {
			b = append(b, ", "...)
		}
		b = appendKey(b, k)
		b = encode.AppendJSON(b, m[k])
	}
	return append(b, '}')
}

func sortedKeys[V any](m map[string]V) []string {
	keys := make([]string, 0, len(m))
	for k := range m {
		keys = append(keys, k)
	}
	slices.Sort(keys)
	return keys
}

// UnmarshalJSON reads a span in MLflow's traces.json form. It accepts what
// MLflow's readers accept: base64 or hex ids (also "tr-<hex>" trace ids),
// parent_span_id null or "", status codes "STATUS_CODE_OK" or "OK", times as
// numbers or numeric strings, and non-string attribute values (kept as their
// JSON text).
func (s *Span) UnmarshalJSON(data []byte) error {
	var j struct {
		TraceID      string                      `json:"trace_id"`
		SpanID       string                      `json:"span_id"`
		ParentSpanID *string                     `json:"parent_span_id"`
		Name         string                      `json:"name"`
		Start        json.Number                 `json:"start_time_unix_nano"`
		End          *json.Number                `json:"end_time_unix_nano"`
		Events       []json.RawMessage           `json:"events"`
		Status       struct{ Code, Message any } `json:"status"`
		Attributes   map[string]json.RawMessage  `json:"attributes"`
		Links        []struct {
			TraceID    string         `json:"trace_id"`
			SpanID     string         `json:"span_id"`
			Attributes map[string]any `json:"attributes"`
		} `json:"links"`
	}
	dec := json.NewDecoder(strings.NewReader(string(data)))
	dec.UseNumber()
	if err := dec.Decode(&j); err != nil {
		return fmt.Errorf("tracemodel: decode span: %w", err)
	}
	var out Span
	var err error
	if out.TraceID, err = parseTraceID(j.TraceID); err != nil {
		return err
	}
	if out.SpanID, err = parseSpanID(j.SpanID); err != nil {
		return err
	}
	if j.ParentSpanID != nil && *j.ParentSpanID != "" {
		if out.ParentSpanID, err = parseSpanID(*j.ParentSpanID); err != nil {
			return err
		}
	}
	out.Name = j.Name
	if out.StartTime, err = parseNanos(j.Start); err != nil {
		return err
	}
	if j.End != nil {
		if out.EndTime, err = parseNanos(*j.End); err != nil {
			return err
		}
	}
	out.Status.Code = normalizeStatusCode(j.Status.Code)
	if msg, ok := j.Status.Message.(string); ok {
		out.Status.Message = msg
	}
	for _, raw := range j.Events {
		ev, err := parseEvent(raw)
		if err != nil {
			return err
		}
		out.Events = append(out.Events, ev)
	}
	out.Attributes = make(map[string]string, len(j.Attributes))
	for k, raw := range j.Attributes {
		var str string
		if len(raw) > 0 && raw[0] == '"' && json.Unmarshal(raw, &str) == nil {
			out.Attributes[k] = str
		} else {
			out.Attributes[k] = string(raw)
		}
	}
	for _, l := range j.Links {
		var link Link
		if link.TraceID, err = parseTraceID(l.TraceID); err != nil {
			return err
		}
		if link.SpanID, err = parseSpanID(l.SpanID); err != nil {
			return err
		}
		link.Attributes = l.Attributes
		out.Links = append(out.Links, link)
	}
	*s = out
	return nil
}

func parseEvent(raw json.RawMessage) (Event, error) {
	var j struct {
		Name       string         `json:"name"`
		Time       json.Number    `json:"time_unix_nano"`
		Timestamp  json.Number    `json:"timestamp"`
		Attributes map[string]any `json:"attributes"`
	}
	dec := json.NewDecoder(strings.NewReader(string(raw)))
	dec.UseNumber()
	if err := dec.Decode(&j); err != nil {
		return Event{}, fmt.Errorf("tracemodel: decode event: %w", err)
	}
	n := j.Time
	if n == "" {
		n = j.Timestamp
	}
	t, err := parseNanos(n)
	if err != nil {
		return Event{}, err
	}
	for k, v := range j.Attributes {
		j.Attributes[k] = plainNumbers(v)
	}
	return Event{Name: j.Name, Time: t, Attributes: j.Attributes}, nil
}

// plainNumbers turns json.Number values into int64 or float64.
func plainNumbers(v any) any {
	switch x := v.(type) {
	case json.Number:
		if i, err := x.Int64(); err == nil {
			return i
		}
		if f, err := x.Float64(); err == nil {
			return f
		}
		return x.String()
	case []any:
		for i := range x {
			x[i] = plainNumbers(x[i])
		}
	case map[string]any:
		for k := range x {
			x[k] = plainNumbers(x[k])
		}
	}
	return v
}

func parseNanos(n json.Number) (time.Time, error) {
	if n == "" {
		return time.Time{}, nil
	}
	ns, err := strconv.ParseInt(string(n), 10, 64)
	if err != nil {
		f, ferr := n.Float64()
		if ferr != nil {
			return time.Time{}, fmt.Errorf("tracemodel: bad nanosecond time %q", string(n))
		}
		ns = int64(f)
	}
	if ns == 0 {
		return time.Time{}, nil
	}
	return time.Unix(0, ns), nil
}

func normalizeStatusCode(c any) string {
	var s string
	switch x := c.(type) {
	case string:
		s = x
	case json.Number:
		s = x.String()
	}
	switch strings.ToUpper(s) {
	case "STATUS_CODE_OK", "OK", "1":
		return StatusCodeOK
	case "STATUS_CODE_ERROR", "ERROR", "2":
		return StatusCodeError
	}
	return StatusCodeUnset
}

// decodeID reads an id written as hex (optionally prefixed "tr-" or
// "trace:/<location>/") or base64 into dst.
func decodeID(s string, dst []byte) error {
	if i := strings.LastIndexByte(s, '/'); strings.HasPrefix(s, "trace:/") && i >= 0 {
		s = s[i+1:]
	}
	s = strings.TrimPrefix(s, "tr-")
	if s == "" {
		return errors.New("tracemodel: empty id")
	}
	if len(s) == 2*len(dst) {
		if _, err := hex.Decode(dst, []byte(s)); err == nil {
			return nil
		}
	}
	b, err := base64.StdEncoding.DecodeString(s)
	if err != nil {
		b, err = base64.RawStdEncoding.DecodeString(strings.TrimRight(s, "="))
	}
	if err != nil || len(b) > len(dst) {
		return fmt.Errorf("tracemodel: bad id %q", s)
	}
	// Python writes ids as big-endian bytes of the integer; a short encoding
	// means leading zero bytes.
	clear(dst)
	copy(dst[len(dst)-len(b):], b)
	return nil
}

func parseTraceID(s string) (trace.TraceID, error) {
	var id trace.TraceID
	return id, decodeID(s, id[:])
}

func parseSpanID(s string) (trace.SpanID, error) {
	var id trace.SpanID
	return id, decodeID(s, id[:])
}

// --- TraceInfo --------------------------------------------------------------

// appendInfoIdentity writes the fields MarshalJSON and TraceInfoSize share, in
// proto order: trace_id, client_request_id, trace_location and the previews
// (empty optional ones omitted).
func appendInfoIdentity(b []byte, ti *TraceInfo) []byte {
	b = appendKey(b, "trace_id")
	b = encode.AppendString(b, ti.TraceID, false)
	if ti.ClientRequestID != "" {
		b = append(b, ", "...)
		b = appendKey(b, "client_request_id")
		b = encode.AppendString(b, ti.ClientRequestID, false)
	}
	b = append(b, ", "...)
	b = appendKey(b, "trace_location")
	switch {
	case ti.UCSchema != nil:
		b = appendUCLocation(b, ti.UCSchema)
	case ti.UCTablePrefix != nil:
		b = appendUCTablePrefixLocation(b, ti.UCTablePrefix)
	default:
		b = appendLocation(b, ti.ExperimentID)
	}
	if ti.RequestPreview != "" {
		b = append(b, ", "...)
		b = appendKey(b, "request_preview")
		b = encode.AppendString(b, ti.RequestPreview, false)
	}
	if ti.ResponsePreview != "" {
		b = append(b, ", "...)
		b = appendKey(b, "response_preview")
		b = encode.AppendString(b, ti.ResponsePreview, false)
	}
	return b
}

// MarshalJSON encodes ti as MLflow's TraceInfoV3 in protobuf JSON with proto
// field names (what the REST API's StartTraceV3 takes): request_time as an
// RFC 3339 timestamp and execution_duration as a protobuf Duration string
// ("1.250s"), both with 0, 3, 6 or 9 fractional digits as protobuf writes them.
// Empty client_request_id, previews, metadata and tags are omitted.
func (ti *TraceInfo) MarshalJSON() ([]byte, error) {
	return ti.AppendJSON(make([]byte, 0, 512)), nil
}

// AppendJSON appends what MarshalJSON returns to b.
func (ti *TraceInfo) AppendJSON(b []byte) []byte {
	b = append(b, '{')
	b = appendInfoIdentity(b, ti)
	b = append(b, ", "...)
	b = appendKey(b, "request_time")
	b = append(b, '"')
	b = AppendTimestamp(b, ti.RequestTime)
	b = append(b, "\", "...)
	b = appendKey(b, "execution_duration")
	b = append(b, '"')
	b = AppendDuration(b, ti.ExecutionDuration)
	b = append(b, "\", "...)
	b = appendInfoStateAndMaps(b, ti, nil)
	return append(b, '}')
}

// appendInfoStateAndMaps writes the state (OK when unset), then
// trace_metadata and tags when not empty: the fields MarshalJSON and
// TraceInfoSize share after the times. When mapLen is not nil, the two maps
// are not written: the length they would have with Python's ensure_ascii
// is added to *mapLen instead (TraceInfoSize: they are most of the info).
func appendInfoStateAndMaps(b []byte, ti *TraceInfo, mapLen *int) []byte {
	b = appendKey(b, "state")
	state := ti.State
	if state == "" {
		state = StateOK
	}
	b = encode.AppendString(b, state, false)
	if len(ti.Metadata) > 0 {
		b = append(b, ", "...)
		b = appendKey(b, "trace_metadata")
		b = appendOrMeasureStringMap(b, ti.Metadata, mapLen)
	}
	if len(ti.Assessments) > 0 {
		b = append(b, ", "...)
		b = appendKey(b, "assessments")
		b = append(b, '[')
		for i := range ti.Assessments {
			mark := len(b)
			if mark > 0 && b[mark-1] != '[' {
				b = append(b, ", "...)
			}
			ab, err := appendAssessment(b, &ti.Assessments[i])
			if err != nil {
				b = b[:mark] // an assessment with no value cannot be written
				continue
			}
			b = ab
		}
		b = append(b, ']')
	}
	if len(ti.Tags) > 0 {
		b = append(b, ", "...)
		b = appendKey(b, "tags")
		b = appendOrMeasureStringMap(b, ti.Tags, mapLen)
	}
	return b
}

func appendLocation(b []byte, experimentID string) []byte {
	b = append(b, '{')
	b = appendKey(b, "type")
	b = append(b, `"MLFLOW_EXPERIMENT", `...)
	b = appendKey(b, "mlflow_experiment")
	b = append(b, '{')
	b = appendKey(b, "experiment_id")
	b = encode.AppendString(b, experimentID, false)
	return append(b, "}}"...)
}

func appendUCTablePrefixLocation(b []byte, l *UCTablePrefixLocation) []byte {
	return appendTypedLocation(b, "UC_TABLE_PREFIX", "uc_table_prefix", []locationField{
		{"catalog_name", l.CatalogName, true}, {"schema_name", l.SchemaName, true}, {"table_prefix", l.TablePrefix, true},
		{"spans_table_name", l.SpansTableName, false}, {"logs_table_name", l.LogsTableName, false},
		{"annotations_table_name", l.AnnotationsTableName, false},
	})
}

func appendUCLocation(b []byte, l *UCSchemaLocation) []byte {
	return appendTypedLocation(b, "UC_SCHEMA", "uc_schema", []locationField{
		{"catalog_name", l.CatalogName, true}, {"schema_name", l.SchemaName, true},
		{"otel_spans_table_name", l.OTelSpansTableName, false}, {"otel_logs_table_name", l.OTelLogsTableName, false},
	})
}

// locationField is one string field of a trace location; an optional one
// is left out when empty.
type locationField struct {
	key, value string
	required   bool
}

// appendTypedLocation writes {"type": typ, key: {fields...}}.
func appendTypedLocation(b []byte, typ, key string, fields []locationField) []byte {
	b = append(b, '{')
	b = appendKey(b, "type")
	b = encode.AppendString(b, typ, false)
	b = append(b, ", "...)
	b = appendKey(b, key)
	b = append(b, '{')
	first := true
	for _, f := range fields {
		if f.value == "" && !f.required {
			continue
		}
		if !first {
			b = append(b, ", "...)
		}
		first = false
		b = appendKey(b, f.key)
		b = encode.AppendString(b, f.value, false)
	}
	return append(b, "}}"...)
}

// appendOrMeasureStringMap is appendStringMap, or, when mapLen is not nil,
// adds the length of its ASCII-escaped form to *mapLen and writes nothing
// (the length does not depend on the order of the keys: no sorting).
func appendOrMeasureStringMap(b []byte, m map[string]string, mapLen *int) []byte {
	if mapLen == nil {
		return appendStringMap(b, m)
	}
	n := 2 // {}
	for k, v := range m {
		n += encode.QuotedLen(k, true) + len(": ") + encode.QuotedLen(v, true)
	}
	if len(m) > 1 {
		n += (len(m) - 1) * len(", ")
	}
	*mapLen += n
	return b
}

func appendStringMap(b []byte, m map[string]string) []byte {
	b = append(b, '{')
	for i, k := range sortedKeys(m) {
		if i > 0 {
			b = append(b, ", "...)
		}
		b = appendKey(b, k)
		b = encode.AppendString(b, m[k], false)
	}
	return append(b, '}')
}

// AppendTimestamp appends t in protobuf's JSON Timestamp form: UTC RFC 3339
// with 0, 3, 6 or 9 fractional digits.
func AppendTimestamp(b []byte, t time.Time) []byte {
	t = t.UTC()
	b = t.AppendFormat(b, "2006-01-02T15:04:05")
	b = appendFraction(b, t.Nanosecond())
	return append(b, 'Z')
}

// AppendDuration appends d in protobuf's JSON Duration form: seconds with 0,
// 3, 6 or 9 fractional digits and an "s" suffix ("1.250s", "2s").
func AppendDuration(b []byte, d time.Duration) []byte {
	if d < 0 {
		b = append(b, '-')
		d = -d
	}
	b = strconv.AppendInt(b, int64(d/time.Second), 10)
	b = appendFraction(b, int(d%time.Second))
	return append(b, 's')
}

func appendFraction(b []byte, nanos int) []byte {
	if nanos == 0 {
		return b
	}
	var digits int
	var v int
	switch {
	case nanos%1_000_000 == 0:
		digits, v = 3, nanos/1_000_000
	case nanos%1_000 == 0:
		digits, v = 6, nanos/1_000
	default:
		digits, v = 9, nanos
	}
	b = append(b, '.')
	s := strconv.Itoa(v)
	for i := len(s); i < digits; i++ {
		b = append(b, '0')
	}
	return append(b, s...)
}

// UnmarshalJSON reads a TraceInfoV3 in protobuf JSON (proto or camelCase field
// names), or the dict of Python's TraceInfo.to_dict (execution_duration_ms).
func (ti *TraceInfo) UnmarshalJSON(data []byte) error {
	var m members
	if err := json.Unmarshal(data, &m); err != nil {
		return fmt.Errorf("tracemodel: decode trace info: %w", err)
	}
	get, str := m.get, m.str
	var out TraceInfo
	out.TraceID = str("trace_id", "traceId")
	out.ClientRequestID = str("client_request_id", "clientRequestId")
	out.RequestPreview = str("request_preview", "requestPreview")
	out.ResponsePreview = str("response_preview", "responsePreview")
	out.State = str("state")
	if raw := get("trace_location", "traceLocation"); raw != nil {
		var loc map[string]json.RawMessage
		_ = json.Unmarshal(raw, &loc)
		me := loc["mlflow_experiment"]
		if me == nil {
			me = loc["mlflowExperiment"]
		}
		var ids map[string]any
		_ = json.Unmarshal(me, &ids)
		for _, k := range []string{"experiment_id", "experimentId"} {
			if id, ok := ids[k].(string); ok {
				out.ExperimentID = id
			}
		}
		if pick, ok := stringFields(loc, "uc_schema", "ucSchema"); ok {
			out.UCSchema = &UCSchemaLocation{
				CatalogName:        pick("catalog_name", "catalogName"),
				SchemaName:         pick("schema_name", "schemaName"),
				OTelSpansTableName: pick("otel_spans_table_name", "otelSpansTableName"),
				OTelLogsTableName:  pick("otel_logs_table_name", "otelLogsTableName"),
			}
		}
		if pick, ok := stringFields(loc, "uc_table_prefix", "ucTablePrefix"); ok {
			out.UCTablePrefix = &UCTablePrefixLocation{
				CatalogName:          pick("catalog_name", "catalogName"),
				SchemaName:           pick("schema_name", "schemaName"),
				TablePrefix:          pick("table_prefix", "tablePrefix"),
				SpansTableName:       pick("spans_table_name", "spansTableName"),
				LogsTableName:        pick("logs_table_name", "logsTableName"),
				AnnotationsTableName: pick("annotations_table_name", "annotationsTableName"),
			}
		}
	}
	if s := str("request_time", "requestTime"); s != "" {
		t, err := time.Parse(time.RFC3339Nano, s)
		if err != nil {
			return fmt.Errorf("tracemodel: bad request_time %q", s)
		}
		out.RequestTime = t
	}
	if s := str("execution_duration", "executionDuration"); s != "" {
		d, err := time.ParseDuration(s)
		if err != nil {
			return fmt.Errorf("tracemodel: bad execution_duration %q", s)
		}
		out.ExecutionDuration = d
	} else if raw := get("execution_duration_ms"); raw != nil {
		var ms json.Number
		if err := json.Unmarshal(raw, &ms); err == nil {
			if n, err := ms.Int64(); err == nil {
				out.ExecutionDuration = time.Duration(n) * time.Millisecond
			}
		}
	}
	if raw := get("trace_metadata", "traceMetadata"); raw != nil {
		_ = json.Unmarshal(raw, &out.Metadata)
	}
	if raw := get("tags"); raw != nil {
		_ = json.Unmarshal(raw, &out.Tags)
	}
	if raw := get("assessments"); raw != nil {
		if err := json.Unmarshal(raw, &out.Assessments); err != nil {
			return err
		}
	}
	*ti = out
	return nil
}

// TraceInfoSize returns the size MLflow's Python SDK adds for the trace info
// when it computes mlflow.trace.sizeBytes: the byte length of
// Trace(info, TraceData(spans=[])).to_json(), i.e. json.dumps (ASCII-escaped,
// ", "/": " separators) of {"info": info.to_dict(), "data": {"spans": []}},
// where info.to_dict() is the protobuf dict of the trace info with times in
// milliseconds and execution_duration_ms instead of execution_duration. The
// mlflow.trace.sizeStats and mlflow.trace.sizeBytes metadata are counted if
// present, so call it before setting them, as MLflow does.
func TraceInfoSize(ti *TraceInfo) int {
	bp := sizeBufs.Get()
	mapLen := 0
	b := appendTraceDictMeasured(*bp, ti, &mapLen)
	n := encode.ASCIILen(b) + mapLen
	sizeBufs.Put(bp, b)
	return n
}

// appendTraceDict writes Trace.to_dict() of MLflow's Python SDK:
// {"info": <TraceInfo.to_dict()>, "data": {"spans": [<Span.to_dict()>...]}}.
func appendTraceDict(b []byte, ti *TraceInfo, spans []*Span) []byte {
	b = appendTraceDictMeasured(b, ti, nil)
	b = b[:len(b)-len("]}}")]
	for i, s := range spans {
		if i > 0 {
			b = append(b, ", "...)
		}
		b = appendSpan(b, s, nil)
	}
	return append(b, "]}}"...)
}

// appendTraceDictMeasured writes Trace.to_dict() without spans; with
// mapLen, its maps are measured instead of written (appendInfoStateAndMaps).
func appendTraceDictMeasured(b []byte, ti *TraceInfo, mapLen *int) []byte {
	b = append(b, `{"info": {`...)
	b = appendInfoIdentity(b, ti)
	b = append(b, ", "...)
	b = appendKey(b, "request_time")
	b = append(b, '"')
	b = AppendTimestamp(b, ti.RequestTime.Truncate(time.Millisecond))
	b = append(b, "\", "...)
	b = appendInfoStateAndMaps(b, ti, mapLen)
	b = append(b, ", "...)
	b = appendKey(b, "execution_duration_ms")
	b = strconv.AppendInt(b, ti.ExecutionDuration.Milliseconds(), 10)
	return append(b, `}, "data": {"spans": []}}`...)
}

// MarshalJSON encodes t as MLflow's Python SDK's Trace.to_dict() (what
// Trace.to_json writes and Trace.from_dict reads, and what Databricks Model
// Serving returns as databricks_output.trace): {"info": {...}, "data":
// {"spans": [...]}}, the info in protobuf-dict form with request_time as an
// RFC 3339 string and execution_duration_ms, each span as in traces.json.
func (t *Trace) MarshalJSON() ([]byte, error) {
	for _, s := range t.Spans {
		if s == nil {
			return nil, errors.New("tracemodel: nil span")
		}
	}
	return appendTraceDict(make([]byte, 0, 1024*(len(t.Spans)+1)), &t.Info, t.Spans), nil
}

// UnmarshalJSON reads the Trace.to_dict() form written by MarshalJSON (and by
// MLflow's Python SDK).
func (t *Trace) UnmarshalJSON(data []byte) error {
	var raw struct {
		Info *TraceInfo `json:"info"`
		Data *struct {
			Spans []*Span `json:"spans"`
		} `json:"data"`
	}
	if err := json.Unmarshal(data, &raw); err != nil {
		return fmt.Errorf("tracemodel: decode trace: %w", err)
	}
	if raw.Info == nil || raw.Data == nil {
		return errors.New(`tracemodel: decode trace: "info" and "data" are required`)
	}
	*t = Trace{Info: *raw.Info, Spans: raw.Data.Spans}
	return nil
}

// stringFields decodes the object at key snake (or camel, proto JSON's
// spelling) of m and returns a lookup of its string fields by either
// spelling; ok is false when m has no such object.
func stringFields(m map[string]json.RawMessage, snake, camel string) (pick func(snake, camel string) string, ok bool) {
	raw := m[snake]
	if raw == nil {
		raw = m[camel]
	}
	var fields map[string]string
	if raw == nil || json.Unmarshal(raw, &fields) != nil {
		return nil, false
	}
	return func(a, b string) string {
		if v := fields[a]; v != "" {
			return v
		}
		return fields[b]
	}, true
}

// members is a decoded JSON object whose fields are read under any of their
// names (proto snake_case or camelCase); a null member counts as absent.
type members map[string]json.RawMessage

// get returns the first of names that is present and not null.
func (m members) get(names ...string) json.RawMessage {
	for _, n := range names {
		if v, ok := m[n]; ok && string(v) != "null" {
			return v
		}
	}
	return nil
}

// str returns the string member of the first of names present ("" when
// none is, or it is not a string).
func (m members) str(names ...string) string {
	var s string
	if raw := m.get(names...); raw != nil {
		_ = json.Unmarshal(raw, &s)
	}
	return s
}
