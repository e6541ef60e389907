package prompts

import (
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"net/http"
	"net/http/httptest"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/mlflowtrace/mlflowtrace-go/exporter"
	"github.com/mlflowtrace/mlflowtrace-go/exporter/exportertest"
	"github.com/mlflowtrace/mlflowtrace-go/internal/keys"
	"github.com/mlflowtrace/mlflowtrace-go/tracing"
)

// registry imitates the prompt registry of an MLflow tracking server: qa
// (a text prompt, versions 1 and 2, alias production → 1), chat (a chat
// prompt), m (a registered model, not a prompt).
type registry struct {
	*httptest.Server
	mu       sync.Mutex
	calls    []string // "<method> <path>?<query>"
	rmTags   map[string]map[string]string
	setTags  []string                     // set-tag bodies
	models   map[string]map[string]string // LoggedModel id → tags
	patches  []string                     // "<model id> <body>" of SetLoggedModelTags
	block    chan struct{}
	failTags bool
}

func newRegistry(t testing.TB) *registry {
	r := &registry{rmTags: map[string]map[string]string{
		"qa":   {tagIsPrompt: "true", "team": "x"},
		"chat": {tagIsPrompt: "true", tagExperimentIDs: ",5,"},
		"m":    {},
	}, models: map[string]map[string]string{"m-1": {"mlflow.user": "alice"}, "m-2": {}}}
	r.Server = httptest.NewServer(http.HandlerFunc(r.serve))
	t.Cleanup(r.Close)
	return r
}

func versionJSON(name, v string, tags map[string]string, aliases ...string) string {
	var ts []string
	for k, val := range tags {
		b, _ := json.Marshal(tag{k, val})
		ts = append(ts, string(b))
	}
	al, _ := json.Marshal(aliases)
	return fmt.Sprintf(`{"model_version": {"name": %q, "version": %q, "creation_timestamp": 1700000000123, "last_updated_timestamp": "1700000000456", "user_id": "alice", "description": "v%s", "tags": [%s], "aliases": %s}}`,
		name, v, v, strings.Join(ts, ","), al)
}

var versions = map[string]string{
	"qa/1": versionJSON("qa", "1", map[string]string{tagIsPrompt: "true", tagPromptText: "Hi {{ name }}", tagPromptType: "text", "author": "bob"}, "production"),
	"qa/2": versionJSON("qa", "2", map[string]string{tagIsPrompt: "true", tagPromptText: "Bye {{name}}",
		tagResponseFormat: `{"type": "object"}`, tagModelConfig: `{"model_name": "gpt", "temperature": 0.5}`}),
	"chat/1": versionJSON("chat", "1", map[string]string{tagIsPrompt: "true", tagPromptType: "chat",
		tagPromptText: `[{"role": "system", "content": "Be {{ tone }}."}, {"role": "user", "content": "{{q}}"}]`}),
}

