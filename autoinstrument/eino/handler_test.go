package eino_test

import (
	"context"
	"errors"
	"fmt"
	"io"
	"reflect"
	"strings"
	"testing"

	"github.com/cloudwego/eino/callbacks"
	"github.com/cloudwego/eino/components/embedding"
	"github.com/cloudwego/eino/components/prompt"
	"github.com/cloudwego/eino/components/retriever"
	"github.com/cloudwego/eino/components/tool"
	"github.com/cloudwego/eino/components/tool/utils"
	"github.com/cloudwego/eino/compose"
	"github.com/cloudwego/eino/flow/agent"
	"github.com/cloudwego/eino/flow/agent/react"
	"github.com/cloudwego/eino/schema"

	"github.com/mlflowtrace/mlflowtrace-go/autoinstrument/eino"
	"github.com/mlflowtrace/mlflowtrace-go/exporter"
	"github.com/mlflowtrace/mlflowtrace-go/internal/llmtest"
	"github.com/mlflowtrace/mlflowtrace-go/tracing"
)

func newAgent(t testing.TB, fake *llmtest.Server) *react.Agent {
	t.Helper()
	a, err := react.NewAgent(context.Background(), &react.AgentConfig{
		ToolCallingModel: newModel(t, fake),
		ToolsConfig:      compose.ToolsNodeConfig{Tools: []tool.BaseTool{weatherTool(t)}},
	})
	if err != nil {
		t.Fatal(err)
	}
	return a
}

func agentInput() []*schema.Message {
	return []*schema.Message{schema.SystemMessage("You are a travel assistant."), schema.UserMessage(question)}
}

func dump(tr *exporter.Trace) string {
	var b strings.Builder
	for _, s := range tr.Spans {
		b.WriteString(s.Name + " " + s.Attributes["mlflow.spanType"] + " <- " + parentName(tr, s) + "\n")
	}
	return b.String()
}

