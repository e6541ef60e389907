package exporter

import (
	"strings"
	"testing"

	"go.opentelemetry.io/otel/trace"

	"github.com/mlflowtrace/mlflowtrace-go/internal/tracemodel"
)

// TestSpoolRecordSpansStored: a record (a dead letter) says how many of its
// trace's span rows are stored: the old boolean for all of them, which
// earlier versions read too, a count for some.
func TestSpoolRecordSpansStored(t *testing.T) {
	tr := &Trace{Info: tracemodel.TraceInfo{TraceID: "tr-" + strings.Repeat("ab", 16), State: tracemodel.StateOK}}
	for i := range 3 {
		tr.Spans = append(tr.Spans, &tracemodel.Span{TraceID: trace.TraceID{0xab}, SpanID: trace.SpanID{byte(i + 1)}, Name: "s"})
	}
	record := func(field string) []byte {
		b := encodeRecord(tr, 0)
		return append(b[:len(b)-1], ", "+field+"}"...)
	}
	for _, tc := range []struct {
		name      string
		data      []byte
		want      int
		wantField string // in what encodeRecord writes for want
	}{
		{"none", encodeRecord(tr, 0), 0, ""},
		{"some", encodeRecord(tr, 2), 2, `"mlflowtrace.spans_stored_count": 2`},
		{"all", encodeRecord(tr, 3), 3, `"mlflowtrace.spans_stored": true`},
		{"all, written by an earlier version", record(`"mlflowtrace.spans_stored": true`), 3, `"mlflowtrace.spans_stored": true`},
		{"a count above the spans", record(`"mlflowtrace.spans_stored_count": 9`), 3, `"mlflowtrace.spans_stored": true`},
		{"a negative count", record(`"mlflowtrace.spans_stored_count": -1`), 0, ""},
	} {
		t.Run(tc.name, func(t *testing.T) {
			got, stored, err := decodeRecord(tc.data)
			if err != nil {
				t.Fatal(err)
			}
			if stored != tc.want || len(got.Spans) != 3 {
				t.Errorf("%d spans, %d stored, want 3 spans, %d stored", len(got.Spans), stored, tc.want)
			}
			again := string(encodeRecord(got, stored))
			if tc.wantField != "" && !strings.Contains(again, tc.wantField) || tc.wantField == "" && strings.Contains(again, "mlflowtrace.spans_stored") {
				t.Errorf("encoded again: %s, want %q", again, tc.wantField)
			}
		})
	}
}
