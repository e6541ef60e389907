// Command writestore records traces through package tracing (the real
// exporter and local store) into an MLflow FileStore folder and prints a JSON
// manifest of what it recorded, for conformance/test_localstore.py to compare
// with what MLflow loads.
//
//	writestore -root /tmp/x/mlruns -experiment conformance -traces 3 -prefix a
package main

import (
	"context"
	"encoding/json"
	"errors"
	"flag"
	"fmt"
	"os"
	"strconv"
	"strings"
	"sync"
	"time"

	"go.opentelemetry.io/otel/attribute"
	"go.opentelemetry.io/otel/codes"

	"github.com/mlflowtrace/mlflowtrace-go/exporter"
	"github.com/mlflowtrace/mlflowtrace-go/tracing"
)

// manifest is what the program recorded, keyed the way the Python test reads it.
type manifest struct {
	ExperimentName string          `json:"experiment_name"`
	Traces         []traceManifest `json:"traces"`
}

type traceManifest struct {
	TraceID  string            `json:"trace_id"`
	Kind     string            `json:"kind"`
	State    string            `json:"state"`
	User     string            `json:"user,omitempty"`
	Session  string            `json:"session,omitempty"`
	Tags     map[string]string `json:"tags,omitempty"`
	Metadata map[string]string `json:"metadata,omitempty"`
	Spans    []spanManifest    `json:"spans"`
}

type spanManifest struct {
	Name       string         `json:"name"`
	Parent     string         `json:"parent"` // parent span name, "" for the root
	SpanType   string         `json:"span_type"`
	Inputs     any            `json:"inputs"`  // the Go value, marshalled with encoding/json
	Outputs    any            `json:"outputs"` // idem; null when none
	HasInputs  bool           `json:"has_inputs"`
	HasOutputs bool           `json:"has_outputs"`
	Status     string         `json:"status"` // OK, ERROR, UNSET
	StatusMsg  string         `json:"status_message,omitempty"`
	Events     []eventM       `json:"events"`
	Attributes map[string]any `json:"attributes,omitempty"` // extra attributes as the Go values
	TokenUsage map[string]int `json:"token_usage,omitempty"`
}

type eventM struct {
	Name       string         `json:"name"`
	Attributes map[string]any `json:"attributes"`
}

// recorder collects manifest entries from concurrent traces.
type recorder struct {
	mu     sync.Mutex
	traces []traceManifest
}

func (r *recorder) add(t traceManifest) {
	r.mu.Lock()
	r.traces = append(r.traces, t)
	r.mu.Unlock()
}

// Values of several shapes.
type Address struct {
	Street string   `json:"street"`
	City   string   `json:"city"`
	Tags   []string `json:"tags"`
}

type Customer struct {
	Name    string            `json:"name"`
	Age     int               `json:"age"`
	Address Address           `json:"address"`
	Extra   map[string]any    `json:"extra"`
	Scores  []float64         `json:"scores"`
	Labels  map[string]string `json:"labels"`
}

type Plan struct {
	Steps []string `json:"steps"`
	Depth int      `json:"depth"`
}

var errTool = errors.New("tool exploded: ünïcode 💥")

func main() {
	root := flag.String("root", "mlruns", "MLflow FileStore folder")
	experiment := flag.String("experiment", "conformance", "experiment name")
	n := flag.Int("traces", 1, "number of agent traces (written from concurrent goroutines)")
	prefix := flag.String("prefix", "p", "prefix making values unique to this process")
	big := flag.Int("big", 300_000, "size in bytes of the big payload trace (0: none)")
	flag.Parse()
	if err := run(*root, *experiment, *n, *prefix, *big); err != nil {
		fmt.Fprintln(os.Stderr, "writestore:", err)
		os.Exit(1)
	}
}

