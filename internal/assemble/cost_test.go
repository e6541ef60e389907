package assemble

import (
	"encoding/json"
	"fmt"
	"math/rand/v2"
	"os"
	"path/filepath"
	"testing"

	"github.com/mlflowtrace/mlflowtrace-go/internal/encode"
	"github.com/mlflowtrace/mlflowtrace-go/internal/keys"
	"github.com/mlflowtrace/mlflowtrace-go/internal/pyenv"
	"github.com/mlflowtrace/mlflowtrace-go/internal/tracemodel"
)

// pyAggregateCost prints, for each trace of the file argv[1] (a list of
// [span_id, parent_id, mlflow.llm.cost text or null] lists), json.dumps of
// MLflow's aggregate_cost_from_span_nodes over the spans (null when None),
// reading each attribute as MLflow's get_attribute does.
const pyAggregateCost = `
import json, sys
from mlflow.tracing.utils import SpanAggregationNode, aggregate_cost_from_span_nodes
def attr(raw):
    if not raw:
        return None
    try:
        return json.loads(raw)
    except Exception:
        return raw
out = []
for spans in json.load(open(sys.argv[1])):
    nodes = [SpanAggregationNode(span_id=s, parent_id=p, data=attr(c)) for s, p, c in spans]
    try:
        cost = aggregate_cost_from_span_nodes(nodes)
    except Exception:
        cost = None
    out.append(None if cost is None else json.dumps(cost))
json.dump(out, sys.stdout)
`

// TestCostMatchesMLflow: on random span trees with random costs (some nested
// under priced spans, some orphans), the trace cost text equals MLflow's to
// the last digit: the same spans counted, the same float additions in the
// same order.
func TestCostMatchesMLflow(t *testing.T) {
	py := pyenv.Python(t)
	r := rand.New(rand.NewPCG(15, 17))
	var traces [][]*tracemodel.Span
	for n := range 60 {
		count := 1 + r.IntN(14)
		spans := make([]*tracemodel.Span, 0, count)
		for i := 1; i <= count; i++ {
			parent := byte(0)
			if i > 1 {
				parent = byte(1 + r.IntN(i-1))
				if r.IntN(12) == 0 {
					parent = 200 // not in the trace: an orphan counts as a root
				}
			}
			s := mkSpan(byte(i), parent, fmt.Sprintf("s%d", i), i, i+1, nil)
			switch r.IntN(4) {
			case 0, 1: // a priced LLM call: tokens × per-token price
				in := float64(r.IntN(5000)) * []float64{1.5e-07, 2.5e-06, 3e-06, 1.25e-06}[r.IntN(4)]
				out := float64(r.IntN(900)) * []float64{6e-07, 1e-05, 1.5e-05}[r.IntN(3)]
				c := map[string]any{"input_cost": in, "output_cost": out, "total_cost": in + out}
				if n%7 == 0 {
					delete(c, "output_cost")
				}
				s.Attributes[keys.LLMCost] = encode.JSON(c)
			case 2:
				if n%5 == 0 {
					s.Attributes[keys.LLMCost] = `{"input_cost": 2, "output_cost": 1, "total_cost": 3}`
				}
			}
			spans = append(spans, s)
		}
		traces = append(traces, spans)
	}
	in := make([][][]any, len(traces))
	for i, spans := range traces {
		for _, s := range spans {
			var parent any
			if s.ParentSpanID.IsValid() {
				parent = s.ParentSpanID.String()
			}
			var c any
			if v, ok := s.Attributes[keys.LLMCost]; ok {
				c = v
			}
			in[i] = append(in[i], []any{s.SpanID.String(), parent, c})
		}
	}
	b, _ := json.Marshal(in)
	file := filepath.Join(t.TempDir(), "traces.json")
	if err := os.WriteFile(file, b, 0o600); err != nil {
		t.Fatal(err)
	}
	var want []*string
	if err := json.Unmarshal(pyenv.Run(t, py, pyAggregateCost, file), &want); err != nil {
		t.Fatal(err)
	}
	withCost := 0
	for i, spans := range traces {
		got, ok := Cost(spans)
		w := ""
		if want[i] != nil {
			w = *want[i]
			withCost++
		}
		if got != w || ok != (w != "") {
			t.Errorf("trace %d: got %q, mlflow %q", i, got, w)
		}
	}
	if withCost < len(traces)/2 {
		t.Errorf("only %d of %d traces have a cost", withCost, len(traces))
	}
}

// A nil span in a trace (a damaged record read back) is skipped, not a
// panic: the others are aggregated as without it.
func TestAggregateSkipsNilSpans(t *testing.T) {
	usage := &tracemodel.Span{SpanID: [8]byte{1}, Attributes: map[string]string{
		keys.ChatTokenUsage: `{"input_tokens": 3, "output_tokens": 4, "total_tokens": 7}`,
		keys.LLMCost:        `{"input_cost": 0.5, "output_cost": 0.25, "total_cost": 0.75}`,
	}}
	for _, spans := range [][]*tracemodel.Span{{nil, usage}, {usage, nil}} {
		if got, ok := TokenUsage(spans); !ok || got != `{"input_tokens": 3, "output_tokens": 4, "total_tokens": 7}` {
			t.Errorf("TokenUsage = %q, %v", got, ok)
		}
		if got, ok := Cost(spans); !ok || got != `{"input_cost": 0.5, "output_cost": 0.25, "total_cost": 0.75}` {
			t.Errorf("Cost = %q, %v", got, ok)
		}
	}
}
