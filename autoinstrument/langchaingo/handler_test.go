package langchaingo_test

import (
	"context"
	"errors"
	"fmt"
	"reflect"
	"strings"
	"sync"
	"testing"

	"github.com/tmc/langchaingo/agents"
	"github.com/tmc/langchaingo/callbacks"
	"github.com/tmc/langchaingo/chains"
	"github.com/tmc/langchaingo/llms"
	"github.com/tmc/langchaingo/prompts"
	"github.com/tmc/langchaingo/schema"
	"github.com/tmc/langchaingo/tools"
	"github.com/tmc/langchaingo/vectorstores"

	"github.com/mlflowtrace/mlflowtrace-go/autoinstrument/langchaingo"
	"github.com/mlflowtrace/mlflowtrace-go/exporter"
	"github.com/mlflowtrace/mlflowtrace-go/internal/llmtest"
	"github.com/mlflowtrace/mlflowtrace-go/tracing"
)

const question = "What is the weather in Paris?"

func llmChain(llm llms.Model, h callbacks.Handler) *chains.LLMChain {
	prompt := prompts.NewPromptTemplate("Answer briefly: {{.question}}", []string{"question"})
	return chains.NewLLMChain(llm, prompt, chains.WithCallback(h))
}

func TestLLMChain(t *testing.T) {
	f := setup(t)
	h := langchaingo.NewHandler(langchaingo.WithModel("gpt-4o-mini"), langchaingo.WithProvider("openai"))
	fake := newFake(t, "Sunny, 18°C.")
	chain := llmChain(newLLM(t, fake, h), h)

	out, err := chains.Call(context.Background(), chain, map[string]any{"question": question})
	if err != nil {
		t.Fatal(err)
	}
	if out["text"] != "Sunny, 18°C." {
		t.Fatalf("chain output %v", out)
	}
	tr := f.Traces(t, 1)[0]
	if got := names(tr); !reflect.DeepEqual(got, []string{"chain", "chat model"}) {
		t.Fatalf("spans %v", got)
	}
	chain0, chat := one(t, tr, "chain"), one(t, tr, "chat model")
	if chain0.ParentSpanID.IsValid() || chat.ParentSpanID != chain0.SpanID {
		t.Errorf("nesting: chain parent %v, chat parent %v (chain %v)", chain0.ParentSpanID, chat.ParentSpanID, chain0.SpanID)
	}
	checks := []struct {
		s    *exporter.Span
		k    string
		want any
	}{
		{chain0, "mlflow.spanType", "CHAIN"},
		{chain0, "mlflow.spanInputs", map[string]any{"question": question}},
		{chain0, "mlflow.spanOutputs", map[string]any{"text": "Sunny, 18°C."}},
		{chat, "mlflow.spanType", "CHAT_MODEL"},
		{chat, "mlflow.message.format", "langchain"},
		{chat, "mlflow.llm.model", "gpt-4o-mini"},
		{chat, "mlflow.llm.provider", "openai"},
		{chat, "mlflow.spanInputs", map[string]any{"messages": []any{map[string]any{
			"role": "user", "content": "Answer briefly: " + question, "tool_calls": nil, "refusal": nil, "tool_call_id": nil}}}},
		{chat, "mlflow.spanOutputs", map[string]any{"choices": []any{map[string]any{
			"message": map[string]any{"role": "assistant", "content": "Sunny, 18°C.", "tool_calls": nil, "refusal": nil, "tool_call_id": nil},
			// MLflow's tracer does not record the finish reason.
			"finish_reason": nil}}}},
		// The fake's counts (about four characters a token; see
		// internal/llmtest). The cache count is there, 0, because the API
		// reports it (prompt_tokens_details.cached_tokens), as MLflow's
		// tracer records it from LangChain. Cached tokens: TestCachedTokens.
		{chat, "mlflow.chat.tokenUsage", map[string]any{"input_tokens": 19.0, "output_tokens": 4.0, "total_tokens": 23.0, "cache_read_input_tokens": 0.0}},
	}
	for _, c := range checks {
		if got := attr(c.s, c.k); !reflect.DeepEqual(got, c.want) {
			t.Errorf("%s %s = %#v, want %#v", c.s.Name, c.k, got, c.want)
		}
	}
	if got := tr.Info.Metadata["mlflow.trace.tokenUsage"]; got != `{"input_tokens": 19, "output_tokens": 4, "total_tokens": 23, "cache_read_input_tokens": 0}` {
		t.Errorf("trace token usage %s", got)
	}
	if tr.Info.RequestPreview == "" || tr.Info.ResponsePreview == "" {
		t.Errorf("previews %q %q", tr.Info.RequestPreview, tr.Info.ResponsePreview)
	}
}

