package llmcost

import (
	"io/fs"
	"strings"

	"github.com/mlflowtrace/mlflowtrace-go/internal/encode"
)

// Usage is the token usage of one LLM call, with the meaning of MLflow's
// mlflow.chat.tokenUsage keys.
type Usage struct {
	// InputTokens counts every input token, cached ones included
	// (input_tokens).
	InputTokens int64
	// OutputTokens counts the generated tokens (output_tokens).
	OutputTokens int64
	// CacheReadInputTokens is the part of InputTokens read from the prompt
	// cache (cache_read_input_tokens).
	CacheReadInputTokens int64
	// CacheCreationInputTokens is the part of InputTokens written to the
	// prompt cache (cache_creation_input_tokens).
	CacheCreationInputTokens int64
	// CacheCreationInputTokens1h is the part of CacheCreationInputTokens
	// written with the 1-hour cache lifetime
	// (cache_creation_input_tokens_above_1hr).
	CacheCreationInputTokens1h int64
}

// Cost is the cost of one LLM call (or a trace's sum) in US dollars: MLflow's
// mlflow.llm.cost.
type Cost struct {
	Input  float64 // input_cost
	Output float64 // output_cost
	Total  float64 // total_cost = Input + Output
}

// AppendJSON appends c as MLflow stores it (Python's json.dumps of the dict):
// {"input_cost": 1.8e-06, "output_cost": 4.8e-06, "total_cost": 6.5999999999999995e-06}.
func (c Cost) AppendJSON(b []byte) []byte {
	b = append(b, `{"input_cost": `...)
	b = encode.AppendFloat(b, c.Input, 64)
	b = append(b, `, "output_cost": `...)
	b = encode.AppendFloat(b, c.Output, 64)
	b = append(b, `, "total_cost": `...)
	b = encode.AppendFloat(b, c.Total, 64)
	return append(b, '}')
}

// Catalog prices LLM calls. The zero value is not usable; use Bundled or New.
// A Catalog is safe for concurrent use.
type Catalog struct {
	overrides overrides
}

var bundledCatalog = &Catalog{}

// Bundled returns the catalog of MLflow 3.17.2's bundled prices.
func Bundled() *Catalog { return bundledCatalog }

// Option configures New.
type Option interface{ apply(*config) }

type config struct {
	dir    fs.FS
	report func(error)
}

type optionFunc func(*config)

func (f optionFunc) apply(c *config) { f(c) }

// WithDirectory adds the provider files of a directory in MLflow's catalog
// format (<provider>.json, as MLFLOW_MODEL_CATALOG_URI=file://<dir> names
// them for MLflow): a call whose provider has a file there is priced from
// that file; calls of other providers, calls without a provider and models
// the file does not list use the bundled prices — MLflow's rule. A nil fsys
// is ignored.
func WithDirectory(fsys fs.FS) Option {
	return optionFunc(func(c *config) {
		if fsys != nil {
			c.dir = fsys
		}
	})
}

// WithErrorHandler receives the problems of a catalog directory (an
// unreadable directory or file, a file that is not a model catalog), each
// once; the bundled prices are used instead. Default: problems are dropped,
// as MLflow logs them only at debug level.
func WithErrorHandler(fn func(error)) Option {
	return optionFunc(func(c *config) {
		if fn != nil {
			c.report = fn
		}
	})
}

// New returns a catalog of the bundled prices and the options' directory.
// It lists the directory (no file is read until a span names its provider).
func New(opts ...Option) *Catalog {
	c := config{report: func(error) {}}
	for _, o := range opts {
		if o != nil {
			o.apply(&c)
		}
	}
	if c.dir == nil {
		return Bundled()
	}
	return &Catalog{overrides: loadOverrides(c.dir, c.report)}
}

// Cost prices one LLM call exactly as MLflow 3.17.2's
// calculate_cost_by_model_and_token_usage(model, usage, provider) does
// without litellm. ok is false where MLflow returns None: no model, no input
// and no output tokens, a gateway:/ or endpoints:/ model, or a model no
// catalog lists. See the package documentation for how names are matched.
func (c *Catalog) Cost(model, provider string, u Usage) (Cost, bool) {
	p := providerArg{name: provider}
	if provider != "" {
		p.kind = providerString
	}
	return c.cost(model, p, tokens{
		in:           float64(u.InputTokens),
		out:          float64(u.OutputTokens),
		cacheRead:    float64(u.CacheReadInputTokens),
		cacheWrite:   float64(u.CacheCreationInputTokens),
		cacheWrite1h: float64(u.CacheCreationInputTokens1h),
	})
}

