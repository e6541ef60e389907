// Package genkit documents and tests MLflow tracing of Firebase Genkit for
// Go (github.com/firebase/genkit/go). It has no API: Genkit records its own
// OpenTelemetry spans, and mlflowtrace-go's exporter translates them into
// MLflow's shape. This package is a module of its own so that Genkit's
// dependencies stay out of mlflowtrace-go's module graph.
//
// One line, before genkit.Init:
//
//	p, err := tracing.Init(ctx) // installs the MLflow tracer provider as OpenTelemetry's global
//	defer func() {
//		ctx, cancel := context.WithTimeout(context.Background(), 30*time.Second)
//		defer cancel()
//		if err := p.Shutdown(ctx); err != nil {
//			log.Print(err)
//		}
//	}()
//	g := genkit.Init(ctx, genkit.WithPlugins(...))
//
// Genkit records on OpenTelemetry's global tracer provider when it is an
// *sdktrace.TracerProvider (core/tracing.TracerProvider), which tracing.Init
// installs. A program that keeps its own global provider joins it instead:
//
//	p, err := tracing.Init(ctx, tracing.WithTracerProvider(gtracing.TracerProvider()))
//
// (gtracing is github.com/firebase/genkit/go/core/tracing.)
//
// # Why a translation and not a Genkit middleware
//
// Genkit already records every action it runs — flows, flow steps, the
// generate loop, models, tools, embedders, retrievers, prompts — with the
// action's JSON input and output, nested as they ran. A model middleware
// (ai.WithMiddleware) would see only model calls, would have to be given to
// every Generate call, and would record them a second time. The exporter
// instead translates Genkit's spans (scope "genkit-tracer") when it
// converts them, so they read the same on every destination (./mlruns, an
// MLflow server, Databricks, OTLP); MLflow 3.17.2's server has no Genkit
// translator of its own.
//
// # What is recorded
//
//	Genkit action (genkit:metadata:subtype)   MLflow span
//	model, background-model                   CHAT_MODEL: inputs {"messages": [...]} in MLflow's chat
//	                                          shape (role "model" as "assistant", toolRequest parts as
//	                                          tool_calls, each toolResponse a "tool" message) followed by
//	                                          the request's config, output, tools; outputs {"choices":
//	                                          [{"message", "finish_reason"}]} followed by usage, latencyMs,
//	                                          custom; mlflow.message.format "genkit"; mlflow.chat.tools
//	                                          from the tool definitions; mlflow.llm.model and
//	                                          mlflow.llm.provider from the action name "plugin/model"
//	                                          (googleai → gemini, vertexai → vertex_ai); token usage
//	                                          (cachedContentTokens as cache reads)
//	util ("generate", the tool loop)          CHAIN with the same chat inputs and outputs
//	tool, tool.v2                             TOOL: inputs the tool input, outputs its result
//	retriever                                 RETRIEVER: inputs the query text, outputs MLflow documents
//	embedder                                  EMBEDDING with model and provider
//	flow, flowStep, prompt, executable-prompt CHAIN; reranker RERANKER; evaluator EVALUATOR
//	errors                                    Genkit's "exception" event and status ERROR
//
// Genkit's own genkit:* attributes are kept on the spans. With content
// capture off (tracing.WithContentCapture(false),
// MLFLOWTRACE_CAPTURE_CONTENT=false) the spans are exported without
// genkit:input and genkit:output and the inputs and outputs made of them;
// model, provider, token usage, tools and status stay. tracing.WithSpanFilter
// sees only spans of package tracing. An OTLP endpoint set beside MLflow
// (MLFLOW_TRACE_ENABLE_OTLP_DUAL_EXPORT) gets Genkit's spans as Genkit wrote
// them.
//
// # Genkit's gaps
//
// Genkit records an action's input when the action ends: the outermost
// "generate" span's input is the request as the tool loop left it (with
// the tool calls and results of later turns). Reasoning parts are not
// shown in the chat messages. Genkit v1.4.0 requires
// github.com/invopop/jsonschema v0.13.0 while mlflowtrace-go's dependencies
// require v0.14.0, whose API Genkit's dotprompt does not build with: a
// program using both needs, in its go.mod,
//
//	replace github.com/invopop/jsonschema => github.com/invopop/jsonschema v0.13.0
package genkit
