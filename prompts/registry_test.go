package prompts

import (
	"context"
	"encoding/json"
	"fmt"
	"os"
	"path/filepath"
	"slices"
	"strings"
	"sync"
	"testing"

	"github.com/mlflowtrace/mlflowtrace-go/exporter"
	"github.com/mlflowtrace/mlflowtrace-go/internal/databrickstest"
	"github.com/mlflowtrace/mlflowtrace-go/internal/mlflowtest"
)

// TestParseRegistryURI: the registry URIs MLflow 3.17.2's
// get_store_builder and require_prompt_registry accept for load_prompt,
// and the errors for the others (MLflow's message where it has one).
func TestParseRegistryURI(t *testing.T) {
	for _, tc := range []struct {
		uri     string
		want    registryRef
		err     string // a part of the error; "" for none
		secrets []string
	}{
		{uri: "", want: registryRef{kind: registryDefault}},
		{uri: "databricks-uc", want: registryRef{kind: registryUC}},
		{uri: "databricks-uc://prof", want: registryRef{kind: registryUC, profile: "prof"}},
		{uri: "DATABRICKS-UC://prof/", want: registryRef{kind: registryUC, profile: "prof"}}, // urlparse lowers the scheme
		{uri: "databricks-uc://prof/path", want: registryRef{kind: registryUC, profile: "prof"}},
		{uri: "http://reg:5000", want: registryRef{kind: registryServer, uri: "http://reg:5000"}},
		{uri: "HTTPS://user:pw@reg/prefix", want: registryRef{kind: registryServer, uri: "HTTPS://user:pw@reg/prefix"}},
		{uri: "databricks", err: msgWorkspaceRegistry},
		{uri: "databricks://prof", err: msgWorkspaceRegistry},
		{uri: "uc", err: "Unity Catalog OSS"},
		{uri: "uc:http://oss-uc:8080", err: "Unity Catalog OSS"},
		{uri: "file:///tmp/reg", err: "file: URI"},
		{uri: "./reg", err: "local path"},
		{uri: "mlruns", err: "local path"},
		{uri: `C:\reg`, err: "local path"},
		{uri: "/tmp/a:b", err: "local path"},
		{uri: "sqlite:///reg.db", err: "sqlite database"},
		{uri: "postgresql+psycopg2://u:secret@db/reg", err: "postgresql+psycopg2 database", secrets: []string{"secret"}},
		{uri: "ftp://x/y", err: `Model Registry features are not supported by the store with URI scheme "ftp"`},
		{uri: "s3://bucket", err: `scheme "s3"`},
		{uri: "databricks-uc://", err: "no netloc in URI"},
		{uri: "databricks-uc:prof", err: "no netloc in URI"},
		{uri: "databricks-uc://scope:key", err: "<scope>:<prefix>"},
		{uri: "http://", err: "has no host"},
		{uri: "https://user:secret@reg:50O0", err: "not a valid URL: invalid port", secrets: []string{"secret", "user"}},
	} {
		got, err := parseRegistryURI(tc.uri)
		switch {
		case tc.err == "" && err != nil:
			t.Errorf("%q: %v", tc.uri, err)
		case tc.err == "" && got != tc.want:
			t.Errorf("%q: %+v, want %+v", tc.uri, got, tc.want)
		case tc.err != "" && (err == nil || !strings.Contains(err.Error(), tc.err)):
			t.Errorf("%q: error %v, want %q", tc.uri, err, tc.err)
		}
		for _, s := range tc.secrets {
			if err != nil && strings.Contains(err.Error(), s) {
				t.Errorf("%q: error %q shows %q", tc.uri, err, s)
			}
		}
	}
}

