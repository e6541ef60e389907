package assemble

import (
	"bytes"
	"encoding/json"
	"slices"
	"strconv"

	"github.com/mlflowtrace/mlflowtrace-go/internal/encode"
	"github.com/mlflowtrace/mlflowtrace-go/internal/keys"
	"github.com/mlflowtrace/mlflowtrace-go/internal/rawjson"
	"github.com/mlflowtrace/mlflowtrace-go/internal/tracemodel"
	"go.opentelemetry.io/otel/trace"
)

// Token usage and cost keys, in the order MLflow writes them.
var (
	usageKeys      = []string{"input_tokens", "output_tokens", "total_tokens"}
	usageCacheKeys = []string{"cache_read_input_tokens", "cache_creation_input_tokens", "cache_creation_input_tokens_above_1hr"}
	costKeys       = []string{"input_cost", "output_cost", "total_cost"}
)

// num is a Python number: an int until a float is added to it.
type num struct {
	isFloat bool
	i       int64
	f       float64
}

func (n *num) add(v any) bool {
	switch x := v.(type) {
	case json.Number:
		if i, err := strconv.ParseInt(string(x), 10, 64); err == nil {
			if n.isFloat {
				n.f += float64(i)
			} else {
				n.i += i
			}
			return true
		}
		f, err := x.Float64()
		if err != nil {
			return false
		}
		if !n.isFloat {
			n.isFloat, n.f = true, float64(n.i)
		}
		n.f += f
		return true
	case bool: // Python's bool is an int
		if x {
			return n.add(json.Number("1"))
		}
		return true
	}
	return false
}

func (n *num) append(b []byte) []byte {
	if n.isFloat {
		return encode.AppendFloat(b, n.f, 64)
	}
	return strconv.AppendInt(b, n.i, 10)
}

// TokenUsage aggregates the mlflow.chat.tokenUsage attributes of spans as
// MLflow's Python SDK does for the mlflow.trace.tokenUsage metadata: a span's
// usage counts unless an ancestor already has usage; input, output and total
// tokens are always present, cache keys only when some counted span has them.
// It returns the JSON text (Python's json.dumps form) and false when no span
// has usage, or, as in MLflow, when a usage value cannot be summed.
func TokenUsage(spans []*tracemodel.Span) (string, bool) {
	return aggregate(spans, keys.ChatTokenUsage, usageKeys, usageCacheKeys, false)
}

// Cost aggregates the mlflow.llm.cost attributes of spans as MLflow's Python
// SDK does for the mlflow.trace.cost metadata (aggregate_cost_from_spans): a
// span's cost counts unless an ancestor already has a cost; input_cost,
// output_cost and total_cost are floats summed in MLflow's visiting order
// (the same float additions, so the same last digit). It returns the JSON text
// (Python's json.dumps form) and false when no span has a cost, or when a
// cost cannot be summed.
func Cost(spans []*tracemodel.Span) (string, bool) {
	return aggregate(spans, keys.LLMCost, costKeys, nil, true)
}

// numberObject decodes raw as the Decoder of aggregate (UseNumber) does when
// raw is what an usage or cost attribute normally is, a JSON object whose
// members are all numbers; ok is false for anything else, which the
// Decoder then decodes.
func numberObject(raw string) (map[string]any, bool) {
	b := []byte(raw)
	if !rawjson.Valid(b) {
		return nil, false
	}
	m := make(map[string]any, 8)
	numbers := true
	isObject := rawjson.EachMember(b, func(key []byte, v json.RawMessage) bool {
		if len(v) == 0 || (v[0] != '-' && (v[0] < '0' || v[0] > '9')) {
			numbers = false
			return false
		}
		m[string(rawjson.KeyText(key))] = json.Number(v)
		return true
	})
	return m, isObject && numbers
}

// aggregate is MLflow's _aggregate_from_nodes over the JSON objects of
// attribute attr: the keys in want are always in the result, those in
// optional when a counted span has them; totals start as Python floats when
// float is set, as ints otherwise. Spans are visited depth first from the
// roots (spans whose parent is not in the trace) with an explicit stack, as
// MLflow does: the order matters for float sums.
func aggregate(spans []*tracemodel.Span, attr string, want, optional []string, float bool) (string, bool) {
	type node struct {
		id, parent trace.SpanID
		hasParent  bool
		data       map[string]any
		bad        bool
	}
	if !slices.ContainsFunc(spans, func(s *tracemodel.Span) bool { return s != nil && s.Attributes[attr] != "" }) {
		return "", false // the common case, without allocating
	}
	nodes := make([]node, 0, len(spans))
	ids := make(map[trace.SpanID]struct{}, len(spans))
	found := false
	for _, s := range spans {
		if s == nil {
			continue // a damaged record read back: not a panic
		}
		n := node{id: s.SpanID, parent: s.ParentSpanID, hasParent: s.ParentSpanID.IsValid()}
		if raw := s.Attributes[attr]; raw != "" {
			found = true
			if m, ok := numberObject(raw); ok {
				n.data = m
				nodes = append(nodes, n)
				ids[s.SpanID] = struct{}{}
				continue
			}
			dec := json.NewDecoder(bytes.NewReader([]byte(raw)))
			dec.UseNumber()
			var v any
			if err := dec.Decode(&v); err != nil || dec.More() {
				n.bad = true
			} else if v != nil {
				m, ok := v.(map[string]any)
				if !ok {
					n.bad = true
				}
				n.data = m
			}
		}
		nodes = append(nodes, n)
		ids[s.SpanID] = struct{}{}
	}
	if !found {
		return "", false
	}
	children := make(map[trace.SpanID][]int, len(nodes))
	type item struct {
		i        int
		ancestor bool
	}
	var stack []item
	for i, n := range nodes {
		if _, ok := ids[n.parent]; n.hasParent && ok {
			children[n.parent] = append(children[n.parent], i)
		} else {
			stack = append(stack, item{i, false})
		}
	}
	totals := make(map[string]*num, len(want)+len(optional))
	order := make([]string, 0, len(want)+len(optional))
	for _, k := range want {
		totals[k] = &num{isFloat: float}
		order = append(order, k)
	}
	hasData := false
	visited := make([]bool, len(nodes))
	for len(stack) > 0 {
		it := stack[len(stack)-1]
		stack = stack[:len(stack)-1]
		if visited[it.i] { // duplicate span ids: visit once
			continue
		}
		visited[it.i] = true
		n := &nodes[it.i]
		has := n.data != nil || n.bad
		if has && !it.ancestor {
			if n.bad {
				return "", false
			}
			for _, k := range want {
				if v, ok := n.data[k]; ok && !totals[k].add(v) {
					return "", false
				}
			}
			for _, k := range optional {
				v, ok := n.data[k]
				if !ok {
					continue
				}
				t := totals[k]
				if t == nil {
					t = &num{isFloat: float}
					totals[k] = t
					order = append(order, k)
				}
				if !t.add(v) {
					return "", false
				}
			}
			hasData = true
		}
		for _, c := range children[n.id] {
			stack = append(stack, item{c, it.ancestor || has})
		}
	}
	if !hasData {
		return "", false
	}
	b := make([]byte, 0, 128)
	b = append(b, '{')
	for i, k := range order {
		if i > 0 {
			b = append(b, ", "...)
		}
		b = append(b, '"')
		b = append(b, k...)
		b = append(b, `": `...)
		b = totals[k].append(b)
	}
	return string(append(b, '}')), true
}
