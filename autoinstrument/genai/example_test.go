package genai_test

import (
	"context"
	"fmt"
	"log"

	"google.golang.org/genai"

	mlflowgenai "github.com/mlflowtrace/mlflowtrace-go/autoinstrument/genai"
	"github.com/mlflowtrace/mlflowtrace-go/exporter"
	"github.com/mlflowtrace/mlflowtrace-go/exporter/exportertest"
	"github.com/mlflowtrace/mlflowtrace-go/internal/llmtest"
	"github.com/mlflowtrace/mlflowtrace-go/tracing"
)

func ExampleNewClient() {
	ctx := context.Background()
	// A fake Gemini API stands in for generativelanguage.googleapis.com
	// here; traces go to an in-memory destination instead of ./mlruns.
	fake := llmtest.NewServer()
	defer fake.Close()
	dest := exportertest.NewRecorder()
	p, err := tracing.Init(ctx, tracing.WithExporterOptions(exporter.WithDestination(dest)))
	if err != nil {
		log.Fatal(err)
	}

	client, err := mlflowgenai.NewClient(ctx, &genai.ClientConfig{ // the one line: NewClient for genai.NewClient
		APIKey: llmtest.GeminiKey, Backend: genai.BackendGeminiAPI, HTTPOptions: genai.HTTPOptions{BaseURL: fake.URL},
	})
	if err != nil {
		log.Fatal(err)
	}
	chat, err := client.Chats.Create(ctx, "gemini-2.5-flash", nil, nil)
	if err != nil {
		log.Fatal(err)
	}
	resp, err := chat.SendMessage(ctx, genai.Part{Text: "Hello!"})
	if err != nil {
		log.Fatal(err)
	}
	fmt.Println(resp.Text())

	if err := p.Shutdown(ctx); err != nil {
		log.Fatal(err)
	}
	for _, s := range dest.Traces()[0].Spans {
		fmt.Println(s.Name, s.Attributes["mlflow.spanType"], s.Attributes["mlflow.message.format"], s.Attributes["mlflow.llm.provider"])
	}
	// Output:
	// You said: Hello!
	// Chat.send_message "CHAT_MODEL" "gemini" "gemini"
	// Models.generate_content "LLM" "gemini" "gemini"
}
