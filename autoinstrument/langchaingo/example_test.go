package langchaingo_test

import (
	"context"
	"encoding/json"
	"fmt"
	"net/http"
	"net/http/httptest"
	"strings"

	"github.com/tmc/langchaingo/chains"
	"github.com/tmc/langchaingo/llms/openai"
	"github.com/tmc/langchaingo/prompts"

	"github.com/mlflowtrace/mlflowtrace-go/autoinstrument/langchaingo"
	"github.com/mlflowtrace/mlflowtrace-go/exporter"
	"github.com/mlflowtrace/mlflowtrace-go/exporter/exportertest"
	"github.com/mlflowtrace/mlflowtrace-go/tracing"
)

// An LLMChain on langchaingo's OpenAI client, traced with one Handler given
// to both the model and the chain.
func Example() {
	ctx := context.Background()
	// Traces go to an in-memory destination here; by default tracing.Init
	// writes ./mlruns, or sends them to MLFLOW_TRACKING_URI.
	rec := exportertest.NewRecorder()
	p, err := tracing.Init(ctx, tracing.WithExporterOptions(exporter.WithDestination(rec)),
		tracing.WithoutGlobalTracerProvider())
	if err != nil {
		panic(err)
	}

	baseURL, stop := exampleServer() // an OpenAI-compatible server
	defer stop()

	h := langchaingo.NewHandler(langchaingo.WithModel("gpt-4o-mini"), langchaingo.WithProvider("openai"))
	llm, err := openai.New(openai.WithBaseURL(baseURL), openai.WithToken("sk-example"),
		openai.WithModel("gpt-4o-mini"), openai.WithCallback(h))
	if err != nil {
		panic(err)
	}
	prompt := prompts.NewPromptTemplate("Answer briefly: {{.question}}", []string{"question"})
	chain := chains.NewLLMChain(llm, prompt, chains.WithCallback(h))
	answer, err := chains.Run(ctx, chain, "What is the capital of France?")
	if err != nil {
		panic(err)
	}
	fmt.Println(answer)

	if err := p.Shutdown(ctx); err != nil { // writes the buffered traces
		panic(err)
	}
	for _, s := range rec.Traces()[0].Spans {
		fmt.Println(strings.TrimSpace(s.Name + " " + s.Attributes["mlflow.spanType"] + " " + s.Attributes["mlflow.chat.tokenUsage"]))
	}
	// Output:
	// Paris.
	// chain "CHAIN"
	// chat model "CHAT_MODEL" {"input_tokens": 14, "output_tokens": 2, "total_tokens": 16}
}

// exampleServer answers OpenAI chat completions with "Paris." (no network).
func exampleServer() (url string, stop func()) {
	srv := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		if r.Method != http.MethodPost || !strings.HasSuffix(r.URL.Path, "/chat/completions") {
			http.NotFound(w, r)
			return
		}
		w.Header().Set("Content-Type", "application/json")
		_ = json.NewEncoder(w).Encode(map[string]any{
			"id": "chatcmpl-1", "object": "chat.completion", "created": 1700000000, "model": "gpt-4o-mini",
			"choices": []any{map[string]any{"index": 0, "finish_reason": "stop",
				"message": map[string]any{"role": "assistant", "content": "Paris."}}},
			"usage": map[string]any{"prompt_tokens": 14, "completion_tokens": 2, "total_tokens": 16},
		})
	}))
	return srv.URL, srv.Close
}
