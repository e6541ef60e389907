package langchaingo_test

import (
	"os"
	"os/exec"
	"path/filepath"
	"strings"
	"testing"
)

// openaiPython returns an interpreter that can import the openai package:
// $MLFLOWTRACE_OPENAI_PYTHON, else the project venv's when it has openai.
func openaiPython(t *testing.T) string {
	t.Helper()
	cands := []string{os.Getenv("MLFLOWTRACE_OPENAI_PYTHON")}
	if wd, err := os.Getwd(); err == nil {
		cands = append(cands, filepath.Join(wd, "..", "..", ".venv", "bin", "python"))
	}
	for _, py := range cands {
		if py == "" {
			continue
		}
		if exec.Command(py, "-c", "import openai").Run() == nil {
			return py
		}
	}
	t.Skip("no Python with the openai package (set MLFLOWTRACE_OPENAI_PYTHON)")
	return ""
}

// TestChatServerAgainstOpenAIClient runs the official openai Python client
// against the test endpoint the langchaingo tests use: plain and streamed
// completions with usage parse, and what the API rejects is rejected.
func TestChatServerAgainstOpenAIClient(t *testing.T) {
	py := openaiPython(t)
	cs := newChatServer(t, reply{content: "Hello there."}, reply{content: "Streamed answer."})
	script := `
import sys, openai
c = openai.OpenAI(base_url=sys.argv[1], api_key="test-key", max_retries=0)
r = c.chat.completions.create(model="gpt-4o-mini", messages=[{"role": "user", "content": "hi"}])
assert r.choices[0].message.content == "Hello there.", r
assert r.usage.prompt_tokens == 40 and r.usage.completion_tokens == 12 and r.usage.prompt_tokens_details.cached_tokens == 8, r.usage
chunks = list(c.chat.completions.create(model="gpt-4o-mini", messages=[{"role": "user", "content": "hi"}],
                                        stream=True, stream_options={"include_usage": True}))
text = "".join(ch.choices[0].delta.content or "" for ch in chunks if ch.choices)
assert text == "Streamed answer.", text
assert chunks[-1].usage.total_tokens == 52 and chunks[-1].choices == [], chunks[-1]
for bad in (dict(model="", messages=[{"role": "user", "content": "x"}]), dict(model="m", messages=[])):
    try:
        c.chat.completions.create(**bad)
    except openai.BadRequestError:
        pass
    else:
        raise AssertionError("accepted %r" % bad)
try:
    openai.OpenAI(base_url=sys.argv[1], api_key="wrong", max_retries=0).chat.completions.create(
        model="m", messages=[{"role": "user", "content": "x"}])
except openai.AuthenticationError:
    pass
else:
    raise AssertionError("wrong key accepted")
print("ok")
`
	out, err := exec.Command(py, "-c", script, cs.URL).CombinedOutput()
	if err != nil || !strings.Contains(string(out), "ok") {
		t.Fatalf("openai client: %v\n%s", err, out)
	}
}
