package llmcost

import (
	"errors"
	"os/exec"
	"path/filepath"
	"testing"
	"testing/fstest"

	"github.com/mlflowtrace/mlflowtrace-go/internal/keys"
	"github.com/mlflowtrace/mlflowtrace-go/internal/pyenv"
	"github.com/mlflowtrace/mlflowtrace-go/internal/tracemodel"
)

func TestBundledCatalog(t *testing.T) {
	b := bundled()
	if b.err != nil {
		t.Fatal(b.err)
	}
	n := 0
	for _, tb := range b.providers {
		n += len(tb)
	}
	if len(b.providers) != 96 || n != 4374 {
		t.Errorf("%d providers, %d models; MLflow 3.17.2 ships 4374 models of 96 providers (and one empty file)", len(b.providers), n)
	}
	got := b.providers["anthropic"]["claude-sonnet-4-6"]
	want := rates{input: 3.0 / 1e6, output: 15.0 / 1e6, cacheRead: 0.3 / 1e6, cacheWrite: 3.75 / 1e6, cacheWrite1h: 6.0 / 1e6}
	if got != want {
		t.Errorf("claude-sonnet-4-6: %+v, want %+v", got, want)
	}
	// Defaults: no cache prices -> the input price.
	if r := b.providers["openai"]["gpt-3.5-turbo"]; r.cacheRead != r.input || r.cacheWrite != r.input || r.cacheWrite1h != r.input {
		t.Errorf("gpt-3.5-turbo defaults: %+v", r)
	}
}

// TestPricesUpToDate: prices.tsv is what scripts/gen-prices.py writes from
// the installed mlflow (regenerate it after changing the pin).
func TestPricesUpToDate(t *testing.T) {
	py := pyenv.Python(t)
	root, err := pyenv.ModuleRoot()
	if err != nil {
		t.Fatal(err)
	}
	out, err := exec.Command(py, filepath.Join(root, "scripts", "gen-prices.py"), "-o", "-").Output()
	if err != nil {
		var ee *exec.ExitError
		if errors.As(err, &ee) {
			t.Fatalf("gen-prices.py: %v\n%s", err, ee.Stderr)
		}
		t.Fatal(err)
	}
	if string(out) != pricesTSV {
		t.Errorf("internal/llmcost/prices.tsv is stale: run .venv/bin/python scripts/gen-prices.py")
	}
}

func TestParseTSV(t *testing.T) {
	for name, in := range map[string]string{
		"fields": "openai\tgpt\t1\t2\n",
		"number": "openai\tgpt\tx\t-\t-\t-\t-\n",
	} {
		if _, err := parseTSV(in); err == nil {
			t.Errorf("%s: no error", name)
		}
	}
	b, err := parseTSV("# c\nb\tm\t0\t1\t-\t-\t-\na\tm\t-\t-\t-\t-\t-\nc\tm\t2\t3\t-\t-\t-\nd\tm\t4\t5\t-\t-\t-\n")
	if err != nil {
		t.Fatal(err)
	}
	// Providers in name order: a (no price), b (input 0), c (priced): c wins; d comes too late.
	if r := b.scan["m"]; r.input != 2.0/1e6 || r.output != 3.0/1e6 {
		t.Errorf("scan: %+v", r)
	}
}

func TestCost(t *testing.T) {
	c := Bundled()
	tests := []struct {
		name            string
		model, provider string
		u               Usage
		want            Cost
		ok              bool
	}{
		{"plain", "gpt-4o-mini", "openai", Usage{InputTokens: 12, OutputTokens: 8},
			Cost{1.8e-06, 4.8e-06, 6.5999999999999995e-06}, true},
		{"cached reads at the cache price", "gpt-4o-mini", "openai", Usage{InputTokens: 1000, CacheReadInputTokens: 800},
			Cost{200*0.15e-06 + 800*0.075e-06, 0, 200*0.15e-06 + 800*0.075e-06}, true},
		{"unknown", "fake-gpt", "fake", Usage{InputTokens: 1}, Cost{}, false},
		{"no tokens", "gpt-4o-mini", "", Usage{}, Cost{}, false},
		{"gateway", "gateway:/x", "", Usage{InputTokens: 1}, Cost{}, false},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			got, ok := c.Cost(tt.model, tt.provider, tt.u)
			if ok != tt.ok || (ok && got.Total != got.Input+got.Output) {
				t.Fatalf("got %+v %v", got, ok)
			}
			// The expected values are computed the same way; the MLflow
			// tests prove the digits.
			if ok && (got.Input-tt.want.Input > 1e-18 || tt.want.Input-got.Input > 1e-18 || got.Output != tt.want.Output) {
				t.Errorf("got %+v, want %+v", got, tt.want)
			}
		})
	}
}

func TestPyLower(t *testing.T) {
	for in, want := range map[string]string{
		"openai": "openai", "OpenAI": "openai", "OPENA\u0130": "openai\u0307", "\u212Aimi": "kimi", "": "",
	} {
		if got := pyLower(in); got != want {
			t.Errorf("pyLower(%q) = %q, want %q", in, got, want)
		}
	}
}