func (r *registry) serve(w http.ResponseWriter, req *http.Request) {
	r.mu.Lock()
	r.calls = append(r.calls, req.Method+" "+req.URL.Path+"?"+req.URL.RawQuery)
	block := r.block
	r.mu.Unlock()
	if block != nil {
		<-block
	}
	r.mu.Lock()
	defer r.mu.Unlock()
	q := req.URL.Query()
	name := q.Get("name")
	notFound := func(msg string) {
		w.WriteHeader(404)
		fmt.Fprintf(w, `{"error_code": "RESOURCE_DOES_NOT_EXIST", "message": %q}`, msg)
	}
	switch req.URL.Path {
	case pathGetRegisteredModel:
		tags, ok := r.rmTags[name]
		if !ok {
			notFound("Registered Model with name=" + name + " not found")
			return
		}
		var ts []tag
		for k, v := range tags {
			ts = append(ts, tag{k, v})
		}
		_ = json.NewEncoder(w).Encode(map[string]any{"registered_model": registeredModel{Name: name, Tags: ts}})
	case pathGetModelVersion:
		v, ok := versions[name+"/"+q.Get("version")]
		if !ok {
			notFound(fmt.Sprintf("Model Version (name=%s, version=%s) not found", name, q.Get("version")))
			return
		}
		_, _ = io.WriteString(w, v)
	case pathGetModelVersionByAlias:
		target := map[string]string{"qa/production": "qa/1", "qa/latest": "qa/2", "chat/latest": "chat/1"}[name+"/"+q.Get("alias")]
		if target == "" {
			w.WriteHeader(400)
			fmt.Fprintf(w, `{"error_code": "INVALID_PARAMETER_VALUE", "message": "Registered model alias %s not found."}`, q.Get("alias"))
			return
		}
		_, _ = io.WriteString(w, versions[target])
	case pathSetRegisteredModelTag:
		b, _ := io.ReadAll(req.Body)
		if r.failTags {
			w.WriteHeader(403)
			_, _ = io.WriteString(w, `{"error_code": "PERMISSION_DENIED", "message": "no"}`)
			return
		}
		r.setTags = append(r.setTags, string(b))
		var body map[string]string
		_ = json.Unmarshal(b, &body)
		r.rmTags[body["name"]][body["key"]] = body["value"]
		_, _ = io.WriteString(w, "{}")
	default:
		id, isTags := strings.CutSuffix(strings.TrimPrefix(req.URL.Path, pathLoggedModels), "/tags")
		tags, ok := r.models[id]
		switch {
		case !strings.HasPrefix(req.URL.Path, pathLoggedModels):
			w.WriteHeader(404)
		case !ok:
			notFound("Logged model with ID '" + id + "' not found.")
		case isTags && req.Method == http.MethodPatch:
			b, _ := io.ReadAll(req.Body)
			r.patches = append(r.patches, id+" "+string(b))
			var body struct{ Tags []tag }
			_ = json.Unmarshal(b, &body)
			for _, t := range body.Tags {
				tags[t.Key] = t.Value
			}
			_, _ = io.WriteString(w, "{}")
		case req.Method == http.MethodGet:
			var ts []tag
			for k, v := range tags {
				ts = append(ts, tag{k, v})
			}
			_ = json.NewEncoder(w).Encode(map[string]any{"model": map[string]any{"info": map[string]any{"model_id": id, "tags": ts}}})
		default:
			w.WriteHeader(405)
		}
	}
}

func (r *registry) take() []string {
	r.mu.Lock()
	defer r.mu.Unlock()
	c := r.calls
	r.calls = nil
	return c
}

func newClient(t testing.TB, r *registry, env map[string]string, opts ...exporter.Option) *Client {
	t.Helper()
	get := func(k string) string { return env[k] }
	c, err := NewClient(context.Background(), append([]exporter.Option{exporter.WithGetenv(get), exporter.WithTrackingURI(r.URL), exporter.WithMaxRetries(0)}, opts...)...)
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { _ = c.Shutdown(context.Background()) })
	return c
}

// quiet marks the prompts linked to the experiment already, so that the
// registry sees only the loads' requests.
func quiet(c *Client) *Client {
	c.linkMu.Lock()
	defer c.linkMu.Unlock()
	for _, n := range []string{"qa", "chat", "m", "nope"} {
		c.linked[link{name: n}] = true
	}
	return c
}

