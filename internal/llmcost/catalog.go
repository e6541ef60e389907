package llmcost

import (
	_ "embed"
	"encoding/json"
	"errors"
	"fmt"
	"io/fs"
	"sort"
	"strconv"
	"strings"
	"sync"
)

// pricesTSV is MLflow 3.17.2's bundled model catalog reduced to what
// cost_per_token reads (scripts/gen-prices.py writes it).
//
//go:embed prices.tsv
var pricesTSV string

// MLflowVersion is the MLflow release whose model catalog is embedded.
const MLflowVersion = "3.17.2"

// rates are one catalog entry's prices in USD per token with MLflow's
// defaults filled in (cost_per_token): a missing input or output price is 0,
// a missing cache-read or cache-write price is the input price, a missing
// 1-hour cache-write price the cache-write price.
type rates struct {
	input, output, cacheRead, cacheWrite, cacheWrite1h float64
}

// entry is a catalog entry's optional per-million-token prices, as the
// catalog file has them.
type entry struct {
	perMillion [5]float64
	has        [5]bool
}

// rates converts per-million prices as MLflow's _flatten_catalog_entry does
// (v / 1_000_000, one correctly rounded division) and fills in the defaults.
func (e entry) rates() rates {
	var perToken [5]float64
	for i := range perToken {
		if e.has[i] {
			perToken[i] = e.perMillion[i] / 1_000_000
		}
	}
	r := rates{input: perToken[0], output: perToken[1]}
	r.cacheRead = r.input
	if e.has[2] {
		r.cacheRead = perToken[2]
	}
	r.cacheWrite = r.input
	if e.has[3] {
		r.cacheWrite = perToken[3]
	}
	r.cacheWrite1h = r.cacheWrite
	if e.has[4] {
		r.cacheWrite1h = perToken[4]
	}
	return r
}

// table maps a model name to its rates: one provider's catalog file.
type table map[string]rates

// bundle is the embedded catalog.
type bundle struct {
	providers map[string]table
	// scan is what MLflow finds for a model name when no provider is
	// given: over the providers in name order, the first entry with a
	// non-zero input price, else the first entry.
	scan table
	err  error
}

// bundled parses the embedded catalog once, on first use.
var bundled = sync.OnceValue(func() *bundle {
	b, err := parseTSV(pricesTSV)
	if err != nil {
		// Only a broken generated file gets here (TestBundledCatalog
		// catches it): price nothing rather than fail.
		return &bundle{providers: map[string]table{}, scan: table{}, err: err}
	}
	return b
})

// parseTSV reads prices.tsv: provider, model and five per-million prices
// ("-" when absent) per line.
func parseTSV(s string) (*bundle, error) {
	b := &bundle{providers: map[string]table{}, scan: table{}}
	var order []string
	priced := map[string]bool{}
	for n, line := range strings.Split(s, "\n") {
		if line == "" || line[0] == '#' {
			continue
		}
		f := strings.Split(line, "\t")
		if len(f) != 7 {
			return nil, fmt.Errorf("llmcost: prices.tsv line %d: %d fields, want 7", n+1, len(f))
		}
		var e entry
		for i, cell := range f[2:] {
			if cell == "-" {
				continue
			}
			v, err := strconv.ParseFloat(cell, 64)
			if err != nil {
				return nil, fmt.Errorf("llmcost: prices.tsv line %d: %w", n+1, err)
			}
			e.perMillion[i], e.has[i] = v, true
		}
		provider, model := f[0], f[1]
		t := b.providers[provider]
		if t == nil {
			t = table{}
			b.providers[provider] = t
			order = append(order, provider)
		}
		t[model] = e.rates()
	}
	// MLflow scans sorted(file stems); the generator writes them sorted,
	// sorting again keeps that true for any input.
	sort.Strings(order)
	for _, p := range order {
		for model, r := range b.providers[p] {
			if priced[model] {
				continue
			}
			if _, seen := b.scan[model]; !seen || r.input != 0 {
				b.scan[model] = r
				priced[model] = r.input != 0
			}
		}
	}
	return b, nil
}

// overrides are the provider files of a user's catalog directory, each
// parsed on first use.
type overrides map[string]func() table

