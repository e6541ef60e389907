package spantest

import (
	"context"
	"errors"
	"flag"
	"testing"

	"go.uber.org/goleak"

	"github.com/mlflowtrace/mlflowtrace-go/tracing"
)

func TestMain(m *testing.M) { goleak.VerifyTestMain(m) }

func TestFixture(t *testing.T) {
	f := Start(t, tracing.WithoutGlobalTracerProvider())
	_, s := tracing.StartSpan(context.Background(), "work", tracing.WithSpanType(tracing.SpanTypeTool))
	s.SetInputs(map[string]any{"q": "x"})
	s.End()
	if got := f.One(t); got.Name != "work" || Attr(t, got, "mlflow.spanType") != "TOOL" ||
		!JSONEqual(t, got.Attributes["mlflow.spanInputs"], `{"q": "x"}`) {
		t.Errorf("span %s %v", got.Name, got.Attributes)
	}
	if tr := f.Traces(t, 1); len(tr) != 1 || len(tr[0].Spans) != 1 {
		t.Errorf("traces %v", tr)
	}
	if n := Names(f.Spans(t)); len(n) != 1 || n[0] != "work" {
		t.Errorf("names %v", n)
	}
	s2 := f.One(t)
	if Value(s2, "mlflow.spanType") != "TOOL" || Value(s2, "no.such.key") != nil {
		t.Errorf("Value %v", s2.Attributes)
	}
}

func TestBenchCalls(t *testing.T) {
	// Two iterations a sub-benchmark: the default 1s each would be slow.
	bt := flag.Lookup("test.benchtime")
	old := bt.Value.String()
	if err := bt.Value.Set("2x"); err != nil {
		t.Fatal(err)
	}
	defer func() { _ = bt.Value.Set(old) }()
	var got []string
	res := testing.Benchmark(func(b *testing.B) {
		StartDiscard(b)
		resets := 0
		call := func(mode string) func(context.Context, string) error {
			return func(_ context.Context, c string) error {
				if resets == 0 {
					return errors.New("no reset")
				}
				got = append(got, mode+"/"+c)
				return nil
			}
		}
		BenchCalls(b, "bare", "traced", func() { resets++ }, call("plain"), call("stream"))
	})
	if res.N == 0 {
		t.Fatal("benchmark did not run")
	}
	seen := map[string]bool{}
	for _, g := range got {
		seen[g] = true
	}
	for _, want := range []string{"plain/bare", "plain/traced", "stream/bare", "stream/traced"} {
		if !seen[want] {
			t.Errorf("%s not run (ran %d calls)", want, len(got))
		}
	}
}
