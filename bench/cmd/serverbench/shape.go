package main

import (
	"context"
	"strconv"
	"strings"

	"github.com/mlflowtrace/mlflowtrace-go/tracing"
)

// filler is the same text bench/python/pyclient.py uses.
var filler = strings.Repeat("The quick brown fox jumps over the lazy dog. ", 40)

// text returns "<label> #<i>: " followed by filler, cut to n characters, as
// pyclient.py's text() does.
func text(label string, i, n int) string {
	s := label + " #" + strconv.Itoa(i) + ": " + filler
	return s[:n]
}

type obj = map[string]any

// endTimer receives the duration of every End call (nil: not measured).
type endTimer interface {
	root(func())
	child(func())
}

type noTimer struct{}

func (noTimer) root(f func())  { f() }
func (noTimer) child(f func()) { f() }

// oneTrace records the benchmark trace shape, the same as pyclient.py's
// one_trace: a root AGENT span with five children (CHAIN, RETRIEVER,
// CHAT_MODEL with token usage, TOOL, PARSER), ~1 KB inputs and outputs per
// span, user and session metadata. Values are maps, like the Python dicts.
func oneTrace(ctx context.Context, i int, t endTimer) {
	ctx, root := tracing.StartSpan(ctx, "agent", tracing.WithSpanType(tracing.SpanTypeAgent))
	root.SetInputs(obj{"messages": []obj{{"role": "user", "content": text("question", i, 1000)}}, "request_id": i})
	_ = tracing.UpdateCurrentTrace(ctx, tracing.WithUser("bench-user"), tracing.WithSession("session-"+strconv.Itoa(i%10)))

	child := func(name string, typ tracing.SpanType, in, out any, extra func(*tracing.Span)) {
		_, s := tracing.StartSpan(ctx, name, tracing.WithSpanType(typ))
		s.SetInputs(in)
		if extra != nil {
			extra(s)
		}
		s.SetOutputs(out)
		t.child(func() { s.End() })
	}
	child("plan", tracing.SpanTypeChain,
		obj{"question": text("plan", i, 1000)},
		obj{"steps": []string{text("step1", i, 300), text("step2", i, 300), text("step3", i, 300)}}, nil)
	docs := make([]obj, 3)
	for k := range docs {
		docs[k] = obj{"page_content": text("doc"+strconv.Itoa(k), i, 300), "metadata": obj{"doc_uri": "doc-" + strconv.Itoa(k)}}
	}
	child("retrieve", tracing.SpanTypeRetriever, obj{"query": text("query", i, 1000)}, docs, nil)
	child("chat", tracing.SpanTypeChatModel,
		obj{"model": "gpt-4o-mini", "messages": []obj{
			{"role": "system", "content": text("system", i, 300)},
			{"role": "user", "content": text("user", i, 700)},
		}},
		obj{"choices": []obj{{
			"index":         0,
			"message":       obj{"role": "assistant", "content": text("reply", i, 1000)},
			"finish_reason": "stop",
		}}},
		func(s *tracing.Span) {
			s.SetTokenUsage(tracing.TokenUsage{InputTokens: 250, OutputTokens: 120, TotalTokens: 370})
		})
	child("search_tool", tracing.SpanTypeTool, obj{"query": text("search", i, 1000)}, obj{"result": text("result", i, 1000)}, nil)
	child("format", tracing.SpanTypeParser, obj{"text": text("raw", i, 1000)}, obj{"answer": text("answer", i, 1000)}, nil)
	root.SetOutputs(obj{"content": text("final", i, 1000)})
	t.root(func() { root.End() })
}
