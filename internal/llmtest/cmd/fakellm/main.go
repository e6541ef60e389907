// Command fakellm serves the fake OpenAI, Anthropic, Gemini (and Vertex AI) and Bedrock Runtime APIs of package
// llmtest over plain HTTP, for the Python conformance tests and for running
// examples offline. It prints one JSON line with its base URLs and keys, then
// serves until it gets SIGINT/SIGTERM or its stdin closes.
//
//	go run ./internal/llmtest/cmd/fakellm -addr 127.0.0.1:0
//	{"url":"http://127.0.0.1:40123","openai_base_url":"http://127.0.0.1:40123/v1", ...}
package main

import (
	"context"
	"encoding/json"
	"flag"
	"fmt"
	"io"
	"log"
	"net"
	"net/http"
	"os"
	"os/signal"
	"syscall"
	"time"

	"github.com/mlflowtrace/mlflowtrace-go/internal/llmtest"
)

func main() {
	addr := flag.String("addr", "127.0.0.1:0", "listen address")
	watchStdin := flag.Bool("stdin", false, "exit when stdin is closed")
	flag.Parse()

	ln, err := net.Listen("tcp", *addr)
	if err != nil {
		log.Fatalf("fakellm: listen: %v", err)
	}
	url := "http://" + ln.Addr().String()
	info, _ := json.Marshal(map[string]string{
		"url":                url,
		"openai_base_url":    url + "/v1",
		"anthropic_base_url": url,
		"openai_api_key":     llmtest.OpenAIKey,
		"anthropic_api_key":  llmtest.AnthropicKey,
		"bedrock_url":        url,
		"aws_access_key_id":  llmtest.AWSAccessKeyID,
		"aws_secret_key":     llmtest.AWSSecretAccessKey,
		"aws_region":         llmtest.AWSRegion,
		"gemini_base_url":    url,
		"gemini_api_key":     llmtest.GeminiKey,
		"vertex_token":       llmtest.VertexToken,
	})
	fmt.Println(string(info))

	srv := &http.Server{Handler: llmtest.New(), ReadHeaderTimeout: 10 * time.Second}
	ctx, stop := signal.NotifyContext(context.Background(), os.Interrupt, syscall.SIGTERM)
	defer stop()
	if *watchStdin {
		go func() {
			_, _ = io.Copy(io.Discard, os.Stdin)
			stop()
		}()
	}
	go func() {
		<-ctx.Done()
		sctx, cancel := context.WithTimeout(context.Background(), 5*time.Second)
		defer cancel()
		_ = srv.Shutdown(sctx)
	}()
	if err := srv.Serve(ln); err != nil && err != http.ErrServerClosed {
		log.Fatalf("fakellm: %v", err)
	}
}