// weather is a tool without a callbacks handler of its own.
type weather struct{}

func (weather) Name() string        { return "weather" }
func (weather) Description() string { return "Current weather of a city. Input: the city name." }
func (weather) Call(ctx context.Context, city string) (string, error) {
	_, s := tracing.StartSpan(ctx, "lookup", tracing.WithSpanType(tracing.SpanTypeRetriever))
	s.End(tracing.WithOutputs("18C"))
	return "18°C and sunny in " + city, nil
}

func runAgent(t *testing.T, ctx context.Context, h *langchaingo.Handler, fake *llmtest.Server) map[string]any {
	t.Helper()
	llm := newLLM(t, fake, h)
	ts := append(h.WrapTools(weather{}), tools.Calculator{CallbacksHandler: h})
	agent := agents.NewOneShotAgent(llm, ts, agents.WithCallbacksHandler(h))
	exec := agents.NewExecutor(agent, agents.WithCallbacksHandler(h), agents.WithMaxIterations(4))
	out, err := chains.Call(ctx, exec, map[string]any{"input": "Weather in Paris, in Fahrenheit?"})
	if err != nil {
		t.Fatalf("agent: %v", err)
	}
	return out
}

// agentReplies are the model's answers in langchaingo's MRKL (one-shot agent)
// format: call weather, then calculator, then answer.
func agentReplies() []string {
	return []string{
		"I need the weather.\nAction: weather\nAction Input: Paris",
		"Convert to Fahrenheit.\nAction: calculator\nAction Input: 18*9/5+32",
		"Final Answer: 64.4°F and sunny.",
	}
}