// TestNewClientRegistryURI: MLFLOW_REGISTRY_URI and WithRegistryURI
// (which wins, the last one given; "" is the default registry) are read by
// NewClient, which refuses a registry it cannot load from.
func TestNewClientRegistryURI(t *testing.T) {
	ctx := context.Background()
	for _, tc := range []struct {
		env  string
		opts []exporter.Option
		err  string
	}{
		{env: "databricks", err: "legacy Databricks workspace registry"},
		{env: "databricks://p", err: "legacy Databricks workspace registry"},
		{env: "sqlite:///" + t.TempDir() + "/reg.db", err: "sqlite database"},
		{env: t.TempDir(), err: "local path"},
		{env: "file://" + t.TempDir(), err: "file: URI"},
		{env: "http://:5000", err: "has no host"},
		{env: "http://h:bad", err: "not a valid URL"},
		{env: "databricks-uc://", err: "no netloc"},
		{env: "http://127.0.0.1:1", opts: []exporter.Option{WithRegistryURI("databricks")}, err: "legacy Databricks workspace registry"},
		{env: "databricks", opts: []exporter.Option{WithRegistryURI("")}},
		{env: "databricks", opts: []exporter.Option{WithRegistryURI("databricks"), WithRegistryURI("http://127.0.0.1:2")}},
		{env: "  ", opts: nil}, // blank: unset
	} {
		env := map[string]string{"MLFLOW_TRACKING_URI": "http://127.0.0.1:1", "MLFLOW_REGISTRY_URI": tc.env}
		c, err := NewClient(ctx, append([]exporter.Option{exporter.WithGetenv(func(k string) string { return env[k] })}, tc.opts...)...)
		if err == nil {
			_ = c.Shutdown(ctx)
		}
		switch {
		case tc.err == "" && err != nil:
			t.Errorf("%q %d options: %v", tc.env, len(tc.opts), err)
		case tc.err != "" && (err == nil || !strings.Contains(err.Error(), tc.err)):
			t.Errorf("%q %d options: error %v, want %q", tc.env, len(tc.opts), err, tc.err)
		}
	}
	// A local tracking store stays refused with a registry server.
	env := map[string]string{"MLFLOW_TRACKING_URI": t.TempDir(), "MLFLOW_REGISTRY_URI": "http://127.0.0.1:1"}
	if c, err := NewClient(ctx, exporter.WithGetenv(func(k string) string { return env[k] })); err == nil {
		_ = c.Shutdown(ctx)
		t.Error("local tracking store with a registry server: no error")
	} else if !strings.Contains(err.Error(), "as tracking URI is not supported") {
		t.Errorf("local tracking store with a registry server: %v", err)
	}
	// WithRegistryURI is a no-op exporter option elsewhere.
	exp, err := exporter.New(ctx, exporter.WithGetenv(func(string) string { return "" }), exporter.WithTrackingURI(t.TempDir()), WithRegistryURI("databricks"))
	if err != nil {
		t.Fatal(err)
	}
	_ = exp.Shutdown(ctx)
}

// TestRegistryServer: with a registry URI naming another MLflow server, as
// MLflow's RestStore(get_default_host_creds(registry_uri)): the prompt is
// loaded from the registry, the experiment link (the prompt's tag) goes
// to the registry, the experiment is the tracking server's, and the
// LoggedModel tag is written on the tracking server (MLflow's
// link_prompt_version_to_model writes it with the tracking store).
func TestRegistryServer(t *testing.T) {
	for _, tc := range []struct {
		name string
		env  string // MLFLOW_REGISTRY_URI
		opt  bool   // the registry URI as WithRegistryURI (the variable names the tracking server)
	}{
		{name: "env"},
		{name: "option", opt: true},
	} {
		t.Run(tc.name, func(t *testing.T) {
			tracking, reg := newRegistry(t), newRegistry(t)
			env := map[string]string{"MLFLOW_REGISTRY_URI": reg.URL, "MLFLOW_ACTIVE_MODEL_ID": "m-1", "MLFLOW_TRACKING_TOKEN": "tok"}
			var opts []exporter.Option
			if tc.opt {
				env["MLFLOW_REGISTRY_URI"] = tracking.URL
				opts = append(opts, WithRegistryURI(reg.URL))
			}
			// The tracking server holds no prompt: a load from it fails.
			delete(tracking.rmTags, "qa")
			c := newClient(t, tracking, env, opts...)
			ctx := context.Background()
			p, err := c.Load(ctx, "prompts:/qa@production")
			if err != nil {
				t.Fatal(err)
			}
			if p.Name != "qa" || p.Version != 1 || p.Template != "Hi {{ name }}" {
				t.Errorf("loaded %+v", p)
			}
			if err := c.Shutdown(ctx); err != nil {
				t.Fatal(err)
			}
			want := []string{
				"GET " + pathGetRegisteredModel + "?name=qa",
				"GET " + pathGetModelVersionByAlias + "?alias=production&name=qa",
				"GET " + pathGetRegisteredModel + "?name=qa",
				"POST " + pathSetRegisteredModelTag + "?",
			}
			if got := reg.take(); !sameCalls(got, want) {
				t.Errorf("registry calls\n%s\nwant\n%s", strings.Join(got, "\n"), strings.Join(want, "\n"))
			}
			if got := reg.rmTags["qa"][tagExperimentIDs]; got != ",0," {
				t.Errorf("registry: %s = %q", tagExperimentIDs, got)
			}
			want = []string{"GET " + pathLoggedModels + "m-1?", "PATCH " + pathLoggedModels + "m-1/tags?"}
			if got := tracking.take(); !sameCalls(got, want) {
				t.Errorf("tracking calls\n%s\nwant\n%s", strings.Join(got, "\n"), strings.Join(want, "\n"))
			}
			if len(reg.patches) != 0 || len(tracking.patches) != 1 {
				t.Errorf("LoggedModel tags: registry %v, tracking %v", reg.patches, tracking.patches)
			}
		})
	}
}

