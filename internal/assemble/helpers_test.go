package assemble

import (
	"time"

	"go.opentelemetry.io/otel/trace"

	"github.com/mlflowtrace/mlflowtrace-go/internal/encode"
	"github.com/mlflowtrace/mlflowtrace-go/internal/keys"
	"github.com/mlflowtrace/mlflowtrace-go/internal/tracemodel"
)

var (
	testTraceID = trace.TraceID{0x0a, 0x1b, 0x2c, 0x3d, 0x4e, 0x5f, 0x60, 0x71, 0x82, 0x93, 0xa4, 0xb5, 0xc6, 0xd7, 0xe8, 0xf9}
	testStart   = time.Date(2026, 3, 4, 5, 6, 7, 123456789, time.UTC)
)

func sid(n byte) trace.SpanID { return trace.SpanID{0, 0, 0, 0, 0, 0, 1, n} }

// mkSpan builds a finished span of the test trace; attrs values are
// JSON-encoded as package tracing stores them.
func mkSpan(id, parent byte, name string, startMs, endMs int, attrs map[string]any) *tracemodel.Span {
	s := &tracemodel.Span{
		TraceID:    testTraceID,
		SpanID:     sid(id),
		Name:       name,
		StartTime:  testStart.Add(time.Duration(startMs) * time.Millisecond),
		EndTime:    testStart.Add(time.Duration(endMs)*time.Millisecond + 777),
		Status:     tracemodel.Status{Code: tracemodel.StatusCodeOK},
		Attributes: map[string]string{},
		Scope:      keys.ScopeName,
	}
	if parent != 0 {
		s.ParentSpanID = sid(parent)
	}
	s.Attributes[keys.TraceRequestID] = encode.JSON(tracemodel.RequestID(testTraceID))
	s.Attributes[keys.SpanType] = `"UNKNOWN"`
	for k, v := range attrs {
		s.Attributes[k] = encode.JSON(v)
	}
	return s
}

func strp(s string) *string { return &s }
