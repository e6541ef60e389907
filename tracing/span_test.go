package tracing

import (
	"context"
	"errors"
	"fmt"
	"net/http"
	"strings"
	"sync"
	"testing"
	"time"

	"go.opentelemetry.io/otel/attribute"
	"go.opentelemetry.io/otel/codes"
	"go.opentelemetry.io/otel/trace"

	"github.com/mlflowtrace/mlflowtrace-go/internal/encode"
	"github.com/mlflowtrace/mlflowtrace-go/internal/keys"
)

type query struct {
	Q    string `json:"q"`
	TopK int    `json:"top_k"`
}

func TestStartSpanRecordsMLflowAttributes(t *testing.T) {
	f := setup(t)
	ctx, root := StartSpan(context.Background(), "root", WithSpanType(SpanTypeAgent), WithInputs(query{"hi", 3}),
		WithAttributes(map[string]any{"custom": []int{1, 2}}))
	if CurrentSpan(ctx) != root {
		t.Fatal("CurrentSpan did not return the started span")
	}
	_, child := StartSpan(ctx, "child", WithSpanType("MY_TYPE"))
	child.SetAttribute("k", map[string]any{"a": 1})
	child.SetAttributes(map[string]any{"s": "text", "n": 2.5})
	child.End(WithOutputs("done"))
	root.End(WithOutputs(map[string]string{"answer": "x"}))

	r, c := f.span(t, "root"), f.span(t, "child")
	if r.InstrumentationScope().Name != keys.ScopeName {
		t.Errorf("scope = %q", r.InstrumentationScope().Name)
	}
	ra := attrs(r)
	if ra[keys.SpanType] != `"AGENT"` {
		t.Errorf("spanType = %s", ra[keys.SpanType])
	}
	jsonEq(t, ra[keys.SpanInputs], `{"q":"hi","top_k":3}`)
	jsonEq(t, ra[keys.SpanOutputs], `{"answer":"x"}`)
	jsonEq(t, ra["custom"], `[1,2]`)
	// The default level is the exporter's to add (off the caller's path).
	if l := mlflowAttrs(r)[keys.SpanLogLevel]; l != "20" {
		t.Errorf("AGENT log level = %s, want 20", l)
	}
	if r.Status().Code != codes.Ok {
		t.Errorf("root status = %v, want Ok (MLflow sets OK at end)", r.Status())
	}
	ca := attrs(c)
	if ca[keys.SpanType] != `"MY_TYPE"` || ca[keys.SpanOutputs] != `"done"` || ca["s"] != `"text"` || ca["n"] != "2.5" {
		t.Errorf("child attrs = %v", ca)
	}
	jsonEq(t, ca["k"], `{"a":1}`)
	if l := mlflowAttrs(c)[keys.SpanLogLevel]; l != "10" {
		t.Errorf("custom-type log level = %s, want 10", l)
	}
	if c.Parent().SpanID() != r.SpanContext().SpanID() || c.SpanContext().TraceID() != r.SpanContext().TraceID() {
		t.Error("child is not a child of root")
	}
	if want := "tr-" + r.SpanContext().TraceID().String(); root.TraceID() != want || child.TraceID() != want {
		t.Errorf("TraceID = %q / %q, want %q", root.TraceID(), child.TraceID(), want)
	}
	if root.SpanID() != r.SpanContext().SpanID().String() {
		t.Errorf("SpanID = %q", root.SpanID())
	}
	if LastTraceID() != root.TraceID() {
		t.Errorf("LastTraceID = %q, want %q", LastTraceID(), root.TraceID())
	}
}

