package otlpconv

import (
	"encoding/hex"
	"encoding/json"
	"math"
	"os"
	"path/filepath"
	"strings"
	"testing"
	"time"
	"unicode/utf8"

	"go.opentelemetry.io/otel/trace"
	commonpb "go.opentelemetry.io/proto/otlp/common/v1"
	tracepb "go.opentelemetry.io/proto/otlp/trace/v1"
	"google.golang.org/protobuf/proto"

	"github.com/mlflowtrace/mlflowtrace-go/internal/pyenv"
	"github.com/mlflowtrace/mlflowtrace-go/internal/tracemodel"
)

var attrCases = []string{
	``, `null`, `true`, `false`, `0`, `-0`, `42`, `-7`, `9223372036854775807`, `-9223372036854775808`,
	`1.0`, `-0.0`, `1e5`, `1E-3`, `2.5e+10`, `1e400`, `-1e400`, `1e-400`, `3.141592653589793`,
	`NaN`, `Infinity`, `-Infinity`,
	`"LLM"`, `""`, `"a \"quoted\" word"`, `"line\nbreak\ttab\\slash\/"`, `"\u00e9t\u00e9 日本語 🎉"`,
	`"\ud83c\udf89"`, `"\ud800"`, `"\udc00x"`, `"\ud800\u0041"`, `"nul\u0000byte"`,
	`[]`, `{}`, `[1,"two",3.0,true,null,[],{}]`, `{"a":1,"b":{"c":[1,2,{"d":null}]}}`,
	`{"z":1,"a":2,"z":3}`, ` {"k" : "v"} `, `{"messages":[{"role":"user","content":"Hi"}]}`,
	`{"input_tokens":10,"output_tokens":20,"total_tokens":30}`,
	// Not JSON: sent as the raw string.
	`plain text`, `{"a":}`, `[1,]`, `01`, `1.`, `.5`, `+1`, `"unterminated`, `tru`, `{"a":1}}`,
	"\"raw\ttab\"", `'single'`, `nan`, `"bad \x escape"`, `["\u12"]`,
	strings.Repeat("[", 50) + strings.Repeat("]", 50),
	strings.Repeat("[", 5000) + strings.Repeat("]", 5000),
	`{"big":123456789012345678901234567890}`,
}

func TestAttributeValueTable(t *testing.T) {
	sv := func(s string) *commonpb.AnyValue { return stringValue(s) }
	iv := func(n int64) *commonpb.AnyValue { return intValue(n) }
	for _, tc := range []struct {
		in   string
		want *commonpb.AnyValue
	}{
		{``, &commonpb.AnyValue{}},
		{`null`, &commonpb.AnyValue{}},
		{`"LLM"`, sv("LLM")},
		{`"a\nb"`, sv("a\nb")},
		{`"\ud800"`, sv("?")},
		{`"\ud83c\udf89"`, sv("🎉")},
		{`42`, iv(42)},
		{`1.0`, doubleValue(1)},
		{`123456789012345678901234567890`, doubleValue(1.2345678901234568e29)},
		{`plain text`, sv("plain text")},
		{`[1,"x"]`, &commonpb.AnyValue{Value: &commonpb.AnyValue_ArrayValue{ArrayValue: &commonpb.ArrayValue{Values: []*commonpb.AnyValue{iv(1), sv("x")}}}}},
		{`{"z":1,"a":2,"z":3}`, &commonpb.AnyValue{Value: &commonpb.AnyValue_KvlistValue{KvlistValue: &commonpb.KeyValueList{Values: []*commonpb.KeyValue{
			{Key: "z", Value: iv(3)}, {Key: "a", Value: iv(2)},
		}}}}},
		{"\"\xff\"", sv("\uFFFD")},
	} {
		got := AttributeValue(tc.in)
		if !proto.Equal(got, tc.want) {
			t.Errorf("AttributeValue(%q) = %v, want %v", tc.in, got, tc.want)
		}
	}
	if v := AttributeValue(`NaN`); !math.IsNaN(v.GetDoubleValue()) {
		t.Errorf("NaN = %v", v)
	}
}