func TestLoad(t *testing.T) {
	r := newRegistry(t)
	c := quiet(newClient(t, r, nil))
	ctx := context.Background()
	for _, tc := range []struct {
		uri   string
		opts  []LoadOption
		want  string // name/version
		calls []string
	}{
		{"prompts:/qa/2", nil, "qa/2", []string{"GET /api/2.0/mlflow/registered-models/get?name=qa", "GET /api/2.0/mlflow/model-versions/get?name=qa&version=2"}},
		{"prompts:/qa@production", nil, "qa/1", []string{"GET /api/2.0/mlflow/registered-models/get?name=qa", "GET /api/2.0/mlflow/registered-models/alias?alias=production&name=qa"}},
		{"qa", nil, "qa/2", []string{"GET /api/2.0/mlflow/registered-models/get?name=qa", "GET /api/2.0/mlflow/registered-models/alias?alias=latest&name=qa"}},
		{"qa", []LoadOption{WithVersion(1)}, "qa/1", []string{"GET /api/2.0/mlflow/registered-models/get?name=qa", "GET /api/2.0/mlflow/model-versions/get?name=qa&version=1"}},
		{"prompts:/qa@2", nil, "qa/2", []string{"GET /api/2.0/mlflow/registered-models/get?name=qa", "GET /api/2.0/mlflow/model-versions/get?name=qa&version=2"}},
		{"prompts:/qa/002", nil, "qa/2", []string{"GET /api/2.0/mlflow/registered-models/get?name=qa", "GET /api/2.0/mlflow/model-versions/get?name=qa&version=2"}},
	} {
		p, err := c.Load(ctx, tc.uri, append(tc.opts, WithCacheTTL(0))...)
		if err != nil {
			t.Fatalf("%s: %v", tc.uri, err)
		}
		if got := fmt.Sprintf("%s/%d", p.Name, p.Version); got != tc.want {
			t.Errorf("%s: loaded %s, want %s", tc.uri, got, tc.want)
		}
		if calls := r.take(); strings.Join(calls, "\n") != strings.Join(tc.calls, "\n") {
			t.Errorf("%s: calls\n%s\nwant\n%s", tc.uri, strings.Join(calls, "\n"), strings.Join(tc.calls, "\n"))
		}
	}

	p, err := c.Load(ctx, "prompts:/qa/1", WithCacheTTL(0))
	if err != nil {
		t.Fatal(err)
	}
	if p.Template != "Hi {{ name }}" || p.CommitMessage != "v1" || p.UserID != "alice" || len(p.Tags) != 1 || p.Tags["author"] != "bob" ||
		len(p.Aliases) != 1 || p.Aliases[0] != "production" || p.CreationTime.UnixMilli() != 1700000000123 || p.LastUpdatedTime.UnixMilli() != 1700000000456 ||
		p.IsChat() || p.ResponseFormat != nil || p.ModelConfig != nil {
		t.Errorf("qa/1 = %+v", p)
	}
	p, _ = c.Load(ctx, "prompts:/qa/2", WithCacheTTL(0))
	if string(p.ResponseFormat) != `{"type": "object"}` || string(p.ModelConfig) != `{"model_name": "gpt", "temperature": 0.5}` || len(p.Tags) != 0 {
		t.Errorf("qa/2 = %+v", p)
	}
	p, _ = c.Load(ctx, "prompts:/chat/1", WithCacheTTL(0))
	msgs, err := p.FormatMessages(map[string]any{"tone": "kind", "q": "Why?"})
	if err != nil || len(msgs) != 2 || msgs[0] != (Message{"system", "Be kind."}) || msgs[1] != (Message{"user", "Why?"}) {
		t.Errorf("chat: %v %v", msgs, err)
	}
}

func TestLoadErrors(t *testing.T) {
	r := newRegistry(t)
	c := newClient(t, r, nil)
	ctx := context.Background()
	for _, tc := range []struct {
		uri      string
		opts     []LoadOption
		msg      string
		notFound bool
	}{
		{"prompts:/nope/1", nil, "prompts: RESOURCE_DOES_NOT_EXIST: Prompt with name=nope not found", true},
		{"prompts:/qa/9", nil, "prompts: RESOURCE_DOES_NOT_EXIST: Prompt (name=qa, version=9) not found", true},
		{"prompts:/qa@nope", nil, "prompts: INVALID_PARAMETER_VALUE: Prompt alias nope not found.", true},
		{"prompts:/m/1", nil, "prompts: Name `m` is registered as a model, not a prompt. Use get_model_version() or load_model() instead.", true},
		{"prompts:/qa", nil, "prompts: Invalid prompt URI format: prompts:/qa", false},
		{"prompts:/qa/x", nil, "prompts: Not a proper prompts:/ URI: prompts:/qa/x.", false},
		{"a/b", nil, "prompts: Not a proper prompts:/ URI: prompts:/a/b@latest.", false},
		{"prompts:/qa/1", []LoadOption{WithVersion(1)}, "prompts: The `version` argument should not be specified when loading a prompt by URI.", false},
		{"prompts:/qa/1", []LoadOption{WithCacheTTL(-time.Second)}, "prompts: `cache_ttl_seconds` argument must be greater than or equal to 0.", false},
	} {
		_, err := c.Load(ctx, tc.uri, tc.opts...)
		var e *Error
		if !errors.As(err, &e) || !strings.HasPrefix(err.Error(), tc.msg) {
			t.Errorf("%s: %v, want %q", tc.uri, err, tc.msg)
			continue
		}
		if errors.Is(err, ErrNotFound) != tc.notFound || errors.Is(err, ErrInvalid) == tc.notFound {
			t.Errorf("%s: ErrNotFound %v, ErrInvalid %v", tc.uri, errors.Is(err, ErrNotFound), errors.Is(err, ErrInvalid))
		}
	}
	// A registry that does not answer: the transport's error, wrapped.
	r.Close()
	if _, err := c.Load(ctx, "prompts:/qa/1"); err == nil || !strings.HasPrefix(err.Error(), "prompts: load prompts:/qa/1: ") || errors.Is(err, ErrNotFound) {
		t.Errorf("registry down: %v", err)
	}
}

