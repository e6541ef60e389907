// Command quickstart is a small offline agent traced with mlflowtrace-go:
// no API key, no server needed.
//
// A travel assistant answers "what should I pack?": a planner asks a (fake)
// chat model which tools to call, runs two tools, and asks the model again for
// the final answer. Everything is recorded as one MLflow trace:
//
//	travel_agent (AGENT)          tracing.Func wrapper, chat-shaped inputs/outputs
//	├─ plan (CHAIN)               tracing.Func wrapper
//	│  └─ chat_model (CHAT_MODEL) manual span: model, message format, token usage
//	├─ get_weather (TOOL)         tracing.Func wrapper
//	├─ packing_list (TOOL)        tracing.Do inline block
//	└─ chat_model (CHAT_MODEL)    manual span
//
// With an empty environment the trace is written to ./mlruns (MLflow's file
// store layout); with MLFLOW_TRACKING_URI=http://host:port it is sent to that
// MLflow server; with the variables a Databricks deployment sets
// (DATABRICKS_HOST + DATABRICKS_TOKEN, or DATABRICKS_CLIENT_ID +
// DATABRICKS_CLIENT_SECRET, MLFLOW_TRACKING_URI=databricks,
// MLFLOW_EXPERIMENT_ID; or MLFLOW_TRACING_DESTINATION=<catalog>.<schema> for
// Unity Catalog tables) it goes to that workspace; with an OpenTelemetry
// OTLP endpoint (OTEL_EXPORTER_OTLP_ENDPOINT) it goes there instead of
// MLflow, unless MLFLOW_TRACE_ENABLE_OTLP_DUAL_EXPORT=true. The program does not
// change: only the environment does. At the end it prints the trace tree and
// where to see it.
package main

import (
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"net/url"
	"os"
	"path/filepath"
	"sort"
	"strings"
	"time"

	sdktrace "go.opentelemetry.io/otel/sdk/trace"
	"go.opentelemetry.io/otel/sdk/trace/tracetest"

	"github.com/mlflowtrace/mlflowtrace-go/tracing"
)

func main() {
	if err := run(context.Background(), os.Stdout, os.Getenv); err != nil {
		fmt.Fprintln(os.Stderr, "quickstart:", err)
		os.Exit(1)
	}
}

// run is the whole program; getenv is os.Getenv in main and a fake in tests.
func run(ctx context.Context, out io.Writer, getenv func(string) string) error {
	// The recorder sees every span the tracer provider hands to the MLflow
	// exporter; we only use it to print the tree at the end.
	rec := tracetest.NewSpanRecorder()
	provider, err := tracing.Init(ctx, tracing.WithGetenv(getenv), tracing.WithSpanProcessor(rec))
	if err != nil {
		return err
	}
	enabled := provider.Enabled() // false after Shutdown, so asked now

	question := "I'm flying to Paris tomorrow. What should I pack?"
	answer, agentErr := travelAgent(ctx, ChatRequest{Messages: []Message{{Role: "user", Content: question}}})

	// Shutdown writes every buffered trace before the program exits.
	sctx, cancel := context.WithTimeout(ctx, 30*time.Second)
	defer cancel()
	if err := provider.Shutdown(sctx); err != nil {
		return fmt.Errorf("writing the trace: %w", err)
	}
	if agentErr != nil {
		return agentErr
	}
	// Export errors went to the error handler (the log above); say so
	// instead of pointing at a trace that is not there.
	if st := provider.Stats(); st.ExportFailures > 0 || st.TracesDropped > 0 {
		return fmt.Errorf("the trace was not written (%d failed exports, %d dropped traces): see the error logged above", st.ExportFailures, st.TracesDropped)
	}

	fmt.Fprintf(out, "Q: %s\nA: %s\n\n", question, answer.Messages[len(answer.Messages)-1].Content)
	spans := rec.Ended()
	traceID := rootTraceID(spans)
	if traceID == "" {
		if enabled {
			fmt.Fprintf(out, "No trace was recorded (the sampler dropped it: MLFLOW_TRACE_SAMPLING_RATIO=%s).\n", getenv("MLFLOW_TRACE_SAMPLING_RATIO"))
		} else if getenv("ENABLE_MLFLOW_TRACING") == "" {
			// Off by default inside Databricks Model Serving, as in MLflow.
			fmt.Fprintln(out, "No trace was recorded (tracing is disabled: IS_IN_DB_MODEL_SERVING_ENV=true without ENABLE_MLFLOW_TRACING=true).")
		} else {
			fmt.Fprintln(out, "No trace was recorded (tracing is disabled: ENABLE_MLFLOW_TRACING=false).")
		}
		return nil
	}
	printTree(out, traceID, spans)
	fmt.Fprintln(out)
	if provider.Stats().TracesExported == 0 {
		// No MLflow exporter ran: an OTLP endpoint replaced it, as in MLflow.
		printOTLPOnly(out, getenv)
		return nil
	}
	return printWhere(out, traceID, getenv)
}

