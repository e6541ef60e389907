// Command genaispans writes one trace of spans the way OpenTelemetry GenAI
// instrumentations write them (OpenTelemetry GenAI semantic conventions, the
// older gen_ai.* message events, OpenInference, Traceloop, Spring AI events),
// all from another instrumentation scope, so conformance/test_genai.py can
// compare MLflow's server-side translation with this SDK's client-side one.
//
//	genaispans -mode otlp         plain OpenTelemetry: spans go raw over OTLP/HTTP
//	                              to $MLFLOW_TRACKING_URI/v1/traces (experiment
//	                              $MLFLOW_EXPERIMENT_ID); MLflow's server translates.
//	genaispans -mode mlflowtrace  the same spans through tracing.Init (any
//	                              destination MLFLOW_TRACKING_URI names, the local
//	                              store by default); this SDK translates.
//
// It prints one JSON line {"trace_id": "tr-..."} after everything is written.
package main

import (
	"context"
	"encoding/json"
	"errors"
	"flag"
	"fmt"
	"os"
	"strings"
	"time"

	"go.opentelemetry.io/otel/attribute"
	"go.opentelemetry.io/otel/codes"
	"go.opentelemetry.io/otel/exporters/otlp/otlptrace/otlptracehttp"
	sdkresource "go.opentelemetry.io/otel/sdk/resource"
	sdktrace "go.opentelemetry.io/otel/sdk/trace"
	"go.opentelemetry.io/otel/trace"

	"github.com/mlflowtrace/mlflowtrace-go/tracing"
)

// Scope is the instrumentation scope of every span: not this SDK's.
const Scope = "example.com/genai-instrumentation"

const (
	userMsg  = `[{"role": "user", "parts": [{"type": "text", "content": "Weather in Paris, in Fahrenheit?"}]}]`
	finalMsg = `[{"role": "assistant", "parts": [{"type": "text", "content": "It is 64°F and sunny in Paris."}], "finish_reason": "stop"}]`
	chatIn   = `[{"role": "system", "parts": [{"type": "text", "content": "You are a travel assistant."}]}, {"role": "user", "parts": [{"type": "text", "content": "Weather in Paris, in Fahrenheit?"}]}]`
	chatOut  = `[{"role": "assistant", "parts": [{"type": "tool_call", "id": "call_1", "name": "get_weather", "arguments": {"city": "Paris"}}], "finish_reason": "tool_call"}]`
	toolDefs = `[{"type": "function", "name": "get_weather", "description": "Current weather of a city", "parameters": {"type": "object", "properties": {"city": {"type": "string"}}, "required": ["city"]}}]`
)

func main() {
	mode := flag.String("mode", "mlflowtrace", "otlp or mlflowtrace")
	flag.Parse()
	if err := run(context.Background(), *mode); err != nil {
		fmt.Fprintln(os.Stderr, "genaispans:", err)
		os.Exit(1)
	}
}

func run(ctx context.Context, mode string) error {
	var (
		tp       trace.TracerProvider
		shutdown func(context.Context) error
	)
	switch mode {
	case "otlp":
		uri := strings.TrimSuffix(os.Getenv("MLFLOW_TRACKING_URI"), "/")
		if !strings.HasPrefix(uri, "http") {
			return errors.New("-mode otlp needs MLFLOW_TRACKING_URI=http://<mlflow server>")
		}
		exp, err := otlptracehttp.New(ctx, otlptracehttp.WithEndpointURL(uri+"/v1/traces"),
			otlptracehttp.WithHeaders(map[string]string{"x-mlflow-experiment-id": envOr("MLFLOW_EXPERIMENT_ID", "0")}))
		if err != nil {
			return err
		}
		res, err := sdkresource.New(ctx, sdkresource.WithAttributes(attribute.String("service.name", "genaispans")))
		if err != nil {
			return err
		}
		sdk := sdktrace.NewTracerProvider(sdktrace.WithSyncer(exp), sdktrace.WithResource(res))
		tp, shutdown = sdk, sdk.Shutdown
	case "mlflowtrace":
		p, err := tracing.Init(ctx, tracing.WithServiceName("genaispans"))
		if err != nil {
			return err
		}
		tp, shutdown = p.TracerProvider(), p.Shutdown
	default:
		return fmt.Errorf("unknown -mode %q", mode)
	}
	id := workflow(ctx, tp.Tracer(Scope))
	if err := shutdown(ctx); err != nil {
		return err
	}
	out, _ := json.Marshal(map[string]string{"trace_id": "tr-" + id.String()})
	fmt.Println(string(out))
	return nil
}