// TestReActAgent: Eino's ReAct agent on eino-ext's OpenAI model against the
// fake OpenAI API, traced per run: the agent graph is an AGENT span, each
// model call a CHAT_MODEL span with MLflow's chat messages, tools, model,
// provider and token usage, the tool call a TOOL span under the ToolsNode.
func TestReActAgent(t *testing.T) {
	f := setup(t)
	h := eino.NewHandler()
	a := newAgent(t, llmtest.Start(t))
	out, err := a.Generate(context.Background(), agentInput(), agent.WithComposeOptions(compose.WithCallbacks(h)))
	if err != nil {
		t.Fatal(err)
	}
	if !strings.Contains(out.Content, "18°C") {
		t.Fatalf("answer %q", out.Content)
	}
	tr := f.Traces(t, 1)[0]
	t.Log("\n" + dump(tr))
	spans := byName(tr)
	root := tr.Spans[0]
	if root.Name != "ReActAgent" || attr(root, "mlflow.spanType") != "AGENT" {
		t.Fatalf("root %s %s\n%s", root.Name, root.Attributes["mlflow.spanType"], dump(tr))
	}
	in, _ := attr(root, "mlflow.spanInputs").(map[string]any)
	if msgs, _ := in["messages"].([]any); len(msgs) != 2 || msgs[1].(map[string]any)["content"] != question {
		t.Errorf("agent inputs %v", in)
	}
	models := spans["ChatModel"]
	if len(models) != 2 {
		t.Fatalf("want 2 model calls:\n%s", dump(tr))
	}
	for i, m := range models {
		if attr(m, "mlflow.spanType") != "CHAT_MODEL" || parentName(tr, m) != "ReActAgent" {
			t.Errorf("model %d: %s under %s", i, m.Attributes["mlflow.spanType"], parentName(tr, m))
		}
		for k, want := range map[string]any{"mlflow.message.format": "eino", "mlflow.llm.model": "gpt-4o-mini", "mlflow.llm.provider": "openai"} {
			if got := attr(m, k); got != want {
				t.Errorf("model %d: %s = %v, want %v", i, k, got, want)
			}
		}
		tools, _ := attr(m, "mlflow.chat.tools").([]any)
		want := []any{map[string]any{"type": "function", "function": map[string]any{
			"name": "get_weather", "description": "Current weather of a city",
			"parameters": map[string]any{"type": "object", "additionalProperties": false, "properties": map[string]any{
				"city": map[string]any{"type": "string", "description": "City name"}}, "required": []any{"city"}}}}}
		if !reflect.DeepEqual(tools, want) {
			t.Errorf("model %d tools\n got %#v\nwant %#v", i, tools, want)
		}
		u, _ := attr(m, "mlflow.chat.tokenUsage").(map[string]any)
		if u["input_tokens"] == nil || u["output_tokens"] == nil || u["total_tokens"] != u["input_tokens"].(float64)+u["output_tokens"].(float64) {
			t.Errorf("model %d usage %v", i, u)
		}
	}
	first, _ := attr(models[0], "mlflow.spanOutputs").(map[string]any)
	msg := first["choices"].([]any)[0].(map[string]any)["message"].(map[string]any)
	call := msg["tool_calls"].([]any)[0].(map[string]any)
	if msg["content"] != nil || call["function"].(map[string]any)["arguments"] != `{"city": "Paris"}` {
		t.Errorf("first model outputs %v", first)
	}
	second, _ := attr(models[1], "mlflow.spanInputs").(map[string]any)
	hist := second["messages"].([]any)
	if len(hist) != 4 {
		t.Fatalf("second call history %v", hist)
	}
	toolMsg := hist[3].(map[string]any)
	if toolMsg["role"] != "tool" || toolMsg["tool_call_id"] != call["id"] || toolMsg["content"] != "18°C and sunny in Paris" {
		t.Errorf("tool message %v", toolMsg)
	}
	tl := spans["get_weather"]
	if len(tl) != 1 || attr(tl[0], "mlflow.spanType") != "TOOL" || parentName(tr, tl[0]) != "Tools" {
		t.Fatalf("tool span:\n%s", dump(tr))
	}
	if in := attr(tl[0], "mlflow.spanInputs"); !reflect.DeepEqual(in, map[string]any{"city": "Paris"}) {
		t.Errorf("tool inputs %#v", in)
	}
	if out := attr(tl[0], "mlflow.spanOutputs"); out != "18°C and sunny in Paris" {
		t.Errorf("tool outputs %#v", out)
	}
}

// TestStream: a streamed agent run; the model and agent spans end when
// their streams end, with the chunks merged and the usage of the last chunk.
func TestStream(t *testing.T) {
	f := setup(t)
	h := eino.NewHandler()
	a := newAgent(t, llmtest.Start(t))
	sr, err := a.Stream(context.Background(), agentInput(), agent.WithComposeOptions(compose.WithCallbacks(h)))
	if err != nil {
		t.Fatal(err)
	}
	var text strings.Builder
	for {
		m, err := sr.Recv()
		if errors.Is(err, io.EOF) {
			break
		}
		if err != nil {
			t.Fatal(err)
		}
		text.WriteString(m.Content)
	}
	sr.Close()
	tr := f.Traces(t, 1)[0]
	t.Log("\n" + dump(tr))
	models := byName(tr)["ChatModel"]
	if len(models) != 2 {
		t.Fatalf("want 2 model calls:\n%s", dump(tr))
	}
	last := models[1]
	out, _ := attr(last, "mlflow.spanOutputs").(map[string]any)
	msg := out["choices"].([]any)[0].(map[string]any)["message"].(map[string]any)
	if msg["content"] != text.String() || text.Len() == 0 {
		t.Errorf("merged stream %q, streamed %q", msg["content"], text.String())
	}
	if u, _ := attr(last, "mlflow.chat.tokenUsage").(map[string]any); u["output_tokens"] == nil {
		t.Errorf("streamed usage %v", u)
	}
	root := tr.Spans[0]
	if !root.EndTime.After(last.EndTime) && !root.EndTime.Equal(last.EndTime) {
		t.Errorf("agent ended before its model stream")
	}
	if ro, _ := attr(root, "mlflow.spanOutputs").(map[string]any); ro == nil {
		t.Errorf("agent outputs missing")
	}
}