func TestAgentExecutor(t *testing.T) {
	f := setup(t)
	h := langchaingo.NewHandler(langchaingo.WithModel("gpt-4o-mini"))
	fake := newFake(t, agentReplies()...)
	out := runAgent(t, context.Background(), h, fake)
	if out["output"] != "64.4°F and sunny." {
		t.Fatalf("agent output %v", out)
	}
	tr := f.Traces(t, 1)[0]
	m := byName(tr)
	agent := one(t, tr, "agent")
	if agent.ParentSpanID.IsValid() || attr(agent, "mlflow.spanType") != "AGENT" {
		t.Errorf("agent root: parent %v type %v", agent.ParentSpanID, attr(agent, "mlflow.spanType"))
	}
	if len(m["chain"]) != 3 || len(m["chat model"]) != 3 {
		t.Fatalf("spans %v", names(tr))
	}
	var sumIn, sumOut int
	for i, c := range m["chain"] {
		if c.ParentSpanID != agent.SpanID {
			t.Errorf("chain %d parent %v", i, c.ParentSpanID)
		}
		chat := m["chat model"][i]
		if chat.ParentSpanID != c.SpanID {
			t.Errorf("chat model %d parent %v, want chain %v", i, chat.ParentSpanID, c.SpanID)
		}
		u, _ := attr(chat, "mlflow.chat.tokenUsage").(map[string]any)
		if u == nil {
			t.Errorf("chat model %d: no token usage (streamed, usage in the last chunk)", i)
		}
		in, out := tokens(u["input_tokens"]), tokens(u["output_tokens"])
		if in == 0 || out == 0 || tokens(u["total_tokens"]) != in+out {
			t.Errorf("chat model %d: token usage %v", i, u)
		}
		sumIn, sumOut = sumIn+in, sumOut+out
		var tokens []string
		for _, e := range chat.Events {
			if e.Name == "new_token" {
				tokens = append(tokens, fmt.Sprint(e.Attributes["token"]))
			}
		}
		if strings.Join(tokens, "") != agentReplies()[i] {
			t.Errorf("chat model %d new_token events %q", i, tokens)
		}
	}
	w, calc, lookup := one(t, tr, "weather"), one(t, tr, "calculator"), one(t, tr, "lookup")
	for _, s := range []*exporter.Span{w, calc} {
		if s.ParentSpanID != agent.SpanID || attr(s, "mlflow.spanType") != "TOOL" {
			t.Errorf("%s: parent %v type %v", s.Name, s.ParentSpanID, attr(s, "mlflow.spanType"))
		}
	}
	if lookup.ParentSpanID != w.SpanID {
		t.Errorf("span inside the wrapped tool: parent %v, want %v", lookup.ParentSpanID, w.SpanID)
	}
	if attr(w, "mlflow.spanInputs") != "Paris" || attr(w, "mlflow.spanOutputs") != "18°C and sunny in Paris" {
		t.Errorf("weather io %v %v", attr(w, "mlflow.spanInputs"), attr(w, "mlflow.spanOutputs"))
	}
	if attr(calc, "mlflow.spanInputs") != "18*9/5+32" || attr(calc, "mlflow.spanOutputs") != "64.4" {
		t.Errorf("calculator io %v %v", attr(calc, "mlflow.spanInputs"), attr(calc, "mlflow.spanOutputs"))
	}
	var events []string
	for _, e := range agent.Events {
		events = append(events, e.Name+":"+fmt.Sprint(e.Attributes["tool"]))
	}
	if want := []string{"agent_action:weather", "agent_action:calculator", "agent_finish:<nil>"}; !reflect.DeepEqual(events, want) {
		t.Errorf("agent events %v, want %v", events, want)
	}
	if attr(agent, "mlflow.spanOutputs").(map[string]any)["output"] != "64.4°F and sunny." {
		t.Errorf("agent outputs %v", attr(agent, "mlflow.spanOutputs"))
	}
	// The trace's usage is the sum of its model calls'.
	want := fmt.Sprintf(`{"input_tokens": %d, "output_tokens": %d, "total_tokens": %d, "cache_read_input_tokens": 0}`, sumIn, sumOut, sumIn+sumOut)
	if got := tr.Info.Metadata["mlflow.trace.tokenUsage"]; got != want {
		t.Errorf("trace token usage %s, want %s", got, want)
	}
	// Spans start in order: the tree's time order is the execution order.
	order := names(tr)
	if want := []string{"agent", "chain", "chat model", "weather", "lookup", "chain", "chat model", "calculator", "chain", "chat model"}; !reflect.DeepEqual(order, want) {
		t.Errorf("span order %v\nwant %v", order, want)
	}
}

// tokens is a token count of a decoded usage attribute (0 when absent).
func tokens(v any) int {
	f, _ := v.(float64)
	return int(f)
}

