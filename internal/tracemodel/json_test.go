package tracemodel

import (
	"encoding/json"
	"fmt"
	"reflect"
	"strings"
	"sync"
	"testing"
	"time"

	"go.opentelemetry.io/otel/trace"

	"github.com/mlflowtrace/mlflowtrace-go/internal/encode"
)

var (
	tid = trace.TraceID{0x0a, 0x1b, 0x2c, 0x3d, 0x4e, 0x5f, 0x60, 0x71, 0x82, 0x93, 0xa4, 0xb5, 0xc6, 0xd7, 0xe8, 0xf9}
	sp1 = trace.SpanID{1, 2, 3, 4, 5, 6, 7, 8}
	sp2 = trace.SpanID{0, 0, 0, 0, 0, 0, 0, 9}
)

func TestSpanJSON(t *testing.T) {
	start := time.Unix(0, 1700000000123456789)
	s := &Span{
		TraceID: tid, SpanID: sp2, ParentSpanID: sp1, Name: "n", StartTime: start, EndTime: start.Add(5),
		Status:     Status{Code: StatusCodeError, Message: "E: x"},
		Events:     []Event{{Name: "exception", Time: start.Add(1), Attributes: map[string]any{"exception.type": "E", "n": int64(2)}}},
		Attributes: map[string]string{"mlflow.traceRequestId": `"tr-0a1b2c3d4e5f60718293a4b5c6d7e8f9"`, "mlflow.spanType": `"LLM"`},
		Links:      []Link{{TraceID: tid, SpanID: sp1}},
	}
	b, err := s.MarshalJSON()
	if err != nil {
		t.Fatal(err)
	}
	want := `{"trace_id": "ChssPU5fYHGCk6S1xtfo+Q==", "span_id": "AAAAAAAAAAk=", "parent_span_id": "AQIDBAUGBwg=", "name": "n", ` +
		`"start_time_unix_nano": 1700000000123456789, "end_time_unix_nano": 1700000000123456794, ` +
		`"events": [{"name": "exception", "time_unix_nano": 1700000000123456790, "attributes": {"exception.type": "E", "n": 2}}], ` +
		`"status": {"code": "STATUS_CODE_ERROR", "message": "E: x"}, ` +
		`"attributes": {"mlflow.spanType": "\"LLM\"", "mlflow.traceRequestId": "\"tr-0a1b2c3d4e5f60718293a4b5c6d7e8f9\""}, ` +
		`"links": [{"trace_id": "tr-0a1b2c3d4e5f60718293a4b5c6d7e8f9", "span_id": "0102030405060708", "attributes": null}]}`
	if string(b) != want {
		t.Fatalf("got\n%s\nwant\n%s", b, want)
	}
	// Root and open span.
	root := &Span{TraceID: tid, SpanID: sp1, Name: "r", StartTime: start}
	b, _ = json.Marshal(root)
	if !strings.Contains(string(b), `"parent_span_id":null`) || !strings.Contains(string(b), `"end_time_unix_nano":null`) ||
		!strings.Contains(string(b), `"STATUS_CODE_UNSET"`) || !strings.Contains(string(b), `"attributes":{}`) {
		t.Fatalf("root form: %s", b)
	}
	data, _ := MarshalTraceData([]*Span{s, root})
	var back struct{ Spans []*Span }
	if err := json.Unmarshal(data, &back); err != nil {
		t.Fatal(err)
	}
	again, _ := MarshalTraceData(back.Spans)
	if string(again) != string(data) {
		t.Fatalf("round trip\n%s\n%s", again, data)
	}
	if empty, _ := MarshalTraceData(nil); string(empty) != `{"spans": []}` {
		t.Fatalf("empty: %s", empty)
	}
}

