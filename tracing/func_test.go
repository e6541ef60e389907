package tracing

import (
	"context"
	"errors"
	"strings"
	"testing"

	"go.opentelemetry.io/otel/codes"

	"github.com/mlflowtrace/mlflowtrace-go/internal/keys"
)

type answer struct {
	Text string `json:"text"`
}

func retrieve(ctx context.Context, q query) (answer, error) {
	if q.Q == "" {
		return answer{}, errors.New("empty query")
	}
	if q.Q == "panic" {
		panic("boom")
	}
	return answer{Text: "re: " + q.Q}, nil
}

func TestFuncRecordsInputsOutputsAndName(t *testing.T) {
	f := setup(t)
	fn := Func("retrieve", retrieve, WithSpanType(SpanTypeRetriever))
	ctx, root := StartSpan(context.Background(), "root")
	got, err := fn(ctx, query{Q: "go", TopK: 2})
	root.End()
	if err != nil || got.Text != "re: go" {
		t.Fatalf("fn = %v, %v", got, err)
	}
	s := f.span(t, "retrieve")
	a := attrs(s)
	jsonEq(t, a[keys.SpanInputs], `{"q":"go","top_k":2}`)
	jsonEq(t, a[keys.SpanOutputs], `{"text":"re: go"}`)
	if a[keys.SpanFunctionName] != `"retrieve"` || a[keys.SpanType] != `"RETRIEVER"` {
		t.Errorf("attrs = %v", a)
	}
	if s.Parent().SpanID() != f.span(t, "root").SpanContext().SpanID() {
		t.Error("wrapped call is not a child of the span in ctx")
	}
	if s.Status().Code != codes.Ok {
		t.Errorf("status = %v", s.Status())
	}
}

func TestFuncNameDefaultsAndInputName(t *testing.T) {
	f := setup(t)
	fn := Func("", retrieve, WithInputName("query"))
	if _, err := fn(context.Background(), query{Q: "x"}); err != nil {
		t.Fatal(err)
	}
	a := attrs(f.span(t, "retrieve"))
	jsonEq(t, a[keys.SpanInputs], `{"query":{"q":"x","top_k":0}}`)
}

func TestFuncChildSeesSpanInContext(t *testing.T) {
	f := setup(t)
	var inner *Span
	outer := Func("outer", func(ctx context.Context, n int) (int, error) {
		inner = CurrentSpan(ctx)
		return Do(ctx, "inner", func(ctx context.Context) (int, error) { return n + 1, nil }, WithInputs(n))
	})
	if v, err := outer(context.Background(), 1); err != nil || v != 2 {
		t.Fatalf("outer = %v, %v", v, err)
	}
	o, i := f.span(t, "outer"), f.span(t, "inner")
	if inner == nil || inner.SpanID() != o.SpanContext().SpanID().String() {
		t.Error("CurrentSpan inside wrapped fn is not its span")
	}
	if i.Parent().SpanID() != o.SpanContext().SpanID() {
		t.Error("Do span is not a child")
	}
	if a := attrs(i); a[keys.SpanInputs] != "1" || a[keys.SpanOutputs] != "2" {
		t.Errorf("Do attrs = %v", a)
	}
	if _, ok := attrs(i)[keys.SpanFunctionName]; ok {
		t.Error("Do set a function name")
	}
}

func TestFuncError(t *testing.T) {
	f := setup(t)
	fn := Func("retrieve", retrieve)
	_, err := fn(context.Background(), query{})
	if err == nil || err.Error() != "empty query" {
		t.Fatalf("err = %v", err)
	}
	s := f.span(t, "retrieve")
	if s.Status().Code != codes.Error || s.Status().Description != "errors.errorString: empty query" {
		t.Errorf("status = %+v", s.Status())
	}
	if _, ok := attrs(s)[keys.SpanOutputs]; ok {
		t.Error("outputs recorded for a failed call")
	}
	ev := s.Events()
	if len(ev) != 1 || ev[0].Name != "exception" {
		t.Fatalf("events = %+v", ev)
	}
	st := eventAttrs(ev[0])["exception.stacktrace"]
	if !strings.Contains(st, "TestFuncError") || strings.Contains(st, "callFunc") {
		t.Errorf("stacktrace should show the caller, not the wrapper: %s", st)
	}
}

