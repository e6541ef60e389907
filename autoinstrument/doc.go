// Package autoinstrument is the home of this SDK's integrations: one-line
// tracing of LLM client libraries and other instrumented code, Go's form of
// MLflow's autolog. Go has no monkey-patching, so each integration is a
// middleware, callback handler or transport the program adds where it
// builds its client; every call then becomes an MLflow span — a child of
// the span in the call's context — that MLflow's UI shows as its Python
// autolog shows the same library's calls (chat view, tools, token usage,
// model).
//
// # Integrations
//
//		package                      library                                   one line
//		autoinstrument/openai        github.com/openai/openai-go/v3            openai.NewClient(mlflowopenai.RequestOption())
//		autoinstrument/anthropic     github.com/anthropics/anthropic-sdk-go/v2 anthropic.NewClient(mlflowanthropic.RequestOption())
//		autoinstrument/bedrock       github.com/aws/aws-sdk-go-v2/service/bedrockruntime
//		                                                                       bedrockruntime.NewFromConfig(cfg, mlflowbedrock.ClientOption())
//		autoinstrument/goopenai      github.com/sashabaranov/go-openai         cfg.HTTPClient = goopenai.Wrap(cfg.HTTPClient)
//		autoinstrument/genai         google.golang.org/genai (Gemini, Vertex)  mlflowgenai.NewClient(ctx, cfg) for genai.NewClient(ctx, cfg)
//		autoinstrument/httpclient    net/http (any other HTTP or LLM API)      &http.Client{Transport: httpclient.NewTransport(nil)}
//		autoinstrument/langchaingo   github.com/tmc/langchaingo                a callbacks.Handler for chains, LLMs, tools, retrievers, agents
//		autoinstrument/mcp           github.com/modelcontextprotocol/go-sdk    client and server middleware; trace context across the hop
//		autoinstrument/mcpgo         github.com/mark3labs/mcp-go               client.NewClient(mcpgo.Transport(t)); server.NewMCPServer(..., mcpgo.ServerOption())
//		autoinstrument/eino          github.com/cloudwego/eino                 callbacks.AppendGlobalHandlers(eino.NewHandler()) or compose.WithCallbacks(h)
//		autoinstrument/genkit        github.com/firebase/genkit/go             tracing.Init before genkit.Init (the exporter translates Genkit's spans; a nested module)
//
//	  - openai: Chat Completions and Responses (CHAT_MODEL), Embeddings
//	    (EMBEDDING), legacy Completions (LLM), plain and streamed, against any
//	    OpenAI-compatible base URL; one span per logical call, retries as
//	    events.
//	  - anthropic: Messages, plain and streamed, tool use, message format
//	    "anthropic", token usage with cache reads and writes.
//	  - bedrock: Amazon Bedrock Runtime's Converse and ConverseStream
//	    (CHAT_MODEL, message format "bedrock", tools), InvokeModel (LLM or
//	    EMBEDDING) and InvokeModelWithResponseStream (LLM) with the Anthropic,
//	    Nova, Llama, Titan and Cohere bodies, through the SDK's middleware
//	    stack: one span over the SDK's retries, streams aggregated.
//	  - genai: GenerateContent (plain and streamed), chats (a Chat.send_message
//	    span around the model call), function calls, CountTokens,
//	    EmbedContent, on the Gemini API and Vertex AI; inputs and outputs in
//	    the Python SDK's form, message format "gemini", tools, token usage
//	    with cached tokens; one span per logical call, retries as events.
//	  - goopenai: go-openai's calls of the same APIs as openai, recorded by
//	    the same code.
//	  - httpclient: a span per request that ends with the response body,
//	    W3C propagation, secrets in headers and query never recorded.
//	  - langchaingo, mcp, mcpgo (recorded as mcp), eino and genkit: see their
//	    package documentation.
//
// Spans that other OpenTelemetry GenAI instrumentations in the same process
// record (gen_ai.* attributes and events, OpenInference, Traceloop, ...)
// need no integration: they join the MLflow trace through the global tracer
// provider, and the exporter translates them into MLflow span types,
// inputs/outputs, token usage and message format before export, so they
// render on every destination (the local store and Databricks do no
// server-side translation).
//
// # One content switch
//
// Integrations record prompts, completions, tool arguments and results only
// while content capture is on: tracing.WithContentCapture(false) or
// MLFLOWTRACE_CAPTURE_CONTENT=false makes every integration record metadata
// only — span types, model, token usage, tool definitions, request
// parameters, status and errors. An integration checks
// (*tracing.Span).CapturesContent before it records content.
//
// # Redaction
//
// To mask or drop parts of what is recorded, register a span filter with
// tracing.WithSpanFilter: it sees every span of every integration just
// before it ends, with its inputs, outputs and attributes, and may overwrite
// them (the Go form of MLflow's span processors). There is no second hook.
package autoinstrument
