package otlpconv

import (
	"bytes"
	"strconv"
	"strings"
	"testing"

	"go.opentelemetry.io/otel/trace"
	commonpb "go.opentelemetry.io/proto/otlp/common/v1"

	"github.com/mlflowtrace/mlflowtrace-go/internal/tracemodel"
)

// directCases are attribute values whose direct writing has its own
// branches: repeated keys (the message path), nulls where they are written
// and where they are left out, nesting at and past the limit.
var directCases = []string{
	`{"a":1,"a":2}`, `{"x":{"a":1,"b":2,"a":3},"y":[1]}`, `[{"k":1,"k":null}]`, `{"":1,"e":""}`,
	`[null,{"k":null},[]]`, `{"n":null}`, ` null `, `[[],{}]`, `{"k\u00e9":"\ud800x","k\u00e9":1}`,
	bigObject(40, false), bigObject(40, true),
	strings.Repeat("[", maxDepth) + strings.Repeat("]", maxDepth),
	strings.Repeat("[", maxDepth+1) + strings.Repeat("]", maxDepth+1),
	strings.Repeat(`{"a":`, maxDepth) + "1" + strings.Repeat("}", maxDepth),
	"[true,false,-0,1e400,-1e400,1e-400,9223372036854775808,NaN,-Infinity]",
	"\"\xff\"", "{\"\xfe\":\"\xff\"}",
}

func bigObject(n int, repeat bool) string {
	var b strings.Builder
	b.WriteByte('{')
	for i := range n {
		if i > 0 {
			b.WriteByte(',')
		}
		k := i
		if repeat && i == n-1 {
			k = 3
		}
		b.WriteString(`"k` + strconv.Itoa(k) + `":` + strconv.Itoa(i))
	}
	b.WriteByte('}')
	return b.String()
}

func TestAppendSpansMatchesAppendRequest(t *testing.T) {
	spans := wireSpans()
	for i, v := range directCases {
		spans = append(spans, &tracemodel.Span{TraceID: trace.TraceID{9}, SpanID: trace.SpanID{byte(i)},
			Attributes: map[string]string{"v": v, "w": `"plain"`}})
	}
	spans = append(spans, nil)
	resources := [][]*commonpb.KeyValue{nil, KeyValues(map[string]any{"service.name": "svc", "n": 0, "e": ""})}
	for ri, res := range resources {
		for _, set := range [][]*tracemodel.Span{nil, spans[:1], spans} {
			want, err := AppendRequest([]byte("prefix"), Request(set, res))
			if err != nil {
				t.Fatal(err)
			}
			if got := AppendSpans([]byte("prefix"), set, res); !bytes.Equal(got, want) {
				t.Errorf("resource %d, %d spans: AppendSpans differs from AppendRequest at byte %d of %d/%d",
					ri, len(set), firstDiff(got, want), len(got), len(want))
			}
		}
	}
}

func FuzzAppendSpans(f *testing.F) {
	for _, s := range append(append([]string{}, attrCases...), directCases...) {
		f.Add("k", s)
	}
	f.Fuzz(func(t *testing.T, key, value string) {
		set := []*tracemodel.Span{{TraceID: trace.TraceID{1}, SpanID: trace.SpanID{2}, Name: key,
			Attributes: map[string]string{key: value, "z" + key: value}}}
		want, err := AppendRequest(nil, Request(set, nil))
		if err != nil {
			t.Fatal(err)
		}
		if got := AppendSpans(nil, set, nil); !bytes.Equal(got, want) {
			t.Fatalf("%q=%q: AppendSpans differs from AppendRequest at byte %d", key, value, firstDiff(got, want))
		}
	})
}

// BenchmarkAppendSpans compares the direct writer with building the
// request's messages and writing them (AppendRequest(Request)), for a trace
// of six LLM-like spans.
func BenchmarkAppendSpans(b *testing.B) {
	var spans []*tracemodel.Span
	for i := range 6 {
		spans = append(spans, benchLLMSpan(byte(i+1)))
	}
	buf := make([]byte, 0, 64<<10)
	b.Run("AppendSpans", func(b *testing.B) {
		b.ReportAllocs()
		for b.Loop() {
			buf = AppendSpans(buf[:0], spans, nil)
		}
	})
	b.Run("AppendRequest(Request)", func(b *testing.B) {
		b.ReportAllocs()
		for b.Loop() {
			buf, _ = AppendRequest(buf[:0], Request(spans, nil))
		}
	})
}