// printOTLPOnly says the trace went to the OTLP endpoint only, when
// OTEL_EXPORTER_OTLP_(TRACES_)ENDPOINT is set without
// MLFLOW_TRACE_ENABLE_OTLP_DUAL_EXPORT=true: MLflow never got it.
func printOTLPOnly(out io.Writer, getenv func(string) string) {
	endpoint := getenv("OTEL_EXPORTER_OTLP_TRACES_ENDPOINT")
	if endpoint == "" {
		endpoint = strings.TrimRight(getenv("OTEL_EXPORTER_OTLP_ENDPOINT"), "/") + "/v1/traces"
	}
	if u, err := url.Parse(endpoint); err == nil && u.Host != "" {
		u.User = nil // never printed
		endpoint = u.String()
	} else if _, hostPort, ok := strings.Cut(endpoint, "@"); ok {
		endpoint = hostPort // a gRPC host:port
	}
	fmt.Fprintf(out, "Sent to the OTLP endpoint %s only, not to MLflow: an OTLP endpoint replaces MLflow export, as in MLflow.\n"+
		"MLFLOW_TRACE_ENABLE_OTLP_DUAL_EXPORT=true sends it to both.\n", endpoint)
}

// ---- the agent ----------------------------------------------------------

// Message is an OpenAI-style chat message.
type Message struct {
	Role      string     `json:"role"`
	Content   string     `json:"content"`
	ToolCalls []ToolCall `json:"tool_calls,omitempty"`
}

// ToolCall is a tool call requested by the model.
type ToolCall struct {
	ID       string       `json:"id"`
	Type     string       `json:"type"`
	Function FunctionCall `json:"function"`
}

// FunctionCall names the function to call and its JSON arguments.
type FunctionCall struct {
	Name      string `json:"name"`
	Arguments string `json:"arguments"`
}

// ChatRequest is the agent's request, and its response: {"messages": [...]}.
// MLflow's UI shows chat-shaped inputs and outputs as a conversation, and
// takes the trace's request/response previews from the last user and
// assistant messages.
type ChatRequest struct {
	Messages []Message `json:"messages"`
}

// ChatCompletion is what the fake model returns, in OpenAI's shape.
type ChatCompletion struct {
	Model   string `json:"model"`
	Choices []struct {
		Index        int     `json:"index"`
		Message      Message `json:"message"`
		FinishReason string  `json:"finish_reason"`
	} `json:"choices"`
	Usage struct {
		PromptTokens     int `json:"prompt_tokens"`
		CompletionTokens int `json:"completion_tokens"`
		TotalTokens      int `json:"total_tokens"`
	} `json:"usage"`
}

// Weather is the get_weather tool's result.
type Weather struct {
	City       string `json:"city"`
	Conditions string `json:"conditions"`
	HighC      int    `json:"high_c"`
	LowC       int    `json:"low_c"`
}

// Func wraps a function so each call is a span: Go's @mlflow.trace.
var (
	travelAgent = tracing.Func("travel_agent", agent, tracing.WithSpanType(tracing.SpanTypeAgent))
	planTools   = tracing.Func("plan", plan, tracing.WithSpanType(tracing.SpanTypeChain))
	getWeather  = tracing.Func("get_weather", weather,
		tracing.WithSpanType(tracing.SpanTypeTool), tracing.WithInputName("city"))
)

