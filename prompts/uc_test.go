package prompts

import (
	"context"
	"errors"
	"fmt"
	"slices"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/mlflowtrace/mlflowtrace-go/exporter"
	"github.com/mlflowtrace/mlflowtrace-go/internal/databrickstest"
)

// newWorkspace is a fake Databricks workspace whose Unity Catalog registry
// holds main.p.qa (text: versions 1 and 2, alias production → 1) and
// main.p.chat (chat), stored as MLflow's register_prompt stores them.
func newWorkspace(t *testing.T) *databrickstest.Workspace {
	ws := databrickstest.New(t)
	ws.CreateUCSchema("main", "p")
	for _, v := range []struct {
		name     string
		template any
		desc     string
		tags     map[string]string
	}{
		{"main.p.qa", "Hi {{ name }}", "first", map[string]string{"author": "bob", tagPromptType: "text"}},
		{"main.p.qa", "Bye {{name}}", "", map[string]string{tagPromptType: "text", tagResponseFormat: `{"type": "object"}`, tagModelConfig: `{"model_name": "gpt", "temperature": 0.5}`}},
		{"main.p.chat", []map[string]string{{"role": "system", "content": "Be {{ tone }}."}, {"role": "user", "content": "{{q}}"}}, "", map[string]string{tagPromptType: "chat"}},
	} {
		if _, err := ws.AddPromptVersion(v.name, v.template, v.desc, v.tags); err != nil {
			t.Fatal(err)
		}
	}
	ws.SetPromptAlias("main.p.qa", "production", 1)
	return ws
}

func newUCClient(t *testing.T, ws *databrickstest.Workspace, env map[string]string, opts ...exporter.Option) *Client {
	t.Helper()
	e := ws.PATEnv()
	e["MLFLOW_TRACKING_URI"] = "databricks"
	e["DATABRICKS_CONFIG_FILE"] = "/nonexistent/databrickscfg"
	for k, v := range env {
		e[k] = v
	}
	c, err := NewClient(context.Background(), append([]exporter.Option{exporter.WithGetenv(func(k string) string { return e[k] }),
		exporter.WithHTTPClient(ws.HTTPClient()), exporter.WithMaxRetries(0)}, opts...)...)
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { _ = c.Shutdown(context.Background()) })
	return c
}

// ucCalls returns the registry requests made since the n-th request.
func ucCalls(ws *databrickstest.Workspace, n int) []string {
	var out []string
	for _, r := range ws.Requests()[n:] {
		if strings.Contains(r.Path, "/unity-catalog/") || strings.Contains(r.Path, "/logged-models") {
			out = append(out, r.Method+" "+strings.TrimPrefix(r.Path, "/api/2.0/mlflow/unity-catalog/")+q(r.Query))
		}
	}
	return out
}

func q(s string) string {
	if s == "" {
		return ""
	}
	return "?" + s
}

func TestLoadUC(t *testing.T) {
	ws := newWorkspace(t)
	c := newUCClient(t, ws, nil)
	ctx := context.Background()
	for _, tc := range []struct {
		uri   string
		opts  []LoadOption
		want  string // name/version
		calls []string
	}{
		{"prompts:/main.p.qa/2", nil, "main.p.qa/2", []string{"GET prompts/main.p.qa/versions/2?name=main.p.qa&version=2"}},
		{"prompts:/main.p.qa@production", nil, "main.p.qa/1", []string{"GET prompts/main.p.qa/versions/by-alias/production?name=main.p.qa&alias=production"}},
		{"main.p.qa", []LoadOption{WithVersion(1)}, "main.p.qa/1", []string{"GET prompts/main.p.qa/versions/1?name=main.p.qa&version=1"}},
		// The version as the URI spells it, as MLflow sends it.
		{"prompts:/main.p.qa/002", nil, "main.p.qa/2", []string{"GET prompts/main.p.qa/versions/002?name=main.p.qa&version=002"}},
		{"prompts:/main.p.chat/1", nil, "main.p.chat/1", []string{"GET prompts/main.p.chat/versions/1?name=main.p.chat&version=1"}},
	} {
		t.Run(tc.uri, func(t *testing.T) {
			n := len(ws.Requests())
			p, err := c.Load(ctx, tc.uri, append(tc.opts, WithCacheTTL(0))...)
			if err != nil {
				t.Fatal(err)
			}
			if got := fmt.Sprintf("%s/%d", p.Name, p.Version); got != tc.want {
				t.Errorf("loaded %s, want %s", got, tc.want)
			}
			if calls := ucCalls(ws, n); strings.Join(calls, "\n") != strings.Join(tc.calls, "\n") {
				t.Errorf("calls\n%s\nwant\n%s", strings.Join(calls, "\n"), strings.Join(tc.calls, "\n"))
			}
		})
	}

	p, err := c.Load(ctx, "prompts:/main.p.qa/1")
	if err != nil {
		t.Fatal(err)
	}
	if p.Template != "Hi {{ name }}" || p.CommitMessage != "first" || len(p.Tags) != 1 || p.Tags["author"] != "bob" ||
		len(p.Aliases) != 1 || p.Aliases[0] != "production" || time.Since(p.CreationTime) > time.Minute || p.IsChat() || p.ResponseFormat != nil || p.ModelConfig != nil {
		t.Errorf("qa/1 = %+v", p)
	}
	p, _ = c.Load(ctx, "prompts:/main.p.qa/2")
	if string(p.ResponseFormat) != `{"type": "object"}` || string(p.ModelConfig) != `{"model_name": "gpt", "temperature": 0.5}` || len(p.Tags) != 0 {
		t.Errorf("qa/2 = %+v", p)
	}
	p, _ = c.Load(ctx, "prompts:/main.p.chat/1")
	msgs, err := p.FormatMessages(map[string]any{"tone": "kind", "q": "Why?"})
	if err != nil || len(msgs) != 2 || msgs[0] != (Message{"system", "Be kind."}) || msgs[1] != (Message{"user", "Why?"}) {
		t.Errorf("chat: %v %v", msgs, err)
	}
	// Cached as for a tracking server.
	n := len(ws.Requests())
	if _, err := c.Load(ctx, "prompts:/main.p.qa/1"); err != nil || len(ucCalls(ws, n)) != 0 {
		t.Errorf("cached load: %v, %v", err, ucCalls(ws, n))
	}
}