// Versions stay cached for good, aliases for 60 s (MLflow's defaults, or
// the variables); WithCacheTTL(0) asks the registry; a cached version is
// the caller's own copy.
func TestCache(t *testing.T) {
	r := newRegistry(t)
	c := quiet(newClient(t, r, map[string]string{"MLFLOW_PROMPT_CACHE_MAX_SIZE": "2"}))
	now := time.Unix(1000, 0)
	c.now = func() time.Time { return now }
	ctx := context.Background()
	load := func(uri string, opts ...LoadOption) (*PromptVersion, int) {
		t.Helper()
		p, err := c.Load(ctx, uri, opts...)
		if err != nil {
			t.Fatal(err)
		}
		return p, len(r.take())
	}
	if _, n := load("prompts:/qa/1"); n != 2 {
		t.Fatalf("first load: %d requests", n)
	}
	p, n := load("prompts:/qa/01")
	if n != 0 {
		t.Errorf("cached version: %d requests", n)
	}
	p.Tags["author"] = "mallory"
	if p2, _ := load("prompts:/qa/1"); p2.Tags["author"] != "bob" {
		t.Error("the cached version was changed through a result")
	}
	if _, n := load("prompts:/qa/1", WithCacheTTL(0)); n != 2 {
		t.Errorf("WithCacheTTL(0): %d requests", n)
	}
	if _, n := load("prompts:/qa@production"); n != 2 {
		t.Errorf("alias: %d requests", n)
	}
	now = now.Add(59 * time.Second)
	if _, n := load("prompts:/qa@production"); n != 0 {
		t.Errorf("alias within its TTL: %d requests", n)
	}
	now = now.Add(2 * time.Second)
	if _, n := load("prompts:/qa@production"); n != 2 {
		t.Errorf("alias after its TTL: %d requests", n)
	}
	// The cache holds 2: a third entry evicts the one expiring first (the
	// alias), not the version cached for good.
	load("prompts:/qa/2")
	if _, n := load("prompts:/qa/1"); n != 0 {
		t.Errorf("version evicted: %d requests", n)
	}
	if _, n := load("prompts:/qa@production"); n != 2 {
		t.Errorf("alias not evicted: %d requests", n)
	}
}

func TestNewClientRefuses(t *testing.T) {
	ctx := context.Background()
	for name, opts := range map[string][]exporter.Option{
		"local":  {exporter.WithTrackingURI(t.TempDir())},
		"custom": {exporter.WithDestination(exportertest.NewRecorder())},
	} {
		if c, err := NewClient(ctx, append([]exporter.Option{exporter.WithGetenv(func(string) string { return "" })}, opts...)...); err == nil {
			_ = c.Shutdown(ctx)
			t.Errorf("%s: no error", name)
		}
	}
	for _, v := range []string{"MLFLOW_ALIAS_PROMPT_CACHE_TTL_SECONDS", "MLFLOW_VERSION_PROMPT_CACHE_TTL_SECONDS"} {
		env := map[string]string{v: "-1", "MLFLOW_TRACKING_URI": "http://127.0.0.1:1"}
		_, err := NewClient(ctx, exporter.WithGetenv(func(k string) string { return env[k] }))
		if err == nil || !strings.Contains(err.Error(), v) {
			t.Errorf("%s=-1: %v", v, err)
		}
	}
	env := map[string]string{"MLFLOW_VERSION_PROMPT_CACHE_TTL_SECONDS": "inf", "MLFLOW_ALIAS_PROMPT_CACHE_TTL_SECONDS": "0.5", "MLFLOW_TRACKING_URI": "http://127.0.0.1:1"}
	c, err := NewClient(ctx, exporter.WithGetenv(func(k string) string { return env[k] }))
	if err != nil {
		t.Fatal(err)
	}
	defer c.Shutdown(ctx)
	if c.versionTTL != forever || c.aliasTTL != 500*time.Millisecond {
		t.Errorf("TTLs %v %v", c.versionTTL, c.aliasTTL)
	}
}

