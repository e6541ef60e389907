package assemble

import (
	"context"
	"strings"
	"testing"
	"time"

	"go.opentelemetry.io/otel/attribute"
	"go.opentelemetry.io/otel/codes"
	sdktrace "go.opentelemetry.io/otel/sdk/trace"
	"go.opentelemetry.io/otel/sdk/trace/tracetest"
	"go.opentelemetry.io/otel/trace"

	"github.com/mlflowtrace/mlflowtrace-go/internal/keys"
	"github.com/mlflowtrace/mlflowtrace-go/internal/tracemodel"
)

func TestBuildStateTagsMetadata(t *testing.T) {
	root := mkSpan(1, 0, "root", 0, 1250, map[string]any{keys.SpanInputs: "q", keys.SpanOutputs: "a"})
	child := mkSpan(2, 1, "child", 5, 10, nil)
	errRoot := mkSpan(1, 0, "root", 0, 10, nil)
	errRoot.Status.Code = tracemodel.StatusCodeError
	unset := mkSpan(1, 0, "root", 0, 10, nil)
	unset.Status.Code = tracemodel.StatusCodeUnset
	tests := []struct {
		name  string
		root  *tracemodel.Span
		upd   *tracemodel.TraceUpdate
		state string
	}{
		{"ok", root, nil, tracemodel.StateOK},
		{"unset is ok", unset, nil, tracemodel.StateOK},
		{"error", errRoot, nil, tracemodel.StateError},
		{"update wins", errRoot, &tracemodel.TraceUpdate{State: tracemodel.StateOK}, tracemodel.StateOK},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			tr := Build(tt.root, []*tracemodel.Span{child, tt.root}, tt.upd, Options{})
			if tr.Info.State != tt.state {
				t.Errorf("state %s, want %s", tr.Info.State, tt.state)
			}
			if tr.Spans[0] != tt.root || len(tr.Spans) != 2 {
				t.Errorf("root not first or wrong span count")
			}
		})
	}

	upd := &tracemodel.TraceUpdate{
		Tags:            map[string]string{strings.Repeat("k", 300): strings.Repeat("v", 5000), "t": "1"},
		Metadata:        map[string]string{"m": strings.Repeat("é", 300), keys.MetaSourceName: "override"},
		ClientRequestID: "c-1",
		RequestPreview:  strp(strings.Repeat("p", 2000)),
		ResponsePreview: strp(""), // empty: derived, as in MLflow
	}
	tr := Build(root, []*tracemodel.Span{root, child}, upd, Options{
		PreviewMaxChars: 100, Metadata: map[string]string{keys.MetaSourceName: "./bin", keys.MetaMLflowUser: "u"}, ExperimentID: "7",
	})
	info := tr.Info
	checks := map[string][2]string{
		"trace id":      {info.TraceID, "tr-0a1b2c3d4e5f60718293a4b5c6d7e8f9"},
		"experiment":    {info.ExperimentID, "7"},
		"client req":    {info.ClientRequestID, "c-1"},
		"traceName":     {info.Tags[keys.TagTraceName], "root"},
		"tag t":         {info.Tags["t"], "1"},
		"tag long":      {info.Tags[strings.Repeat("k", 250)], strings.Repeat("v", 4096)},
		"meta m":        {info.Metadata["m"], strings.Repeat("é", 250)},
		"meta override": {info.Metadata[keys.MetaSourceName], "override"},
		"meta user":     {info.Metadata[keys.MetaMLflowUser], "u"},
		"schema":        {info.Metadata[keys.MetaSchemaVersion], "3"},
		"inputs":        {info.Metadata[keys.MetaTraceInputs], `"q"`},
		"outputs":       {info.Metadata[keys.MetaTraceOutputs], `"a"`},
		"req preview":   {info.RequestPreview, strings.Repeat("p", 97) + "..."},
		"resp preview":  {info.ResponsePreview, `"a"`},
	}
	for name, c := range checks {
		if c[0] != c[1] {
			t.Errorf("%s = %.80q, want %.80q", name, c[0], c[1])
		}
	}
	if want := testStart.Truncate(time.Millisecond); !info.RequestTime.Equal(want) {
		t.Errorf("request time %v, want %v", info.RequestTime, want)
	}
	if info.ExecutionDuration != 1250*time.Millisecond {
		t.Errorf("duration %v", info.ExecutionDuration)
	}
	if _, ok := info.Metadata[keys.MetaTokenUsage]; ok {
		t.Error("token usage without usage attributes")
	}
	if info.Metadata[keys.MetaSizeBytes] == "" || !strings.Contains(info.Metadata[keys.MetaSizeStats], `"num_spans": 2`) {
		t.Errorf("size stats missing: %v", info.Metadata)
	}
	if root.Attributes[keys.SpanInputs] != `"q"` || len(root.Attributes) != 4 {
		t.Error("Build modified its input")
	}
}