func agent(ctx context.Context, req ChatRequest) (ChatRequest, error) {
	// Who asked, in which conversation: searchable in MLflow
	// (metadata.`mlflow.trace.user`, metadata.`mlflow.trace.session`).
	if err := tracing.UpdateCurrentTrace(ctx,
		tracing.WithUser("alice"),
		tracing.WithSession("chat-0001"),
		tracing.WithTags(map[string]string{"example": "quickstart"}),
	); err != nil && !errors.Is(err, tracing.ErrNoActiveTrace) {
		return ChatRequest{}, err
	}

	calls, err := planTools(ctx, req)
	if err != nil {
		return ChatRequest{}, err
	}
	msgs := append([]Message(nil), req.Messages...)
	msgs = append(msgs, Message{Role: "assistant", ToolCalls: calls})

	var w Weather
	for _, c := range calls {
		var result any
		switch c.Function.Name {
		case "get_weather":
			w, err = getWeather(ctx, "Paris")
			result = w
		case "packing_list":
			// Do traces an inline block, like `with mlflow.start_span(...)`.
			result, err = tracing.Do(ctx, "packing_list", func(ctx context.Context) ([]string, error) {
				return packingList(w), nil
			}, tracing.WithSpanType(tracing.SpanTypeTool), tracing.WithInputs(w))
		}
		if err != nil {
			return ChatRequest{}, err
		}
		b, _ := json.Marshal(result)
		msgs = append(msgs, Message{Role: "tool", Content: string(b)})
	}

	final := chatModel(ctx, msgs)
	msgs = append(msgs, final.Choices[0].Message)
	return ChatRequest{Messages: msgs}, nil
}

// plan asks the model which tools to call.
func plan(ctx context.Context, req ChatRequest) ([]ToolCall, error) {
	c := chatModel(ctx, req.Messages)
	calls := c.Choices[0].Message.ToolCalls
	if len(calls) == 0 {
		return nil, errors.New("the model asked for no tool")
	}
	return calls, nil
}

func weather(ctx context.Context, city string) (Weather, error) {
	time.Sleep(5 * time.Millisecond) // a pretend API call
	return Weather{City: city, Conditions: "light rain", HighC: 17, LowC: 11}, nil
}

func packingList(w Weather) []string {
	items := []string{"passport", "phone charger"}
	if strings.Contains(w.Conditions, "rain") {
		items = append(items, "umbrella", "waterproof jacket")
	}
	if w.LowC < 12 {
		items = append(items, "warm sweater")
	}
	return items
}

// chatModel is a fake LLM call recorded as a manual CHAT_MODEL span with the
// attributes MLflow's UI uses: model, provider, message format, token usage.
func chatModel(ctx context.Context, messages []Message) ChatCompletion {
	_, span := tracing.StartSpan(ctx, "chat_model",
		tracing.WithSpanType(tracing.SpanTypeChatModel),
		tracing.WithInputs(map[string]any{"model": "fake-gpt-mini", "messages": messages}))
	defer span.End()
	span.SetModel("fake-gpt-mini")
	span.SetProvider("fake")
	span.SetMessageFormat("openai")

	time.Sleep(20 * time.Millisecond) // pretend the model is thinking
	c := fakeCompletion(messages)
	span.SetTokenUsage(tracing.TokenUsage{
		InputTokens:  c.Usage.PromptTokens,
		OutputTokens: c.Usage.CompletionTokens,
	})
	span.SetOutputs(c)
	return c
}

// fakeCompletion answers without a network: the first turn asks for the two
// tools, the turn after the tool results writes the answer from them.
func fakeCompletion(messages []Message) ChatCompletion {
	var c ChatCompletion
	c.Model = "fake-gpt-mini"
	c.Choices = make([]struct {
		Index        int     `json:"index"`
		Message      Message `json:"message"`
		FinishReason string  `json:"finish_reason"`
	}, 1)
	var tools []string
	for _, m := range messages {
		if m.Role == "tool" {
			tools = append(tools, m.Content)
		}
	}
	if len(tools) == 0 {
		c.Choices[0].FinishReason = "tool_calls"
		c.Choices[0].Message = Message{Role: "assistant", ToolCalls: []ToolCall{
			{ID: "call_1", Type: "function", Function: FunctionCall{Name: "get_weather", Arguments: `{"city":"Paris"}`}},
			{ID: "call_2", Type: "function", Function: FunctionCall{Name: "packing_list", Arguments: `{}`}},
		}}
	} else {
		var w Weather
		var items []string
		_ = json.Unmarshal([]byte(tools[0]), &w)
		if len(tools) > 1 {
			_ = json.Unmarshal([]byte(tools[1]), &items)
		}
		c.Choices[0].FinishReason = "stop"
		c.Choices[0].Message = Message{Role: "assistant", Content: fmt.Sprintf(
			"Expect %s in %s (%d–%d °C). Pack: %s.", w.Conditions, w.City, w.LowC, w.HighC, strings.Join(items, ", "))}
	}
	in := 0
	for _, m := range messages {
		in += 4 + len(m.Content)/4 + 10*len(m.ToolCalls)
	}
	c.Usage.PromptTokens = in
	c.Usage.CompletionTokens = 12 + len(c.Choices[0].Message.Content)/4
	c.Usage.TotalTokens = c.Usage.PromptTokens + c.Usage.CompletionTokens
	return c
}