func run(root, experiment string, n int, prefix string, big int) error {
	ctx := context.Background()
	var exportErrs []error
	var errMu sync.Mutex
	p, err := tracing.Init(ctx,
		tracing.WithoutGlobalTracerProvider(),
		tracing.WithExporterOptions(
			exporter.WithTrackingURI(root),
			exporter.WithExperimentName(experiment),
			exporter.WithErrorHandler(func(err error) {
				errMu.Lock()
				exportErrs = append(exportErrs, err)
				errMu.Unlock()
			}),
		))
	if err != nil {
		return err
	}
	rec := &recorder{}
	var wg sync.WaitGroup
	for i := 0; i < n; i++ {
		wg.Add(1)
		go func() {
			defer wg.Done()
			agentTrace(ctx, rec, prefix+"-"+strconv.Itoa(i))
		}()
	}
	wg.Wait()
	if big > 0 {
		bigTrace(ctx, rec, prefix, big)
	}
	sctx, cancel := context.WithTimeout(ctx, time.Minute)
	defer cancel()
	if err := p.Shutdown(sctx); err != nil {
		return fmt.Errorf("shutdown: %w", err)
	}
	if len(exportErrs) > 0 {
		return fmt.Errorf("export errors: %w", errors.Join(exportErrs...))
	}
	return json.NewEncoder(os.Stdout).Encode(manifest{ExperimentName: experiment, Traces: rec.traces})
}

