package prompts_test

import (
	"context"
	"errors"
	"fmt"
	"io"
	"net/http"
	"net/http/httptest"
	"os"
	"path/filepath"

	"github.com/mlflowtrace/mlflowtrace-go/exporter"
	"github.com/mlflowtrace/mlflowtrace-go/prompts"
	"github.com/mlflowtrace/mlflowtrace-go/traces"
	"github.com/mlflowtrace/mlflowtrace-go/tracing"
)

// An agent loads its prompt by alias from the registry of an MLflow
// tracking server (here a stand-in), formats it, and its trace records the
// prompt version it used. Without options, NewClient uses
// MLFLOW_TRACKING_URI as tracing.Init does.
func Example() {
	ctx := context.Background()
	registry := fakeRegistry() // stands in for `mlflow server`
	defer registry.Close()
	dir, _ := os.MkdirTemp("", "prompts-example")
	defer os.RemoveAll(dir)
	store := exporter.WithTrackingURI(filepath.Join(dir, "mlruns")) // traces go to ./mlruns here

	tp, _ := tracing.Init(ctx, tracing.WithEnabled(), tracing.WithoutGlobalTracerProvider(), tracing.WithExporterOptions(store))
	pc, err := prompts.NewClient(ctx, exporter.WithTrackingURI(registry.URL))
	if err != nil {
		panic(err)
	}
	defer pc.Shutdown(ctx)

	ctx, span := tracing.StartSpan(ctx, "answer", tracing.WithSpanType(tracing.SpanTypeAgent))
	p, err := pc.Load(ctx, "prompts:/qa@production")
	if err != nil {
		panic(err)
	}
	text, err := p.Format(map[string]any{"question": "What is MLflow?", "words": 20})
	if err != nil {
		panic(err)
	}
	fmt.Println(p.URI(), "→", text)
	span.End(tracing.WithOutputs(text))
	_ = tp.Shutdown(ctx)

	_, err = pc.Load(ctx, "prompts:/qa@staging")
	fmt.Println(errors.Is(err, prompts.ErrNotFound), err)

	tc, _ := traces.NewClient(ctx, store)
	defer tc.Close()
	t, _ := tc.GetTrace(ctx, span.TraceID())
	fmt.Println(t.Info.Tags["mlflow.linkedPrompts"])
	// Output:
	// prompts:/qa/3 → Answer in 20 words: What is MLflow?
	// true prompts: INVALID_PARAMETER_VALUE: Prompt alias staging not found.
	// [{"name": "qa", "version": "3"}]
}

// A chat prompt's messages, formatted in two steps.
func ExamplePromptVersion_Partial() {
	p := &prompts.PromptVersion{Name: "assistant", Version: 1, Messages: []prompts.Message{
		{Role: "system", Content: "You are a {{ style }} assistant."},
		{Role: "user", Content: "{{question}}"},
	}}
	fmt.Println(p.Variables())
	styled, _ := p.Partial(map[string]any{"style": "concise"})
	msgs, _ := styled.FormatMessages(map[string]any{"question": "Why Go?"})
	fmt.Println(msgs)
	_, err := p.FormatMessages(map[string]any{"style": "concise"})
	fmt.Println(err)
	// Output:
	// [question style]
	// [{system You are a concise assistant.} {user Why Go?}]
	// prompts: prompts:/assistant/1: Missing variables: {'question'}. To partially format the prompt, use Partial.
}

// fakeRegistry answers the requests Load makes for version 3 of the text
// prompt qa (alias production), as an MLflow tracking server does.
func fakeRegistry() *httptest.Server {
	const version = `{"model_version": {"name": "qa", "version": "3", "aliases": ["production"], "tags": [
		{"key": "mlflow.prompt.is_prompt", "value": "true"}, {"key": "_mlflow_prompt_type", "value": "text"},
		{"key": "mlflow.prompt.text", "value": "Answer in {{ words }} words: {{ question }}"}]}}`
	return httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		switch {
		case r.URL.Path == "/api/2.0/mlflow/registered-models/get":
			_, _ = io.WriteString(w, `{"registered_model": {"name": "qa", "tags": [{"key": "mlflow.prompt.is_prompt", "value": "true"}]}}`)
		case r.URL.Path == "/api/2.0/mlflow/registered-models/alias" && r.URL.Query().Get("alias") == "production":
			_, _ = io.WriteString(w, version)
		case r.URL.Path == "/api/2.0/mlflow/registered-models/alias":
			w.WriteHeader(http.StatusBadRequest)
			_, _ = fmt.Fprintf(w, `{"error_code": "INVALID_PARAMETER_VALUE", "message": "Registered model alias %s not found."}`, r.URL.Query().Get("alias"))
		default: // the experiment link's tag
			_, _ = io.WriteString(w, "{}")
		}
	}))
}
