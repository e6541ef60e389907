package llmcost

import (
	"encoding/json"
	"maps"
	"slices"
	"strconv"
	"strings"

	"github.com/mlflowtrace/mlflowtrace-go/internal/assemble"
	"github.com/mlflowtrace/mlflowtrace-go/internal/keys"
	"github.com/mlflowtrace/mlflowtrace-go/internal/rawjson"
	"github.com/mlflowtrace/mlflowtrace-go/internal/tracemodel"
)

// SpanCost prices a span from its attributes (JSON text, as in
// tracemodel.Span) the way MLflow's set_span_cost_attribute does when a span
// ends: nothing when the span already has mlflow.llm.cost (even null),
// otherwise calculate_cost_by_model_and_token_usage of its mlflow.llm.model,
// mlflow.chat.tokenUsage and mlflow.llm.provider. Values MLflow's function
// fails on (a model that is not a string, a usage that is not an object, a
// token count that is not a number) price nothing, as there.
func (c *Catalog) SpanCost(attrs map[string]string) (Cost, bool) {
	if _, ok := attrs[keys.LLMCost]; ok {
		return Cost{}, false
	}
	usageRaw := attrs[keys.ChatTokenUsage]
	modelRaw := attrs[keys.LLMModel]
	if usageRaw == "" || modelRaw == "" {
		return Cost{}, false
	}
	model, ok := attrString(modelRaw)
	if !ok || model == "" {
		return Cost{}, false
	}
	t, ok := parseUsage(usageRaw)
	if !ok {
		return Cost{}, false
	}
	return c.cost(model, parseProvider(attrs[keys.LLMProvider]), t)
}

// PriceTrace returns t as MLflow's client writes it to a Databricks (or
// SageMaker) tracking backend: every span SpanCost prices gets
// mlflow.llm.cost, and when any span has a cost the trace metadata
// mlflow.trace.cost holds their sum (assemble.Cost); the size statistics are
// measured again. t is not modified (changed spans and the trace info are
// copies); when nothing changes t itself is returned.
func (c *Catalog) PriceTrace(t *tracemodel.Trace) *tracemodel.Trace {
	var spans []*tracemodel.Span // copy of t.Spans once a span is priced
	var buf []byte
	for i, s := range t.Spans {
		if s == nil {
			continue
		}
		cost, ok := c.SpanCost(s.Attributes)
		if !ok {
			continue
		}
		if spans == nil {
			spans = slices.Clone(t.Spans)
		}
		cp := *s
		cp.Attributes = make(map[string]string, len(s.Attributes)+1)
		maps.Copy(cp.Attributes, s.Attributes)
		buf = cost.AppendJSON(buf[:0])
		cp.Attributes[keys.LLMCost] = string(buf)
		spans[i] = &cp
	}
	changed := spans != nil
	if !changed {
		spans = t.Spans
	}
	total, hasTotal := assemble.Cost(spans)
	if hasTotal && t.Info.Metadata[keys.MetaCost] == total && !changed {
		return t
	}
	if !hasTotal && !changed {
		return t
	}
	out := &tracemodel.Trace{Info: t.Info, Spans: spans}
	out.Info.Metadata = make(map[string]string, len(t.Info.Metadata)+1)
	maps.Copy(out.Info.Metadata, t.Info.Metadata)
	if hasTotal {
		out.Info.Metadata[keys.MetaCost] = total
	}
	assemble.SetSizeStats(out)
	return out
}

// attrString reads an attribute as MLflow's get_attribute does (the JSON
// value, or the text itself when it is not JSON) and returns it when it is a
// string.
func attrString(raw string) (string, bool) {
	if s, ok := jsonString(raw); ok {
		return s, true
	}
	if !rawjson.Valid([]byte(raw)) {
		return raw, true
	}
	return "", false
}

// jsonString decodes a JSON string; ok is false for any other JSON value.
func jsonString(raw string) (string, bool) {
	if len(raw) >= 2 && raw[0] == '"' && raw[len(raw)-1] == '"' && !strings.ContainsAny(raw[1:len(raw)-1], "\"\\") {
		return raw[1 : len(raw)-1], true // no escapes: the text between the quotes
	}
	var s string
	if err := json.Unmarshal([]byte(raw), &s); err != nil {
		return "", false
	}
	return s, true
}

// Token usage keys (MLflow's TokenUsageKey).
const (
	keyInput        = "input_tokens"
	keyOutput       = "output_tokens"
	keyCacheRead    = "cache_read_input_tokens"
	keyCacheWrite   = "cache_creation_input_tokens"
	keyCacheWrite1h = "cache_creation_input_tokens_above_1hr"
)

// parseUsage reads mlflow.chat.tokenUsage as MLflow's function uses it:
// input and output tokens default to 0 and must be numbers; a cache count
// that is false in Python's sense (absent, null, 0, "", ...) is 0, any other
// must be a number. ok is false for what MLflow fails on or treats as no
// usage (not an object, an empty object).
func parseUsage(raw string) (tokens, bool) {
	if t, ok, done := scanUsage(raw); done {
		return t, ok
	}
	return decodeUsage(raw)
}

