package main

import (
	"bytes"
	"context"
	"path/filepath"
	"regexp"
	"strings"
	"testing"

	"go.uber.org/goleak"

	"github.com/mlflowtrace/mlflowtrace-go/internal/llmtest"
	"github.com/mlflowtrace/mlflowtrace-go/internal/spantest"
)

func TestMain(m *testing.M) { goleak.VerifyTestMain(m) }

// The agent runs offline against the fake OpenAI API and writes one trace
// per question to ./mlruns.
func TestAgentAgainstFakeOpenAI(t *testing.T) {
	fake := llmtest.Start(t)
	dir := t.TempDir()
	t.Chdir(dir)
	env := map[string]string{"OPENAI_BASE_URL": fake.OpenAIBaseURL(), "OPENAI_API_KEY": llmtest.OpenAIKey}
	var out bytes.Buffer
	questions := []string{"What's the weather and the local time in Paris?", "What's the weather in Rome?"}
	if err := run(context.Background(), questions, &out, func(k string) string { return env[k] }); err != nil {
		t.Fatal(err)
	}
	ids := regexp.MustCompile(`(?m)^Trace (tr-[0-9a-f]{32})$`).FindAllStringSubmatch(out.String(), -1)
	if len(ids) != 2 || ids[0][1] == ids[1][1] {
		t.Fatalf("want two traces, output:\n%s", out.String())
	}
	if !strings.Contains(out.String(), "A: Here is what I found. get_weather:") {
		t.Errorf("answer:\n%s", out.String())
	}
	// The first trace: agent, two model calls, two tools in parallel.
	got := spantest.NamesAndTypes(spantest.ReadTraceData(t, filepath.Join(dir, "mlruns", "0", "traces", ids[0][1])))
	want := []string{`openai_agent "AGENT"`, `Completions "CHAT_MODEL"`, `get_weather "TOOL"`, `get_local_time "TOOL"`, `Completions "CHAT_MODEL"`}
	if strings.Join(got, ",") != strings.Join(want, ",") {
		t.Errorf("spans %v, want %v", got, want)
	}
	// The fake saw both tool results answer the model's tool calls (it
	// rejects tool messages that answer no call).
	if n := len(fake.Requests()); n != 4 {
		t.Errorf("%d requests to the model, want 4", n)
	}
}