// TestAttributeValueMatchesPython compares our AnyValue bytes with what
// MLflow's own client builds for the same attribute string.
func TestAttributeValueMatchesPython(t *testing.T) {
	py := pyenv.Python(t)
	in := filepath.Join(t.TempDir(), "cases.json")
	b, _ := json.Marshal(attrCases)
	if err := os.WriteFile(in, b, 0o600); err != nil {
		t.Fatal(err)
	}
	out := pyenv.Run(t, py, `
import json, sys
from opentelemetry.proto.common.v1.common_pb2 import AnyValue
from mlflow.entities.span import _SpanAttributesRegistry
from mlflow.tracing.utils.otlp import _set_otel_proto_anyvalue
class FakeSpan:
    def __init__(self, v): self.attributes = {"k": v}
res = []
for s in json.load(open(sys.argv[1])):
    v = _SpanAttributesRegistry(FakeSpan(s)).get("k")
    a = AnyValue()
    try:
        _set_otel_proto_anyvalue(a, v)
        res.append(a.SerializeToString(deterministic=True).hex())
    except Exception as e:
        res.append("ERR " + type(e).__name__)
print(json.dumps(res))
`, in)
	var want []string
	if err := json.Unmarshal(out, &want); err != nil || len(want) != len(attrCases) {
		t.Fatalf("python output %q: %v", out, err)
	}
	for i, s := range attrCases {
		got, err := proto.MarshalOptions{Deterministic: true}.Marshal(AttributeValue(s))
		if err != nil {
			t.Errorf("%q: marshal: %v", s, err)
			continue
		}
		if strings.HasPrefix(want[i], "ERR") {
			t.Logf("%.40q: python fails (%s); we send %v", s, want[i], AttributeValue(s))
			continue
		}
		if hex.EncodeToString(got) != want[i] {
			t.Errorf("%.60q:\n go %x\n py %s", s, got, want[i])
		}
	}
}

func TestSpan(t *testing.T) {
	tid := trace.TraceID{1, 2, 3, 4, 5, 6, 7, 8, 9, 10, 11, 12, 13, 14, 15, 16}
	start := time.Unix(1700000000, 123)
	s := &tracemodel.Span{
		TraceID: tid, SpanID: trace.SpanID{1, 1, 1, 1, 1, 1, 1, 1}, ParentSpanID: trace.SpanID{2, 2, 2, 2, 2, 2, 2, 2},
		Name: "child", StartTime: start, EndTime: start.Add(time.Second),
		Status: tracemodel.Status{Code: tracemodel.StatusCodeError, Message: "ValueError: boom"},
		Attributes: map[string]string{
			"mlflow.traceRequestId": `"tr-0102"`, "mlflow.spanType": `"LLM"`, "mlflow.spanInputs": `{"q":1}`,
		},
		Events: []tracemodel.Event{{Name: "exception", Time: start, Attributes: map[string]any{"exception.message": "boom", "n": int64(3), "l": []string{"a"}}}},
	}
	ps := Span(s)
	if string(ps.TraceId) != string(tid[:]) || len(ps.ParentSpanId) != 8 || ps.Name != "child" ||
		ps.StartTimeUnixNano != uint64(start.UnixNano()) || ps.EndTimeUnixNano != uint64(start.Add(time.Second).UnixNano()) ||
		ps.Status.Code != tracepb.Status_STATUS_CODE_ERROR || ps.Status.Message != "ValueError: boom" {
		t.Errorf("span = %v", ps)
	}
	if len(ps.Attributes) != 3 || ps.Attributes[0].Key != "mlflow.spanInputs" || ps.Attributes[1].Value.GetStringValue() != "LLM" {
		t.Errorf("attributes = %v", ps.Attributes)
	}
	ev := ps.Events[0]
	if ev.Name != "exception" || len(ev.Attributes) != 3 || ev.Attributes[0].Key != "exception.message" ||
		ev.Attributes[2].Value.GetIntValue() != 3 || ev.Attributes[1].Value.GetArrayValue() == nil {
		t.Errorf("event = %v", ev)
	}
	root := Span(&tracemodel.Span{TraceID: tid, SpanID: trace.SpanID{9}})
	if root.ParentSpanId != nil || root.Status.Code != tracepb.Status_STATUS_CODE_UNSET {
		t.Errorf("root = %v", root)
	}
	req := Request([]*tracemodel.Span{s, nil}, []*commonpb.KeyValue{{Key: "service.name", Value: stringValue("x")}})
	if len(req.ResourceSpans) != 1 || len(req.ResourceSpans[0].ScopeSpans[0].Spans) != 1 ||
		req.ResourceSpans[0].Resource.Attributes[0].Key != "service.name" || req.ResourceSpans[0].ScopeSpans[0].Scope != nil {
		t.Errorf("request = %v", req)
	}
	if _, err := proto.Marshal(req); err != nil {
		t.Fatal(err)
	}
}