func TestSpanUnmarshalVariants(t *testing.T) {
	in := `{"trace_id": "tr-0a1b2c3d4e5f60718293a4b5c6d7e8f9", "span_id": "0000000000000009", "parent_span_id": "",
		"name": "x", "start_time_unix_nano": "100", "end_time_unix_nano": 200,
		"status": {"code": "OK", "message": ""}, "events": [{"name": "e", "time_unix_nano": 150, "attributes": {"a": 1.5, "b": [1, 2]}}],
		"attributes": {"s": "\"v\"", "n": 3}}`
	var s Span
	if err := json.Unmarshal([]byte(in), &s); err != nil {
		t.Fatal(err)
	}
	if s.TraceID != tid || s.SpanID != sp2 || s.ParentSpanID.IsValid() || s.Status.Code != StatusCodeOK ||
		s.StartTime.UnixNano() != 100 || s.EndTime.UnixNano() != 200 || s.Attributes["s"] != `"v"` || s.Attributes["n"] != "3" {
		t.Fatalf("bad parse %+v", s)
	}
	if s.Events[0].Attributes["a"] != 1.5 || s.Events[0].Attributes["b"].([]any)[0] != int64(1) {
		t.Fatalf("event attrs %+v", s.Events[0].Attributes)
	}
	for _, bad := range []string{`{"trace_id": "!!", "span_id": "AAAAAAAAAAk="}`, `{"trace_id": "", "span_id": ""}`, `{`} {
		if err := json.Unmarshal([]byte(bad), &s); err == nil {
			t.Errorf("no error for %s", bad)
		}
	}
}

func TestTraceInfoJSON(t *testing.T) {
	ti := &TraceInfo{
		TraceID: "tr-0a1b", ClientRequestID: "c", ExperimentID: "5", RequestPreview: "q", ResponsePreview: "a",
		RequestTime:       time.Date(2026, 1, 1, 0, 0, 0, 123000000, time.UTC),
		ExecutionDuration: 1250 * time.Millisecond, State: StateOK,
		Metadata: map[string]string{"b": "2", "a": "1"}, Tags: map[string]string{"mlflow.traceName": "root"},
	}
	b, _ := ti.MarshalJSON()
	want := `{"trace_id": "tr-0a1b", "client_request_id": "c", "trace_location": {"type": "MLFLOW_EXPERIMENT", "mlflow_experiment": {"experiment_id": "5"}}, ` +
		`"request_preview": "q", "response_preview": "a", "request_time": "2026-01-01T00:00:00.123Z", "execution_duration": "1.250s", "state": "OK", ` +
		`"trace_metadata": {"a": "1", "b": "2"}, "tags": {"mlflow.traceName": "root"}}`
	if string(b) != want {
		t.Fatalf("got\n%s\nwant\n%s", b, want)
	}
	var back TraceInfo
	if err := json.Unmarshal(b, &back); err != nil {
		t.Fatal(err)
	}
	if back.TraceID != ti.TraceID || back.ExperimentID != "5" || !back.RequestTime.Equal(ti.RequestTime) ||
		back.ExecutionDuration != ti.ExecutionDuration || back.Metadata["b"] != "2" || back.Tags["mlflow.traceName"] != "root" || back.ClientRequestID != "c" {
		t.Fatalf("round trip %+v", back)
	}
	min := &TraceInfo{TraceID: "tr-1", RequestTime: time.Unix(1700000000, 0), State: StateError}
	b, _ = min.MarshalJSON()
	if string(b) != `{"trace_id": "tr-1", "trace_location": {"type": "MLFLOW_EXPERIMENT", "mlflow_experiment": {"experiment_id": ""}}, "request_time": "2023-11-14T22:13:20Z", "execution_duration": "0s", "state": "ERROR"}` {
		t.Fatalf("minimal: %s", b)
	}
}

