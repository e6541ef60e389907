// Command responsesagent is the Go side of conformance/test_responses_agent.py.
//
//	responsesagent serve -fixtures F   serve a fixture agent with responsesagent.NewHandler on a free
//	                                   loopback port; print {"url": ...}; stop on SIGTERM (traces written)
//	responsesagent convert             read {"input": [...], "chunks": [...]} on stdin, print
//	                                   {"messages": ToChatCompletions(input), "events": FromChatChunks(chunks)}
//	responsesagent parity              the ResponsesAgent parity workflow (conformance/parity/responses_agent.py)
//	                                   through responsesagent.Trace; print {"predict": ..., "predict_stream": ...}
//
// Traces go where MLFLOW_TRACKING_URI says.
package main

import (
	"context"
	"encoding/json"
	"errors"
	"flag"
	"fmt"
	"iter"
	"math"
	"net"
	"net/http"
	"os"
	"os/signal"
	"sort"
	"syscall"
	"time"

	"github.com/mlflowtrace/mlflowtrace-go/responsesagent"
	"github.com/mlflowtrace/mlflowtrace-go/tracing"
)

func main() {
	if len(os.Args) < 2 {
		fmt.Fprintln(os.Stderr, "usage: responsesagent serve|parity")
		os.Exit(2)
	}
	ctx, stop := signal.NotifyContext(context.Background(), syscall.SIGTERM, os.Interrupt)
	defer stop()
	var err error
	switch os.Args[1] {
	case "serve":
		fs := flag.NewFlagSet("serve", flag.ExitOnError)
		fixtures := fs.String("fixtures", "responsesagent/testdata/fixtures.json", "fixtures file")
		_ = fs.Parse(os.Args[2:])
		err = serve(ctx, *fixtures)
	case "parity":
		err = parity(ctx)
	case "convert":
		err = convert()
	default:
		err = fmt.Errorf("unknown mode %q", os.Args[1])
	}
	if err != nil {
		fmt.Fprintln(os.Stderr, "responsesagent:", err)
		os.Exit(1)
	}
}

func withTracing(ctx context.Context, fn func() error) error {
	p, err := tracing.Init(ctx)
	if err != nil {
		return err
	}
	ferr := fn()
	sctx, cancel := context.WithTimeout(context.Background(), 60*time.Second)
	defer cancel()
	if err := p.Shutdown(sctx); err != nil && ferr == nil {
		ferr = err
	}
	return ferr
}

// --- serve -------------------------------------------------------------------

type fixtureAgent struct {
	responses map[string]json.RawMessage
	events    []json.RawMessage // every valid event fixture, by name
}

func loadFixtures(path string) (*fixtureAgent, error) {
	b, err := os.ReadFile(path)
	if err != nil {
		return nil, err
	}
	var f struct {
		Responses map[string]json.RawMessage `json:"responses"`
		Events    map[string]json.RawMessage `json:"events"`
	}
	if err := json.Unmarshal(b, &f); err != nil {
		return nil, err
	}
	a := &fixtureAgent{responses: f.Responses}
	names := make([]string, 0, len(f.Events))
	for n := range f.Events {
		names = append(names, n)
	}
	sort.Strings(names)
	for _, n := range names {
		a.events = append(a.events, f.Events[n])
	}
	return a, nil
}

func lastUserText(req *responsesagent.Request) string {
	for i := len(req.Input) - 1; i >= 0; i-- {
		if req.Input[i].Role == "user" {
			return req.Input[i].Text()
		}
	}
	return ""
}

// Predict returns the response fixture named by custom_inputs.fixture, else
// echoes the last user message (custom_outputs = custom_inputs).
func (a *fixtureAgent) Predict(ctx context.Context, req *responsesagent.Request) (*responsesagent.Response, error) {
	if name, _ := req.CustomInputs["fixture"].(string); name == "lax" {
		return &responsesagent.Response{
			Output:        []responsesagent.Item{responsesagent.TextItem("lax", "msg_lax")},
			CustomOutputs: laxValues(req),
		}, nil
	} else if name != "" {
		raw, ok := a.responses[name]
		if !ok {
			return nil, fmt.Errorf("no response fixture %q", name)
		}
		var r responsesagent.Response
		if err := json.Unmarshal(raw, &r); err != nil {
			return nil, err
		}
		return &r, nil
	}
	if lastUserText(req) == "fail" {
		return nil, errors.New("the agent failed on purpose")
	}
	return &responsesagent.Response{
		Output:        []responsesagent.Item{responsesagent.TextItem("echo: "+lastUserText(req), "msg_echo")},
		CustomOutputs: req.CustomInputs,
	}, nil
}