// upper is a lambda that upper-cases the model's answer.
func upper(_ context.Context, m *schema.Message) (string, error) {
	return strings.ToUpper(m.Content), nil
}

// TestChainGlobalHandler: a chain (chat template → model → lambda) with the
// handler installed globally; every node is a span under the chain.
func TestChainGlobalHandler(t *testing.T) {
	f := setup(t)
	callbacks.AppendGlobalHandlers(eino.NewHandler())
	t.Cleanup(func() { callbacks.InitCallbackHandlers(nil) })
	fake := llmtest.Start(t)
	fake.Script(llmtest.Reply{Text: "Paris is sunny."})
	tpl := prompt.FromMessages(schema.FString, schema.SystemMessage("Answer briefly."), schema.UserMessage("{question}"))
	chain := compose.NewChain[map[string]any, string]()
	chain.AppendChatTemplate(tpl).AppendChatModel(newModel(t, fake)).AppendLambda(compose.InvokableLambda(upper), compose.WithNodeName("upper"))
	r, err := chain.Compile(context.Background(), compose.WithGraphName("weather_chain"))
	if err != nil {
		t.Fatal(err)
	}
	out, err := r.Invoke(context.Background(), map[string]any{"question": question})
	if err != nil || out != "PARIS IS SUNNY." {
		t.Fatalf("%q %v", out, err)
	}
	tr := f.Traces(t, 1)[0]
	t.Log("\n" + dump(tr))
	want := []string{"weather_chain CHAIN", "DefaultChatTemplate CHAIN", "OpenAIChatModel CHAT_MODEL", "upper CHAIN"}
	var got []string
	for _, s := range tr.Spans {
		got = append(got, s.Name+" "+attr(s, "mlflow.spanType").(string))
		if s != tr.Spans[0] && parentName(tr, s) != "weather_chain" {
			t.Errorf("%s under %q", s.Name, parentName(tr, s))
		}
	}
	if !reflect.DeepEqual(got, want) {
		t.Errorf("spans %v\nwant %v", got, want)
	}
	tplSpan := tr.Spans[1]
	if in := attr(tplSpan, "mlflow.spanInputs"); !reflect.DeepEqual(in, map[string]any{"question": question}) {
		t.Errorf("template inputs %v", in)
	}
	msgs := attr(tplSpan, "mlflow.spanOutputs").(map[string]any)["messages"].([]any)
	if len(msgs) != 2 || msgs[1].(map[string]any)["content"] != question {
		t.Errorf("template outputs %v", msgs)
	}
	if out := attr(tr.Spans[3], "mlflow.spanOutputs"); out != "PARIS IS SUNNY." {
		t.Errorf("lambda outputs %v", out)
	}
	if out := attr(tr.Spans[0], "mlflow.spanOutputs"); out != "PARIS IS SUNNY." {
		t.Errorf("chain outputs %v", out)
	}
}