// TestAggregates: token usage and cost, summed over the top-most spans that
// have them (the one tree walk of MLflow's _aggregate_from_nodes).
func TestAggregates(t *testing.T) {
	u := func(in, out int, extra ...any) map[string]any {
		m := map[string]any{"input_tokens": in, "output_tokens": out, "total_tokens": in + out}
		for i := 0; i+1 < len(extra); i += 2 {
			m[extra[i].(string)] = extra[i+1]
		}
		return map[string]any{keys.ChatTokenUsage: m}
	}
	cost := func(in, out float64) map[string]any {
		return map[string]any{keys.LLMCost: map[string]any{"input_cost": in, "output_cost": out, "total_cost": in + out}}
	}
	raw := func(key, s string) *tracemodel.Span {
		sp := mkSpan(2, 1, "raw", 1, 2, nil)
		sp.Attributes[key] = s
		return sp
	}
	type aggCase struct {
		name  string
		spans []*tracemodel.Span
		want  string
	}
	for _, agg := range []struct {
		name  string
		fn    func([]*tracemodel.Span) (string, bool)
		cases []aggCase
	}{
		{"TokenUsage", TokenUsage, []aggCase{
			{"none", []*tracemodel.Span{mkSpan(1, 0, "r", 0, 1, nil)}, ""},
			{"nested counted once", []*tracemodel.Span{
				mkSpan(1, 0, "r", 0, 1, nil),
				mkSpan(2, 1, "a", 0, 1, u(10, 5)),
				mkSpan(3, 2, "a.child", 0, 1, u(100, 100)),
				mkSpan(4, 1, "b", 0, 1, nil),
				mkSpan(5, 4, "b.child", 0, 1, u(1, 2)),
			}, `{"input_tokens": 11, "output_tokens": 7, "total_tokens": 18}`},
			{"root usage wins", []*tracemodel.Span{
				mkSpan(1, 0, "r", 0, 1, u(50, 50)),
				mkSpan(2, 1, "a", 0, 1, u(10, 5)),
			}, `{"input_tokens": 50, "output_tokens": 50, "total_tokens": 100}`},
			{"cache keys only when present", []*tracemodel.Span{
				mkSpan(1, 0, "r", 0, 1, nil),
				mkSpan(2, 1, "a", 0, 1, u(1, 1, "cache_read_input_tokens", 3)),
				mkSpan(3, 1, "b", 0, 1, u(1, 1)),
			}, `{"input_tokens": 2, "output_tokens": 2, "total_tokens": 4, "cache_read_input_tokens": 3}`},
			{"orphan parent counts as root", []*tracemodel.Span{
				mkSpan(1, 0, "r", 0, 1, nil),
				mkSpan(9, 8, "orphan", 0, 1, u(2, 2)),
			}, `{"input_tokens": 2, "output_tokens": 2, "total_tokens": 4}`},
			{"empty object counts zeros", []*tracemodel.Span{mkSpan(1, 0, "r", 0, 1, map[string]any{keys.ChatTokenUsage: map[string]any{}})},
				`{"input_tokens": 0, "output_tokens": 0, "total_tokens": 0}`},
			{"null is no usage", []*tracemodel.Span{mkSpan(1, 0, "r", 0, 1, nil), raw(keys.ChatTokenUsage, "null")}, ""},
			{"not an object aborts", []*tracemodel.Span{mkSpan(1, 0, "r", 0, 1, nil), raw(keys.ChatTokenUsage, `[1]`)}, ""},
			{"invalid JSON aborts", []*tracemodel.Span{mkSpan(1, 0, "r", 0, 1, nil), raw(keys.ChatTokenUsage, `{`)}, ""},
			{"string count aborts", []*tracemodel.Span{mkSpan(1, 0, "r", 0, 1, nil), raw(keys.ChatTokenUsage, `{"input_tokens": "3"}`)}, ""},
		}},
		{"Cost", Cost, []aggCase{
			{"none", []*tracemodel.Span{mkSpan(1, 0, "r", 0, 1, nil)}, ""},
			{"one", []*tracemodel.Span{mkSpan(1, 0, "r", 0, 1, nil), mkSpan(2, 1, "llm", 0, 1, cost(1.8e-06, 4.8e-06))},
				`{"input_cost": 1.8e-06, "output_cost": 4.8e-06, "total_cost": 6.5999999999999995e-06}`},
			{"nested counted once, floats summed", []*tracemodel.Span{
				mkSpan(1, 0, "r", 0, 1, nil),
				mkSpan(2, 1, "a", 0, 1, cost(0.1, 0.2)),
				mkSpan(3, 2, "a.child", 0, 1, cost(100, 100)),
				mkSpan(4, 1, "b", 0, 1, cost(0.2, 0)),
			}, `{"input_cost": 0.30000000000000004, "output_cost": 0.2, "total_cost": 0.5}`},
			{"integers become floats, missing keys add 0", []*tracemodel.Span{
				mkSpan(1, 0, "r", 0, 1, nil), raw(keys.LLMCost, `{"input_cost": 1, "total_cost": 1}`),
			}, `{"input_cost": 1.0, "output_cost": 0.0, "total_cost": 1.0}`},
			{"null is no cost", []*tracemodel.Span{mkSpan(1, 0, "r", 0, 1, nil), raw(keys.LLMCost, "null")}, ""},
			{"not an object aborts", []*tracemodel.Span{mkSpan(1, 0, "r", 0, 1, nil), raw(keys.LLMCost, `"0.1"`)}, ""},
			{"a string cost aborts", []*tracemodel.Span{mkSpan(1, 0, "r", 0, 1, nil), raw(keys.LLMCost, `{"input_cost": "0.1"}`)}, ""},
		}},
	} {
		for _, tt := range agg.cases {
			t.Run(agg.name+"/"+tt.name, func(t *testing.T) {
				got, ok := agg.fn(tt.spans)
				if got != tt.want || ok != (tt.want != "") {
					t.Errorf("got %q %v, want %q", got, ok, tt.want)
				}
			})
		}
	}
}