// laxValues reports the int, float and bool members of req as the agent
// sees them (test_lax_members_match_mlflow): non-finite floats as "NaN",
// "Infinity", "-Infinity"; unset members absent.
func laxValues(req *responsesagent.Request) map[string]any {
	out := map[string]any{}
	if p := req.MaxOutputTokens; p != nil {
		out["max_output_tokens"] = *p
	}
	for k, p := range map[string]*float64{"temperature": req.Temperature, "top_p": req.TopP} {
		if p != nil {
			out[k] = floatValue(*p)
		}
	}
	for k, p := range map[string]*bool{"parallel_tool_calls": req.ParallelToolCalls, "store": req.Store, "background": req.Background} {
		if p != nil {
			out[k] = *p
		}
	}
	if len(req.Input) > 0 && req.Input[0].Approve != nil {
		out["input[0].approve"] = *req.Input[0].Approve
	}
	if len(req.Tools) > 0 && req.Tools[0].Strict != nil {
		out["tools[0].strict"] = *req.Tools[0].Strict
	}
	return out
}

func floatValue(f float64) any {
	switch {
	case math.IsNaN(f):
		return "NaN"
	case math.IsInf(f, 1):
		return "Infinity"
	case math.IsInf(f, -1):
		return "-Infinity"
	}
	return f
}

// PredictStream yields every event fixture when custom_inputs.fixture is
// "events", else echoes the last user message as deltas and an item.
func (a *fixtureAgent) PredictStream(ctx context.Context, req *responsesagent.Request) iter.Seq2[responsesagent.StreamEvent, error] {
	return func(yield func(responsesagent.StreamEvent, error) bool) {
		if name, _ := req.CustomInputs["fixture"].(string); name == "events" {
			for _, raw := range a.events {
				var ev responsesagent.StreamEvent
				if err := json.Unmarshal(raw, &ev); err != nil {
					yield(ev, err)
					return
				}
				if !yield(ev, nil) {
					return
				}
			}
			return
		}
		text := "echo: " + lastUserText(req)
		if !yield(responsesagent.TextDelta("echo: ", "msg_echo"), nil) ||
			!yield(responsesagent.TextDelta(lastUserText(req), "msg_echo"), nil) {
			return
		}
		if lastUserText(req) == "fail" {
			yield(responsesagent.StreamEvent{}, errors.New("the agent failed on purpose"))
			return
		}
		yield(responsesagent.ItemDone(responsesagent.TextItem(text, "msg_echo")), nil)
	}
}

func serve(ctx context.Context, fixtures string) error {
	agent, err := loadFixtures(fixtures)
	if err != nil {
		return err
	}
	return withTracing(ctx, func() error {
		ln, err := net.Listen("tcp", "127.0.0.1:0")
		if err != nil {
			return err
		}
		srv := &http.Server{Handler: responsesagent.NewHandler(agent, responsesagent.WithErrorHandler(func(error) {}))}
		done := make(chan error, 1)
		go func() { done <- srv.Serve(ln) }()
		out, _ := json.Marshal(map[string]string{"url": "http://" + ln.Addr().String()})
		fmt.Println(string(out))
		<-ctx.Done()
		sctx, cancel := context.WithTimeout(context.Background(), 10*time.Second)
		defer cancel()
		_ = srv.Shutdown(sctx)
		if err := <-done; !errors.Is(err, http.ErrServerClosed) {
			return err
		}
		return nil
	})
}

// --- parity ------------------------------------------------------------------

const (
	parityModel  = "fake-gpt"
	parityAnswer = "It is 18C and sunny in Paris."
	parityReq    = `{"input": [{"role": "user", "content": "What is the weather in Paris?"}],
		"context": {"conversation_id": "conv-parity", "user_id": "user-parity"},
		"custom_inputs": {"k": "v"}, "temperature": 0.5}`
)

// chatMessage keeps the member order the Python workflow writes.
type chatMessage struct {
	Role       string     `json:"role"`
	ToolCallID string     `json:"tool_call_id,omitempty"`
	Content    string     `json:"content"`
	ToolCalls  []toolCall `json:"tool_calls,omitempty"`
}

type toolCall struct {
	ID       string `json:"id"`
	Type     string `json:"type"`
	Function struct {
		Name      string `json:"name"`
		Arguments string `json:"arguments"`
	} `json:"function"`
}

type chatInputs struct {
	Messages []chatMessage `json:"messages"`
	Model    string        `json:"model"`
}

type chatChoice struct {
	Index   int         `json:"index"`
	Message chatMessage `json:"message"`
}

type chatOutputs struct {
	Choices []chatChoice `json:"choices"`
	Model   string       `json:"model"`
}

