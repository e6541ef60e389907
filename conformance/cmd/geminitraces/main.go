// Command geminitraces makes one MLflow trace per Gemini call scenario
// through Google's Go SDK (google.golang.org/genai) instrumented with
// autoinstrument/genai, against the fake Gemini API and Vertex AI of
// internal/llmtest (LLMTEST_URL: the fake's base URL).
// conformance/parity/gemini_workflow.py makes the same calls with the Python
// SDK (google-genai) under MLflow's Gemini autolog; test_gemini_parity.py
// compares the traces.
//
// Usage: geminitraces [scenario ...] (all when none). The destination comes
// from the environment (MLFLOW_TRACKING_URI; unset: ./mlruns). It prints one
// JSON line {"scenario": ..., "trace_id": ...} per scenario, after
// everything has been written.
package main

import (
	"context"
	"fmt"
	"net/http"

	"google.golang.org/genai"

	mlflowgenai "github.com/mlflowtrace/mlflowtrace-go/autoinstrument/genai"
	"github.com/mlflowtrace/mlflowtrace-go/conformance/internal/scenario"
)

const (
	geminiKey   = "gemini-test-key"
	vertexToken = "ya29.vertex-test-token"
	model       = "gemini-2.5-flash"
	question    = "What's the weather in Paris?"
)

type clients struct {
	gemini *genai.Client
	vertex *genai.Client
}

// weatherTool is get_weather, declared with a Gemini Schema.
var weatherTool = &genai.Tool{FunctionDeclarations: []*genai.FunctionDeclaration{{
	Name:        "get_weather",
	Description: "Current weather of a city",
	Parameters: &genai.Schema{
		Type:       genai.TypeObject,
		Properties: map[string]*genai.Schema{"city": {Type: genai.TypeString, Description: "City name"}},
		Required:   []string{"city"},
	},
}}}

func config() *genai.GenerateContentConfig {
	return &genai.GenerateContentConfig{
		SystemInstruction: &genai.Content{Parts: []*genai.Part{{Text: "You are a travel assistant."}}},
		Temperature:       genai.Ptr[float32](0.2),
		Tools:             []*genai.Tool{weatherTool},
	}
}

func user(text string) *genai.Content {
	return &genai.Content{Role: genai.RoleUser, Parts: []*genai.Part{{Text: text}}}
}

var scenarios = []scenario.Scenario[*clients]{
	{Name: "gemini_generate", Run: func(ctx context.Context, c *clients) error {
		_, err := c.gemini.Models.GenerateContent(ctx, model, []*genai.Content{user("Say hello to Paris")}, nil)
		return err
	}},
	{Name: "gemini_tools", Run: func(ctx context.Context, c *clients) error {
		_, err := c.gemini.Models.GenerateContent(ctx, model, []*genai.Content{user(question)}, config())
		return err
	}},
	{Name: "gemini_tool_result", Run: func(ctx context.Context, c *clients) error {
		contents := []*genai.Content{
			user(question),
			{Role: genai.RoleModel, Parts: []*genai.Part{{FunctionCall: &genai.FunctionCall{Name: "get_weather", Args: map[string]any{"city": "Paris"}}}}},
			{Role: genai.RoleUser, Parts: []*genai.Part{{FunctionResponse: &genai.FunctionResponse{Name: "get_weather", Response: map[string]any{"temperature": 21, "sky": "sunny"}}}}},
		}
		_, err := c.gemini.Models.GenerateContent(ctx, model, contents, config())
		return err
	}},
	{Name: "gemini_chat", Run: func(ctx context.Context, c *clients) error {
		chat, err := c.gemini.Chats.Create(ctx, model, config(), nil)
		if err != nil {
			return err
		}
		_, err = chat.SendMessage(ctx, genai.Part{Text: question})
		return err
	}},
	{Name: "gemini_embed", Run: func(ctx context.Context, c *clients) error {
		_, err := c.gemini.Models.EmbedContent(ctx, "text-embedding-004", []*genai.Content{user("Paris"), user("Rome")},
			&genai.EmbedContentConfig{OutputDimensionality: genai.Ptr[int32](4)})
		return err
	}},
	{Name: "gemini_count_tokens", Run: func(ctx context.Context, c *clients) error {
		_, err := c.gemini.Models.CountTokens(ctx, model, []*genai.Content{user(question)}, nil)
		return err
	}},
	{Name: "gemini_error", Run: func(ctx context.Context, c *clients) error {
		if _, err := c.gemini.Models.GenerateContent(ctx, "gemini-unknown", []*genai.Content{user("hi")}, nil); err == nil {
			return fmt.Errorf("no error for an unknown model")
		}
		return nil
	}},
	{Name: "vertex_tools", Run: func(ctx context.Context, c *clients) error {
		_, err := c.vertex.Models.GenerateContent(ctx, model, []*genai.Content{user(question)}, config())
		return err
	}},
}

func main() {
	scenario.Main("geminitraces", scenarios, func(ctx context.Context, base string) (*clients, error) {
		gemini, err := mlflowgenai.NewClient(ctx, &genai.ClientConfig{APIKey: geminiKey, Backend: genai.BackendGeminiAPI,
			HTTPOptions: genai.HTTPOptions{BaseURL: base}})
		if err != nil {
			return nil, err
		}
		vertex, err := mlflowgenai.NewClient(ctx, &genai.ClientConfig{Backend: genai.BackendVertexAI, Project: "fake-project",
			Location: "us-central1", HTTPClient: &http.Client{Transport: bearer{vertexToken}},
			HTTPOptions: genai.HTTPOptions{BaseURL: base}})
		if err != nil {
			return nil, err
		}
		return &clients{gemini: gemini, vertex: vertex}, nil
	})
}

// bearer adds Vertex AI's OAuth access token (the fake's) to every request.
type bearer struct{ token string }

func (b bearer) RoundTrip(r *http.Request) (*http.Response, error) {
	r = r.Clone(r.Context())
	r.Header.Set("Authorization", "Bearer "+b.token)
	return http.DefaultTransport.RoundTrip(r)
}