func TestLoadErrorsUC(t *testing.T) {
	ws := newWorkspace(t)
	c := newUCClient(t, ws, nil)
	ctx := context.Background()
	ws.Fail(databrickstest.Fault{PathPrefix: "/api/2.0/mlflow/unity-catalog/prompts/main.p.secret/", Status: 403,
		Body: `{"error_code": "PERMISSION_DENIED", "message": "User does not have EXECUTE on Prompt 'main.p.secret'."}`})
	for _, tc := range []struct {
		uri      string
		opts     []LoadOption
		msg      string
		notFound bool
		invalid  bool
	}{
		// MLflow's store returns None (load_prompt too) for a missing version.
		{"prompts:/main.p.qa/9", nil, "prompts: RESOURCE_DOES_NOT_EXIST: Prompt 'main.p.qa' version 9 does not exist.", true, false},
		{"prompts:/main.p.nope/1", nil, "prompts: RESOURCE_DOES_NOT_EXIST: Prompt 'main.p.nope' does not exist.", true, false},
		// MLflow raises AttributeError for a missing alias; "latest" and
		// digits are aliases there.
		{"prompts:/main.p.qa@nope", nil, "prompts: RESOURCE_DOES_NOT_EXIST: Alias 'nope' does not exist", true, false},
		{"main.p.qa", nil, "prompts: RESOURCE_DOES_NOT_EXIST: Alias 'latest' does not exist", true, false},
		{"prompts:/main.p.qa@1", nil, "prompts: RESOURCE_DOES_NOT_EXIST: Alias '1' does not exist", true, false},
		{"prompts:/main.p.secret/1", nil, "prompts: PERMISSION_DENIED: User does not have EXECUTE on Prompt 'main.p.secret'.", false, false},
		{"prompts:/main.p.qa", nil, "prompts: Invalid prompt URI format: prompts:/main.p.qa", false, true},
		{"prompts:/main.p.qa/1", []LoadOption{WithVersion(1)}, "prompts: The `version` argument should not be specified when loading a prompt by URI.", false, true},
	} {
		t.Run(tc.uri, func(t *testing.T) {
			_, err := c.Load(ctx, tc.uri, tc.opts...)
			var e *Error
			if !errors.As(err, &e) || !strings.HasPrefix(err.Error(), tc.msg) {
				t.Fatalf("%v, want %q", err, tc.msg)
			}
			if errors.Is(err, ErrNotFound) != tc.notFound || errors.Is(err, ErrInvalid) != tc.invalid {
				t.Errorf("ErrNotFound %v, ErrInvalid %v", errors.Is(err, ErrNotFound), errors.Is(err, ErrInvalid))
			}
		})
	}
	if r := ws.Rejections(); len(r) != 0 {
		t.Errorf("the workspace rejected %q", r)
	}
}