// TestCachedTokens: the OpenAI API reports the part of a prompt it read from
// its cache (a prefix of 1024+ tokens it has seen) as
// prompt_tokens_details.cached_tokens; langchaingo passes it on as
// PromptCachedTokens, the span records it as cache_read_input_tokens, and
// the trace sums it.
func TestCachedTokens(t *testing.T) {
	f := setup(t)
	h := langchaingo.NewHandler()
	llm := newLLM(t, llmtest.Start(t), h)
	system := strings.Repeat("You are a meticulous travel assistant. ", 120) // > 1024 tokens
	ctx, root := tracing.StartSpan(context.Background(), "session")
	for _, q := range []string{"Weather in Paris?", "And in Rome?"} {
		msgs := []llms.MessageContent{llms.TextParts(llms.ChatMessageTypeSystem, system), llms.TextParts(llms.ChatMessageTypeHuman, q)}
		if _, err := llm.GenerateContent(ctx, msgs); err != nil {
			t.Fatal(err)
		}
	}
	root.End()
	tr := f.Traces(t, 1)[0]
	chats := byName(tr)["chat model"]
	if len(chats) != 2 {
		t.Fatalf("spans %v", names(tr))
	}
	first, _ := attr(chats[0], "mlflow.chat.tokenUsage").(map[string]any)
	second, _ := attr(chats[1], "mlflow.chat.tokenUsage").(map[string]any)
	if c, ok := first["cache_read_input_tokens"]; !ok || c != 0.0 || tokens(first["input_tokens"]) < 1024 {
		t.Errorf("first call (nothing cached yet): %v", first)
	}
	cached := tokens(second["cache_read_input_tokens"])
	if cached < 1024 || cached >= tokens(second["input_tokens"]) {
		t.Errorf("second call: %v", second)
	}
	in, out := tokens(first["input_tokens"])+tokens(second["input_tokens"]), tokens(first["output_tokens"])+tokens(second["output_tokens"])
	want := fmt.Sprintf(`{"input_tokens": %d, "output_tokens": %d, "total_tokens": %d, "cache_read_input_tokens": %d}`, in, out, in+out, cached)
	if got := tr.Info.Metadata["mlflow.trace.tokenUsage"]; got != want {
		t.Errorf("trace token usage %s, want %s", got, want)
	}
}

// memStore is a vector store returning fixed documents.
type memStore struct{ err error }

func (memStore) AddDocuments(context.Context, []schema.Document, ...vectorstores.Option) ([]string, error) {
	return nil, nil
}

func (s memStore) SimilaritySearch(_ context.Context, q string, n int, _ ...vectorstores.Option) ([]schema.Document, error) {
	if s.err != nil {
		return nil, s.err
	}
	return []schema.Document{
		{PageContent: "Paris is mild in spring.", Metadata: map[string]any{"source": "guide.md"}, Score: 0.5},
		{PageContent: "Bring an umbrella.", Metadata: map[string]any{"source": "tips.md"}},
	}[:n], nil
}

func TestRetriever(t *testing.T) {
	f := setup(t)
	h := langchaingo.NewHandler()
	r := vectorstores.ToRetriever(memStore{}, 2)
	r.CallbacksHandler = h
	ctx, root := tracing.StartSpan(context.Background(), "rag", tracing.WithSpanType(tracing.SpanTypeAgent))
	docs, err := r.GetRelevantDocuments(ctx, "paris weather")
	if err != nil || len(docs) != 2 {
		t.Fatal(docs, err)
	}
	// A failing search: langchaingo sends no callback; the span ends at the
	// next callback of the same enclosing span.
	failing := vectorstores.ToRetriever(memStore{err: errors.New("index offline")}, 1)
	failing.CallbacksHandler = h
	if _, err := failing.GetRelevantDocuments(ctx, "second"); err == nil {
		t.Fatal("want error")
	}
	h.HandleText(ctx, "done")
	root.End()

	tr := f.Traces(t, 1)[0]
	rs := byName(tr)["retriever"]
	if len(rs) != 2 {
		t.Fatalf("spans %v", names(tr))
	}
	want := []any{
		map[string]any{"page_content": "Paris is mild in spring.", "metadata": map[string]any{"source": "guide.md", "score": 0.5}, "id": nil},
		map[string]any{"page_content": "Bring an umbrella.", "metadata": map[string]any{"source": "tips.md"}, "id": nil},
	}
	if rs[0].ParentSpanID != root.SpanContext().SpanID() || attr(rs[0], "mlflow.spanType") != "RETRIEVER" ||
		attr(rs[0], "mlflow.spanInputs") != "paris weather" || !reflect.DeepEqual(attr(rs[0], "mlflow.spanOutputs"), want) {
		t.Errorf("retriever: parent %v type %v in %v out %#v", rs[0].ParentSpanID, attr(rs[0], "mlflow.spanType"),
			attr(rs[0], "mlflow.spanInputs"), attr(rs[0], "mlflow.spanOutputs"))
	}
	if attr(rs[1], "mlflow.spanInputs") != "second" || attr(rs[1], "mlflow.spanOutputs") != nil || rs[1].EndTime.IsZero() {
		t.Errorf("dangling retriever: in %v out %v end %v", attr(rs[1], "mlflow.spanInputs"), attr(rs[1], "mlflow.spanOutputs"), rs[1].EndTime)
	}
	rootSpan := one(t, tr, "rag")
	if len(rootSpan.Events) != 1 || rootSpan.Events[0].Name != "text" || rootSpan.Events[0].Attributes["text"] != "done" {
		t.Errorf("text event %+v", rootSpan.Events)
	}
}

