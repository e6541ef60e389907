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

// The agent runs offline against the fake Gemini API, with only the SDK's
// two variables set, and writes one trace per question to ./mlruns.
func TestAgentAgainstFakeGemini(t *testing.T) {
	fake := llmtest.Start(t)
	dir := t.TempDir()
	t.Chdir(dir)
	for _, k := range []string{"GOOGLE_API_KEY", "GOOGLE_GENAI_USE_VERTEXAI", "GOOGLE_GENAI_USE_ENTERPRISE", "GOOGLE_GENAI_API_VERSION"} {
		t.Setenv(k, "")
	}
	t.Setenv("GEMINI_API_KEY", llmtest.GeminiKey)
	t.Setenv("GOOGLE_GEMINI_BASE_URL", fake.URL)
	var out bytes.Buffer
	questions := []string{"What's the weather and the local time in Paris?", "What's the weather in Rome?"}
	if err := run(context.Background(), questions, &out, func(string) string { return "" }); err != nil {
		t.Fatal(err)
	}
	ids := regexp.MustCompile(`(?m)^Trace (tr-[0-9a-f]{32})$`).FindAllStringSubmatch(out.String(), -1)
	if len(ids) != 2 || ids[0][1] == ids[1][1] {
		t.Fatalf("want two traces, output:\n%s", out.String())
	}
	if !strings.Contains(out.String(), "A: Here is what I found. get_weather:") {
		t.Errorf("answer:\n%s", out.String())
	}
	// The first trace: agent, two chat turns (each around its model call),
	// two tools in parallel.
	got := spantest.NamesAndTypes(spantest.ReadTraceData(t, filepath.Join(dir, "mlruns", "0", "traces", ids[0][1])))
	want := []string{`gemini_agent "AGENT"`, `Chat.send_message "CHAT_MODEL"`, `Models.generate_content "LLM"`,
		`get_weather "TOOL"`, `get_local_time "TOOL"`, `Chat.send_message "CHAT_MODEL"`, `Models.generate_content "LLM"`}
	if strings.Join(got, ",") != strings.Join(want, ",") {
		t.Errorf("spans %v, want %v", got, want)
	}
	// The fake saw the function responses answer the model's calls (it
	// rejects responses that answer none).
	if n := len(fake.Requests()); n != 4 {
		t.Errorf("%d requests to the model, want 4", n)
	}
}
