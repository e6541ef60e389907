// Command parity runs the parity workflow through package tracing: the same
// small agent as conformance/parity/workflow.py, which uses MLflow's Python
// SDK. conformance/test_parity.py runs both and compares the two traces field
// by field. Keep the two programs in step: same span names, types, inputs,
// outputs, attributes, errors, trace tags and metadata.
//
// The destination comes from the environment (MLFLOW_TRACKING_URI: an MLflow
// server URL, or a local store path; unset means ./mlruns). PARITY_LLM_MODEL
// and PARITY_LLM_PROVIDER replace the chat model's "fake-gpt" / "fake" (a
// catalog model makes the span priced, conformance/test_databricks.py).
// PARITY_SCOPE=1 runs the agent in two nested ContextWithTraceOptions scopes
// and calls traced functions where ContextWithTracingEnabled turned tracing
// off (MLflow's mlflow.tracing.context). It prints one JSON line {"trace_id": "tr-..."} after everything has been
// written.
package main

import (
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"os"

	"github.com/mlflowtrace/mlflowtrace-go/tracing"
)

const question = "What is the weather in Paris, in Fahrenheit?"

// The chat model and its provider (PARITY_LLM_MODEL, PARITY_LLM_PROVIDER).
var model, provider = envOr("PARITY_LLM_MODEL", "fake-gpt"), envOr("PARITY_LLM_PROVIDER", "fake")

// scope is PARITY_SCOPE=1.
var scope = os.Getenv("PARITY_SCOPE") == "1"

func envOr(name, def string) string {
	if v := os.Getenv(name); v != "" {
		return v
	}
	return def
}

// Message is an OpenAI-style chat message.
type Message struct {
	Content string `json:"content"`
	Role    string `json:"role"`
}

// AgentRequest is the agent's input: @mlflow.trace records Python's
// agent(messages) as {"messages": [...]}.
type AgentRequest struct {
	Messages []Message `json:"messages"`
}

// ChatRequest is what the fake chat model receives.
type ChatRequest struct {
	Messages    []Message `json:"messages"`
	Model       string    `json:"model"`
	Temperature int       `json:"temperature"`
}

// ChatChoice is one choice of a chat completion.
type ChatChoice struct {
	FinishReason string  `json:"finish_reason"`
	Index        int     `json:"index"`
	Message      Message `json:"message"`
}

// Usage is OpenAI's usage block.
type Usage struct {
	CompletionTokens int `json:"completion_tokens"`
	PromptTokens     int `json:"prompt_tokens"`
	TotalTokens      int `json:"total_tokens"`
}

// ChatCompletion is an OpenAI-style chat completion.
type ChatCompletion struct {
	Choices []ChatChoice `json:"choices"`
	Model   string       `json:"model"`
	Usage   Usage        `json:"usage"`
}

// Plan is the planner's output.
type Plan struct {
	Steps []string `json:"steps"`
}

// Weather is get_weather's output.
type Weather struct {
	City       string `json:"city"`
	Conditions string `json:"conditions"`
	TempC      int    `json:"temp_c"`
}

// ConvertRequest is convert_units' input: Python's convert_units(unit, value).
type ConvertRequest struct {
	Unit  string `json:"unit"`
	Value int    `json:"value"`
}

// Document is a retrieved document, in MLflow's retriever output shape.
type Document struct {
	ID          string         `json:"id"`
	Metadata    map[string]any `json:"metadata"`
	PageContent string         `json:"page_content"`
}

// UnsupportedUnitError is the error convert_units returns.
type UnsupportedUnitError struct{ Unit string }

func (e *UnsupportedUnitError) Error() string { return "unsupported unit: " + e.Unit }

// The traced functions. Func records each one's bare Go name as
// mlflow.spanFunctionName ("plan" for main.plan), as @mlflow.trace records
// the function's __name__ "plan".
var (
	tracedPlan = tracing.Func("plan", plan,
		tracing.WithSpanType(tracing.SpanTypeChain), tracing.WithInputName("question"))
	tracedGetWeather = tracing.Func("get_weather", getWeather,
		tracing.WithSpanType(tracing.SpanTypeTool), tracing.WithInputName("city"))
	tracedConvertUnits = tracing.Func("convert_units", convertUnits,
		tracing.WithSpanType(tracing.SpanTypeTool))
	tracedAgent = tracing.Func("agent", agent, tracing.WithSpanType(tracing.SpanTypeAgent))
)

func plan(ctx context.Context, question string) (Plan, error) {
	return Plan{Steps: []string{"chat", "get_weather", "convert_units", "search_docs"}}, nil
}

func getWeather(ctx context.Context, city string) (Weather, error) {
	return Weather{City: city, Conditions: "sunny", TempC: 20}, nil
}