func TestChainErrorEndsModelSpan(t *testing.T) {
	f := setup(t)
	h := langchaingo.NewHandler()
	fake := llmtest.Start(t)
	fake.AddFault(llmtest.Fault{Status: 500})
	chain := llmChain(newLLM(t, fake, h), h)
	_, err := chains.Call(context.Background(), chain, map[string]any{"question": question})
	if err == nil {
		t.Fatal("want error")
	}
	tr := f.Traces(t, 1)[0]
	chain0, chat := one(t, tr, "chain"), one(t, tr, "chat model")
	for _, s := range []*exporter.Span{chain0, chat} {
		if s.Status.Code != "STATUS_CODE_ERROR" || len(s.Events) == 0 || s.Events[len(s.Events)-1].Name != "exception" {
			t.Errorf("%s: status %+v events %+v", s.Name, s.Status, s.Events)
		}
	}
	if tr.Info.State != "ERROR" {
		t.Errorf("trace state %s", tr.Info.State)
	}
}

// startOnlyModel calls HandleLLMGenerateContentStart but never the end
// callback, as langchaingo's llms/anthropic does on success, and
// HandleLLMError on failure.
type startOnlyModel struct {
	h   callbacks.Handler
	err error
}

func (m startOnlyModel) GenerateContent(ctx context.Context, ms []llms.MessageContent, _ ...llms.CallOption) (*llms.ContentResponse, error) {
	m.h.HandleLLMGenerateContentStart(ctx, ms)
	if m.err != nil {
		m.h.HandleLLMError(ctx, m.err)
		return nil, m.err
	}
	return &llms.ContentResponse{Choices: []*llms.ContentChoice{{Content: "hi"}}}, nil
}

func (m startOnlyModel) Call(ctx context.Context, prompt string, opts ...llms.CallOption) (string, error) {
	return llms.GenerateFromSinglePrompt(ctx, m, prompt, opts...)
}

func TestModelWithoutEndCallback(t *testing.T) {
	f := setup(t)
	h := langchaingo.NewHandler()
	ctx, root := tracing.StartSpan(context.Background(), "root")
	for i := range 2 {
		if _, err := llms.GenerateFromSinglePrompt(ctx, startOnlyModel{h: h}, fmt.Sprint("q", i)); err != nil {
			t.Fatal(err)
		}
	}
	if _, err := chains.Call(ctx, llmChain(startOnlyModel{h: h, err: errors.New("overloaded")}, h), map[string]any{"question": "x"}); err == nil {
		t.Fatal("want error")
	}
	root.End()
	tr := f.Traces(t, 1)[0]
	chats := byName(tr)["chat model"]
	if len(chats) != 3 {
		t.Fatalf("spans %v", names(tr))
	}
	rootID := root.SpanContext().SpanID()
	// The first call's span ended when the second started: siblings, not nested.
	if chats[0].ParentSpanID != rootID || chats[1].ParentSpanID != rootID || chats[0].EndTime.After(chats[1].StartTime) {
		t.Errorf("dangling model spans: parents %v %v, first ends %v, second starts %v",
			chats[0].ParentSpanID, chats[1].ParentSpanID, chats[0].EndTime, chats[1].StartTime)
	}
	if chats[2].Status.Code != "STATUS_CODE_ERROR" || !strings.Contains(chats[2].Status.Message, "overloaded") {
		t.Errorf("HandleLLMError: %+v", chats[2].Status)
	}
}