func TestPreview(t *testing.T) {
	tests := []struct {
		name, in, role string
		max            int
		want           string
	}{
		{"openai request", `{"messages": [{"role": "user", "content": "a"}, {"role": "assistant", "content": "b"}, {"role": "user", "content": "c"}]}`, "user", 1000, "c"},
		{"openai no role match takes last", `{"messages": [{"role": "system", "content": "s"}]}`, "user", 1000, "s"},
		{"openai response", `{"id": "x", "choices": [{"message": {"role": "assistant", "content": "hello"}}]}`, "assistant", 1000, "hello"},
		{"anthropic parts", `{"messages": [{"role": "user", "content": [{"type": "text", "text": "t"}]}]}`, "user", 1000, "t"},
		{"string part", `{"messages": [{"role": "user", "content": ["p1", "p2"]}]}`, "user", 1000, "p1"},
		{"responses output", `{"output": [{"type": "message", "role": "assistant", "content": [{"type": "output_text", "text": "o"}]}]}`, "assistant", 1000, "o"},
		{"responses agent request", `{"request": {"input": [{"role": "user", "content": "in"}]}}`, "user", 1000, "in"},
		{"no text falls back to JSON", `{"messages": [{"role": "user", "content": [{"type": "image"}]}]}`, "user", 1000, `{"messages": [{"role": "user", "content": [{"type": "image"}]}]}`},
		{"plain", `{"q": 1}`, "user", 1000, `{"q": 1}`},
		{"string", `"hi"`, "user", 1000, `"hi"`},
		{"not JSON", `abc`, "user", 1000, `abc`},
		{"truncated", `{"messages": [{"role": "user", "content": "ééééééé"}]}`, "user", 5, "éé..."},
		{"empty messages, then input", `{"messages": [], "input": [{"role": "user", "content": "x"}]}`, "user", 1000, "x"},
		{"request not an object", `{"request": null}`, "user", 1000, `{"request": null}`},
		{"Bedrock answer: output is not a list", `{"output": {"message": {"role": "assistant", "content": [{"text": "t"}]}}}`, "assistant", 1000,
			`{"output": {"message": {"role": "assistant", "content": [{"text": "t"}]}}}`},
		{"invalid JSON", `{"messages": [}`, "user", 1000, `{"messages": [}`},
		{"escaped member names", `{"messages": [{"\u0072ole": "user", "content": "esc"}]}`, "user", 1000, "esc"},
		{"no role anywhere", `{"messages": [{"content": "x"}]}`, "user", 1000, `{"messages": [{"content": "x"}]}`},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			if got := Preview(tt.in, tt.role, tt.max); got != tt.want {
				t.Errorf("got %q, want %q", got, tt.want)
			}
		})
	}
}