func TestOverridesReadOnce(t *testing.T) {
	fsys := fstest.MapFS{
		"openai.json": {Data: []byte(`{"models": {"gpt-4o-mini": {"pricing": {"input_per_million_tokens": 1, "output_per_million_tokens": 2}}}}`)},
		"bad.json":    {Data: []byte(`{"models": []}`)},
		"README.md":   {Data: []byte(`not a catalog`)},
	}
	var reported []error
	c := New(WithDirectory(fsys), WithErrorHandler(func(err error) { reported = append(reported, err) }))
	if len(c.overrides) != 2 {
		t.Fatalf("overrides %v", c.overrides)
	}
	for range 3 {
		got, _ := c.Cost("gpt-4o-mini", "openai", Usage{InputTokens: 1000000, OutputTokens: 1000000})
		if got.Input != 1 || got.Output != 2 {
			t.Fatalf("got %+v", got)
		}
		if _, ok := c.Cost("gpt-4o-mini", "bad", Usage{InputTokens: 1}); !ok {
			t.Fatal("a bad file must fall back to the scan")
		}
	}
	if len(reported) != 1 {
		t.Errorf("reported %v, want one problem (bad.json)", reported)
	}
	if New() != Bundled() || New(WithDirectory(nil)) != Bundled() {
		t.Error("New without a directory is the bundled catalog")
	}
	missing := New(WithDirectory(fstest.MapFS{}), WithErrorHandler(func(err error) { t.Errorf("reported %v", err) }))
	if _, ok := missing.Cost("gpt-4o", "openai", Usage{InputTokens: 1}); !ok {
		t.Error("an empty directory prices from the bundled catalog")
	}
}

func TestPriceTrace(t *testing.T) {
	llm := func(id byte, parent byte, model, usage string) *tracemodel.Span {
		s := &tracemodel.Span{SpanID: [8]byte{7: id}, Attributes: map[string]string{keys.SpanType: `"CHAT_MODEL"`}}
		if parent != 0 {
			s.ParentSpanID = [8]byte{7: parent}
		}
		if model != "" {
			s.Attributes[keys.LLMModel] = model
			s.Attributes[keys.ChatTokenUsage] = usage
		}
		return s
	}
	root := llm(1, 0, "", "")
	a := llm(2, 1, `"gpt-4o-mini"`, `{"input_tokens": 12, "output_tokens": 8, "total_tokens": 20}`)
	b := llm(3, 1, `"claude-sonnet-4-6"`, `{"input_tokens": 100, "output_tokens": 10, "cache_read_input_tokens": 40}`)
	b.Attributes[keys.LLMProvider] = `"anthropic"`
	in := &tracemodel.Trace{
		Info:  tracemodel.TraceInfo{TraceID: "tr-1", Metadata: map[string]string{"k": "v"}},
		Spans: []*tracemodel.Span{root, a, b},
	}
	out := Bundled().PriceTrace(in)
	if out == in || out.Spans[0] != root || out.Spans[1] == a {
		t.Fatal("priced spans and the info must be copies; unchanged spans shared")
	}
	if _, ok := a.Attributes[keys.LLMCost]; ok || len(in.Info.Metadata) != 1 {
		t.Fatal("the input trace was modified")
	}
	if got := out.Spans[1].Attributes[keys.LLMCost]; got != `{"input_cost": 1.8e-06, "output_cost": 4.8e-06, "total_cost": 6.5999999999999995e-06}` {
		t.Errorf("span cost %s", got)
	}
	if out.Info.Metadata[keys.MetaCost] == "" || out.Info.Metadata[keys.MetaSizeStats] == "" || out.Info.Metadata["k"] != "v" {
		t.Errorf("metadata %v", out.Info.Metadata)
	}
	// Priced again: nothing changes.
	if again := Bundled().PriceTrace(out); again != out {
		t.Error("a priced trace is returned as is")
	}
	// Nothing to price.
	plain := &tracemodel.Trace{Spans: []*tracemodel.Span{llm(1, 0, "", "")}}
	if Bundled().PriceTrace(plain) != plain {
		t.Error("a trace without LLM spans is returned as is")
	}
	// A cost the program set itself is summed into the trace, as MLflow does.
	own := llm(1, 0, "", "")
	own.Attributes[keys.LLMCost] = `{"input_cost": 1.0, "output_cost": 2.0, "total_cost": 3.0}`
	got := Bundled().PriceTrace(&tracemodel.Trace{Spans: []*tracemodel.Span{own}})
	if m := got.Info.Metadata[keys.MetaCost]; m != `{"input_cost": 1.0, "output_cost": 2.0, "total_cost": 3.0}` {
		t.Errorf("trace cost %q", m)
	}
}

// FuzzScanUsage: the allocation-free scanner agrees with encoding/json
// wherever it decides.
func FuzzScanUsage(f *testing.F) {
	for _, s := range []string{
		`{"input_tokens": 12, "output_tokens": 8, "total_tokens": 20}`,
		`{"input_tokens": 1e3, "output_tokens": 0.5, "cache_read_input_tokens": null}`,
		`{"input_tokens": true, "output_tokens": false}`, `{"input_tokens": null}`, `{}`, ` { } `,
		`{"input_tokens": 012}`, `{"input_tokens": -0, "output_tokens": 1E+2}`, `{"input_tokens": 1,}`,
		`{"input_tokens": 1, "input_tokens": 2, "output_tokens": 3}`, `{"a\"b": 1}`, `{"input_tokens": "1"}`,
		`{"input_tokens": 0x10}`, `{"input_tokens": Infinity}`, "\v{\"input_tokens\": 1}", `{"input_tokens" 1}`, `[1]`, `{"input_tokens": 1}}`,
	} {
		f.Add(s)
	}
	f.Fuzz(func(t *testing.T, raw string) {
		got, ok, done := scanUsage(raw)
		if !done {
			return
		}
		want, wantOK := decodeUsage(raw)
		if ok != wantOK || (ok && got != want) {
			t.Errorf("%q: scan %+v %v, encoding/json %+v %v", raw, got, ok, want, wantOK)
		}
	})
}