// TestExperimentLinkUC: with an experiment in the environment a loaded
// prompt gets its id in the tag _mlflow_experiment_ids (GetPrompt,
// SetPromptTag), once per Client; without, MLflow (and this package) link
// to none: Databricks has no default experiment outside a notebook.
func TestExperimentLinkUC(t *testing.T) {
	ws := newWorkspace(t)
	ctx := context.Background()
	exp := ws.CreateExperiment("/Users/a@b.c/agent", databrickstest.AWS)

	n := len(ws.Requests())
	c := newUCClient(t, ws, nil)
	if _, err := c.Load(ctx, "prompts:/main.p.qa/1"); err != nil {
		t.Fatal(err)
	}
	if err := c.Shutdown(ctx); err != nil {
		t.Fatal(err)
	}
	if calls := ucCalls(ws, n); len(calls) != 1 {
		t.Errorf("no experiment: calls %q", calls)
	}

	var mu sync.Mutex
	var reported []error
	c = newUCClient(t, ws, map[string]string{"MLFLOW_EXPERIMENT_ID": exp}, exporter.WithErrorHandler(func(err error) {
		mu.Lock()
		reported = append(reported, err)
		mu.Unlock()
	}))
	n = len(ws.Requests())
	for _, uri := range []string{"prompts:/main.p.qa/1", "prompts:/main.p.qa/2", "prompts:/main.p.chat/1"} {
		if _, err := c.Load(ctx, uri, WithCacheTTL(0)); err != nil {
			t.Fatal(err)
		}
	}
	if err := c.Shutdown(ctx); err != nil {
		t.Fatal(err)
	}
	want := []string{
		"GET prompts/main.p.qa/versions/1?name=main.p.qa&version=1",
		"GET prompts/main.p.qa/versions/2?name=main.p.qa&version=2",
		"GET prompts/main.p.chat/versions/1?name=main.p.chat&version=1",
		"GET prompts/main.p.qa?name=main.p.qa",
		"POST prompts/main.p.qa/tags",
		"GET prompts/main.p.chat?name=main.p.chat",
		"POST prompts/main.p.chat/tags",
	}
	calls := ucCalls(ws, n)
	if got := strings.Join(slices.Sorted(slices.Values(calls)), "\n"); got != strings.Join(slices.Sorted(slices.Values(want)), "\n") {
		t.Errorf("calls\n%s\nwant (in any order)\n%s", strings.Join(calls, "\n"), strings.Join(want, "\n"))
	}
	for _, name := range []string{"main.p.qa", "main.p.chat"} {
		if got := ws.PromptTags(name)[tagExperimentIDs]; got != ","+exp+"," {
			t.Errorf("%s: %s = %q", name, tagExperimentIDs, got)
		}
	}
	mu.Lock()
	defer mu.Unlock()
	if len(reported) != 0 {
		t.Errorf("reported %v", reported)
	}
}

// TestModelLinkUC: the LoggedModel's tag as for a tracking server, then
// LinkPromptVersionsToModels; none when the tag could not be written (as
// MLflow, whose store writes the tag first).
func TestModelLinkUC(t *testing.T) {
	ws := newWorkspace(t)
	ctx := context.Background()
	exp := ws.CreateExperiment("/Users/a@b.c/agent", databrickstest.AWS)
	model := ws.CreateLoggedModel(exp, "agent")
	var mu sync.Mutex
	var reported []error
	c := newUCClient(t, ws, map[string]string{"MLFLOW_ACTIVE_MODEL_ID": model}, exporter.WithErrorHandler(func(err error) {
		mu.Lock()
		reported = append(reported, err)
		mu.Unlock()
	}))
	for _, l := range []struct {
		uri  string
		opts []LoadOption
	}{
		{"prompts:/main.p.qa@production", nil},
		{"prompts:/main.p.chat/1", nil},
		{"prompts:/main.p.qa/1", nil}, // linked already
		{"prompts:/main.p.qa/2", []LoadOption{WithModelID("")}},
		{"prompts:/main.p.qa/2", []LoadOption{WithModelID("m-nope")}},
	} {
		if _, err := c.Load(ctx, l.uri, l.opts...); err != nil {
			t.Fatal(err)
		}
	}
	if err := c.Shutdown(ctx); err != nil {
		t.Fatal(err)
	}
	if got := ws.LoggedModelTags(model)["mlflow.linkedPrompts"]; got != `[{"name": "main.p.qa", "version": "1"}, {"name": "main.p.chat", "version": "1"}]` {
		t.Errorf("model tag %s", got)
	}
	var links []string
	for _, l := range ws.PromptLinks() {
		links = append(links, fmt.Sprintf("%s %v %v", l.Kind, l.Versions, l.IDs))
	}
	want := []string{"models [main.p.qa/1] [" + model + "]", "models [main.p.chat/1] [" + model + "]"}
	if strings.Join(links, "\n") != strings.Join(want, "\n") {
		t.Errorf("links\n%s\nwant\n%s", strings.Join(links, "\n"), strings.Join(want, "\n"))
	}
	mu.Lock()
	defer mu.Unlock()
	if len(reported) != 1 || !strings.Contains(reported[0].Error(), "to model m-nope") || !strings.Contains(reported[0].Error(), "RESOURCE_DOES_NOT_EXIST") {
		t.Errorf("reported %v", reported)
	}
}