func sameCalls(got, want []string) bool {
	return slices.Equal(slices.Sorted(slices.Values(got)), slices.Sorted(slices.Values(want)))
}

// TestRegistryUC: "databricks-uc" registries as MLflow's
// _get_databricks_uc_rest_store makes them — with a tracking server (MLflow
// allows it: prompts and the experiment tag in Unity Catalog, the
// experiment "0" and the LoggedModel tag on the tracking server,
// LinkPromptVersionsToModels in Unity Catalog), with a Databricks tracking
// URI and the same profile (the default), and with another profile's
// workspace.
func TestRegistryUC(t *testing.T) {
	ctx := context.Background()
	t.Run("tracking server", func(t *testing.T) {
		ws := newWorkspace(t)
		tracking := newRegistry(t)
		env := ws.PATEnv()
		env["DATABRICKS_CONFIG_FILE"] = "/nonexistent/databrickscfg"
		env["MLFLOW_REGISTRY_URI"] = "databricks-uc"
		env["MLFLOW_ACTIVE_MODEL_ID"] = "m-1"
		c, err := NewClient(ctx, exporter.WithGetenv(func(k string) string { return env[k] }), exporter.WithTrackingURI(tracking.URL),
			exporter.WithHTTPClient(ws.HTTPClient()), exporter.WithMaxRetries(0))
		if err != nil {
			t.Fatal(err)
		}
		n := len(ws.Requests())
		p, err := c.Load(ctx, "prompts:/main.p.qa/2")
		if err != nil {
			t.Fatal(err)
		}
		if p.Name != "main.p.qa" || p.Version != 2 || p.Template != "Bye {{name}}" {
			t.Errorf("loaded %+v", p)
		}
		if err := c.Shutdown(ctx); err != nil {
			t.Fatal(err)
		}
		want := []string{
			"GET prompts/main.p.qa/versions/2?name=main.p.qa&version=2",
			"GET prompts/main.p.qa?name=main.p.qa",
			"POST prompts/main.p.qa/tags",
			"POST prompt-versions/links-to-models",
		}
		if got := ucCalls(ws, n); !sameCalls(got, want) {
			t.Errorf("workspace calls\n%s\nwant\n%s", strings.Join(got, "\n"), strings.Join(want, "\n"))
		}
		if got := ws.PromptTags("main.p.qa")[tagExperimentIDs]; got != ",0," {
			t.Errorf("%s = %q", tagExperimentIDs, got)
		}
		want = []string{"GET " + pathLoggedModels + "m-1?", "PATCH " + pathLoggedModels + "m-1/tags?"}
		if got := tracking.take(); !sameCalls(got, want) {
			t.Errorf("tracking calls\n%s\nwant\n%s", strings.Join(got, "\n"), strings.Join(want, "\n"))
		}
		var links []string
		for _, l := range ws.PromptLinks() {
			links = append(links, fmt.Sprintf("%s %v %v", l.Kind, l.Versions, l.IDs))
		}
		if want := []string{"models [main.p.qa/2] [m-1]"}; !slices.Equal(links, want) {
			t.Errorf("links %v, want %v", links, want)
		}
	})
	t.Run("databricks, same profile", func(t *testing.T) {
		for _, uri := range []string{"databricks-uc", ""} {
			ws := newWorkspace(t)
			c := newUCClient(t, ws, map[string]string{"MLFLOW_REGISTRY_URI": uri})
			if _, err := c.Load(ctx, "prompts:/main.p.qa@production"); err != nil {
				t.Errorf("%q: %v", uri, err)
			}
			if c.reg != c.c || !c.uc {
				t.Errorf("%q: not the tracking workspace's registry", uri)
			}
		}
	})
	t.Run("databricks, another profile", func(t *testing.T) {
		track, reg := databrickstest.New(t), newWorkspace(t)
		cfg := filepath.Join(t.TempDir(), "databrickscfg")
		if err := os.WriteFile(cfg, []byte(fmt.Sprintf("[track]\nhost = %s\ntoken = %s\n\n[reg]\nhost = %s\ntoken = %s\n", track.URL, track.Token, reg.URL, reg.Token)), 0o600); err != nil {
			t.Fatal(err)
		}
		exp := track.CreateExperiment("/Users/a@b.c/agent", databrickstest.AWS)
		model := track.CreateLoggedModel(exp, "agent")
		env := map[string]string{"MLFLOW_TRACKING_URI": "databricks://track", "MLFLOW_REGISTRY_URI": "databricks-uc://reg",
			"DATABRICKS_CONFIG_FILE": cfg, "MLFLOW_EXPERIMENT_ID": exp, "MLFLOW_ACTIVE_MODEL_ID": model}
		// httptest servers share one certificate: one client trusts both.
		c, err := NewClient(ctx, exporter.WithGetenv(func(k string) string { return env[k] }), exporter.WithHTTPClient(track.HTTPClient()), exporter.WithMaxRetries(0))
		if err != nil {
			t.Fatal(err)
		}
		if _, err := c.Load(ctx, "prompts:/main.p.chat/1"); err != nil {
			t.Fatal(err)
		}
		if err := c.Shutdown(ctx); err != nil {
			t.Fatal(err)
		}
		if got := reg.PromptTags("main.p.chat")[tagExperimentIDs]; got != ","+exp+"," {
			t.Errorf("registry workspace: %s = %q", tagExperimentIDs, got)
		}
		if got := track.LoggedModelTags(model)["mlflow.linkedPrompts"]; got != `[{"name": "main.p.chat", "version": "1"}]` {
			t.Errorf("tracking workspace: model tag %q", got)
		}
		if got := ucCalls(track, 0); slices.ContainsFunc(got, func(s string) bool { return strings.HasPrefix(s, "GET prompts/") }) {
			t.Errorf("tracking workspace asked for prompts: %v", got)
		}
	})
	t.Run("databricks tracking, registry server", func(t *testing.T) {
		ws := newWorkspace(t)
		reg := newRegistry(t)
		exp := ws.CreateExperiment("/Users/a@b.c/agent", databrickstest.AWS)
		model := ws.CreateLoggedModel(exp, "agent")
		var mu sync.Mutex
		var reported []error
		c := newUCClient(t, ws, map[string]string{"MLFLOW_REGISTRY_URI": reg.URL, "MLFLOW_ACTIVE_MODEL_ID": model}, exporter.WithErrorHandler(func(err error) {
			mu.Lock()
			reported = append(reported, err)
			mu.Unlock()
		}))
		n := len(ws.Requests())
		if _, err := c.Load(ctx, "prompts:/qa/1"); err != nil {
			t.Fatal(err)
		}
		if err := c.Shutdown(ctx); err != nil {
			t.Fatal(err)
		}
		// No default experiment on Databricks: no experiment tag; the
		// LoggedModel tag in the workspace, no LinkPromptVersionsToModels
		// (an OSS registry's link).
		want := []string{"GET " + pathGetRegisteredModel + "?name=qa", "GET " + pathGetModelVersion + "?name=qa&version=1"}
		if got := reg.take(); !sameCalls(got, want) {
			t.Errorf("registry calls\n%s\nwant\n%s", strings.Join(got, "\n"), strings.Join(want, "\n"))
		}
		want = []string{"GET " + pathLoggedModels + model, "PATCH " + pathLoggedModels + model + "/tags"}
		if got := ucCalls(ws, n); !sameCalls(got, want) {
			t.Errorf("workspace calls\n%s\nwant\n%s", strings.Join(got, "\n"), strings.Join(want, "\n"))
		}
		mu.Lock()
		defer mu.Unlock()
		if len(reported) != 0 {
			t.Errorf("reported %v", reported)
		}
	})
}

