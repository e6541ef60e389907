package otlpconv

import (
	"bytes"
	"fmt"
	"math"
	"strings"
	"testing"
	"time"

	"go.opentelemetry.io/otel/trace"
	coltracepb "go.opentelemetry.io/proto/otlp/collector/trace/v1"
	commonpb "go.opentelemetry.io/proto/otlp/common/v1"
	tracepb "go.opentelemetry.io/proto/otlp/trace/v1"
	"google.golang.org/protobuf/proto"

	"github.com/mlflowtrace/mlflowtrace-go/internal/tracemodel"
)

// wireSpans builds spans exercising every attribute case, events, both
// status codes, roots and children, zero and set times.
func wireSpans() []*tracemodel.Span {
	var spans []*tracemodel.Span
	now := time.Unix(1700000000, 123456789)
	for i, a := range append(attrCases, strings.Repeat("x", 200), strings.Repeat(`"y`, 70000)+`"`) {
		s := &tracemodel.Span{
			TraceID: trace.TraceID{byte(i + 1)}, SpanID: trace.SpanID{byte(i + 2)},
			Name:       fmt.Sprintf("span-%d", i),
			Attributes: map[string]string{"a": a, "mlflow.spanType": `"LLM"`, fmt.Sprintf("k%d", i): a},
		}
		switch i % 4 {
		case 0:
			s.ParentSpanID = trace.SpanID{7}
			s.StartTime, s.EndTime = now, now.Add(time.Duration(i)*time.Millisecond)
			s.Status = tracemodel.Status{Code: tracemodel.StatusCodeOK}
		case 1:
			s.Status = tracemodel.Status{Code: tracemodel.StatusCodeError, Message: "boom é"}
			s.Events = []tracemodel.Event{{Name: "exception", Time: now, Attributes: map[string]any{
				"exception.message": "m", "n": 3, "f": math.Inf(-1), "l": []any{1, "x", nil, []byte("b"), map[string]any{"q": false}},
				"z": nil, "b": true, "s": []string{"a", ""},
			}}, {Name: ""}}
		case 2:
			s.Name = ""
			s.Attributes = nil
		}
		spans = append(spans, s)
	}
	return spans
}

func TestAppendRequestMatchesProtoMarshal(t *testing.T) {
	spans := wireSpans()
	resources := [][]*commonpb.KeyValue{nil, KeyValues(map[string]any{"service.name": "svc", "telemetry.sdk.version": "1.0", "n": 0, "e": ""})}
	for ri, res := range resources {
		for _, set := range [][]*tracemodel.Span{nil, spans[:1], spans[:5], spans} {
			req := Request(set, res)
			want, err := proto.Marshal(req)
			if err != nil {
				t.Fatal(err)
			}
			got, err := AppendRequest([]byte("prefix"), req)
			if err != nil {
				t.Fatal(err)
			}
			if !bytes.Equal(got[6:], want) || string(got[:6]) != "prefix" {
				t.Errorf("resource %d, %d spans: AppendRequest differs from proto.Marshal (%d vs %d bytes)", ri, len(set), len(got)-6, len(want))
			}
		}
	}
	for i, s := range spans {
		req := Request([]*tracemodel.Span{s}, nil)
		want, _ := proto.Marshal(req)
		got, _ := AppendRequest(nil, req)
		if !bytes.Equal(got, want) {
			t.Errorf("span %d: differs at %d\n%x\n%x", i, firstDiff(got, want), got[:min(len(got), 120)], want[:min(len(want), 120)])
		}
	}
}

func TestAppendRequestFallback(t *testing.T) {
	req := Request(wireSpans()[:2], nil)
	req.ResourceSpans[0].ScopeSpans[0].Spans[0].Links = []*tracepb.Span_Link{{TraceId: []byte{1}}}
	req.ResourceSpans[0].ScopeSpans[0].Scope = &commonpb.InstrumentationScope{Name: "s"}
	want, _ := proto.Marshal(req)
	got, err := AppendRequest(nil, req)
	if err != nil || !bytes.Equal(got, want) {
		t.Errorf("fallback differs: %v", err)
	}
	if got, err := AppendRequest(nil, &coltracepb.ExportTraceServiceRequest{}); err != nil || len(got) != 0 {
		t.Errorf("empty request = %x, %v", got, err)
	}
}

func BenchmarkAppendRequest(b *testing.B) {
	req := Request(wireSpans()[:5], nil)
	b.Run("proto.Marshal", func(b *testing.B) {
		b.ReportAllocs()
		for b.Loop() {
			if _, err := proto.Marshal(req); err != nil {
				b.Fatal(err)
			}
		}
	})
	b.Run("AppendRequest", func(b *testing.B) {
		b.ReportAllocs()
		var buf []byte
		for b.Loop() {
			buf, _ = AppendRequest(buf[:0], req)
		}
	})
}

func firstDiff(a, b []byte) int {
	for i := range min(len(a), len(b)) {
		if a[i] != b[i] {
			return i
		}
	}
	return min(len(a), len(b))
}
