package genkit_test

import (
	"context"
	"fmt"
	"os"
	"testing"

	"github.com/firebase/genkit/go/ai"
	"github.com/firebase/genkit/go/core"
	"github.com/firebase/genkit/go/genkit"
	oai "github.com/firebase/genkit/go/plugins/compat_oai/openai"
	"github.com/openai/openai-go/option"

	"github.com/mlflowtrace/mlflowtrace-go/internal/llmtest"
	"github.com/mlflowtrace/mlflowtrace-go/internal/mlflowtest"
)

func TestMain(m *testing.M) {
	os.Exit(mlflowtest.Main(m)) // stops the shared MLflow server, then checks for leaked goroutines
}

const question = "What's the weather in Paris?"

type cityInput struct {
	City string `json:"city" jsonschema:"description=City name"`
}

// weatherFlow is a Genkit flow (genkit.Init watches for signals until ctx
// is done: tests pass t.Context()) that asks gpt-4o-mini (Genkit's OpenAI
// plugin, pointed at the fake OpenAI API at baseURL) with a weather tool.
func weatherFlow(ctx context.Context, baseURL string) *core.Flow[string, string, struct{}] {
	g := genkit.Init(ctx, genkit.WithPlugins(&oai.OpenAI{APIKey: llmtest.OpenAIKey,
		Opts: []option.RequestOption{option.WithBaseURL(baseURL + "/v1")}}))
	weather := genkit.DefineTool(g, "get_weather", "Current weather of a city",
		func(_ *ai.ToolContext, in cityInput) (string, error) {
			if in.City == "" {
				return "", fmt.Errorf("no city given")
			}
			return "18°C and sunny in " + in.City, nil
		})
	return genkit.DefineFlow(g, "weatherFlow", func(ctx context.Context, q string) (string, error) {
		resp, err := genkit.Generate(ctx, g, ai.WithModelName("openai/gpt-4o-mini"),
			ai.WithSystem("You are a travel assistant."), ai.WithPrompt(q), ai.WithTools(weather))
		if err != nil {
			return "", err
		}
		return resp.Text(), nil
	})
}