func chatModel(ctx context.Context, name string, msgs []chatMessage, content string, calls []toolCall) {
	_, span := tracing.StartSpan(ctx, name, tracing.WithSpanType(tracing.SpanTypeChatModel),
		tracing.WithInputs(chatInputs{Messages: msgs, Model: parityModel}))
	span.SetMessageFormat("openai")
	span.SetModel(parityModel)
	span.SetTokenUsage(tracing.TokenUsage{InputTokens: 10, OutputTokens: 5, TotalTokens: 15})
	span.End(tracing.WithOutputs(chatOutputs{
		Choices: []chatChoice{{Message: chatMessage{Role: "assistant", Content: content, ToolCalls: calls}}},
		Model:   parityModel,
	}))
}

var getWeather = tracing.Func("get_weather", func(ctx context.Context, city string) (string, error) {
	return "18C, sunny", nil
}, tracing.WithSpanType(tracing.SpanTypeTool), tracing.WithInputName("city"))

// run is the workflow; emit receives each item as it is produced.
func run(ctx context.Context, req *responsesagent.Request, emit func(kind string, it responsesagent.Item) bool) {
	question := lastUserText(req)
	var call toolCall
	call.ID, call.Type = "call_1", "function"
	call.Function.Name, call.Function.Arguments = "get_weather", `{"city": "Paris"}`
	chatModel(ctx, "plan_model", []chatMessage{{Role: "user", Content: question}}, "", []toolCall{call})
	if !emit("call", responsesagent.FunctionCallItem("fc_1", "call_1", "get_weather", `{"city": "Paris"}`)) {
		return
	}
	result, _ := getWeather(ctx, "Paris")
	if !emit("output", responsesagent.FunctionCallOutputItem("call_1", result)) {
		return
	}
	chatModel(ctx, "answer_model", []chatMessage{{Role: "user", Content: question}, {Role: "tool", ToolCallID: "call_1", Content: result}}, parityAnswer, nil)
	emit("text", responsesagent.TextItem(parityAnswer, "msg_1"))
}

func parityAgent() responsesagent.Agent {
	return responsesagent.New(
		func(ctx context.Context, req *responsesagent.Request) (*responsesagent.Response, error) {
			var items []responsesagent.Item
			run(ctx, req, func(_ string, it responsesagent.Item) bool { items = append(items, it); return true })
			return &responsesagent.Response{Output: items, CustomOutputs: req.CustomInputs}, nil
		},
		func(ctx context.Context, req *responsesagent.Request) iter.Seq2[responsesagent.StreamEvent, error] {
			return func(yield func(responsesagent.StreamEvent, error) bool) {
				run(ctx, req, func(kind string, it responsesagent.Item) bool {
					if kind == "text" {
						for _, d := range []string{"It is 18C ", "and sunny in Paris."} {
							if !yield(responsesagent.TextDelta(d, "msg_1"), nil) {
								return false
							}
						}
					}
					return yield(responsesagent.ItemDone(it), nil)
				})
			}
		})
}

func parity(ctx context.Context) error {
	ids := map[string]string{}
	err := withTracing(ctx, func() error {
		req, err := responsesagent.DecodeRequest([]byte(parityReq))
		if err != nil {
			return err
		}
		agent := responsesagent.Trace(parityAgent())
		if _, err := agent.Predict(ctx, req); err != nil {
			return err
		}
		ids["predict"] = tracing.LastTraceID()
		for _, err := range agent.PredictStream(ctx, req) {
			if err != nil {
				return err
			}
		}
		ids["predict_stream"] = tracing.LastTraceID()
		return nil
	})
	if err != nil {
		return err
	}
	out, _ := json.Marshal(ids)
	fmt.Println(string(out))
	return nil
}

// --- convert -------------------------------------------------------------------

func convert() error {
	var in struct {
		Input  []responsesagent.Item      `json:"input"`
		Chunks []responsesagent.ChatChunk `json:"chunks"`
	}
	if err := json.NewDecoder(os.Stdin).Decode(&in); err != nil {
		return err
	}
	var events []responsesagent.StreamEvent
	seq := func(yield func(responsesagent.ChatChunk, error) bool) {
		for _, c := range in.Chunks {
			if !yield(c, nil) {
				return
			}
		}
	}
	for ev, err := range responsesagent.FromChatChunks(seq) {
		if err != nil {
			return err
		}
		events = append(events, ev)
	}
	out, err := json.Marshal(map[string]any{"messages": responsesagent.ToChatCompletions(in.Input), "events": events})
	if err != nil {
		return err
	}
	fmt.Println(string(out))
	return nil
}
