package openai

import (
	"testing"

	"github.com/openai/openai-go/v3"
	"github.com/openai/openai-go/v3/option"
	"go.uber.org/goleak"

	"github.com/mlflowtrace/mlflowtrace-go/internal/llmtest"
	"github.com/mlflowtrace/mlflowtrace-go/internal/spantest"
	"github.com/mlflowtrace/mlflowtrace-go/tracing"
)

func TestMain(m *testing.M) { goleak.VerifyTestMain(m) }

// fixture is the fake API and tracing into memory.
type fixture struct{ *spantest.LLM }

func setup(t *testing.T, opts ...tracing.Option) fixture {
	return fixture{spantest.StartLLM(t, append([]tracing.Option{tracing.WithoutGlobalTracerProvider()}, opts...)...)}
}

// client is an openai-go client of the fake API, with RequestOption.
func (f fixture) client(opts ...option.RequestOption) *openai.Client {
	base := []option.RequestOption{option.WithBaseURL(f.Fake.OpenAIBaseURL()), option.WithAPIKey(llmtest.OpenAIKey),
		option.WithHTTPClient(f.Fake.Client()), RequestOption()}
	c := openai.NewClient(append(base, opts...)...)
	return &c
}