func TestContentCaptureOff(t *testing.T) {
	f := setup(t, tracing.WithContentCapture(false))
	h := langchaingo.NewHandler(langchaingo.WithModel("gpt-4o-mini"))
	fake := newFake(t, agentReplies()...)
	runAgent(t, context.Background(), h, fake)
	tr := f.Traces(t, 1)[0]
	for _, s := range tr.Spans {
		if s.Name == "lookup" {
			continue // the program's own span, not the integration's
		}
		for _, k := range []string{"mlflow.spanInputs", "mlflow.spanOutputs"} {
			if v, ok := s.Attributes[k]; ok {
				t.Errorf("%s has %s = %s with content capture off", s.Name, k, v)
			}
		}
		for _, e := range s.Events {
			for _, k := range []string{"tool_input", "log", "token", "return_values", "text"} {
				if _, ok := e.Attributes[k]; ok {
					t.Errorf("%s event %s has %s", s.Name, e.Name, k)
				}
			}
		}
	}
	chat := byName(tr)["chat model"][0]
	if attr(chat, "mlflow.chat.tokenUsage") == nil || attr(chat, "mlflow.llm.model") != "gpt-4o-mini" || attr(chat, "mlflow.spanType") != "CHAT_MODEL" {
		t.Errorf("metadata lost: %v", chat.Attributes)
	}
	if attr(one(t, tr, "weather"), "mlflow.spanType") != "TOOL" || attr(one(t, tr, "agent"), "mlflow.spanType") != "AGENT" {
		t.Errorf("types lost")
	}
}

func TestConcurrentTraces(t *testing.T) {
	f := setup(t)
	h := langchaingo.NewHandler()
	const n = 8
	var replies []string
	for i := range n {
		replies = append(replies, fmt.Sprint("answer ", i))
	}
	fake := newFake(t, replies...)
	llm := newLLM(t, fake, h)
	chain := llmChain(llm, h)
	var wg sync.WaitGroup
	for i := range n {
		wg.Add(1)
		go func() {
			defer wg.Done()
			_ = tracing.Run(context.Background(), fmt.Sprint("request ", i), func(ctx context.Context) error {
				_, err := chains.Call(ctx, chain, map[string]any{"question": fmt.Sprint("q", i)})
				return err
			}, tracing.WithSpanType(tracing.SpanTypeAgent))
		}()
	}
	wg.Wait()
	for _, tr := range f.Traces(t, n) {
		if len(tr.Spans) != 3 {
			t.Errorf("trace %s: spans %v", tr.Info.TraceID, names(tr))
			continue
		}
		root, chain0, chat := tr.Spans[0], one(t, tr, "chain"), one(t, tr, "chat model")
		if chain0.ParentSpanID != root.SpanID || chat.ParentSpanID != chain0.SpanID {
			t.Errorf("trace %s: nesting broken", tr.Info.TraceID)
		}
	}
}