// The start attributes (type, function name, inputs) reach the OpenTelemetry
// span with its first change or at End; a value set during the span still
// wins, and a filter or Attribute sees them.
func TestStartAttributesAndLaterChanges(t *testing.T) {
	tests := []struct {
		name   string
		during func(*Span)
		want   map[string]string
	}{
		{"untouched", func(*Span) {},
			map[string]string{keys.SpanType: `"TOOL"`, keys.SpanInputs: `{"q":"a","top_k":1}`}},
		{"inputs replaced", func(s *Span) { s.SetInputs("b") },
			map[string]string{keys.SpanType: `"TOOL"`, keys.SpanInputs: `"b"`}},
		{"type changed", func(s *Span) { s.SetSpanType(SpanTypeLLM) },
			map[string]string{keys.SpanType: `"LLM"`, keys.SpanInputs: `{"q":"a","top_k":1}`}},
		{"type set as attribute", func(s *Span) { s.SetAttribute(keys.SpanType, "CHAIN") },
			map[string]string{keys.SpanType: `"CHAIN"`}},
		{"read during the span", func(s *Span) {
			if got := s.Inputs(); got != `{"q": "a", "top_k": 1}` {
				t.Errorf("Inputs() during the span = %q", got)
			}
			if got, _ := s.Attribute(keys.SpanType); got != `"TOOL"` {
				t.Errorf("Attribute(type) during the span = %q", got)
			}
			s.SetInputs("c")
		}, map[string]string{keys.SpanType: `"TOOL"`, keys.SpanInputs: `"c"`}},
		{"inputs replaced twice", func(s *Span) { s.SetInputs("b"); s.SetInputs(nil) },
			map[string]string{keys.SpanType: `"TOOL"`, keys.SpanInputs: `null`}},
		{"inputs replaced after another change", func(s *Span) { s.SetAttribute("k", 1); s.SetInputs("d") },
			map[string]string{keys.SpanType: `"TOOL"`, keys.SpanInputs: `"d"`, "k": `1`}},
		{"outputs during the span", func(s *Span) { s.SetOutputs("early") },
			map[string]string{keys.SpanOutputs: `"early"`, keys.SpanInputs: `{"q":"a","top_k":1}`}},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			f := setup(t)
			_, s := StartSpan(context.Background(), "s", WithSpanType(SpanTypeTool), WithInputs(query{"a", 1}))
			tt.during(s)
			s.End()
			a := attrs(f.span(t, "s"))
			for k, want := range tt.want {
				if strings.HasPrefix(want, "{") {
					jsonEq(t, a[k], want)
				} else if a[k] != want {
					t.Errorf("%s = %s, want %s", k, a[k], want)
				}
			}
		})
	}
}

// Attributes written from other goroutines while the span ends are neither
// lost nor overwritten by the start attributes (run with -race).
func TestStartAttributesRaceWithWriters(t *testing.T) {
	f := setup(t)
	_, s := StartSpan(context.Background(), "s", WithInputs("start"))
	var wg sync.WaitGroup
	for i := range 4 {
		wg.Add(1)
		go func() {
			defer wg.Done()
			s.SetAttribute(fmt.Sprintf("k%d", i), i)
		}()
	}
	s.SetInputs("later")
	wg.Wait()
	s.End()
	a := attrs(f.span(t, "s"))
	if a[keys.SpanInputs] != `"later"` {
		t.Errorf("inputs = %s, want the later value", a[keys.SpanInputs])
	}
	for i := range 4 {
		if a[fmt.Sprintf("k%d", i)] != fmt.Sprint(i) {
			t.Errorf("k%d = %q", i, a[fmt.Sprintf("k%d", i)])
		}
	}
}

func TestDefaultSpanTypeIsUnknown(t *testing.T) {
	f := setup(t)
	_, s := StartSpan(context.Background(), "s")
	s.End()
	if a := mlflowAttrs(f.span(t, "s")); a[keys.SpanType] != `"UNKNOWN"` || a[keys.SpanLogLevel] != "10" {
		t.Errorf("attrs = %v", a)
	}
}

func TestSpanTypeChangeAffectsLogLevel(t *testing.T) {
	f := setup(t)
	_, s := StartSpan(context.Background(), "s")
	s.SetSpanType(SpanTypeLLM)
	if s.SpanType() != SpanTypeLLM {
		t.Errorf("SpanType() = %q", s.SpanType())
	}
	s.End()
	if a := mlflowAttrs(f.span(t, "s")); a[keys.SpanType] != `"LLM"` || a[keys.SpanLogLevel] != "20" {
		t.Errorf("attrs = %v", a)
	}
}