func TestPercentile(t *testing.T) {
	s := []int{100, 200, 300, 1000}
	for _, c := range []struct {
		p    float64
		want int
	}{{0.25, 175}, {0.5, 250}, {0.75, 475}, {1, 1000}} {
		if got := percentile(s, c.p); got != c.want {
			t.Errorf("p%v = %d, want %d", c.p, got, c.want)
		}
	}
	if got := percentile([]int{7}, 0.5); got != 7 {
		t.Errorf("single = %d", got)
	}
}

func newRecorder() (*sdktrace.TracerProvider, *tracetest.SpanRecorder) {
	rec := tracetest.NewSpanRecorder()
	return sdktrace.NewTracerProvider(sdktrace.WithSpanProcessor(rec)), rec
}

func TestConvertSpan(t *testing.T) {
	tp, rec := newRecorder()
	defer func() { _ = tp.Shutdown(context.Background()) }()
	ctx, root := tp.Tracer("other/lib").Start(context.Background(), "root")
	linkCtx := trace.NewSpanContext(trace.SpanContextConfig{TraceID: testTraceID, SpanID: sid(9)})
	_, child := tp.Tracer(keys.ScopeName).Start(ctx, "child", trace.WithLinks(trace.Link{SpanContext: linkCtx, Attributes: []attribute.KeyValue{attribute.Int("n", 1)}}))
	child.SetAttributes(
		attribute.String(keys.SpanType, `"LLM"`),
		attribute.String(keys.SpanInputs, `{"a": 1}`),
	)
	child.End()
	root.SetAttributes(
		attribute.String("plain", "text"),
		attribute.Int64("n", 3),
		attribute.Float64("f", 2),
		attribute.Bool("b", true),
		attribute.StringSlice("ss", []string{"x", "é"}),
		attribute.Int64Slice("is", []int64{1, 2}),
		attribute.String(keys.SpanType, `"TOOL"`),
		attribute.String("mlflow.notJSON", "hello"),
		attribute.Map("m", attribute.String("k", "v"), attribute.Slice("l", attribute.IntValue(1), attribute.StringValue("s"))),
	)
	root.AddEvent("exception", trace.WithAttributes(attribute.String("exception.message", "boom"), attribute.Int("code", 7)))
	root.SetStatus(codes.Error, "boom")

	// Converted while still open.
	open := ConvertSpan(root.(sdktrace.ReadOnlySpan))
	if !open.EndTime.IsZero() {
		t.Error("open span has an end time")
	}
	root.End()
	spans := rec.Ended()
	got := map[string]*tracemodel.Span{}
	for _, s := range spans {
		got[s.Name()] = ConvertSpan(s)
	}
	r, c := got["root"], got["child"]
	wantRoot := map[string]string{
		"plain": `"text"`, "n": `3`, "f": `2.0`, "b": `true`, "ss": `["x", "é"]`, "is": `[1, 2]`,
		keys.SpanType: `"TOOL"`, "mlflow.notJSON": `"hello"`, "m": `{"k": "v", "l": [1, "s"]}`,
		keys.TraceRequestID: `"tr-` + r.TraceID.String() + `"`, keys.SpanLogLevel: "40",
	}
	for k, v := range wantRoot {
		if r.Attributes[k] != v {
			t.Errorf("root %s = %s, want %s", k, r.Attributes[k], v)
		}
	}
	if len(r.Attributes) != len(wantRoot) {
		t.Errorf("root attributes %v", r.Attributes)
	}
	if r.Status != (tracemodel.Status{Code: tracemodel.StatusCodeError, Message: "boom"}) || r.ParentSpanID.IsValid() {
		t.Errorf("root status/parent %+v %v", r.Status, r.ParentSpanID)
	}
	if len(r.Events) != 1 || r.Events[0].Attributes["code"] != int64(7) || r.Events[0].Attributes["exception.message"] != "boom" {
		t.Errorf("events %+v", r.Events)
	}
	if r.Scope != "other/lib" || r.EndTime.IsZero() {
		t.Errorf("scope %q end %v", r.Scope, r.EndTime)
	}
	wantChild := map[string]string{
		keys.SpanType: `"LLM"`, keys.SpanInputs: `{"a": 1}`, keys.SpanLogLevel: "20",
		keys.TraceRequestID: `"tr-` + r.TraceID.String() + `"`,
	}
	for k, v := range wantChild {
		if c.Attributes[k] != v {
			t.Errorf("child %s = %s, want %s", k, c.Attributes[k], v)
		}
	}
	if c.ParentSpanID != r.SpanID || len(c.Links) != 1 || c.Links[0].SpanID != sid(9) || c.Links[0].Attributes["n"] != int64(1) {
		t.Errorf("child parent/links %v %+v", c.ParentSpanID, c.Links)
	}
	if c.Status.Code != tracemodel.StatusCodeUnset {
		t.Errorf("child status %v", c.Status)
	}
}

