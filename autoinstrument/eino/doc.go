// Package eino records MLflow traces of CloudWeGo Eino programs
// (github.com/cloudwego/eino): a callbacks.Handler that turns every
// component run — chat models, tools, retrievers, embedders, chat
// templates, graphs, chains, workflows, lambdas, ReAct agents — into nested
// MLflow spans, shaped as MLflow's Python LangChain autologging
// (mlflow.langchain.autolog) records the analogous LangChain runs.
//
// One line, where the program sets Eino up:
//
//	callbacks.AppendGlobalHandlers(eino.NewHandler()) // every Eino run
//
// or per run of a compiled graph, chain or agent:
//
//	out, err := runnable.Invoke(ctx, in, compose.WithCallbacks(eino.NewHandler()))
//
// Not both: a handler installed both ways records every span twice. Spans
// go wherever package tracing sends them (tracing.Init); without an
// initialised tracing the handler records nothing.
//
// # What is recorded
//
//	Eino component        MLflow span
//	ChatModel             CHAT_MODEL: inputs {"messages": [...]}, outputs {"choices":
//	                      [{"message": ..., "finish_reason": ...}]} in MLflow's chat shape
//	                      (mlflow.types.chat.ChatMessage, tool-call arguments as json.dumps
//	                      writes them), mlflow.message.format "eino", mlflow.chat.tools,
//	                      mlflow.llm.model (Config.Model, else WithModel), mlflow.llm.provider,
//	                      token usage (cache reads when not zero)
//	Tool                  TOOL named after the tool: inputs the parsed JSON arguments,
//	                      outputs the tool's result
//	Retriever             RETRIEVER: inputs the query, outputs MLflow documents
//	                      {page_content, metadata, id}
//	Embedding             EMBEDDING: inputs the texts, outputs the vectors, model and provider
//	ChatTemplate          CHAIN: inputs the variables, outputs {"messages": [...]}
//	Indexer               CHAIN: inputs the documents, outputs the ids
//	Graph, Chain,         CHAIN named after the graph (compose.WithGraphName) or node
//	Workflow              (compose.WithNodeName); AGENT when a ToolsNode runs directly in
//	                      it (a ReAct loop: flow/agent/react, adk.ChatModelAgent)
//	Lambda, ToolsNode,    CHAIN; messages in their inputs and outputs as {"messages": [...]},
//	other nodes           other values as their JSON encoding
//	errors                an "exception" event and status ERROR
//
// A span is named after the node or tool (RunInfo.Name: compose.WithNodeName,
// compose.WithGraphName, the tool's name), else Eino's name for the
// component ("OpenAIChatModel": its type and kind); Eino does not pass a
// graph's node keys to callbacks. The provider is
// derived from the component type of eino-ext's model components (OpenAI →
// openai, Claude → anthropic, Gemini → gemini, Ark → volcengine, Ollama →
// ollama, DeepSeek → deepseek, Qwen → dashscope, …); WithProvider sets it
// for others.
//
// Streams are aggregated: a streamed output is read to its end by a
// goroutine of the handler from its own copy of the stream, and the span
// ends when the stream does, with the chunks merged (a chat model's message
// chunks into one message, with the last token usage reported; tool
// outputs into one string; other chunks into a list of at most
// WithMaxStreamChunks). A streamed input is recorded the same way. An error
// read from a stream is recorded on the span.
//
// A component that panics (a tool, a lambda) gets no end callback: Eino
// recovers the panic in the graph, which fails with "panic error: ...".
// When a run fails, the runs inside it still open end with its error, so
// the tool's span shows the panic and the trace is complete.
//
// With content capture off (tracing.WithContentCapture(false) or
// MLFLOWTRACE_CAPTURE_CONTENT=false) spans keep their names, types, model,
// provider, tools, token usage and errors, but no inputs or outputs.
//
// # Differences from MLflow's LangChain tracer
//
// A graph that runs tools is an AGENT span (LangChain types every chain
// CHAIN). The finish reason is recorded when the model reports one
// (MLflow's tracer writes null). Reasoning content and a message's Extra
// are not recorded; media other than images and WAV/MP3 audio data are
// recorded as a text part naming them. The callback's Extra map and a
// run's options are not recorded.
package eino
