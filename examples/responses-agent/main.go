// Command responses-agent serves a tool-calling agent with MLflow's
// ResponsesAgent interface (package responsesagent): POST /invocations and
// POST /responses (OpenAI clients' responses.create, plain or stream=True),
// GET /agent/info, GET /health. Every call is an MLflow trace: an AGENT root
// span with the chat model and tool spans under it. POST /feedback logs a
// user's thumbs-up or -down on an answer's trace (feedback.go).
//
//	go run ./examples/responses-agent
//	curl -s localhost:8000/invocations -d '{"input":[{"role":"user","content":"Weather in Paris?"}]}'
//	curl -sN localhost:8000/invocations -d '{"input":[{"role":"user","content":"Weather in Paris?"}],"stream":true}'
//	curl -s localhost:8000/invocations -H 'x-mlflow-return-trace-id: true' -d '{"input":[{"role":"user","content":"Hi"}]}'   # metadata.trace_id
//	curl -s localhost:8000/feedback -d '{"trace_id":"tr-…","value":true,"comment":"spot on","user_id":"alice"}'
//
// It listens on $DATABRICKS_APP_PORT, else $PORT, else 8000 (on every
// interface, as a Databricks App or a container needs). Without
// OPENAI_BASE_URL it answers offline with a small deterministic model; with
// it, it calls that OpenAI-compatible Chat Completions API (OPENAI_API_KEY,
// OPENAI_MODEL, default gpt-4o-mini). Traces go wherever tracing.Init sends
// them: ./mlruns without any environment, MLFLOW_TRACKING_URI otherwise.
//
// On SIGTERM or SIGINT it stops accepting connections, lets the requests in
// flight finish (at most -drain, default 20s; then they are cancelled and
// their spans end with the output so far) and writes every trace before it
// exits, the way a Databricks App or a Kubernetes pod is stopped.
package main

import (
	"context"
	"errors"
	"flag"
	"fmt"
	"log/slog"
	"net"
	"net/http"
	"os"
	"os/signal"
	"syscall"
	"time"

	"github.com/mlflowtrace/mlflowtrace-go/responsesagent"
	"github.com/mlflowtrace/mlflowtrace-go/tracing"
)

// feedbackTimeout bounds POST /feedback: longer than LogFeedback's wait for
// a trace MLflow does not know yet (30 s), so that an unknown trace id still
// gets its 404, and far shorter than the transport's retry budget.
const feedbackTimeout = 40 * time.Second

func main() {
	drain := flag.Duration("drain", 20*time.Second, "how long in-flight requests may run after SIGTERM")
	latency := flag.Duration("latency", 0, "extra latency of each offline model call (to try a SIGTERM with a request in flight)")
	flag.Parse()

	ctx, stop := signal.NotifyContext(context.Background(), syscall.SIGTERM, os.Interrupt)
	defer stop()
	if err := run(ctx, os.Getenv, *drain, *latency); err != nil {
		fmt.Fprintln(os.Stderr, "responses-agent:", err)
		os.Exit(1)
	}
}

// listenAddr is ":"+$DATABRICKS_APP_PORT, else ":"+$PORT, else ":8000".
func listenAddr(getenv func(string) string) string {
	for _, k := range []string{"DATABRICKS_APP_PORT", "PORT"} {
		if p := getenv(k); p != "" {
			return ":" + p
		}
	}
	return ":8000"
}

func run(ctx context.Context, getenv func(string) string, drain, latency time.Duration) error {
	provider, err := tracing.Init(ctx, tracing.WithGetenv(getenv))
	if err != nil {
		return err
	}
	// Flush every trace on the way out, whatever happened before.
	defer func() {
		fctx, cancel := context.WithTimeout(context.Background(), 30*time.Second)
		defer cancel()
		if err := provider.Shutdown(fctx); err != nil {
			slog.Error("writing the last traces", "err", err)
		}
	}()

	model, err := newModel(getenv, latency)
	if err != nil {
		return err
	}
	agent := &Agent{model: model}
	mux := http.NewServeMux()
	mux.Handle("POST /feedback", feedbackHandler(provider, feedbackTimeout))
	mux.Handle("/", responsesagent.NewHandler(responsesagent.FromStream(agent.Stream), responsesagent.WithGetenv(getenv)))
	srv := &http.Server{
		Handler:           mux,
		ReadHeaderTimeout: 10 * time.Second,
	}
	ln, err := net.Listen("tcp", listenAddr(getenv))
	if err != nil {
		return err
	}
	slog.Info("serving", "addr", ln.Addr().String(), "model", model.name())
	served := make(chan error, 1)
	go func() { served <- srv.Serve(ln) }()

	select {
	case err := <-served:
		return err
	case <-ctx.Done():
	}
	slog.Info("shutting down: draining in-flight requests", "max", drain)
	sctx, cancel := context.WithTimeout(context.Background(), drain)
	defer cancel()
	if err := srv.Shutdown(sctx); err != nil {
		// Still running after the drain: cancel them. Their spans end with
		// the output so far, and the traces are written below.
		slog.Warn("requests still running after the drain were cancelled", "err", err)
		_ = srv.Close()
	}
	if err := <-served; !errors.Is(err, http.ErrServerClosed) {
		return err
	}
	slog.Info("stopped; writing traces")
	return nil
}