func TestConvertSpanDefaults(t *testing.T) {
	tp, rec := newRecorder()
	defer func() { _ = tp.Shutdown(context.Background()) }()
	_, s := tp.Tracer("x").Start(context.Background(), "s")
	s.SetStatus(codes.Ok, "")
	s.End()
	m := ConvertSpan(rec.Ended()[0])
	if m.Attributes[keys.SpanType] != `"UNKNOWN"` || m.Attributes[keys.SpanLogLevel] != "10" || m.Status.Code != tracemodel.StatusCodeOK {
		t.Errorf("defaults %v %v", m.Attributes, m.Status)
	}
}

func BenchmarkConvertSpan(b *testing.B) {
	tp, rec := newRecorder()
	defer func() { _ = tp.Shutdown(context.Background()) }()
	for _, scope := range []string{keys.ScopeName, "other"} {
		_, s := tp.Tracer(scope).Start(context.Background(), "bench")
		s.SetAttributes(
			attribute.String(keys.SpanType, `"LLM"`),
			attribute.String(keys.SpanInputs, `{"messages": [{"role": "user", "content": "hi"}]}`),
			attribute.String(keys.SpanOutputs, `"hello"`),
			attribute.String(keys.TraceRequestID, `"tr-0a1b"`),
			attribute.String("plain", "text"),
			attribute.Int64("n", 3),
		)
		s.End()
	}
	for _, s := range rec.Ended() {
		b.Run(s.InstrumentationScope().Name, func(b *testing.B) {
			b.ReportAllocs()
			for b.Loop() {
				_ = ConvertSpan(s)
			}
		})
	}
}

func BenchmarkBuild(b *testing.B) {
	cases := mlflowCases()
	spans := cases[0].spans
	var root *tracemodel.Span
	for _, s := range spans {
		if !s.ParentSpanID.IsValid() {
			root = s
		}
	}
	b.ReportAllocs()
	for b.Loop() {
		_ = Build(root, spans, cases[0].upd, Options{})
	}
}
