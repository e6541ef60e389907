// Package langchaingo records MLflow traces of github.com/tmc/langchaingo
// programs: a callbacks.Handler that turns chains, model calls, tools,
// retrievers and agents into nested MLflow spans, as MLflow's Python
// LangChain autologging (mlflow.langchain.autolog) records the same concepts.
//
//	h := langchaingo.NewHandler(langchaingo.WithModel("gpt-4o-mini"), langchaingo.WithProvider("openai"))
//	llm, _ := openai.New(openai.WithCallback(h))
//	chain := chains.NewLLMChain(llm, prompt, chains.WithCallback(h))
//	out, err := chains.Call(ctx, chain, inputs)
//
// Spans go wherever package tracing sends them (tracing.Init); without an
// initialised tracing the handler does nothing.
//
// # What is recorded
//
//	langchaingo callback                   MLflow span
//	HandleChainStart / End / Error         CHAIN "chain": inputs and outputs maps; AGENT "agent"
//	                                       once agent actions arrive on it (an agents.Executor)
//	HandleLLMGenerateContentStart / End    CHAT_MODEL "chat model": inputs {"messages": [...]} and
//	                                       outputs {"choices": [{"message": ..., "finish_reason": null}]}
//	                                       in the OpenAI-style chat shape MLflow's LangChain tracer
//	                                       writes (tool-call arguments as its json.dumps of the parsed
//	                                       arguments), mlflow.message.format "langchain", token usage
//	                                       from the response's GenerationInfo (cache counts whenever
//	                                       the client reports them, 0 included, as MLflow records
//	                                       LangChain's), model and provider from options
//	HandleLLMStart                         LLM "llm": inputs = the prompts
//	HandleToolStart / End / Error          TOOL, named after the agent action that called it
//	HandleRetrieverStart / End             RETRIEVER "retriever": inputs = the query, outputs =
//	                                       documents {page_content, metadata, id}
//	HandleAgentAction / HandleAgentFinish  "agent_action" / "agent_finish" events on the agent span
//	HandleText, HandleStreamingFunc        "text" / "new_token" events on the innermost span
//	errors                                 an "exception" event and status ERROR
//
// With content capture off (tracing.WithContentCapture(false) or
// MLFLOWTRACE_CAPTURE_CONTENT=false) the spans keep their types, names,
// model, provider, token usage, tool names and errors, but no inputs,
// outputs, messages or event texts.
//
// # Nesting
//
// langchaingo's callbacks carry neither a run id nor a new context, unlike
// Python LangChain's (run_id, parent_run_id): the handler nests spans by the
// order callbacks arrive in, per enclosing span of the ctx they are called
// with (the span of tracing.StartSpan, tracing.Wrap, or any OpenTelemetry
// span; without one, the outermost callback starts a new trace). Calls that
// run concurrently under the same enclosing span — chains.Apply, or
// goroutines sharing one ctx — cannot be told apart and may nest into each
// other: give each its own span (tracing.Do) or its own trace.
//
// Tools without a CallbacksHandler of their own produce no callbacks:
// Handler.WrapTools gives them TOOL spans (with their output) and puts the
// span into the context the tool runs with, so spans inside the tool nest
// under it.
//
// # langchaingo v0.1.14's own gaps
//
// Some model clients do not send every callback. llms/openai returns errors
// without HandleLLMError, and llms/anthropic never sends
// HandleLLMGenerateContentEnd; vectorstores.Retriever returns errors without
// a callback. A model or retriever span left open this way is ended by the
// next callback on its enclosing span: without outputs, with the error of the
// enclosing chain or tool when that one fails. Callbacks do not carry the
// model name or the tools offered to the model: WithModel and WithProvider
// name the model; mlflow.chat.tools is not recorded.
//
// Differences from MLflow's Python LangChain tracer (mlflow.langchain.autolog
// with ChatOpenAI; conformance/test_langchain_parity.py compares the two on
// the same fake OpenAI API): an agents.Executor run is an AGENT span (Python
// types every LangChain chain run CHAIN); span names are the tracer's
// defaults ("chain", "chat model", "tool", "retriever") where Python uses the
// component's class name ("RunnableSequence", "ChatOpenAI"), because
// langchaingo passes no component names; the LangChain run's keyword
// arguments that the tracer stores as attributes (invocation_params, options,
// batch_size, metadata; a tool's color) and the tools offered to the model
// (mlflow.chat.tools) are not in langchaingo's callbacks and are not
// recorded; a retrieved document's Score, when not zero, is in its metadata
// as "score"; token usage is read from the first choice that has it
// (langchaingo repeats the response's usage on every choice).
package langchaingo