// providerArg is the model_provider argument of MLflow's function.
type providerArg struct {
	kind int
	name string
}

const (
	providerNone   = iota // absent or false in Python's sense
	providerString        // a non-empty string
	providerOther         // a true non-string value: MLflow's provider lookup fails, its scan runs
)

// tokens are the usage counts as the Python numbers MLflow computes with:
// every count is exact in a float64 below 2^53, so float64 arithmetic gives
// Python's results (int - int, int * float).
type tokens struct {
	in, out, cacheRead, cacheWrite, cacheWrite1h float64
}

// Model name prefixes MLflow never prices (_SKIP_COST_PREFIXES).
var skipPrefixes = []string{"gateway:/", "endpoints:/"}

func (c *Catalog) cost(model string, p providerArg, t tokens) (Cost, bool) {
	if model == "" {
		return Cost{}, false
	}
	for _, pre := range skipPrefixes {
		if strings.HasPrefix(model, pre) {
			return Cost{}, false
		}
	}
	if p.kind == providerNone && (strings.HasPrefix(model, "databricks-") || strings.HasPrefix(model, "databricks/")) {
		p = providerArg{kind: providerString, name: "databricks"}
	}
	if t.in == 0 && t.out == 0 {
		return Cost{}, false
	}
	r, ok := c.lookup(model, p)
	if !ok {
		return Cost{}, false
	}
	return r.price(t), true
}

// lookup finds a model's rates as MLflow's cost_per_token does: with a
// provider, that provider's file (the user's when there is one, else the
// bundled one) by the model name after its first "/"; when that finds
// nothing, or there is no provider, the scan of the bundled providers.
func (c *Catalog) lookup(model string, p providerArg) (rates, bool) {
	bare := model
	if i := strings.IndexByte(model, '/'); i >= 0 {
		bare = model[i+1:]
	}
	b := bundled()
	if p.kind == providerString {
		name := pyLower(p.name)
		t := b.providers[name]
		if load, ok := c.overrides[name]; ok {
			if user := load(); len(user) > 0 {
				t = user
			}
		}
		if r, ok := t[bare]; ok {
			return r, true
		}
	}
	r, ok := b.scan[bare]
	return r, ok
}

// price is the arithmetic of MLflow's cost_per_token. The float64
// conversions keep Go from fusing a multiply and an add (Python rounds
// each).
func (r rates) price(t tokens) Cost {
	cacheRead, cacheWrite := t.cacheRead, t.cacheWrite
	regular := t.in - cacheRead - cacheWrite
	if 0 > regular { // Python's max(regular, 0)
		regular = 0
	}
	cacheWrite1h := t.cacheWrite1h
	if cacheWrite < cacheWrite1h { // Python's min(cacheWrite1h, cacheWrite)
		cacheWrite1h = cacheWrite
	}
	cacheWrite5m := cacheWrite - cacheWrite1h
	in := float64(regular * r.input)
	if cacheRead > 0 {
		in += float64(cacheRead * r.cacheRead)
	}
	if cacheWrite5m > 0 {
		in += float64(cacheWrite5m * r.cacheWrite)
	}
	if cacheWrite1h > 0 {
		in += float64(cacheWrite1h * r.cacheWrite1h)
	}
	out := float64(t.out * r.output)
	return Cost{Input: in, Output: out, Total: in + out}
}

// pyLower is Python's str.lower for provider names: Go's strings.ToLower
// except that U+0130 (İ) becomes "i̇" as in Python (the one unconditional
// difference; Python's final-sigma rule is left out: no provider file name
// has a Greek letter).
func pyLower(s string) string {
	upper := false
	for i := 0; i < len(s); i++ {
		c := s[i]
		if c >= 0x80 {
			return strings.ToLower(strings.ReplaceAll(s, "\u0130", "i\u0307"))
		}
		upper = upper || ('A' <= c && c <= 'Z')
	}
	if upper {
		return strings.ToLower(s)
	}
	return s
}