// A version loaded inside a span is linked to the span and its trace.
func TestLoadLinksTrace(t *testing.T) {
	r := newRegistry(t)
	c := newClient(t, r, nil)
	dest := exportertest.NewRecorder()
	ctx := context.Background()
	tp, err := tracing.Init(ctx, tracing.WithGetenv(func(string) string { return "" }), tracing.WithoutGlobalTracerProvider(),
		tracing.WithExporterOptions(exporter.WithDestination(dest)))
	if err != nil {
		t.Fatal(err)
	}
	defer tp.Shutdown(ctx)
	if _, err := c.Load(ctx, "prompts:/qa/1"); err != nil { // no trace: nothing to link
		t.Fatal(err)
	}
	sctx, span := tracing.StartSpan(ctx, "agent")
	for _, uri := range []string{"prompts:/qa@production", "prompts:/chat/1", "prompts:/qa/1"} {
		if _, err := c.Load(sctx, uri); err != nil {
			t.Fatal(err)
		}
	}
	span.End()
	if err := tp.ForceFlush(ctx); err != nil {
		t.Fatal(err)
	}
	tr := dest.Trace(span.TraceID())
	if tr == nil {
		t.Fatal("no trace")
	}
	want := `[{"name": "qa", "version": "1"}, {"name": "chat", "version": "1"}]`
	if got := tr.Info.Tags[keys.TagLinkedPrompts]; got != want {
		t.Errorf("trace tag %s, want %s", got, want)
	}
	if got := tr.Spans[0].Attributes[keys.LinkedPrompts]; got != string(mustJSON(want)) {
		t.Errorf("span attribute %s", got)
	}
}

func mustJSON(v any) []byte {
	b, _ := json.Marshal(v)
	return b
}

// The prompts loaded from the registry are tagged with the experiment,
// once each, in the background; Shutdown waits for them.
func TestExperimentLink(t *testing.T) {
	r := newRegistry(t)
	c := newClient(t, r, map[string]string{"MLFLOW_EXPERIMENT_ID": "7"})
	ctx := context.Background()
	for _, uri := range []string{"prompts:/qa/1", "prompts:/qa/2", "prompts:/chat/1"} {
		if _, err := c.Load(ctx, uri, WithCacheTTL(0)); err != nil {
			t.Fatal(err)
		}
	}
	if err := c.Shutdown(ctx); err != nil {
		t.Fatal(err)
	}
	want := []string{`{"key":"_mlflow_experiment_ids","name":"qa","value":",7,"}`, `{"key":"_mlflow_experiment_ids","name":"chat","value":",5,7,"}`}
	if strings.Join(r.setTags, "\n") != strings.Join(want, "\n") {
		t.Errorf("set-tag\n%s\nwant\n%s", strings.Join(r.setTags, "\n"), strings.Join(want, "\n"))
	}
	if _, err := c.Load(ctx, "prompts:/qa/1"); err == nil {
		t.Error("Load after Shutdown: no error")
	}
	for cur, want := range map[string]string{"": ",7,", ",7,": ",7,", ", 1 ,": ",1,7,", ",1,17,": ",1,17,7,"} {
		if got, _ := addExperiment(cur, "7"); got != want {
			t.Errorf("addExperiment(%q) = %q, want %q", cur, got, want)
		}
	}
}