// TestToolError: a tool that fails records the error on its span, and the
// agent's run fails with it.
func TestToolError(t *testing.T) {
	f := setup(t)
	h := eino.NewHandler()
	fake := llmtest.Start(t)
	// The fake's first answer calls get_weather with an empty city.
	fake.Script(llmtest.Reply{ToolCalls: []llmtest.ReplyToolCall{{Name: "get_weather", Arguments: `{"city":""}`}}})
	a := newAgent(t, fake)
	if _, err := a.Generate(context.Background(), agentInput(), agent.WithComposeOptions(compose.WithCallbacks(h))); err == nil {
		t.Fatal("want the tool's error")
	}
	tr := f.Traces(t, 1)[0]
	t.Log("\n" + dump(tr))
	for _, name := range []string{"get_weather", "ReActAgent"} {
		ss := byName(tr)[name]
		if len(ss) != 1 {
			t.Fatalf("%s spans:\n%s", name, dump(tr))
		}
		s := ss[0]
		if s.Status.Code != exporter.StatusCodeError || len(s.Events) == 0 || s.Events[0].Name != "exception" {
			t.Errorf("%s: status %v events %v", name, s.Status, s.Events)
		}
	}
}

// TestToolPanic: Eino recovers a tool's panic above the callbacks of the
// runs it was in (the tool and its ToolsNode get no OnError); the graph
// fails with it. The runs left open end with the graph's error, so the
// trace is complete instead of staying open (and dropped at shutdown).
func TestToolPanic(t *testing.T) {
	f := setup(t)
	h := eino.NewHandler()
	fake := llmtest.Start(t)
	tl, err := utils.InferTool("get_weather", "Current weather of a city", func(context.Context, cityInput) (string, error) {
		panic("tool exploded")
	})
	if err != nil {
		t.Fatal(err)
	}
	a, err := react.NewAgent(context.Background(), &react.AgentConfig{ToolCallingModel: newModel(t, fake),
		ToolsConfig: compose.ToolsNodeConfig{Tools: []tool.BaseTool{tl}}})
	if err != nil {
		t.Fatal(err)
	}
	if _, err := a.Generate(context.Background(), agentInput(), agent.WithComposeOptions(compose.WithCallbacks(h))); err == nil || !strings.Contains(err.Error(), "tool exploded") {
		t.Fatalf("err %v, want the tool's panic", err)
	}
	tr := f.Traces(t, 1)[0]
	for _, name := range []string{"get_weather", "Tools", "ReActAgent"} {
		ss := byName(tr)[name]
		if len(ss) != 1 {
			t.Fatalf("%s spans:\n%s", name, dump(tr))
		}
		s := ss[0]
		if s.Status.Code != exporter.StatusCodeError || len(s.Events) == 0 || s.Events[0].Name != "exception" ||
			!strings.Contains(fmt.Sprint(s.Events[0].Attributes["exception.message"]), "tool exploded") {
			t.Errorf("%s: status %v events %v", name, s.Status, s.Events)
		}
	}
	tool, node := byName(tr)["get_weather"][0], byName(tr)["Tools"][0]
	if tool.EndTime.After(node.EndTime) || node.EndTime.After(byName(tr)["ReActAgent"][0].EndTime) {
		t.Error("a run ended after the run it is in")
	}
}

// TestContentCaptureOff: spans keep type, model, provider, tools and usage
// but no inputs or outputs.
func TestContentCaptureOff(t *testing.T) {
	f := setup(t, tracing.WithContentCapture(false))
	h := eino.NewHandler()
	a := newAgent(t, llmtest.Start(t))
	if _, err := a.Generate(context.Background(), agentInput(), agent.WithComposeOptions(compose.WithCallbacks(h))); err != nil {
		t.Fatal(err)
	}
	tr := f.Traces(t, 1)[0]
	for _, s := range tr.Spans {
		for _, k := range []string{"mlflow.spanInputs", "mlflow.spanOutputs"} {
			if _, ok := s.Attributes[k]; ok {
				t.Errorf("%s has %s", s.Name, k)
			}
		}
	}
	m := byName(tr)["ChatModel"][0]
	for _, k := range []string{"mlflow.llm.model", "mlflow.llm.provider", "mlflow.chat.tools", "mlflow.chat.tokenUsage"} {
		if _, ok := m.Attributes[k]; !ok {
			t.Errorf("model span lacks %s", k)
		}
	}
}