func TestRecordError(t *testing.T) {
	f := setup(t)
	_, s := StartSpan(context.Background(), "s")
	s.RecordError(nil) // ignored
	s.RecordError(fmt.Errorf("wrap: %w", errors.New("bad x")))
	s.End()
	got := f.span(t, "s")
	if got.Status().Code != codes.Error || got.Status().Description != "fmt.wrapError: wrap: bad x" {
		t.Errorf("status = %+v", got.Status())
	}
	if len(got.Events()) != 1 || got.Events()[0].Name != "exception" {
		t.Fatalf("events = %+v", got.Events())
	}
	ea := eventAttrs(got.Events()[0])
	if ea["exception.type"] != "fmt.wrapError" || ea["exception.message"] != "wrap: bad x" {
		t.Errorf("event attrs = %v", ea)
	}
	if !strings.HasPrefix(ea["exception.stacktrace"], "fmt.wrapError: wrap: bad x\n") || !strings.Contains(ea["exception.stacktrace"], "TestRecordError") {
		t.Errorf("stacktrace = %q", ea["exception.stacktrace"])
	}
	if a := attrs(got); a[keys.SpanLogLevel] != "40" {
		t.Errorf("log level = %s, want 40 after an exception", a[keys.SpanLogLevel])
	}
}

func TestSetStatusAndLogLevel(t *testing.T) {
	f := setup(t)
	_, s := StartSpan(context.Background(), "s", WithSpanType(SpanTypeTool))
	s.SetLogLevel(LogLevelCritical)
	s.AddEvent("exception", attribute.String("exception.message", "m"))
	s.SetStatus(codes.Error, "custom")
	s.AddEvent("note", attribute.Int("n", 1))
	s.End()
	got := f.span(t, "s")
	if got.Status().Code != codes.Error || got.Status().Description != "custom" {
		t.Errorf("status = %+v", got.Status())
	}
	if a := attrs(got); a[keys.SpanLogLevel] != "50" {
		t.Errorf("log level = %s, want user's CRITICAL kept", a[keys.SpanLogLevel])
	}
	if ev := got.Events(); len(ev) != 2 || ev[1].Name != "note" || ev[1].Attributes[0].Value.AsInt64() != 1 {
		t.Errorf("events = %+v", ev)
	}
}

func TestChatHelpers(t *testing.T) {
	f := setup(t)
	_, s := StartSpan(context.Background(), "llm", WithSpanType(SpanTypeChatModel))
	s.SetTokenUsage(TokenUsage{InputTokens: 10, OutputTokens: 5, CacheReadInputTokens: 2})
	s.SetChatTools([]ChatTool{{Function: ChatToolFunction{Name: "search", Parameters: map[string]any{"type": "object"}}}})
	s.SetModel("gpt-x")
	s.SetProvider("openai")
	s.SetMessageFormat("openai")
	s.End()
	a := attrs(f.span(t, "llm"))
	jsonEq(t, a[keys.ChatTokenUsage], `{"input_tokens":10,"output_tokens":5,"total_tokens":15,"cache_read_input_tokens":2}`)
	jsonEq(t, a[keys.ChatTools], `[{"type":"function","function":{"name":"search","parameters":{"type":"object"}}}]`)
	if a[keys.LLMModel] != `"gpt-x"` || a[keys.LLMProvider] != `"openai"` || a[keys.MessageFormat] != `"openai"` {
		t.Errorf("attrs = %v", a)
	}
}

func TestNilSpanIsNoOp(t *testing.T) {
	var s *Span
	s.SetInputs(1)
	s.SetOutputs(1)
	s.SetAttribute("k", 1)
	s.SetAttributes(map[string]any{"k": 1})
	s.SetSpanType(SpanTypeLLM)
	s.SetLogLevel(LogLevelInfo)
	s.AddEvent("e")
	s.RecordError(errors.New("x"))
	s.SetStatus(codes.Error, "x")
	s.SetTokenUsage(TokenUsage{})
	s.SetChatTools(nil)
	s.SetModel("m")
	s.SetName("n")
	s.End(WithOutputs(1))
	if s.TraceID() != "" || s.SpanID() != "" || s.IsRecording() || s.Name() != "" || s.Inputs() != "" || s.SpanType() != "" {
		t.Fatal("nil span returned data")
	}
	if ctx := ContextWithSpan(context.Background(), s); CurrentSpan(ctx) != nil {
		t.Fatal("nil span became current")
	}
}

