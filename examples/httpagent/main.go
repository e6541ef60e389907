// Command httpagent serves a small chat agent over HTTP and traces every
// request with tracing.Wrap: one MLflow trace per request, whose root span
// holds the JSON request body as inputs and the JSON response as outputs.
//
//	go run ./examples/httpagent                 # serves on 127.0.0.1:8080
//	curl -s localhost:8080/chat -H 'X-User-ID: bob' -H 'X-Session-ID: s-1' \
//	  -d '{"messages":[{"role":"user","content":"Where is my order 1234?"}]}'
//
//	go run ./examples/httpagent -demo           # one request to itself, then exit
//
// Traces go where MLFLOW_TRACKING_URI says (./mlruns when unset). A request
// that carries a W3C traceparent header (see tracing.InjectHTTPHeaders)
// continues the caller's trace instead of starting one.
package main

import (
	"bytes"
	"context"
	"encoding/json"
	"errors"
	"flag"
	"fmt"
	"io"
	"net"
	"net/http"
	"os"
	"os/signal"
	"regexp"
	"time"

	"github.com/mlflowtrace/mlflowtrace-go/tracing"
)

func main() {
	addr := flag.String("addr", "127.0.0.1:8080", "listen address")
	demo := flag.Bool("demo", false, "send one request to a loopback server, print the answer and exit")
	flag.Parse()

	ctx, stop := signal.NotifyContext(context.Background(), os.Interrupt)
	defer stop()
	if err := run(ctx, *addr, *demo, os.Stdout); err != nil {
		fmt.Fprintln(os.Stderr, "httpagent:", err)
		os.Exit(1)
	}
}

func run(ctx context.Context, addr string, demo bool, out io.Writer) error {
	provider, err := tracing.Init(ctx)
	if err != nil {
		return err
	}
	defer func() {
		sctx, cancel := context.WithTimeout(context.Background(), 30*time.Second)
		defer cancel()
		// Writes the buffered traces; the error says how many were not
		// delivered, and why.
		if serr := provider.Shutdown(sctx); serr != nil {
			fmt.Fprintln(os.Stderr, "httpagent:", serr)
		}
	}()

	if demo {
		addr = "127.0.0.1:0"
	}
	ln, err := net.Listen("tcp", addr)
	if err != nil {
		return err
	}
	srv := &http.Server{Handler: NewHandler(), ReadHeaderTimeout: 10 * time.Second}
	served := make(chan error, 1)
	go func() { served <- srv.Serve(ln) }()

	if demo {
		err = ask(ctx, "http://"+ln.Addr().String()+"/chat", "Where is my order 1234?", out)
	} else {
		fmt.Fprintf(out, "serving on http://%s/chat (Ctrl-C to stop)\n", ln.Addr())
		<-ctx.Done()
	}
	sctx, cancel := context.WithTimeout(context.Background(), 10*time.Second)
	defer cancel()
	if serr := srv.Shutdown(sctx); serr != nil && err == nil {
		err = serr
	}
	if serr := <-served; !errors.Is(serr, http.ErrServerClosed) && err == nil {
		err = serr
	}
	return err
}

// ask sends one chat request and prints the answer and the trace id.
func ask(ctx context.Context, url, question string, out io.Writer) error {
	body, _ := json.Marshal(ChatRequest{Messages: []Message{{Role: "user", Content: question}}})
	req, err := http.NewRequestWithContext(ctx, http.MethodPost, url, bytes.NewReader(body))
	if err != nil {
		return err
	}
	req.Header.Set("Content-Type", "application/json")
	req.Header.Set("X-User-ID", "bob")
	req.Header.Set("X-Session-ID", "support-42")
	resp, err := http.DefaultClient.Do(req)
	if err != nil {
		return err
	}
	defer resp.Body.Close()
	var cr ChatRequest
	if err := json.NewDecoder(resp.Body).Decode(&cr); err != nil {
		return fmt.Errorf("decoding the answer (status %s): %w", resp.Status, err)
	}
	fmt.Fprintf(out, "Q: %s\nA: %s\ntrace: %s\n", question, cr.Messages[len(cr.Messages)-1].Content,
		resp.Header.Get("X-MLflow-Trace-Id"))
	return nil
}

