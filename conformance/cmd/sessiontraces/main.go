// Command sessiontraces writes one chat session of three turns through
// package tracing, each turn a trace that ContextWithTraceOptions puts in
// session "go-chat-7" of user "alice", the turns a minute apart (explicit
// start and end times, so the order is the same on every run).
// conformance/test_browser.py opens the session in MLflow's UI. The
// destination comes from MLFLOW_TRACKING_URI and MLFLOW_EXPERIMENT_ID. It
// prints the session id.
package main

import (
	"context"
	"fmt"
	"os"
	"time"

	"github.com/mlflowtrace/mlflowtrace-go/tracing"
)

// Turns are the user's questions and the agent's answers, in order.
var turns = [][2]string{
	{"Hello there", "Hi! How can I help?"},
	{"What is the weather in Lyon?", "Sunny and 21 degrees in Lyon."},
	{"Thanks a lot", "You are welcome."},
}

const session = "go-chat-7"

func main() {
	ctx := context.Background()
	p, err := tracing.Init(ctx)
	if err != nil {
		fmt.Fprintln(os.Stderr, "sessiontraces:", err)
		os.Exit(1)
	}
	chat := tracing.ContextWithTraceOptions(ctx, tracing.WithSession(session), tracing.WithUser("alice"))
	start := time.Now().Add(-time.Hour)
	for i, t := range turns {
		at := start.Add(time.Duration(i) * time.Minute)
		_, s := tracing.StartSpan(chat, "chat_agent", tracing.WithSpanType(tracing.SpanTypeAgent), tracing.WithStartTime(at),
			tracing.WithInputs(map[string]any{"messages": []map[string]string{{"role": "user", "content": t[0]}}}))
		s.End(tracing.WithEndTime(at.Add(time.Second)), tracing.WithOutputs(map[string]any{
			"choices": []map[string]any{{"index": 0, "message": map[string]string{"role": "assistant", "content": t[1]}}},
		}))
	}
	sctx, cancel := context.WithTimeout(ctx, time.Minute)
	defer cancel()
	if err := p.Shutdown(sctx); err != nil {
		fmt.Fprintln(os.Stderr, "sessiontraces:", err)
		os.Exit(1)
	}
	fmt.Println(session)
}