func TestEndTwiceAndTimes(t *testing.T) {
	f := setup(t)
	start := time.Date(2026, 1, 1, 0, 0, 0, 0, time.UTC)
	_, s := StartSpan(context.Background(), "s", WithStartTime(start))
	s.End(WithEndTime(start.Add(time.Second)), WithOutputs(1))
	s.End(WithOutputs(2))
	if n := len(f.ended()); n != 1 {
		t.Fatalf("ended spans = %d", n)
	}
	got := f.span(t, "s")
	if !got.StartTime().Equal(start) || got.EndTime().Sub(got.StartTime()) != time.Second {
		t.Errorf("times = %v .. %v", got.StartTime(), got.EndTime())
	}
	if a := attrs(got); a[keys.SpanOutputs] != "1" {
		t.Errorf("outputs = %s", a[keys.SpanOutputs])
	}
}

func TestWithParent(t *testing.T) {
	f := setup(t)
	_, a := StartSpan(context.Background(), "a")
	_, b := StartSpan(context.Background(), "b", WithParent(a))
	b.End()
	a.End()
	if f.span(t, "b").Parent().SpanID() != f.span(t, "a").SpanContext().SpanID() {
		t.Error("WithParent ignored")
	}
}

func TestSpanFilterMasks(t *testing.T) {
	f := setup(t,
		WithSpanFilter(func(s *Span) {
			if strings.Contains(s.Inputs(), "secret") {
				s.SetInputs(map[string]string{"password": "[REDACTED]"})
			}
			if v, ok := s.Attribute("api_key"); ok && v != "" {
				s.SetAttribute("api_key", "[REDACTED]")
			}
		}),
		WithSpanFilter(func(s *Span) { panic("filter bug") }), // recovered, span still exported
	)
	_, s := StartSpan(context.Background(), "login", WithInputs(map[string]string{"password": "secret"}))
	s.SetAttribute("api_key", "sk-123")
	s.End()
	a := attrs(f.span(t, "login"))
	jsonEq(t, a[keys.SpanInputs], `{"password":"[REDACTED]"}`)
	if a["api_key"] != `"[REDACTED]"` {
		t.Errorf("api_key = %s", a["api_key"])
	}
}

func TestMaxValueSize(t *testing.T) {
	f := setup(t, WithMaxValueSize(20))
	_, s := StartSpan(context.Background(), "s", WithInputs(strings.Repeat("a", 100)))
	s.SetAttribute("small", []int{1})
	s.End(WithOutputs(map[string]string{"k": strings.Repeat("é", 50)}))

	a := attrs(f.span(t, "s"))
	// The cut JSON text is stored as a JSON string: it still loads.
	if want := `"\"aaaaaaaaaaaaaaaa..."`; a[keys.SpanInputs] != want {
		t.Errorf("inputs = %s, want %s", a[keys.SpanInputs], want)
	}
	out := map[string]string{"k": strings.Repeat("é", 50)}
	if want := encode.JSON(encode.Truncate(encode.JSON(out), 20)); a[keys.SpanOutputs] != want {
		t.Errorf("outputs = %s, want %s", a[keys.SpanOutputs], want)
	}
	if a["small"] != "[1]" {
		t.Errorf("small = %s", a["small"])
	}
}

func TestUnserialisableValuesDegrade(t *testing.T) {
	f := setup(t)
	type node struct{ Next *node }
	n := &node{}
	n.Next = n
	_, s := StartSpan(context.Background(), "s", WithInputs(make(chan int)))
	s.SetAttribute("fn", func() {})
	s.SetAttribute("cycle", n)
	s.End()
	a := attrs(f.span(t, "s"))
	for _, k := range []string{keys.SpanInputs, "fn", "cycle"} {
		if a[k] == "" {
			t.Errorf("%s lost", k)
		}
	}
}

func TestConcurrentSpanUse(t *testing.T) {
	f := setup(t)
	ctx, root := StartSpan(context.Background(), "root")
	var wg sync.WaitGroup
	for i := range 8 {
		wg.Add(1)
		go func() {
			defer wg.Done()
			_, c := StartSpan(ctx, fmt.Sprintf("c%d", i))
			root.SetAttribute(fmt.Sprintf("k%d", i), i)
			root.AddEvent("e")
			c.RecordError(errors.New("x"))
			c.End()
			_ = root.TraceID()
		}()
	}
	wg.Wait()
	root.End()
	if n := len(f.ended()); n != 9 {
		t.Fatalf("ended = %d", n)
	}
}