// Message is an OpenAI-style chat message.
type Message struct {
	Role    string `json:"role"`
	Content string `json:"content"`
}

// ChatRequest is the request and the response body: {"messages": [...]}.
type ChatRequest struct {
	Messages []Message `json:"messages"`
}

// Order is what the lookup_order tool returns.
type Order struct {
	ID     string `json:"id"`
	Status string `json:"status"`
	ETA    string `json:"eta"`
}

// NewHandler is the agent's HTTP API, traced by tracing.Wrap: each request is
// the root AGENT span "support_agent" of its own trace.
func NewHandler() http.Handler {
	mux := http.NewServeMux()
	mux.HandleFunc("POST /chat", chat)
	return tracing.Wrap(mux,
		tracing.WithHandlerSpanName("support_agent"),
		tracing.WithHandlerSpanType(tracing.SpanTypeAgent))
}

var lookupOrder = tracing.Func("lookup_order", func(ctx context.Context, id string) (Order, error) {
	if id == "" {
		return Order{}, errors.New("no order number in the question")
	}
	return Order{ID: id, Status: "shipped", ETA: "tomorrow"}, nil
}, tracing.WithSpanType(tracing.SpanTypeTool), tracing.WithInputName("order_id"))

var orderNumber = regexp.MustCompile(`\b\d{3,}\b`)

func chat(w http.ResponseWriter, r *http.Request) {
	ctx := r.Context()
	// The span Wrap started is current in the request's context.
	w.Header().Set("X-MLflow-Trace-Id", tracing.CurrentSpan(ctx).TraceID())
	_ = tracing.UpdateCurrentTrace(ctx,
		tracing.WithUser(r.Header.Get("X-User-ID")),
		tracing.WithSession(r.Header.Get("X-Session-ID")))

	var req ChatRequest
	if err := json.NewDecoder(r.Body).Decode(&req); err != nil || len(req.Messages) == 0 {
		http.Error(w, `{"error":"expected {\"messages\":[...]}"}`, http.StatusBadRequest)
		return
	}
	question := req.Messages[len(req.Messages)-1].Content

	var answer string
	order, err := lookupOrder(ctx, orderNumber.FindString(question))
	if err != nil {
		answer = "Which order do you mean? Please give me its number."
	} else {
		answer = fakeLLM(ctx, question, order)
	}
	w.Header().Set("Content-Type", "application/json")
	_ = json.NewEncoder(w).Encode(ChatRequest{Messages: append(req.Messages, Message{Role: "assistant", Content: answer})})
}

// fakeLLM stands in for a model call, recorded as a CHAT_MODEL span.
func fakeLLM(ctx context.Context, question string, o Order) string {
	msgs := []Message{
		{Role: "system", Content: "You are a support agent. Order: " + o.ID + " " + o.Status + ", ETA " + o.ETA},
		{Role: "user", Content: question},
	}
	_, span := tracing.StartSpan(ctx, "chat_model",
		tracing.WithSpanType(tracing.SpanTypeChatModel),
		tracing.WithInputs(map[string]any{"model": "fake-gpt-mini", "messages": msgs}))
	defer span.End()
	span.SetModel("fake-gpt-mini")
	span.SetMessageFormat("openai")
	answer := fmt.Sprintf("Good news: order %s has %s and should arrive %s.", o.ID, o.Status, o.ETA)
	span.SetTokenUsage(tracing.TokenUsage{InputTokens: 40, OutputTokens: 14})
	span.SetOutputs(map[string]any{"choices": []any{map[string]any{
		"index": 0, "message": Message{Role: "assistant", Content: answer}, "finish_reason": "stop"}}})
	return answer
}