func convertUnits(ctx context.Context, r ConvertRequest) (float64, error) {
	return 0, &UnsupportedUnitError{Unit: r.Unit}
}

func chatModel(ctx context.Context, messages []Message) ChatCompletion {
	_, span := tracing.StartSpan(ctx, "chat_model",
		tracing.WithSpanType(tracing.SpanTypeChatModel),
		tracing.WithInputs(ChatRequest{Messages: messages, Model: model, Temperature: 0}))
	defer span.End()
	span.SetMessageFormat("openai")
	span.SetModel(model)
	span.SetProvider(provider)
	span.SetTokenUsage(tracing.TokenUsage{InputTokens: 12, OutputTokens: 8, TotalTokens: 20})
	out := ChatCompletion{
		Choices: []ChatChoice{{
			FinishReason: "tool_calls",
			Index:        0,
			Message:      Message{Content: "I will look up the weather.", Role: "assistant"},
		}},
		Model: model,
		Usage: Usage{CompletionTokens: 8, PromptTokens: 12, TotalTokens: 20},
	}
	span.SetOutputs(out)
	return out
}

func searchDocs(ctx context.Context, query string) []Document {
	_, span := tracing.StartSpan(ctx, "search_docs",
		tracing.WithSpanType(tracing.SpanTypeRetriever),
		tracing.WithInputs(map[string]any{"query": query}))
	defer span.End()
	docs := []Document{
		{ID: "doc-1", Metadata: map[string]any{"doc_uri": "https://example.com/paris", "score": 0.9}, PageContent: "Paris is the capital of France."},
		{ID: "doc-2", Metadata: map[string]any{"doc_uri": "https://example.com/weather", "score": 0.5}, PageContent: "Weather forecasts are estimates."},
	}
	span.SetOutputs(docs)
	return docs
}

func agent(ctx context.Context, req AgentRequest) (AgentRequest, error) {
	if err := tracing.UpdateCurrentTrace(ctx,
		tracing.WithTags(map[string]string{"app": "parity", "env": "test"}),
		tracing.WithMetadata(map[string]string{"app.version": "1.2.3"}),
		tracing.WithUser("user-42"),
		tracing.WithSession("session-7"),
	); err != nil {
		return AgentRequest{}, err
	}
	q := req.Messages[len(req.Messages)-1].Content
	if _, err := tracedPlan(ctx, q); err != nil {
		return AgentRequest{}, err
	}
	chatModel(ctx, req.Messages)
	w, err := tracedGetWeather(ctx, "Paris")
	if err != nil {
		return AgentRequest{}, err
	}
	var unitErr *UnsupportedUnitError
	if _, err := tracedConvertUnits(ctx, ConvertRequest{Unit: "kelvinish", Value: w.TempC}); err != nil && !errors.As(err, &unitErr) {
		return AgentRequest{}, err
	}
	searchDocs(ctx, q)
	if scope {
		// Not recorded: tracing is off in this scope; the trace goes on.
		if _, err := tracedGetWeather(tracing.ContextWithTracingEnabled(ctx, false), "Lyon"); err != nil {
			return AgentRequest{}, err
		}
	}
	answer := "It is sunny and 20 degrees Celsius in Paris."
	msgs := append(append([]Message(nil), req.Messages...), Message{Content: answer, Role: "assistant"})
	return AgentRequest{Messages: msgs}, nil
}

func main() {
	if err := run(context.Background()); err != nil {
		fmt.Fprintln(os.Stderr, "parity:", err)
		os.Exit(1)
	}
}

func run(ctx context.Context) error {
	provider, err := tracing.Init(ctx)
	if err != nil {
		return err
	}
	actx := ctx
	if scope {
		actx = tracing.ContextWithTraceOptions(actx,
			tracing.WithTags(map[string]string{"scope.tag": "t", "env": "scope"}),
			tracing.WithMetadata(map[string]string{"scope.key": "outer"}),
			tracing.WithUser("user-scope"), tracing.WithSession("session-scope"))
		actx = tracing.ContextWithTraceOptions(actx,
			tracing.WithMetadata(map[string]string{"scope.key": "inner", "scope.inner": "1"}))
	}
	_, agentErr := tracedAgent(actx, AgentRequest{Messages: []Message{{Content: question, Role: "user"}}})
	id := tracing.LastTraceID()
	if scope {
		// No trace: tracing is off in this scope.
		if _, err := tracedPlan(tracing.ContextWithTracingEnabled(ctx, false), "not traced"); err != nil {
			return err
		}
	}
	if err := provider.Shutdown(ctx); err != nil {
		return fmt.Errorf("shutdown: %w", err)
	}
	if agentErr != nil {
		return agentErr
	}
	if id == "" {
		return errors.New("no trace recorded")
	}
	return json.NewEncoder(os.Stdout).Encode(map[string]string{"trace_id": id})
}