func TestFuncPanicIsRecordedAndRepanicked(t *testing.T) {
	f := setup(t)
	fn := Func("retrieve", retrieve)
	var got any
	func() {
		defer func() { got = recover() }()
		_, _ = fn(context.Background(), query{Q: "panic"})
	}()
	if got != "boom" {
		t.Fatalf("re-panicked value = %#v, want the original", got)
	}
	s := f.span(t, "retrieve")
	if s.Status().Code != codes.Error || s.Status().Description != "panic: boom" {
		t.Errorf("status = %+v", s.Status())
	}
	ea := eventAttrs(s.Events()[0])
	if ea["exception.type"] != "panic" || ea["exception.message"] != "boom" || !strings.Contains(ea["exception.stacktrace"], "retrieve") {
		t.Errorf("event = %v", ea)
	}
	if attrs(s)[keys.SpanLogLevel] != "40" {
		t.Error("log level not raised")
	}
}

func TestDoAndRunErrorsAndPanics(t *testing.T) {
	f := setup(t)
	errBad := errors.New("bad")
	if err := Run(context.Background(), "run", func(context.Context) error { return errBad }); err != errBad {
		t.Fatalf("Run = %v", err)
	}
	if s := f.span(t, "run"); s.Status().Code != codes.Error {
		t.Errorf("Run status = %v", s.Status())
	}
	var got any
	func() {
		defer func() { got = recover() }()
		_, _ = Do(context.Background(), "do", func(context.Context) (int, error) { panic(errBad) })
	}()
	if got != errBad {
		t.Fatalf("re-panicked %v", got)
	}
	if s := f.span(t, "do"); s.Status().Description != "panic: bad" {
		t.Errorf("Do status = %+v", s.Status())
	}
}

func TestFuncGoexitEndsSpan(t *testing.T) {
	f := setup(t)
	done := make(chan struct{})
	fn := Func("exit", func(ctx context.Context, _ int) (int, error) {
		runtimeGoexit()
		return 0, nil
	})
	go func() {
		defer close(done)
		_, _ = fn(context.Background(), 0)
	}()
	<-done
	f.span(t, "exit")
}

func TestShortFuncName(t *testing.T) {
	for in, want := range map[string]string{
		"main.plan":                             "plan",
		"github.com/x/agent.plan":               "plan",
		"github.com/x/agent.(*Agent).Run-fm":    "Run",
		"github.com/x/agent.Agent.Run":          "Run", // value receiver
		"github.com/x/agent.Agent.Run-fm":       "Run",
		"github.com/x/agent.Agent.Run.func1":    "Run.func1",
		"github.com/x/agent.(*Agent).Run.func2": "Run.func2",
		"github.com/x/agent.Box[...].Get":       "Get",
		"main.main.func1":                       "main.func1",
		"main.plan.func1.2":                     "plan.func1.2",
		"main.plan.gowrap1":                     "plan.gowrap1",
		"main.init.0":                           "init.0",
		"github.com/x/agent.generic[...]":       "generic",
		"github.com/x/agent.v2.(*T).M":          "M",
	} {
		if got := shortFuncName(in); got != want {
			t.Errorf("shortFuncName(%q) = %q, want %q", in, got, want)
		}
	}
}

func TestClosureFunctionNameIsSpanName(t *testing.T) {
	f := setup(t)
	fn := Func("plan", func(ctx context.Context, q string) (string, error) { return q, nil })
	_, _ = fn(context.Background(), "x")
	if got := attrs(f.span(t, "plan"))[keys.SpanFunctionName]; got != `"plan"` {
		t.Errorf("spanFunctionName = %s", got)
	}
	for in, want := range map[string]bool{"main.func1": true, "Run.func2.1": true, "func1": true, "x.func1.gowrap2": true,
		"plan": false, "Agent.Run": false, "functional": false, "func": false} {
		if isClosureName(in) != want {
			t.Errorf("isClosureName(%q) = %v", in, !want)
		}
	}
}

type valueAgent struct{ greeting string }

func (a valueAgent) Run(_ context.Context, q string) (string, error) { return a.greeting + q, nil }

type pointerAgent struct{ greeting string }

func (a *pointerAgent) Run(_ context.Context, q string) (string, error) { return a.greeting + q, nil }

// TestMethodFunctionName: a method wrapped by Func records its bare name,
// whatever its receiver, as Python's __name__ of a method is "Run".
func TestMethodFunctionName(t *testing.T) {
	f := setup(t)
	_, _ = Func("value", valueAgent{"hi "}.Run)(context.Background(), "x")
	_, _ = Func("pointer", (&pointerAgent{"hi "}).Run)(context.Background(), "x")
	for _, name := range []string{"value", "pointer"} {
		if got := attrs(f.span(t, name))[keys.SpanFunctionName]; got != `"Run"` {
			t.Errorf("%s receiver: spanFunctionName = %s, want \"Run\"", name, got)
		}
	}
}