// ---- printing -------------------------------------------------------------

// rootTraceID returns the MLflow id of the trace of the first root span in
// spans, or "" when there is none: the mlflow.traceRequestId the exporter
// gave it ("tr-…", or "trace:/<catalog>.<schema>/…" for Unity Catalog).
func rootTraceID(spans []sdktrace.ReadOnlySpan) string {
	for _, s := range spans {
		if s.Parent().IsValid() {
			continue
		}
		for _, kv := range s.Attributes() {
			var id string
			if kv.Key == "mlflow.traceRequestId" && json.Unmarshal([]byte(kv.Value.AsString()), &id) == nil {
				return id
			}
		}
		return "tr-" + s.SpanContext().TraceID().String()
	}
	return ""
}

// printTree prints the spans of trace traceID as an indented tree, children
// in start order, with MLflow span types and durations.
func printTree(out io.Writer, traceID string, spans []sdktrace.ReadOnlySpan) {
	hexID := traceID[strings.LastIndexAny(traceID, "-/")+1:]
	children := map[string][]sdktrace.ReadOnlySpan{}
	var roots []sdktrace.ReadOnlySpan
	for _, s := range spans {
		if s.SpanContext().TraceID().String() != hexID {
			continue
		}
		if s.Parent().IsValid() && s.Parent().TraceID() == s.SpanContext().TraceID() {
			p := s.Parent().SpanID().String()
			children[p] = append(children[p], s)
		} else {
			roots = append(roots, s)
		}
	}
	for _, c := range children {
		sort.Slice(c, func(i, j int) bool { return c[i].StartTime().Before(c[j].StartTime()) })
	}
	fmt.Fprintf(out, "Trace %s\n", traceID)
	var walk func(s sdktrace.ReadOnlySpan, prefix, branch, next string)
	walk = func(s sdktrace.ReadOnlySpan, prefix, branch, next string) {
		fmt.Fprintf(out, "%s%s%s\n", prefix, branch, spanLine(s))
		kids := children[s.SpanContext().SpanID().String()]
		for i, k := range kids {
			if i == len(kids)-1 {
				walk(k, prefix+next, "└─ ", "   ")
			} else {
				walk(k, prefix+next, "├─ ", "│  ")
			}
		}
	}
	for _, r := range roots {
		walk(r, "", "", "")
	}
}

func spanLine(s sdktrace.ReadOnlySpan) string {
	var typ, usage string
	for _, kv := range s.Attributes() {
		switch kv.Key {
		case "mlflow.spanType":
			_ = json.Unmarshal([]byte(kv.Value.AsString()), &typ)
		case "mlflow.chat.tokenUsage":
			var u tracing.TokenUsage
			if json.Unmarshal([]byte(kv.Value.AsString()), &u) == nil {
				usage = fmt.Sprintf("  tokens in=%d out=%d", u.InputTokens, u.OutputTokens)
			}
		}
	}
	status := ""
	if s.Status().Code.String() == "Error" {
		status = "  ERROR: " + s.Status().Description
	}
	d := s.EndTime().Sub(s.StartTime())
	if d >= time.Millisecond {
		d = d.Round(100 * time.Microsecond)
	} else {
		d = d.Round(time.Microsecond)
	}
	return fmt.Sprintf("%s [%s] %s%s%s", s.Name(), typ, d, usage, status)
}

// withoutUserInfo is uri without its user:password@ part, which is never
// printed.
func withoutUserInfo(uri string) string {
	u, err := url.Parse(uri)
	if err != nil {
		return "the tracking server" // Init refuses such a URI
	}
	u.User = nil
	return u.String()
}