func TestUntraced(t *testing.T) {
	// No Provider (or a shut-down one): the handler records nothing and
	// never fails the calls.
	h := langchaingo.NewHandler()
	fake := llmtest.Start(t)
	if _, err := chains.Call(context.Background(), llmChain(newLLM(t, fake, h), h), map[string]any{"question": "x"}); err != nil {
		t.Fatal(err)
	}
	ctx := context.Background()
	h.HandleToolEnd(ctx, "unmatched")
	h.HandleChainError(ctx, nil)
	h.HandleLLMGenerateContentEnd(ctx, nil)
	h.HandleAgentFinish(ctx, schema.AgentFinish{})
	h.HandleRetrieverEnd(ctx, "", nil)
}

func TestUnbalancedCallbacks(t *testing.T) {
	f := setup(t)
	h := langchaingo.NewHandler()
	ctx, root := tracing.StartSpan(context.Background(), "root")
	h.HandleToolEnd(ctx, "no start")
	h.HandleChainEnd(ctx, nil)
	h.HandleChainStart(ctx, map[string]any{"a": 1})
	h.HandleToolStart(ctx, `{"x": 1}`)
	h.HandleLLMGenerateContentEnd(ctx, &llms.ContentResponse{}) // no model span open
	h.HandleChainEnd(ctx, map[string]any{"b": 2})               // ends the tool left open too
	h.HandleLLMStart(ctx, []string{"p1", "p2"})
	h.HandleLLMGenerateContentEnd(ctx, &llms.ContentResponse{Choices: []*llms.ContentChoice{{Content: "c",
		GenerationInfo: map[string]any{"InputTokens": 3, "OutputTokens": 1, "CacheReadInputTokens": 2}}}})
	root.End()
	tr := f.Traces(t, 1)[0]
	llm := one(t, tr, "llm")
	if attr(llm, "mlflow.spanType") != "LLM" || !reflect.DeepEqual(attr(llm, "mlflow.spanInputs"), []any{"p1", "p2"}) ||
		!reflect.DeepEqual(attr(llm, "mlflow.chat.tokenUsage"), map[string]any{"input_tokens": 3.0, "output_tokens": 1.0, "total_tokens": 4.0, "cache_read_input_tokens": 2.0}) {
		t.Errorf("HandleLLMStart span %v", llm.Attributes)
	}
	tool := one(t, tr, "tool")
	if !reflect.DeepEqual(attr(tool, "mlflow.spanInputs"), map[string]any{"x": 1.0}) || tool.EndTime.IsZero() {
		t.Errorf("tool %v", tool.Attributes)
	}
	if attr(one(t, tr, "chain"), "mlflow.spanOutputs") == nil {
		t.Errorf("chain outputs lost")
	}
}

// TestReapOpenModelSpan: langchaingo's openai client returns an error without
// HandleLLMError. Outside a chain nothing else ends that span; once its
// enclosing span has ended, the next callback of the handler ends it at the
// enclosing span's end, so the trace is exported.
func TestReapOpenModelSpan(t *testing.T) {
	f := setup(t)
	h := langchaingo.NewHandler()
	h.SetReapGap(0)
	fake := llmtest.Start(t)
	fake.AddFault(llmtest.Fault{Status: 500})
	llm := newLLM(t, fake, h)
	ctx, root := tracing.StartSpan(context.Background(), "request")
	if _, err := llm.Call(ctx, "hello"); err == nil {
		t.Fatal("want error")
	}
	root.End()
	// Another request's callback reaps the span left open.
	if _, err := llm.Call(context.Background(), "next"); err != nil {
		t.Fatal(err)
	}
	trs := f.Traces(t, 2)
	var tr *exporter.Trace
	for _, x := range trs {
		if x.Spans[0].Name == "request" {
			tr = x
		}
	}
	if tr == nil {
		t.Fatalf("request trace missing")
	}
	chat := one(t, tr, "chat model")
	if !chat.EndTime.Equal(tr.Spans[0].EndTime) || chat.ParentSpanID != tr.Spans[0].SpanID {
		t.Errorf("reaped span: end %v (root end %v), parent %v", chat.EndTime, tr.Spans[0].EndTime, chat.ParentSpanID)
	}
}