func TestProtoTimeFormats(t *testing.T) {
	for _, c := range []struct {
		d    time.Duration
		want string
	}{{0, "0s"}, {2 * time.Second, "2s"}, {1250 * time.Millisecond, "1.250s"}, {1000001, "0.001000001s"}, {1500 * time.Microsecond, "0.001500s"}, {-1500 * time.Millisecond, "-1.500s"}} {
		if got := string(AppendDuration(nil, c.d)); got != c.want {
			t.Errorf("duration %v = %s, want %s", c.d, got, c.want)
		}
	}
	if got := string(AppendTimestamp(nil, time.Unix(0, 1700000000000001000))); got != "2023-11-14T22:13:20.000001Z" {
		t.Errorf("timestamp %s", got)
	}
}

// TestSizesShareScratchBuffers: SpanSize and TraceInfoSize measure in pooled
// buffers; concurrent calls on spans of very different sizes (one beyond
// the pooled limit) give the sizes of the JSON MarshalTraceData writes.
func TestSizesShareScratchBuffers(t *testing.T) {
	var spans []*Span
	for _, n := range []int{0, 10, 9000, 600 << 10, 3} {
		spans = append(spans, &Span{TraceID: tid, SpanID: sp1, Name: "s", StartTime: time.Unix(1, 0), EndTime: time.Unix(2, 0),
			Attributes: map[string]string{"mlflow.spanInputs": `"` + strings.Repeat("é", n) + `"`}})
	}
	want := make([]int, len(spans))
	for i, s := range spans {
		b, err := MarshalTraceData([]*Span{s})
		if err != nil {
			t.Fatal(err)
		}
		want[i] = encode.ASCIILen(b) - len(`{"spans": []}`)
	}
	info := &TraceInfo{TraceID: "tr-1", ExperimentID: "0", Metadata: map[string]string{"k": "v"}}
	wantInfo := TraceInfoSize(info)
	var wg sync.WaitGroup
	for range 4 {
		wg.Add(1)
		go func() {
			defer wg.Done()
			for range 5 {
				for i, s := range spans {
					if got := SpanSize(s); got != want[i] {
						t.Errorf("SpanSize(span %d) = %d, want %d", i, got, want[i])
						return
					}
				}
				if got := TraceInfoSize(info); got != wantInfo {
					t.Errorf("TraceInfoSize = %d, want %d", got, wantInfo)
					return
				}
			}
		}()
	}
	wg.Wait()
}

