package anthropic

import (
	"encoding/json"
	"net/http"
	"strings"

	"github.com/anthropics/anthropic-sdk-go/v2/option"
	"go.opentelemetry.io/otel"
	"go.opentelemetry.io/otel/trace"

	"github.com/mlflowtrace/mlflowtrace-go/internal/keys"
	"github.com/mlflowtrace/mlflowtrace-go/internal/llmspan"
	"github.com/mlflowtrace/mlflowtrace-go/tracing"
)

// Option configures RequestOption.
type Option interface{ apply(*config) }

type config struct {
	sdkSpans bool
	tools    llmspan.ToolsCache
}

type optionFunc func(*config)

func (f optionFunc) apply(c *config) { f(c) }

// WithSDKSpans keeps the SDK's own OpenTelemetry spans of API calls,
// recorded by the global TracerProvider (by default RequestOption keeps
// them to itself: the MLflow span replaces them, and they would record
// every call twice).
func WithSDKSpans() Option { return optionFunc(func(c *config) { c.sdkSpans = true }) }

// RequestOption returns the anthropic-sdk-go client option that records every
// Messages call of the client (plain and streamed) as one MLflow span:
//
//	client := anthropic.NewClient(mlflowanthropic.RequestOption())
//
// Calls to other endpoints pass through untraced. When tracing is off or
// the call's context holds an unsampled trace, requests pass through without
// a span.
func RequestOption(opts ...Option) option.RequestOption {
	c := &config{}
	for _, o := range opts {
		if o != nil {
			o.apply(c)
		}
	}
	opt, _, _ := c.requestOption()
	return opt
}

// requestOption builds RequestOption on the SDK's public hook of a logical
// call: the OpenTelemetry span it starts for each API call through the
// TracerProvider option.WithTracerProvider gives it (llmspan.CallTracer).
// The SDK starts that span before the first attempt, sends every attempt
// (retries) in its context and ends it when the call is over, so the
// MLflow span of the call groups the attempts and ends when the SDK says,
// with nothing of the SDK's retry policy predicted. It also returns the
// CallTracer (whose Fallbacks count attempts that came without the SDK's
// span) and ok false if the SDK's options could not be combined (then
// each attempt is a span of its own).
func (c *config) requestOption() (option.RequestOption, *llmspan.CallTracer, bool) {
	// MLflow's Anthropic autolog: span "Messages.create", CHAT_MODEL.
	messages := llmspan.Endpoint{Name: "Messages.create", Type: tracing.SpanTypeChatModel, Start: c.start}
	route := func(r *http.Request) (llmspan.Endpoint, bool) { return messages, traced(r) }
	var inner func() trace.TracerProvider
	if c.sdkSpans {
		inner = otel.GetTracerProvider
	}
	ct := llmspan.NewCallTracer(route, inner)
	opts := []option.RequestOption{
		option.WithOpenTelemetryTraces(true), // the hook, whatever ANTHROPIC_OPEN_TELEMETRY says
		option.WithTracerProvider(ct),
		option.WithMiddleware(ct.Middleware()),
	}
	if !c.sdkSpans {
		// The SDK's spans are only the hook: no trace headers of their own
		// (the MLflow span's go out) and no content recorded on them.
		opts = append(opts, option.WithOpenTelemetryPropagation(false),
			option.WithOpenTelemetryTracesContentMode(option.OpenTelemetryContentModeMetadataOnly))
	}
	opt, ok := llmspan.Options(option.RequestOption.Apply, opts...)
	if !ok {
		return option.WithMiddleware(ct.Middleware()), ct, false
	}
	return opt, ct, true
}

// traced reports a Messages create call (POST …/v1/messages, also the beta
// form ?beta=true), the method MLflow's autolog patches.
func traced(r *http.Request) bool {
	return r.Method == http.MethodPost && strings.HasSuffix(strings.TrimSuffix(r.URL.Path, "/"), "/messages")
}

// start records what MLflow's Anthropic autolog records at the start: message
// format "anthropic" and the tools; the model (the request's) and provider
// are recorded at the end.
func (c *config) start(span *tracing.Span, fields []llmspan.Field, capture bool) llmspan.Recorder {
	span.SetMessageFormat("anthropic")
	rec := &recorder{capture: capture}
	if m, ok := llmspan.Lookup(fields, "model"); ok {
		rec.model = llmspan.String(m)
	}
	if t, ok := llmspan.Lookup(fields, "tools"); ok {
		if tools, ok := c.tools.Attribute(t, chatTools); ok {
			span.SetAttribute(keys.ChatTools, tools)
		}
	}
	return rec
}

// chatTools is MLflow's convert_tool_to_mlflow_chat_tool for every tool: name,
// description (null when absent: MLflow passes tool.get("description")) and
// input_schema as the parameters.
func chatTools(raw json.RawMessage) (json.RawMessage, bool) {
	return llmspan.ToolList(raw, func(fields []llmspan.Field) (llmspan.Tool, bool) {
		t := llmspan.Tool{Description: json.RawMessage("null"), Parameters: json.RawMessage("null")}
		t.Name, _ = llmspan.Lookup(fields, "name")
		if v, ok := llmspan.Lookup(fields, "description"); ok {
			t.Description = v
		}
		if v, ok := llmspan.Lookup(fields, "input_schema"); ok {
			t.Parameters = v
		}
		return t, true
	})
}