// agentTrace records one agent run: nested spans of several types, inputs
// and outputs of several shapes, an error span, events, attributes, token
// usage, user, session, tags and metadata.
func agentTrace(ctx context.Context, rec *recorder, id string) {
	question := map[string]any{"question": "Où est la gare? 東京 🚆 " + id, "n": 3, "flags": []any{true, nil, 1.5}}
	ctx, root := tracing.StartSpan(ctx, "agent", tracing.WithSpanType(tracing.SpanTypeAgent), tracing.WithInputs(question))
	tm := traceManifest{Kind: "agent", State: "OK", TraceID: root.TraceID()}
	rootM := spanManifest{Name: "agent", SpanType: "AGENT", Inputs: question, HasInputs: true, Status: "OK", Events: []eventM{}}

	// A wrapped function with a struct input.
	cust := Customer{Name: "Zoë \"Z\" O'Neil", Age: 41, Address: Address{Street: "1 Rue: de la Paix", City: "Paris", Tags: []string{"a", "b"}},
		Extra: map[string]any{"nested": map[string]any{"deep": []any{1.0, "two", map[string]any{"three": 3.0}}}}, Scores: []float64{0.5, 1, 2.25},
		Labels: map[string]string{"tier": "gold"}}
	planFn := tracing.Func("plan", func(ctx context.Context, c Customer) (Plan, error) {
		return Plan{Steps: []string{"lookup", "answer"}, Depth: 2}, nil
	}, tracing.WithSpanType(tracing.SpanTypeChain))
	plan, _ := planFn(ctx, cust)
	planM := spanManifest{Name: "plan", Parent: "agent", SpanType: "CHAIN", Inputs: cust, HasInputs: true, Outputs: plan, HasOutputs: true, Status: "OK", Events: []eventM{}}

	// A chat model call: list input, nested output, token usage, attributes, event.
	messages := []map[string]string{{"role": "system", "content": "be brief"}, {"role": "user", "content": "Où est la gare? " + id}}
	llmOut := map[string]any{"choices": []any{map[string]any{"index": 0.0, "message": map[string]any{"role": "assistant", "content": "À gauche. " + id}}}}
	_, llm := tracing.StartSpan(ctx, "chat", tracing.WithSpanType(tracing.SpanTypeChatModel), tracing.WithInputs(messages))
	llm.SetModel("fake-model")
	llm.SetProvider("fake")
	llm.SetMessageFormat("openai")
	llm.SetTokenUsage(tracing.TokenUsage{InputTokens: 10, OutputTokens: 5})
	llm.SetAttribute("custom.number", 42)
	llm.SetAttribute("custom.list", []string{"x", "y"})
	llm.SetAttribute("custom.text", "quote \" colon: newline\n done")
	llm.AddEvent("first_token", attribute.String("token", "À"), attribute.Int("index", 0))
	llm.SetOutputs(llmOut)
	llm.End()
	llmM := spanManifest{Name: "chat", Parent: "agent", SpanType: "CHAT_MODEL", Inputs: messages, HasInputs: true, Outputs: llmOut, HasOutputs: true,
		Status: "OK", Events: []eventM{{Name: "first_token", Attributes: map[string]any{"token": "À", "index": 0}}},
		Attributes: map[string]any{"custom.number": 42, "custom.list": []string{"x", "y"}, "custom.text": "quote \" colon: newline\n done",
			"mlflow.llm.model": "fake-model", "mlflow.llm.provider": "fake", "mlflow.message.format": "openai"},
		TokenUsage: map[string]int{"input_tokens": 10, "output_tokens": 5, "total_tokens": 15}}

	// A tool with a string input and a number output.
	toolOut, _ := tracing.Do(ctx, "lookup", func(ctx context.Context) (float64, error) { return 3.25, nil },
		tracing.WithSpanType(tracing.SpanTypeTool), tracing.WithInputs("station near "+id))
	toolM := spanManifest{Name: "lookup", Parent: "agent", SpanType: "TOOL", Inputs: "station near " + id, HasInputs: true, Outputs: toolOut, HasOutputs: true, Status: "OK", Events: []eventM{}}

	// A failing tool: error status and exception event.
	_, _ = tracing.Do(ctx, "broken", func(ctx context.Context) (string, error) { return "", errTool },
		tracing.WithSpanType(tracing.SpanTypeTool), tracing.WithInputs(map[string]any{"x": 1}))
	brokenM := spanManifest{Name: "broken", Parent: "agent", SpanType: "TOOL", Inputs: map[string]any{"x": 1}, HasInputs: true, Status: "ERROR",
		Events: []eventM{{Name: "exception", Attributes: map[string]any{"exception.message": errTool.Error()}}}}

	// A span of a custom type, with an explicit status message.
	_, custom := tracing.StartSpan(ctx, "guard", tracing.WithSpanType("MY_TYPE"))
	custom.SetStatus(codes.Ok, "")
	custom.End()
	customM := spanManifest{Name: "guard", Parent: "agent", SpanType: "MY_TYPE", Status: "OK", Events: []eventM{}}

	user, session := "user-"+id, "session-ü-"+id
	tags := map[string]string{"env": "conformance", "colon: key": "value: with 'quotes' and \"dq\"", "unicode": "日本語 " + id, "multi": "line1\nline2"}
	meta := map[string]string{"app.version": "1.2.3", "note": "métadonnée: " + id}
	if err := tracing.UpdateCurrentTrace(ctx, tracing.WithUser(user), tracing.WithSession(session), tracing.WithTags(tags), tracing.WithMetadata(meta)); err != nil {
		fmt.Fprintln(os.Stderr, "update trace:", err)
	}
	answer := map[string]any{"answer": "À gauche. " + id, "plan": plan, "score": toolOut}
	root.End(tracing.WithOutputs(answer))
	rootM.Outputs, rootM.HasOutputs = answer, true

	tm.User, tm.Session, tm.Tags, tm.Metadata = user, session, tags, meta
	tm.Spans = []spanManifest{rootM, planM, llmM, toolM, brokenM, customM}
	rec.add(tm)
}

// bigTrace records one span with a large payload.
func bigTrace(ctx context.Context, rec *recorder, prefix string, size int) {
	payload := map[string]any{"blob": strings.Repeat("ab€", size/5), "prefix": prefix}
	_, s := tracing.StartSpan(ctx, "big", tracing.WithSpanType(tracing.SpanTypeRetriever), tracing.WithInputs(payload))
	id := s.TraceID()
	s.End(tracing.WithOutputs([]any{"done", float64(size)}))
	rec.add(traceManifest{Kind: "big", State: "OK", TraceID: id, Spans: []spanManifest{{
		Name: "big", SpanType: "RETRIEVER", Inputs: payload, HasInputs: true, Outputs: []any{"done", float64(size)}, HasOutputs: true, Status: "OK", Events: []eventM{},
	}}})
}