// TraceInfoSize measures the maps without writing them: it must equal the
// length of the written, ASCII-escaped Trace.to_dict() without spans, for
// every kind of character Python escapes.
func TestTraceInfoSizeEqualsWrittenLength(t *testing.T) {
	values := []string{"", "v", `say "hi"\`, "tab\there\n", "\x00\x1f\x7f", "é", "日本語", "😀 emoji", "\xff\xfe invalid",
		strings.Repeat("a", 9), strings.Repeat("é", 1000), `{"messages": [{"role": "user", "content": "Ünïcödé"}]}`}
	for i, v := range values {
		for _, n := range []int{0, 1, 3} {
			info := &TraceInfo{TraceID: "tr-1", ExperimentID: "0", RequestTime: time.Unix(1700000000, 123456789),
				ExecutionDuration: 1500 * time.Millisecond, ClientRequestID: v}
			if n > 0 {
				info.Metadata, info.Tags = map[string]string{}, map[string]string{}
				for j := range n {
					info.Metadata[fmt.Sprintf("k%d%s", j, v)] = v + strings.Repeat("x", j)
					info.Tags[fmt.Sprintf("t%d", j)] = v
				}
			}
			want := encode.ASCIILen(appendTraceDict(nil, info, nil))
			if got := TraceInfoSize(info); got != want {
				t.Errorf("value %d, %d entries: TraceInfoSize = %d, want %d", i, n, got, want)
			}
		}
	}
}

func BenchmarkMarshalTraceData(b *testing.B) {
	spans := make([]*Span, 20)
	for i := range spans {
		spans[i] = &Span{TraceID: tid, SpanID: sp1, ParentSpanID: sp2, Name: "span", StartTime: time.Unix(1, 0), EndTime: time.Unix(2, 0),
			Attributes: map[string]string{"mlflow.spanInputs": `{"messages": [{"role": "user", "content": "hi"}]}`, "mlflow.spanType": `"LLM"`}}
	}
	b.ReportAllocs()
	for b.Loop() {
		_, _ = MarshalTraceData(spans)
	}
}

// TestTraceInfoUCLocations: the two Unity Catalog trace locations write and
// read back as MLflow's v4 TraceInfo has them.
func TestTraceInfoUCLocations(t *testing.T) {
	tests := []struct {
		name string
		info TraceInfo
		want string
	}{
		{
			name: "UC schema",
			info: TraceInfo{UCSchema: &UCSchemaLocation{CatalogName: "main", SchemaName: "agents",
				OTelSpansTableName: "mlflow_experiment_trace_otel_spans", OTelLogsTableName: "mlflow_experiment_trace_otel_logs"}},
			want: `"trace_location": {"type": "UC_SCHEMA", "uc_schema": {"catalog_name": "main", "schema_name": "agents", "otel_spans_table_name": "mlflow_experiment_trace_otel_spans", "otel_logs_table_name": "mlflow_experiment_trace_otel_logs"}}`,
		},
		{
			name: "UC table prefix",
			info: TraceInfo{UCTablePrefix: &UCTablePrefixLocation{CatalogName: "main", SchemaName: "agents", TablePrefix: "prod",
				SpansTableName: "main.agents.prod_otel_spans"}},
			want: `"trace_location": {"type": "UC_TABLE_PREFIX", "uc_table_prefix": {"catalog_name": "main", "schema_name": "agents", "table_prefix": "prod", "spans_table_name": "main.agents.prod_otel_spans"}}`,
		},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			ti := tt.info
			ti.TraceID = "0123456789abcdef0123456789abcdef"
			ti.RequestTime = time.Date(2026, 1, 2, 3, 4, 5, 6e6, time.UTC)
			ti.State = StateOK
			ti.Metadata = map[string]string{"mlflow.trace_schema.version": "4"}
			b, err := ti.MarshalJSON()
			if err != nil {
				t.Fatal(err)
			}
			if !strings.Contains(string(b), tt.want) {
				t.Errorf("JSON = %s", b)
			}
			var back TraceInfo
			if err := back.UnmarshalJSON(b); err != nil {
				t.Fatal(err)
			}
			if !reflect.DeepEqual(back.UCSchema, ti.UCSchema) || !reflect.DeepEqual(back.UCTablePrefix, ti.UCTablePrefix) || back.ExperimentID != "" {
				t.Errorf("round trip: %+v %+v", back.UCSchema, back.UCTablePrefix)
			}
		})
	}
	if got := (&UCTablePrefixLocation{CatalogName: "main", SchemaName: "agents", TablePrefix: "prod"}).Location(); got != "main.agents.prod" {
		t.Errorf("Location() = %q", got)
	}
}

// SpanSize counts the attribute values instead of writing them: the same
// length as the ensure_ascii JSON of the span, whatever the values hold.
func TestSpanSizeCountsAttributeValues(t *testing.T) {
	for _, v := range []string{``, `{"q": "a \"quoted\" word", "k": [1, 2]}`, "tab\there\\back", "del\x7f é 😀 \xff", strings.Repeat(`{"m": "x"}`, 300)} {
		s := &Span{TraceID: tid, SpanID: sp1, Name: "s", StartTime: time.Unix(1, 0), EndTime: time.Unix(2, 0),
			Attributes: map[string]string{"mlflow.spanInputs": v, "k2": v + v}}
		b, err := MarshalTraceData([]*Span{s})
		if err != nil {
			t.Fatal(err)
		}
		if got, want := SpanSize(s), encode.ASCIILen(b)-len(`{"spans": []}`); got != want {
			t.Errorf("SpanSize with %q = %d, want %d", v, got, want)
		}
	}
}