type badStringer struct{}

func (badStringer) String() string { panic("no") }

type myInt int16

func TestValue(t *testing.T) {
	for _, tc := range []struct {
		in   any
		want *commonpb.AnyValue
	}{
		{nil, &commonpb.AnyValue{}},
		{"s", stringValue("s")},
		{3, intValue(3)},
		{myInt(4), intValue(4)},
		{uint64(math.MaxUint64), doubleValue(float64(uint64(math.MaxUint64)))},
		{2.5, doubleValue(2.5)},
		{[]int64{1}, &commonpb.AnyValue{Value: &commonpb.AnyValue_ArrayValue{ArrayValue: &commonpb.ArrayValue{Values: []*commonpb.AnyValue{intValue(1)}}}}},
		{badStringer{}, stringValue("<String() panicked>")},
		{map[string]any{"a": true}, &commonpb.AnyValue{Value: &commonpb.AnyValue_KvlistValue{KvlistValue: &commonpb.KeyValueList{Values: []*commonpb.KeyValue{
			{Key: "a", Value: &commonpb.AnyValue{Value: &commonpb.AnyValue_BoolValue{BoolValue: true}}}}}}}},
	} {
		if got := Value(tc.in); !proto.Equal(got, tc.want) {
			t.Errorf("Value(%#v) = %v, want %v", tc.in, got, tc.want)
		}
	}
}

func FuzzAttributeValue(f *testing.F) {
	for _, s := range attrCases {
		f.Add(s)
	}
	f.Fuzz(func(t *testing.T, s string) {
		v := AttributeValue(s) // never panics
		if _, err := proto.Marshal(v); err != nil {
			t.Fatalf("marshal %q: %v", s, err)
		}
		_, ok := parse(s)
		hasPyLiteral := strings.Contains(s, "NaN") || strings.Contains(s, "Infinity")
		deep := strings.Count(s, "[")+strings.Count(s, "{") > maxDepth
		if json.Valid([]byte(s)) && !ok && !deep {
			t.Fatalf("valid JSON %q rejected", s)
		}
		if ok && !json.Valid([]byte(s)) && !hasPyLiteral {
			t.Fatalf("invalid JSON %q accepted", s)
		}
		if ok && json.Valid([]byte(s)) && !strings.ContainsAny(s, ".eE") {
			// Compare structure with encoding/json for plain values.
			var x any
			d := json.NewDecoder(strings.NewReader(s))
			d.UseNumber()
			if d.Decode(&x) == nil {
				if n, isNum := x.(json.Number); isNum {
					if i, err := n.Int64(); err == nil && v.GetIntValue() != i {
						t.Fatalf("%q: int %d, got %v", s, i, v)
					}
				}
				if str, isStr := x.(string); isStr && !strings.Contains(s, `\u`) && utf8.ValidString(s) && v.GetStringValue() != str {
					t.Fatalf("%q: string %q, got %q", s, str, v.GetStringValue())
				}
			}
		}
	})
}

// benchLLMSpan is an LLM-like span (chat inputs and outputs, token usage)
// for the benchmarks.
func benchLLMSpan(id byte) *tracemodel.Span {
	return &tracemodel.Span{
		TraceID: trace.TraceID{1}, SpanID: trace.SpanID{id}, Name: "llm", StartTime: time.Now(), EndTime: time.Now(),
		Attributes: map[string]string{
			"mlflow.traceRequestId":  `"tr-01000000000000000000000000000000"`,
			"mlflow.spanType":        `"CHAT_MODEL"`,
			"mlflow.spanInputs":      `{"messages":[{"role":"system","content":"You are helpful."},{"role":"user","content":"What is MLflow?"}],"model":"gpt-4o"}`,
			"mlflow.spanOutputs":     `{"choices":[{"index":0,"message":{"role":"assistant","content":"MLflow is an open source platform."}}]}`,
			"mlflow.chat.tokenUsage": `{"input_tokens":12,"output_tokens":9,"total_tokens":21}`,
		},
	}
}

func BenchmarkSpan(b *testing.B) {
	s := benchLLMSpan(1)
	b.ReportAllocs()
	for b.Loop() {
		if _, err := proto.Marshal(Span(s)); err != nil {
			b.Fatal(err)
		}
	}
}