// A failed link is reported (exporter.WithErrorHandler) and tried again at
// the next load; Shutdown stops waiting when ctx ends.
func TestExperimentLinkFailureAndShutdown(t *testing.T) {
	r := newRegistry(t)
	r.failTags = true
	var mu sync.Mutex
	var reported []error
	c := newClient(t, r, nil, exporter.WithErrorHandler(func(err error) {
		mu.Lock()
		reported = append(reported, err)
		mu.Unlock()
	}))
	ctx := context.Background()
	if _, err := c.Load(ctx, "prompts:/qa/1"); err != nil {
		t.Fatal(err)
	}
	deadline := time.Now().Add(5 * time.Second)
	for {
		mu.Lock()
		n := len(reported)
		mu.Unlock()
		if n > 0 || time.Now().After(deadline) {
			break
		}
		time.Sleep(10 * time.Millisecond)
	}
	mu.Lock()
	if len(reported) != 1 || !strings.Contains(reported[0].Error(), "PERMISSION_DENIED") {
		t.Errorf("reported %v", reported)
	}
	mu.Unlock()
	c.linkMu.Lock()
	again := !c.linked[link{name: "qa"}]
	c.linkMu.Unlock()
	if !again {
		t.Error("a failed link is not tried again")
	}

	// The registry hangs: Shutdown gives up when its ctx ends.
	r.mu.Lock()
	r.block = make(chan struct{})
	r.mu.Unlock()
	defer close(r.block)
	c.queue(link{name: "chat"})
	sctx, cancel := context.WithTimeout(ctx, 100*time.Millisecond)
	defer cancel()
	if err := c.Shutdown(sctx); !errors.Is(err, context.DeadlineExceeded) {
		t.Errorf("Shutdown: %v", err)
	}
	if err := c.Shutdown(ctx); err != nil {
		t.Errorf("second Shutdown: %v", err)
	}
}

// With an active LoggedModel (MLFLOW_ACTIVE_MODEL_ID) every version loaded,
// cached or not, is added to the model's mlflow.linkedPrompts tag, once;
// WithModelID picks another model, or none.
func TestModelLink(t *testing.T) {
	r := newRegistry(t)
	var mu sync.Mutex
	var reported []error
	c := quiet(newClient(t, r, map[string]string{"MLFLOW_ACTIVE_MODEL_ID": "m-1"}, exporter.WithErrorHandler(func(err error) {
		mu.Lock()
		reported = append(reported, err)
		mu.Unlock()
	})))
	ctx := context.Background()
	for _, l := range []struct {
		uri  string
		opts []LoadOption
	}{
		{"prompts:/qa/1", nil},
		{"prompts:/qa/1", nil}, // cached: linked already
		{"prompts:/chat/1", nil},
		{"prompts:/qa/2", []LoadOption{WithModelID("")}},
		{"prompts:/qa/2", []LoadOption{WithModelID("m-2")}},
		{"prompts:/qa/1", []LoadOption{WithModelID("m-nope")}},
	} {
		if _, err := c.Load(ctx, l.uri, l.opts...); err != nil {
			t.Fatal(err)
		}
	}
	if err := c.Shutdown(ctx); err != nil {
		t.Fatal(err)
	}
	want := []string{
		`m-1 {"tags":[{"key":"mlflow.linkedPrompts","value":"[{\"name\": \"qa\", \"version\": \"1\"}]"}]}`,
		`m-1 {"tags":[{"key":"mlflow.linkedPrompts","value":"[{\"name\": \"qa\", \"version\": \"1\"}, {\"name\": \"chat\", \"version\": \"1\"}]"}]}`,
		`m-2 {"tags":[{"key":"mlflow.linkedPrompts","value":"[{\"name\": \"qa\", \"version\": \"2\"}]"}]}`,
	}
	if strings.Join(r.patches, "\n") != strings.Join(want, "\n") {
		t.Errorf("SetLoggedModelTags\n%s\nwant\n%s", strings.Join(r.patches, "\n"), strings.Join(want, "\n"))
	}
	mu.Lock()
	defer mu.Unlock()
	if len(reported) != 1 || !strings.Contains(reported[0].Error(), "to model m-nope") || !strings.Contains(reported[0].Error(), "RESOURCE_DOES_NOT_EXIST") {
		t.Errorf("reported %v", reported)
	}
}