// TestNotTracing: without tracing.Init the handler records nothing and
// Eino runs as without it.
func TestNotTracing(t *testing.T) {
	h := eino.NewHandler()
	a := newAgent(t, llmtest.Start(t))
	sr, err := a.Stream(context.Background(), agentInput(), agent.WithComposeOptions(compose.WithCallbacks(h)))
	if err != nil {
		t.Fatal(err)
	}
	defer sr.Close()
	for {
		if _, err := sr.Recv(); err != nil {
			if !errors.Is(err, io.EOF) {
				t.Fatal(err)
			}
			break
		}
	}
}

// guide is a retriever of one document; it reports no callbacks itself, so
// Eino's graph reports its runs.
type guide struct{}

func (guide) Retrieve(_ context.Context, query string, _ ...retriever.Option) ([]*schema.Document, error) {
	d := &schema.Document{ID: "doc-1", Content: "Paris is mild in spring.", MetaData: map[string]any{"source": "guide.md"}}
	return []*schema.Document{d.WithScore(0.5)}, nil
}

// letters embeds a text as its length.
type letters struct{}

func (letters) EmbedStrings(_ context.Context, texts []string, _ ...embedding.Option) ([][]float64, error) {
	out := make([][]float64, len(texts))
	for i, s := range texts {
		out[i] = []float64{float64(len(s))}
	}
	return out, nil
}

// TestRetrieverAndEmbedder: components without callbacks of their own in a
// graph: RETRIEVER with MLflow's documents, EMBEDDING with the texts.
func TestRetrieverAndEmbedder(t *testing.T) {
	f := setup(t)
	g := compose.NewGraph[string, [][]float64]()
	must := func(err error) {
		t.Helper()
		if err != nil {
			t.Fatal(err)
		}
	}
	must(g.AddRetrieverNode("retrieve", guide{}))
	must(g.AddLambdaNode("texts", compose.InvokableLambda(func(_ context.Context, docs []*schema.Document) ([]string, error) {
		var out []string
		for _, d := range docs {
			out = append(out, d.Content)
		}
		return out, nil
	})))
	must(g.AddEmbeddingNode("embed", letters{}))
	must(g.AddEdge(compose.START, "retrieve"))
	must(g.AddEdge("retrieve", "texts"))
	must(g.AddEdge("texts", "embed"))
	must(g.AddEdge("embed", compose.END))
	r, err := g.Compile(context.Background(), compose.WithGraphName("rag"))
	must(err)
	if _, err := r.Invoke(context.Background(), "paris weather", compose.WithCallbacks(eino.NewHandler(eino.WithModel("letters-1"), eino.WithProvider("local")))); err != nil {
		t.Fatal(err)
	}
	tr := f.Traces(t, 1)[0]
	t.Log("\n" + dump(tr))
	spans := byName(tr)
	ret, emb := spans["guideRetriever"][0], spans["lettersEmbedding"][0]
	if attr(ret, "mlflow.spanType") != "RETRIEVER" || attr(ret, "mlflow.spanInputs") != "paris weather" {
		t.Errorf("retriever %v", ret.Attributes)
	}
	want := []any{map[string]any{"page_content": "Paris is mild in spring.", "id": "doc-1",
		"metadata": map[string]any{"source": "guide.md", "_score": 0.5}}}
	if got := attr(ret, "mlflow.spanOutputs"); !reflect.DeepEqual(got, want) {
		t.Errorf("documents\n got %#v\nwant %#v", got, want)
	}
	if attr(emb, "mlflow.spanType") != "EMBEDDING" || attr(emb, "mlflow.llm.model") != "letters-1" ||
		!reflect.DeepEqual(attr(emb, "mlflow.spanOutputs"), []any{[]any{24.0}}) {
		t.Errorf("embedding %v", emb.Attributes)
	}
	if attr(spans["rag"][0], "mlflow.spanType") != "CHAIN" {
		t.Errorf("graph without tools: %v", spans["rag"][0].Attributes["mlflow.spanType"])
	}
}