func TestSampling(t *testing.T) {
	f := setup(t, WithSamplingRatio(0))
	ctx, root := StartSpan(context.Background(), "root")
	if root != nil {
		t.Fatal("unsampled root returned a span")
	}
	_, child := StartSpan(ctx, "child")
	if child != nil {
		t.Fatal("child of unsampled root was sampled")
	}
	if err := UpdateCurrentTrace(ctx, WithUser("u")); err != nil {
		t.Errorf("UpdateCurrentTrace on unsampled trace = %v", err)
	}
	if n := len(f.ended()); n != 0 {
		t.Fatalf("ended = %d", n)
	}
	allocs := testing.AllocsPerRun(100, func() {
		_, s := StartSpan(ctx, "child")
		s.End()
	})
	if allocs != 0 {
		t.Errorf("unsampled child allocs = %v", allocs)
	}
}

func TestSamplingRatioHalfIsPerTrace(t *testing.T) {
	f := setup(t, WithSamplingRatio(0.5))
	sampled := 0
	for range 200 {
		ctx, r := StartSpan(context.Background(), "root")
		_, c := StartSpan(ctx, "child")
		if (r == nil) != (c == nil) {
			t.Fatal("child sampling differs from its root")
		}
		if r != nil {
			sampled++
		}
		c.End()
		r.End()
	}
	if sampled < 50 || sampled > 150 {
		t.Errorf("sampled %d of 200 at ratio 0.5", sampled)
	}
	if n := len(f.ended()); n != 2*sampled {
		t.Errorf("ended = %d, want %d", n, 2*sampled)
	}
}

func TestDisabledAndUninitialised(t *testing.T) {
	check := func(t *testing.T) {
		ctx := context.Background()
		got, s := StartSpan(ctx, "x", WithSpanType(SpanTypeLLM))
		if got != ctx || s != nil {
			t.Fatal("disabled StartSpan changed ctx or returned a span")
		}
		if CurrentSpan(ctx) != nil {
			t.Fatal("disabled state leaked")
		}
		if err := UpdateCurrentTrace(ctx, WithUser("u")); err != nil {
			t.Fatalf("UpdateCurrentTrace = %v", err)
		}
		allocs := testing.AllocsPerRun(100, func() {
			c, s := StartSpan(ctx, "x", WithSpanType(SpanTypeLLM))
			s.SetInputs(nil)
			s.End()
			_ = c
		})
		if allocs != 0 {
			t.Errorf("disabled StartSpan allocs = %v", allocs)
		}
		allocs = testing.AllocsPerRun(100, func() {
			_, _ = Do(ctx, "d", func(context.Context) (int, error) { return 1, nil })
			_ = Run(ctx, "r", func(context.Context) error { return nil })
		})
		if allocs != 0 {
			t.Errorf("disabled Do/Run allocs = %v", allocs)
		}
		fn := Func("f", func(ctx context.Context, q query) (int, error) { return q.TopK, nil })
		allocs = testing.AllocsPerRun(100, func() { _, _ = fn(ctx, query{"a", 1}) })
		if allocs != 0 {
			t.Errorf("disabled Func allocs = %v", allocs)
		}
	}
	t.Run("no Init", func(t *testing.T) {
		if defaultProvider.Load() != nil {
			t.Skip("a provider is installed")
		}
		check(t)
	})
	t.Run("WithDisabled", func(t *testing.T) {
		p, err := Init(context.Background(), WithDisabled())
		if err != nil {
			t.Fatal(err)
		}
		defer p.Shutdown(context.Background())
		if p.Enabled() {
			t.Fatal("enabled")
		}
		check(t)
		if err := p.ForceFlush(context.Background()); err != nil {
			t.Fatal(err)
		}
	})
}