func envOr(k, d string) string {
	if v := os.Getenv(k); v != "" {
		return v
	}
	return d
}

// workflow records a small tool-calling agent as GenAI instrumentations would.
func workflow(ctx context.Context, tr trace.Tracer) trace.TraceID {
	s := func(ctx context.Context, name string, attrs ...attribute.KeyValue) (context.Context, trace.Span) {
		ctx, sp := tr.Start(ctx, name, trace.WithAttributes(attrs...))
		time.Sleep(2 * time.Millisecond)
		return ctx, sp
	}
	ctx, agent := s(ctx, "invoke_agent travel_agent",
		attribute.String("gen_ai.operation.name", "invoke_agent"), attribute.String("gen_ai.agent.name", "travel_agent"),
		attribute.String("gen_ai.provider.name", "openai"), attribute.String("gen_ai.conversation.id", "conv-7"),
		attribute.String("gen_ai.input.messages", userMsg), attribute.String("gen_ai.output.messages", finalMsg))

	_, chat := s(ctx, "chat gpt-4o-mini",
		attribute.String("gen_ai.operation.name", "chat"), attribute.String("gen_ai.provider.name", "openai"),
		attribute.String("gen_ai.request.model", "gpt-4o-mini"), attribute.String("gen_ai.response.model", "gpt-4o-mini-2024-07-18"),
		attribute.String("gen_ai.response.id", "chatcmpl-1"), attribute.StringSlice("gen_ai.response.finish_reasons", []string{"tool_calls"}),
		attribute.Float64("gen_ai.request.temperature", 0.2),
		attribute.String("gen_ai.input.messages", chatIn), attribute.String("gen_ai.output.messages", chatOut),
		attribute.String("gen_ai.tool.definitions", toolDefs),
		attribute.Int("gen_ai.usage.input_tokens", 182), attribute.Int("gen_ai.usage.output_tokens", 17),
		attribute.Int("gen_ai.usage.cache_read.input_tokens", 128),
		attribute.String("server.address", "api.openai.com"), attribute.Int("server.port", 443))
	chat.End()

	_, tool := s(ctx, "execute_tool get_weather",
		attribute.String("gen_ai.operation.name", "execute_tool"), attribute.String("gen_ai.tool.name", "get_weather"),
		attribute.String("gen_ai.tool.type", "function"), attribute.String("gen_ai.tool.call.id", "call_1"),
		attribute.String("gen_ai.tool.call.arguments", `{"city": "Paris"}`),
		attribute.String("gen_ai.tool.call.result", `{"city": "Paris", "temp_c": 18, "conditions": "sunny"}`))
	tool.End()

	_, conv := s(ctx, "execute_tool convert_units",
		attribute.String("gen_ai.operation.name", "execute_tool"), attribute.String("gen_ai.tool.name", "convert_units"),
		attribute.String("gen_ai.tool.call.arguments", `{"unit": "kelvin", "value": 18}`))
	conv.RecordError(errors.New("unsupported unit: kelvin"))
	conv.SetStatus(codes.Error, "unsupported unit: kelvin")
	conv.End()

	// The older GenAI conventions: messages as span events.
	_, chat2 := s(ctx, "chat gpt-4o-mini (events)",
		attribute.String("gen_ai.operation.name", "chat"), attribute.String("gen_ai.system", "openai"),
		attribute.String("gen_ai.request.model", "gpt-4o-mini"),
		attribute.Int("gen_ai.usage.input_tokens", 240), attribute.Int("gen_ai.usage.output_tokens", 21))
	chat2.AddEvent("gen_ai.system.message", trace.WithAttributes(attribute.String("content", "You are a travel assistant.")))
	chat2.AddEvent("gen_ai.user.message", trace.WithAttributes(attribute.String("content", "Weather in Paris, in Fahrenheit?")))
	chat2.AddEvent("gen_ai.assistant.message", trace.WithAttributes(attribute.String("content",
		`[{"type": "tool_call", "id": "call_1", "function": {"name": "get_weather", "arguments": "{\"city\": \"Paris\"}"}}]`)))
	chat2.AddEvent("gen_ai.choice", trace.WithAttributes(attribute.Int("index", 0), attribute.String("finish_reason", "stop"),
		attribute.String("content", "It is 64°F and sunny in Paris.")))
	chat2.End()

	// Spring AI: prompt and completion in gen_ai.content.* events.
	_, spring := s(ctx, "chat llama3 (spring)",
		attribute.String("gen_ai.operation.name", "chat"), attribute.String("gen_ai.system", "ollama"),
		attribute.String("gen_ai.request.model", "llama3"),
		attribute.Int("gen_ai.usage.input_tokens", 12), attribute.Int("gen_ai.usage.output_tokens", 9))
	spring.AddEvent("gen_ai.content.prompt", trace.WithAttributes(attribute.String("gen_ai.prompt", "Say hi to Paris")))
	spring.AddEvent("gen_ai.content.completion", trace.WithAttributes(attribute.String("gen_ai.completion", "Bonjour Paris!")))
	spring.End()

	// OpenInference.
	_, oiLLM := s(ctx, "openinference llm",
		attribute.String("openinference.span.kind", "LLM"), attribute.String("llm.model_name", "claude-sonnet-4"),
		attribute.String("llm.provider", "anthropic"), attribute.String("llm.system", "anthropic"),
		attribute.String("input.value", `{"messages": [{"role": "user", "content": "hi"}], "model": "claude-sonnet-4"}`),
		attribute.String("input.mime_type", "application/json"), attribute.String("output.value", "Hello!"),
		attribute.Int("llm.token_count.prompt", 8), attribute.Int("llm.token_count.completion", 3),
		attribute.Int("llm.token_count.total", 11), attribute.Int("llm.token_count.prompt_details.cache_read", 4))
	oiLLM.End()
	_, oiRet := s(ctx, "openinference retriever",
		attribute.String("openinference.span.kind", "RETRIEVER"), attribute.String("input.value", "paris weather"),
		attribute.String("output.value", `[{"page_content": "Paris is mild in spring.", "metadata": {"source": "guide"}}]`))
	oiRet.End()

	// Traceloop / OpenLLMetry.
	_, tl := s(ctx, "traceloop task",
		attribute.String("traceloop.span.kind", "task"), attribute.String("traceloop.entity.name", "format_answer"),
		attribute.String("traceloop.entity.input", `{"args": [18], "kwargs": {"unit": "F"}}`),
		attribute.String("traceloop.entity.output", `"64°F"`))
	tl.End()
	_, tlLLM := s(ctx, "traceloop openai.chat",
		attribute.String("llm.request.type", "chat"), attribute.String("gen_ai.system", "openai"),
		attribute.String("gen_ai.request.model", "gpt-4o"), attribute.String("gen_ai.prompt.0.role", "user"),
		attribute.String("gen_ai.prompt.0.content", "Format 64F"), attribute.String("gen_ai.completion.0.role", "assistant"),
		attribute.String("gen_ai.completion.0.content", "64°F"),
		attribute.Int("gen_ai.usage.prompt_tokens", 5), attribute.Int("gen_ai.usage.completion_tokens", 2),
		attribute.Int("llm.usage.total_tokens", 7))
	tlLLM.End()

	// No GenAI attributes: left as it is.
	_, httpSpan := s(ctx, "POST /v1/weather",
		attribute.String("http.request.method", "POST"), attribute.Int("http.response.status_code", 200),
		attribute.String("url.full", "https://weather.example.com/v1/weather"))
	httpSpan.End()

	agent.End()
	return agent.SpanContext().TraceID()
}