// loadOverrides lists the <provider>.json files of fsys. Each is read and
// parsed the first time a span names its provider; a file MLflow would not
// accept (not JSON, not a catalog, a price that is not a number) is reported
// once and the bundled prices are used for that provider, as MLflow falls
// back to its bundled file.
func loadOverrides(fsys fs.FS, report func(error)) overrides {
	ents, err := fs.ReadDir(fsys, ".")
	if err != nil {
		if !errors.Is(err, fs.ErrNotExist) {
			report(fmt.Errorf("llmcost: model catalog directory: %w (using MLflow %s's bundled prices)", err, MLflowVersion))
		}
		return nil
	}
	o := overrides{}
	for _, e := range ents {
		name := e.Name()
		provider, ok := strings.CutSuffix(name, ".json")
		if !ok || e.IsDir() || provider == "" {
			continue
		}
		o[provider] = sync.OnceValue(func() table {
			data, err := fs.ReadFile(fsys, name)
			if err != nil {
				report(fmt.Errorf("llmcost: model catalog %s: %w (using MLflow %s's bundled prices for %s)", name, err, MLflowVersion, provider))
				return nil
			}
			t, err := parseCatalogFile(data)
			if err != nil {
				report(fmt.Errorf("llmcost: model catalog %s: %w (using MLflow %s's bundled prices for %s)", name, err, MLflowVersion, provider))
				return nil
			}
			return t
		})
	}
	return o
}

// priceKeys are the members of a catalog entry's "pricing" object that
// cost_per_token reads, in entry.perMillion order.
var priceKeys = [5]string{
	"input_per_million_tokens",
	"output_per_million_tokens",
	"cache_read_per_million_tokens",
	"cache_write_per_million_tokens",
	"cache_write_1hr_per_million_tokens",
}

// parseCatalogFile reads a provider file in MLflow's catalog format
// ({"schema_version": "1.0", "models": {"<model>": {"pricing": {...}, ...}}})
// and rejects what MLflow's _parse_catalog_models fails on: a file that is
// not an object, models that is not an object, an entry, context_window,
// pricing or capabilities (when present and not empty) that is not an
// object, a price that is neither a number nor null. A file with no models
// is an empty table (MLflow then uses its bundled file too). Unlike Python,
// NaN and Infinity literals are not JSON here.
func parseCatalogFile(data []byte) (table, error) {
	var file map[string]json.RawMessage
	if err := json.Unmarshal(data, &file); err != nil {
		return nil, fmt.Errorf("not a model catalog: %w", err)
	}
	var models map[string]json.RawMessage
	if raw, ok := file["models"]; ok && !isNull(raw) {
		if err := json.Unmarshal(raw, &models); err != nil {
			return nil, errors.New(`"models" is not an object`)
		}
	}
	t := make(table, len(models))
	for name, raw := range models {
		var fields map[string]json.RawMessage
		if err := json.Unmarshal(raw, &fields); err != nil || fields == nil {
			return nil, fmt.Errorf("model %q: the entry is not an object", name)
		}
		for _, k := range []string{"context_window", "capabilities"} {
			if v, ok := fields[k]; ok && truthy(v) && !isObject(v) {
				return nil, fmt.Errorf("model %q: %s is not an object", name, k)
			}
		}
		var e entry
		if v, ok := fields["pricing"]; ok && truthy(v) {
			var pricing map[string]json.RawMessage
			if err := json.Unmarshal(v, &pricing); err != nil {
				return nil, fmt.Errorf("model %q: pricing is not an object", name)
			}
			for i, k := range priceKeys {
				p, ok := pricing[k]
				if !ok || isNull(p) {
					continue
				}
				f, ok := pyNumber(p)
				if !ok {
					return nil, fmt.Errorf("model %q: pricing.%s is not a number", name, k)
				}
				e.perMillion[i], e.has[i] = f, true
			}
		}
		t[name] = e.rates()
	}
	return t, nil
}

func isNull(raw json.RawMessage) bool { return strings.TrimSpace(string(raw)) == "null" }

func isObject(raw json.RawMessage) bool {
	s := strings.TrimSpace(string(raw))
	return s != "" && s[0] == '{'
}

// truthy reports whether a JSON value is true in Python's sense: not null,
// false, 0, "", [] or {}.
func truthy(raw json.RawMessage) bool {
	var v any
	if err := json.Unmarshal(raw, &v); err != nil {
		return true
	}
	switch x := v.(type) {
	case nil:
		return false
	case bool:
		return x
	case float64:
		return x != 0
	case string:
		return x != ""
	case []any:
		return len(x) > 0
	case map[string]any:
		return len(x) > 0
	}
	return true
}

// pyNumber reads a JSON number or boolean as the float64 Python computes
// with (True is 1).
func pyNumber(raw json.RawMessage) (float64, bool) {
	s := strings.TrimSpace(string(raw))
	switch s {
	case "true":
		return 1, true
	case "false":
		return 0, true
	}
	if s == "" || (s[0] != '-' && (s[0] < '0' || s[0] > '9')) {
		return 0, false
	}
	f, err := strconv.ParseFloat(s, 64)
	return f, err == nil
}