// A trace exported while spans of it are still open (its trace timeout: the
// root is open too; Shutdown after the root ended: a child is) carries the
// attributes those spans started with, although a span of this package
// keeps them until its first change or End: the exporter writes them.
func TestOpenSpansExportedWithStartAttributes(t *testing.T) {
	want := map[string]map[string]string{
		"root":  {keys.SpanType: `"AGENT"`, keys.SpanInputs: `"question"`},
		"stuck": {keys.SpanType: `"TOOL"`, keys.SpanInputs: `{"n": 1}`},
	}
	for _, tt := range []struct {
		name    string
		env     env
		endRoot bool
	}{
		{"trace timeout", env{"MLFLOW_TRACE_TIMEOUT_SECONDS": "1", "MLFLOW_TRACE_TIMEOUT_CHECK_INTERVAL_SECONDS": "1"}, false},
		{"shutdown", env{}, true},
	} {
		t.Run(tt.name, func(t *testing.T) {
			f := setup(t, WithGetenv(tt.env.get))
			ctx, root := StartSpan(context.Background(), "root", WithSpanType(SpanTypeAgent), WithInputs("question"))
			// The child's inputs come from SetInputs, which keeps them
			// waiting with the start attributes.
			_, child := StartSpan(ctx, "stuck", WithSpanType(SpanTypeTool))
			child.SetInputs(map[string]int{"n": 1})
			defer child.End()
			if tt.endRoot {
				root.End()
				if err := f.p.Shutdown(context.Background()); err != nil {
					t.Fatalf("Shutdown: %v", err)
				}
			} else {
				defer root.End()
			}
			wctx, cancel := context.WithTimeout(context.Background(), 10*time.Second)
			defer cancel()
			traces, err := f.dest.WaitTraces(wctx, 1)
			if err != nil {
				t.Fatalf("the trace was not exported: %v", err)
			}
			if len(traces[0].Spans) != 2 {
				t.Fatalf("spans = %d, want 2", len(traces[0].Spans))
			}
			for _, s := range traces[0].Spans {
				for k, v := range want[s.Name] {
					if s.Attributes[k] != v {
						t.Errorf("%s: %s = %q, want %q", s.Name, k, s.Attributes[k], v)
					}
				}
			}
		})
	}
}

// The OpenTelemetry version this module builds with looks the current span
// up by a context key the spanContext can answer (otelSpanKey); if a new
// version stops doing so, tracer.Start's lookups still work but walk the
// chain: this test says so.
func TestOTelSpanKeyLearnt(t *testing.T) {
	if otelSpanKey == nil {
		t.Fatal("trace.SpanFromContext asked its context for no key")
	}
	f := setup(t)
	ctx, root := StartSpan(context.Background(), "root")
	cctx, child := StartSpan(ctx, "child")
	if trace.SpanFromContext(cctx) != child.otel || CurrentSpan(cctx) != child {
		t.Error("the child's context does not hold the child")
	}
	child.End()
	root.End()
	if c := f.span(t, "child"); c.Parent().SpanID() != f.span(t, "root").SpanContext().SpanID() {
		t.Error("the child's parent is not the root")
	}
}

// A nil context is treated as context.Background() by every recording
// function, as StartSpan, Func, Do, Run and UpdateCurrentTrace already do:
// instrumentation never panics on its own (STYLE rule 6).
func TestNilContextNeverPanics(t *testing.T) {
	f := setup(t)
	_, s := StartSpan(context.Background(), "s")
	defer s.End()
	var nilCtx context.Context
	h := http.Header{"Traceparent": {"00-0af7651916cd43dd8448eb211c80319c-b7ad6b7169203331-01"}}
	for _, tt := range []struct {
		name string
		fn   func()
	}{
		{"CurrentSpan", func() {
			if CurrentSpan(nilCtx) != nil {
				t.Error("CurrentSpan(nil) != nil")
			}
		}},
		{"InjectHTTPHeaders", func() {
			out := http.Header{}
			InjectHTTPHeaders(nilCtx, out)
			if len(out) != 0 {
				t.Errorf("InjectHTTPHeaders(nil) wrote %v", out)
			}
		}},
		{"ContextFromHTTPHeaders", func() {
			ctx := ContextFromHTTPHeaders(nilCtx, h)
			if ctx == nil || !trace.SpanContextFromContext(ctx).IsRemote() {
				t.Error("ContextFromHTTPHeaders(nil, h) lost the remote parent")
			}
		}},
		{"ContextWithSpan", func() {
			if ctx := ContextWithSpan(nilCtx, s); CurrentSpan(ctx) != s {
				t.Error("ContextWithSpan(nil, s) does not hold s")
			}
		}},
	} {
		t.Run(tt.name, func(t *testing.T) {
			defer func() {
				if r := recover(); r != nil {
					t.Fatalf("panicked: %v", r)
				}
			}()
			tt.fn()
		})
	}
	_ = f
}