// TestRegistryServerMLflow: against two real MLflow 3.17.2 servers, a
// tracking server and a registry server (MLFLOW_REGISTRY_URI), checked
// with MLflow's own client: the prompt registered on the registry loads;
// the experiment MLFLOW_EXPERIMENT_NAME names is created on the tracking
// server and its id tags the prompt on the registry; the LoggedModel tag
// is on the tracking server; the tracking server holds no prompt.
func TestRegistryServerMLflow(t *testing.T) {
	if testing.Short() {
		t.Skip("starts two MLflow servers")
	}
	track, reg := mlflowtest.StartServer(t), mlflowtest.StartServer(t)
	reg.RunPython(t, `
import mlflow
mlflow.genai.register_prompt(name="qa_reg", template="Hi {{ name }}", commit_message="first", tags={"team": "x"})
mlflow.genai.register_prompt(name="qa_reg", template="Bye {{ name }}")
mlflow.genai.set_prompt_alias("qa_reg", alias="production", version=1)
`)
	// Two experiments first: the tracking server's ids differ from the registry's.
	model := strings.TrimSpace(string(track.RunPython(t, `
import mlflow
mlflow.create_experiment("a"), mlflow.create_experiment("b")
print(mlflow.create_external_model(name="agent").model_id)`)))
	env := map[string]string{"MLFLOW_TRACKING_URI": track.URL, "MLFLOW_REGISTRY_URI": reg.URL,
		"MLFLOW_EXPERIMENT_NAME": "reg-go", "MLFLOW_ACTIVE_MODEL_ID": model}
	ctx := context.Background()
	c, err := NewClient(ctx, exporter.WithGetenv(func(k string) string { return env[k] }))
	if err != nil {
		t.Fatal(err)
	}
	p, err := c.Load(ctx, "prompts:/qa_reg@production")
	if err != nil {
		t.Fatal(err)
	}
	if p.Name != "qa_reg" || p.Version != 1 || p.Template != "Hi {{ name }}" || p.Tags["team"] != "x" || p.CommitMessage != "first" {
		t.Errorf("loaded %+v", p)
	}
	if _, err := c.Load(ctx, "qa_reg", WithVersion(2)); err != nil {
		t.Fatal(err)
	}
	if err := c.Shutdown(ctx); err != nil {
		t.Fatal(err)
	}
	out := track.RunPython(t, `
import json, sys, mlflow
track = mlflow.MlflowClient(tracking_uri=sys.argv[1], registry_uri=sys.argv[1])
both = mlflow.MlflowClient(tracking_uri=sys.argv[1], registry_uri=sys.argv[2])
print(json.dumps({
    "exp": track.get_experiment_by_name("reg-go").experiment_id,
    "tag": both.get_prompt("qa_reg").tags.get("_mlflow_experiment_ids"),
    "model": track.get_logged_model(sys.argv[3]).tags.get("mlflow.linkedPrompts"),
    "tracking_prompts": [p.name for p in track.search_prompts()],
    "registry_exp": mlflow.MlflowClient(tracking_uri=sys.argv[2]).get_experiment_by_name("reg-go") is not None,
}))
`, track.URL, reg.URL, model)
	var got struct {
		Exp, Tag, Model string
		TrackingPrompts []string `json:"tracking_prompts"`
		RegistryExp     bool     `json:"registry_exp"`
	}
	if err := json.Unmarshal(out, &got); err != nil {
		t.Fatalf("%v: %s", err, out)
	}
	// ",0,": register_prompt linked the registry's default experiment.
	if got.Tag != ",0,"+got.Exp+"," {
		t.Errorf("registry prompt tag %q, want the tracking server's experiment %s added", got.Tag, got.Exp)
	}
	if got.Model != `[{"name": "qa_reg", "version": "1"}, {"name": "qa_reg", "version": "2"}]` {
		t.Errorf("LoggedModel tag %q", got.Model)
	}
	if got.Exp == "1" || got.RegistryExp {
		t.Errorf("experiment %s, on the registry too: %v", got.Exp, got.RegistryExp)
	}
	if len(got.TrackingPrompts) != 0 {
		t.Errorf("tracking server prompts %v", got.TrackingPrompts)
	}
}