// decodeUsage is parseUsage through encoding/json.
func decodeUsage(raw string) (tokens, bool) {
	dec := json.NewDecoder(strings.NewReader(raw))
	dec.UseNumber()
	var u map[string]any
	if err := dec.Decode(&u); err != nil || len(u) == 0 {
		return tokens{}, false
	}
	var t tokens
	var ok bool
	if t.in, ok = count(u, keyInput, false); !ok {
		return tokens{}, false
	}
	if t.out, ok = count(u, keyOutput, false); !ok {
		return tokens{}, false
	}
	if t.cacheRead, ok = count(u, keyCacheRead, true); !ok {
		return tokens{}, false
	}
	if t.cacheWrite, ok = count(u, keyCacheWrite, true); !ok {
		return tokens{}, false
	}
	if t.cacheWrite1h, ok = count(u, keyCacheWrite1h, true); !ok {
		return tokens{}, false
	}
	return t, true
}

// scanUsage is parseUsage without allocations for the usage objects the
// integrations write: an object of plain keys and JSON numbers, true, false
// or null. done is false for anything else (strings, escapes, nesting,
// invalid JSON), which parseUsage then decodes with encoding/json.
func scanUsage(raw string) (t tokens, ok, done bool) {
	const ws = " \t\r\n" // JSON's whitespace
	s := strings.Trim(raw, ws)
	if len(s) < 2 || s[0] != '{' || s[len(s)-1] != '}' {
		return tokens{}, false, false
	}
	s = strings.Trim(s[1:len(s)-1], ws)
	if s == "" {
		return tokens{}, false, true // {}: no usage
	}
	var seen [5]bool
	var vals [5]float64
	var nulls [5]bool
	for {
		if len(s) == 0 || s[0] != '"' {
			return tokens{}, false, false
		}
		end := strings.IndexByte(s[1:], '"')
		if end < 0 {
			return tokens{}, false, false
		}
		key := s[1 : 1+end]
		for i := 0; i < len(key); i++ {
			if key[i] == '\\' || key[i] < 0x20 { // an escape, or not JSON
				return tokens{}, false, false
			}
		}
		s = strings.TrimLeft(s[2+end:], ws)
		if len(s) == 0 || s[0] != ':' {
			return tokens{}, false, false
		}
		s = strings.TrimLeft(s[1:], ws)
		n := strings.IndexAny(s, ","+ws)
		if n < 0 {
			n = len(s)
		}
		tok := s[:n]
		s = strings.TrimLeft(s[n:], ws)
		var v float64
		isNull := false
		switch tok {
		case "true":
			v = 1
		case "false":
		case "null":
			isNull = true
		default:
			if !jsonNumber(tok) {
				return tokens{}, false, false
			}
			f, err := strconv.ParseFloat(tok, 64)
			if err != nil {
				return tokens{}, false, false
			}
			v = f
		}
		for i, k := range usageKeys {
			if key == k {
				seen[i], vals[i], nulls[i] = true, v, isNull
			}
		}
		if len(s) == 0 {
			break
		}
		if s[0] != ',' {
			return tokens{}, false, false
		}
		s = strings.TrimLeft(s[1:], ws)
	}
	// input_tokens and output_tokens: null is not a number; cache counts:
	// null is 0.
	if nulls[0] || nulls[1] {
		return tokens{}, false, true
	}
	return tokens{in: vals[0], out: vals[1], cacheRead: vals[2], cacheWrite: vals[3], cacheWrite1h: vals[4]}, true, true
}

// usageKeys are the keys scanUsage reads, in tokens order.
var usageKeys = [5]string{keyInput, keyOutput, keyCacheRead, keyCacheWrite, keyCacheWrite1h}

// jsonNumber reports whether s is a JSON number (RFC 8259):
// -?(0|[1-9][0-9]*)(\.[0-9]+)?([eE][+-]?[0-9]+)?
func jsonNumber(s string) bool {
	i := 0
	if i < len(s) && s[i] == '-' {
		i++
	}
	digits := func() int {
		j := i
		for i < len(s) && '0' <= s[i] && s[i] <= '9' {
			i++
		}
		return i - j
	}
	switch {
	case i < len(s) && s[i] == '0':
		i++
	case digits() == 0:
		return false
	}
	if i < len(s) && s[i] == '.' {
		i++
		if digits() == 0 {
			return false
		}
	}
	if i < len(s) && (s[i] == 'e' || s[i] == 'E') {
		i++
		if i < len(s) && (s[i] == '+' || s[i] == '-') {
			i++
		}
		if digits() == 0 {
			return false
		}
	}
	return i == len(s)
}

// count reads u[k] as a Python number (true is 1); an absent key is 0, and
// so, when falsyIsZero, is any value false in Python's sense.
func count(u map[string]any, k string, falsyIsZero bool) (float64, bool) {
	v, ok := u[k]
	if !ok {
		return 0, true
	}
	switch x := v.(type) {
	case json.Number:
		f, err := strconv.ParseFloat(string(x), 64)
		return f, err == nil
	case bool:
		if x {
			return 1, true
		}
		return 0, true
	case nil:
		return 0, falsyIsZero
	case string:
		return 0, falsyIsZero && x == ""
	case []any:
		return 0, falsyIsZero && len(x) == 0
	case map[string]any:
		return 0, falsyIsZero && len(x) == 0
	}
	return 0, false
}

// parseProvider reads mlflow.llm.provider: a non-empty JSON string is a
// provider; an absent or false value (null, "", 0, false, [], {}) is none;
// any other value is passed on as MLflow passes it (its lookup then fails).
func parseProvider(raw string) providerArg {
	if raw == "" {
		return providerArg{}
	}
	if s, ok := attrString(raw); ok {
		if s == "" {
			return providerArg{}
		}
		return providerArg{kind: providerString, name: s}
	}
	if truthy(json.RawMessage(raw)) {
		return providerArg{kind: providerOther}
	}
	return providerArg{}
}