// printWhere says where the trace went and how to look at it in MLflow.
func printWhere(out io.Writer, traceID string, getenv func(string) string) error {
	uri := getenv("MLFLOW_TRACKING_URI")
	if onDatabricks(uri, getenv) {
		printDatabricks(out, traceID, getenv)
		return nil
	}
	if strings.HasPrefix(uri, "http://") || strings.HasPrefix(uri, "https://") {
		base := strings.TrimRight(withoutUserInfo(uri), "/")
		if exp := getenv("MLFLOW_EXPERIMENT_ID"); exp != "" || getenv("MLFLOW_EXPERIMENT_NAME") == "" {
			if exp == "" {
				exp = "0"
			}
			fmt.Fprintf(out, "Sent to the MLflow server at %s. Open:\n  %s/#/experiments/%s/traces?selectedEvaluationId=%s\n",
				base, base, exp, traceID)
		} else {
			fmt.Fprintf(out, "Sent to the MLflow server at %s, experiment %q. Open %s and choose the experiment's Traces tab.\n",
				base, getenv("MLFLOW_EXPERIMENT_NAME"), base)
		}
		return nil
	}
	if uri != "" && !strings.HasPrefix(uri, "file:") && strings.Contains(uri, ":") {
		fmt.Fprintf(out, "Sent to %s.\n", uri)
		return nil
	}
	root := strings.TrimPrefix(strings.TrimPrefix(uri, "file://"), "file:")
	if root == "" {
		root = "mlruns"
	}
	shown := root
	if !filepath.IsAbs(shown) && !strings.HasPrefix(shown, ".") {
		shown = "./" + shown
	}
	// Read back what the exporter wrote, so what we print is what is on disk.
	files, _ := filepath.Glob(filepath.Join(root, "*", "traces", traceID, "artifacts", "traces.json"))
	if len(files) == 0 {
		return fmt.Errorf("trace %s was not written under %s", traceID, root)
	}
	var data struct {
		Spans []json.RawMessage `json:"spans"`
	}
	b, err := os.ReadFile(files[0])
	if err == nil {
		err = json.Unmarshal(b, &data)
	}
	if err != nil {
		return fmt.Errorf("reading back %s: %w", files[0], err)
	}
	fmt.Fprintf(out, "Written to %s (%d spans).\n", files[0], len(data.Spans))
	fmt.Fprintf(out, "View it in MLflow (pip install mlflow):\n  MLFLOW_ALLOW_FILE_STORE=true mlflow ui --backend-store-uri %s\n", shown)
	fmt.Fprintln(out, "then open http://127.0.0.1:5000 → Experiments → Default → Traces.")
	return nil
}

// onDatabricks mirrors the exporter's rule: an explicit tracking URI wins;
// databricks[-uc][://profile] or a Unity Catalog destination means the
// workspace, and so does DATABRICKS_HOST (or a profile, or Model Serving)
// when no tracking URI is set.
func onDatabricks(uri string, getenv func(string) string) bool {
	if strings.HasPrefix(strings.ToLower(uri), "databricks") || strings.Count(getenv("MLFLOW_TRACING_DESTINATION"), ".") == 1 {
		return true
	}
	return uri == "" && (getenv("DATABRICKS_HOST") != "" || getenv("DATABRICKS_CONFIG_PROFILE") != "" ||
		strings.EqualFold(getenv("IS_IN_DB_MODEL_SERVING_ENV"), "true"))
}

// printDatabricks says where the trace went in the workspace.
func printDatabricks(out io.Writer, traceID string, getenv func(string) string) {
	host := strings.TrimRight(getenv("DATABRICKS_HOST"), "/")
	if host != "" && !strings.Contains(host, "://") {
		host = "https://" + host
	}
	where := "the Databricks workspace"
	if host != "" {
		where += " " + host
	}
	if dest := getenv("MLFLOW_TRACING_DESTINATION"); strings.Count(dest, ".") == 1 {
		fmt.Fprintf(out, "Sent to %s, Unity Catalog schema %s (spans in table %s.mlflow_experiment_trace_otel_spans).\n", where, dest, dest)
		fmt.Fprintf(out, "Trace id: %s\n", traceID)
		return
	}
	exp := getenv("MLFLOW_TRACING_DESTINATION")
	if exp == "" {
		exp = getenv("MLFLOW_EXPERIMENT_ID")
	}
	if name := getenv("MLFLOW_EXPERIMENT_NAME"); name != "" && getenv("MLFLOW_TRACING_DESTINATION") == "" {
		fmt.Fprintf(out, "Sent to %s, experiment %q: open it and choose its Traces tab (trace %s).\n", where, name, traceID)
		return
	}
	if host == "" {
		fmt.Fprintf(out, "Sent to %s, experiment %s: open the experiment's Traces tab (trace %s).\n", where, exp, traceID)
		return
	}
	fmt.Fprintf(out, "Sent to %s, experiment %s. Open:\n  %s/ml/experiments/%s/traces?selectedEvaluationId=%s\n", where, exp, host, exp, traceID)
}
