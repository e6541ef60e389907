package eino_test

import (
	"context"
	"errors"
	"io"
	"strings"
	"testing"

	"github.com/cloudwego/eino/callbacks"
	"github.com/cloudwego/eino/components"
	"github.com/cloudwego/eino/components/model"
	"github.com/cloudwego/eino/compose"
	"github.com/cloudwego/eino/flow/agent"
	"github.com/cloudwego/eino/schema"

	"github.com/mlflowtrace/mlflowtrace-go/autoinstrument/eino"
	"github.com/mlflowtrace/mlflowtrace-go/internal/llmtest"
	"github.com/mlflowtrace/mlflowtrace-go/internal/spantest"
)

// BenchmarkModelCallbacks is the cost of one chat model run's callbacks
// (OnStart with two messages and a tool, OnEnd with a tool call and usage):
// the span, the chat conversion, the tools and the usage.
func BenchmarkModelCallbacks(b *testing.B) {
	spantest.StartDiscard(b)
	h := eino.NewHandler()
	info := &callbacks.RunInfo{Name: "ChatModel", Type: "OpenAI", Component: components.ComponentOfChatModel}
	tl := weatherTool(b)
	ti, err := tl.Info(context.Background())
	if err != nil {
		b.Fatal(err)
	}
	in := &model.CallbackInput{Messages: agentInput(), Tools: []*schema.ToolInfo{ti}, Config: &model.Config{Model: "gpt-4o-mini"}}
	out := &model.CallbackOutput{
		Message: &schema.Message{Role: schema.Assistant, ToolCalls: []schema.ToolCall{{ID: "call_1", Type: "function",
			Function: schema.FunctionCall{Name: "get_weather", Arguments: `{"city":"Paris"}`}}}},
		TokenUsage: &model.TokenUsage{PromptTokens: 69, CompletionTokens: 10, TotalTokens: 79},
	}
	ctx := context.Background()
	b.ReportAllocs()
	for i := 0; i < b.N; i++ {
		c := h.OnStart(ctx, info, in)
		h.OnEnd(c, info, out)
	}
}

// BenchmarkChain compares a compiled chain of two lambdas invoked without
// and with the handler (three spans a run: the chain and its nodes).
func BenchmarkChain(b *testing.B) {
	spantest.StartDiscard(b)
	h := eino.NewHandler()
	chain := compose.NewChain[string, string]()
	chain.AppendLambda(compose.InvokableLambda(func(_ context.Context, s string) (string, error) { return strings.ToUpper(s), nil })).
		AppendLambda(compose.InvokableLambda(func(_ context.Context, s string) (string, error) { return s + "!", nil }))
	r, err := chain.Compile(context.Background())
	if err != nil {
		b.Fatal(err)
	}
	ctx := context.Background()
	for _, v := range []struct {
		name string
		opts []compose.Option
	}{{"bare", nil}, {"traced", []compose.Option{compose.WithCallbacks(h)}}} {
		b.Run(v.name, func(b *testing.B) {
			b.ReportAllocs()
			for i := 0; i < b.N; i++ {
				if _, err := r.Invoke(ctx, "paris", v.opts...); err != nil {
					b.Fatal(err)
				}
			}
		})
	}
}

// BenchmarkAgent compares a ReAct agent run (two model calls and a tool
// call against the fake OpenAI API on loopback) without and with the
// handler, plain and streamed.
func BenchmarkAgent(b *testing.B) {
	spantest.StartDiscard(b)
	fake := llmtest.Start(b)
	a := newAgent(b, fake)
	traced := []agent.AgentOption{agent.WithComposeOptions(compose.WithCallbacks(eino.NewHandler()))}
	spantest.BenchCalls(b, []agent.AgentOption(nil), traced, fake.Reset,
		func(ctx context.Context, opts []agent.AgentOption) error {
			_, err := a.Generate(ctx, agentInput(), opts...)
			return err
		},
		func(ctx context.Context, opts []agent.AgentOption) error {
			sr, err := a.Stream(ctx, agentInput(), opts...)
			if err != nil {
				return err
			}
			defer sr.Close()
			for {
				if _, err := sr.Recv(); err != nil {
					if errors.Is(err, io.EOF) {
						return nil
					}
					return err
				}
			}
		})
}
