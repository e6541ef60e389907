package databrickstest

import (
	"bytes"
	"encoding/json"
	"go/format"
	"io"
	"net/http"
	"net/url"
	"os"
	"os/exec"
	"path/filepath"
	"slices"
	"strings"
	"testing"

	"go.uber.org/goleak"

	"github.com/mlflowtrace/mlflowtrace-go/internal/pyenv"
)

func TestMain(m *testing.M) { goleak.VerifyTestMain(m) }

// TestProtosUpToDate: the field lists the fake checks JSON against are
// those of the pinned MLflow's protobuf messages.
func TestProtosUpToDate(t *testing.T) {
	py := pyenv.Python(t)
	root, err := pyenv.ModuleRoot()
	if err != nil {
		t.Fatal(err)
	}
	out, err := exec.Command(py, filepath.Join(root, "internal/databrickstest/testdata/genprotos.py")).Output()
	if err != nil {
		t.Fatal(err)
	}
	want, err := format.Source(out)
	if err != nil {
		t.Fatal(err)
	}
	cur, err := os.ReadFile("protos_gen.go")
	if err != nil {
		t.Fatal(err)
	}
	if !bytes.Equal(bytes.TrimSpace(want), bytes.TrimSpace(cur)) {
		t.Fatal("protos_gen.go is stale: run .venv/bin/python internal/databrickstest/testdata/genprotos.py | gofmt > internal/databrickstest/protos_gen.go")
	}
}

func do(t *testing.T, w *Workspace, method, url, auth string, body string, hdr map[string]string) (int, string) {
	t.Helper()
	req, _ := http.NewRequest(method, url, strings.NewReader(body))
	if auth != "" {
		req.Header.Set("Authorization", auth)
	}
	for k, v := range hdr {
		req.Header.Set(k, v)
	}
	resp, err := w.HTTPClient().Do(req)
	if err != nil {
		t.Fatal(err)
	}
	defer resp.Body.Close()
	b, _ := io.ReadAll(resp.Body)
	return resp.StatusCode, string(b)
}

const validInfo = `{"trace_id": "tr-0123456789abcdef0123456789abcdef", "trace_location": {"type": "MLFLOW_EXPERIMENT", "mlflow_experiment": {"experiment_id": "%s"}}, "request_time": "2026-01-01T00:00:00.123Z", "execution_duration": "1.5s", "state": "OK", "trace_metadata": {"mlflow.trace_schema.version": "3"}, "tags": {"mlflow.traceName": "a"}}`

// TestStrictStartTraceV3 pins what the fake rejects, so a client bug cannot
// pass unnoticed.
func TestStrictStartTraceV3(t *testing.T) {
	w := New(t)
	exp := w.CreateExperiment("e", AWS)
	bearer := "Bearer " + w.Token
	info := strings.Replace(validInfo, "%s", exp, 1)
	ct := map[string]string{"Content-Type": "application/json"}
	for _, tc := range []struct {
		name, auth, body string
		want             int
		wantMsg          string
	}{
		{"valid", bearer, `{"trace": {"trace_info": ` + info + `}}`, 200, "mlflow.artifactLocation"},
		{"camelCase names", bearer, `{"trace": {"traceInfo": ` + strings.NewReplacer("trace_id", "traceId", "request_time", "requestTime").Replace(info) + `}}`, 200, ""},
		{"no token", "", `{}`, 401, "UNAUTHENTICATED"},
		{"wrong token", "Bearer dapi-wrong", `{}`, 401, "Invalid access token"},
		{"unknown top-level field", bearer, `{"trace": {"trace_info": ` + info + `}, "extra": 1}`, 400, "extra: unknown field"},
		{"unknown nested field", bearer, `{"trace": {"trace_info": ` + strings.Replace(info, `"state": "OK"`, `"state": "OK", "experiment_id": "1"`, 1) + `}}`, 400, "trace.trace_info.experiment_id: unknown field"},
		{"bad enum", bearer, `{"trace": {"trace_info": ` + strings.Replace(info, `"OK"`, `"DONE"`, 1) + `}}`, 400, "not a value of enum"},
		{"bad duration", bearer, `{"trace": {"trace_info": ` + strings.Replace(info, `"1.5s"`, `"1500ms"`, 1) + `}}`, 400, "Duration"},
		{"bad timestamp", bearer, `{"trace": {"trace_info": ` + strings.Replace(info, `2026-01-01T00:00:00.123Z`, `1767225600123`, 1) + `}}`, 400, "timestamp"},
		{"metadata value not a string", bearer, `{"trace": {"trace_info": ` + strings.Replace(info, `"3"}`, `3}`, 1) + `}}`, 400, "map value must be a string"},
		{"no trace", bearer, `{}`, 400, "'trace'"},
		{"no state", bearer, `{"trace": {"trace_info": ` + strings.Replace(info, `"state": "OK", `, ``, 1) + `}}`, 400, "state is required"},
		{"bad trace id", bearer, `{"trace": {"trace_info": ` + strings.Replace(info, `tr-0123`, `tr-XY23`, 1) + `}}`, 400, "Invalid trace_id"},
		{"unknown experiment", bearer, `{"trace": {"trace_info": ` + strings.Replace(validInfo, "%s", "999", 1) + `}}`, 404, "RESOURCE_DOES_NOT_EXIST"},
		{"preview too long", bearer, `{"trace": {"trace_info": ` + strings.Replace(info, `"state"`, `"request_preview": "`+strings.Repeat("a", 10001)+`", "state"`, 1) + `}}`, 400, "10000"},
	} {
		t.Run(tc.name, func(t *testing.T) {
			code, body := do(t, w, "POST", w.URL+"/api/3.0/mlflow/traces", tc.auth, tc.body, ct)
			if code != tc.want || !strings.Contains(body, tc.wantMsg) {
				t.Errorf("%d %s, want %d containing %q", code, body, tc.want, tc.wantMsg)
			}
		})
	}
}

// TestObjectStoresAreStrict: signed URLs only, the listed headers, no
// workspace credentials, each cloud's call sequence.
func TestObjectStoresAreStrict(t *testing.T) {
	w := New(t)
	bearer := "Bearer " + w.Token
	ct := map[string]string{"Content-Type": "application/json"}
	creds := func(cloud Cloud) (string, map[string]string) {
		exp := w.CreateExperiment(string(cloud), cloud)
		id := "tr-" + strings.Repeat(string("0123456789abcdef"[len(exp)%16]), 31) + exp[len(exp)-1:]
		info := strings.Replace(strings.Replace(validInfo, "%s", exp, 1), "tr-0123456789abcdef0123456789abcdef", id, 1)
		if code, body := do(t, w, "POST", w.URL+"/api/3.0/mlflow/traces", bearer, `{"trace": {"trace_info": `+info+`}}`, ct); code != 200 {
			t.Fatalf("start: %d %s", code, body)
		}
		code, body := do(t, w, "GET", w.URL+"/api/2.0/mlflow/traces/"+id+"/credentials-for-data-upload", bearer, "", nil)
		if code != 200 {
			t.Fatalf("creds: %d %s", code, body)
		}
		var out struct {
			CredentialInfo struct {
				SignedURI string `json:"signed_uri"`
				Headers   []struct{ Name, Value string }
			} `json:"credential_info"`
		}
		_ = json.Unmarshal([]byte(body), &out)
		if err := checkMessage([]byte(body), "mlflow.GetCredentialsForTraceDataUpload.Response"); err != nil {
			t.Fatalf("credentials response is not MLflow's message: %v", err)
		}
		h := map[string]string{}
		for _, kv := range out.CredentialInfo.Headers {
			h[kv.Name] = kv.Value
		}
		return out.CredentialInfo.SignedURI, h
	}

	u, h := creds(AWS)
	if code, _ := do(t, w, "PUT", u, "", "{}", nil); code != 403 {
		t.Errorf("AWS without the signed header: %d", code)
	}
	if code, _ := do(t, w, "PUT", u, bearer, "{}", h); code != 400 {
		t.Errorf("AWS with an Authorization header: %d", code)
	}
	pu, _ := url.Parse(u)
	q := pu.Query()
	// Change its first hex digit: writing "00" over the first two left
	// one signature in 256 intact (a 200 seen once in a test run).
	sig := q.Get("X-Amz-Signature")
	forged := "0"
	if sig[0] == '0' {
		forged = "1"
	}
	q.Set("X-Amz-Signature", forged+sig[1:])
	pu.RawQuery = q.Encode()
	if code, _ := do(t, w, "PUT", pu.String(), "", "{}", h); code != 403 {
		t.Errorf("AWS with a forged signature: %d", code)
	}
	if code, _ := do(t, w, "PUT", u, "", "{}", h); code != 200 {
		t.Errorf("AWS valid: %d", code)
	}

	u, h = creds(Azure)
	if code, body := do(t, w, "PUT", u, "", "{}", h); code != 400 || !strings.Contains(body, "x-ms-blob-type") {
		t.Errorf("Azure Put Blob without x-ms-blob-type: %d %s", code, body)
	}
	if code, _ := do(t, w, "PUT", u+"&comp=blocklist", "", "<BlockList><Latest>bm9wZQ==</Latest></BlockList>", h); code != 400 {
		t.Errorf("Azure block list of an unstaged block: %d", code)
	}

	u, h = creds(ADLS)
	if code, _ := do(t, w, "PATCH", u+"&action=append&position=0", "", "{}", h); code != 404 {
		t.Errorf("ADLS append before create: %d", code)
	}
	if code, _ := do(t, w, "PUT", u+"&resource=file", "", "", h); code != 201 {
		t.Errorf("ADLS create: %d", code)
	}
	if code, _ := do(t, w, "PATCH", u+"&action=append&position=5", "", "{}", h); code != 400 {
		t.Errorf("ADLS append at a wrong position: %d", code)
	}
	if code, _ := do(t, w, "PATCH", u+"&action=append&position=0", "", "{}", h); code != 202 {
		t.Errorf("ADLS append: %d", code)
	}
	if code, _ := do(t, w, "PATCH", u+"&action=flush&position=1", "", "", h); code != 400 {
		t.Errorf("ADLS flush at a wrong position: %d", code)
	}
	if code, _ := do(t, w, "PATCH", u+"&action=flush&position=2", "", "", h); code != 200 {
		t.Errorf("ADLS flush: %d", code)
	}
	if n := len(w.Traces()); n != 3 {
		t.Fatalf("%d traces", n)
	}
	for _, tr := range w.Traces() {
		if (tr.DataVia == string(AWS) || tr.DataVia == string(ADLS)) && string(tr.Data) != "{}" {
			t.Errorf("%s stored %q", tr.DataVia, tr.Data)
		}
	}
}

func TestOAuthTokenEndpoint(t *testing.T) {
	w := New(t)
	form := "grant_type=client_credentials&scope=all-apis"
	fh := map[string]string{"Content-Type": "application/x-www-form-urlencoded"}
	req := func(user, pass string) (int, string) {
		r, _ := http.NewRequest("POST", w.URL+"/oidc/v1/token", strings.NewReader(form))
		r.SetBasicAuth(user, pass)
		for k, v := range fh {
			r.Header.Set(k, v)
		}
		resp, err := w.HTTPClient().Do(r)
		if err != nil {
			t.Fatal(err)
		}
		defer resp.Body.Close()
		b, _ := io.ReadAll(resp.Body)
		return resp.StatusCode, string(b)
	}
	if code, body := req(w.ClientID, "wrong"); code != 401 || !strings.Contains(body, "invalid_client") {
		t.Errorf("wrong secret: %d %s", code, body)
	}
	code, body := req(w.ClientID, w.ClientSecret)
	var tok struct {
		AccessToken string `json:"access_token"`
		ExpiresIn   int    `json:"expires_in"`
	}
	_ = json.Unmarshal([]byte(body), &tok)
	if code != 200 || tok.AccessToken == "" || tok.ExpiresIn != 3600 {
		t.Fatalf("token: %d %s", code, body)
	}
	exp := w.CreateExperiment("e", AWS)
	get := w.URL + "/api/2.0/mlflow/experiments/get?experiment_id=" + exp
	if code, _ := do(t, w, "GET", get, "Bearer "+tok.AccessToken, "", nil); code != 200 {
		t.Errorf("with the token: %d", code)
	}
	w.ExpireTokens()
	if code, body := do(t, w, "GET", get, "Bearer "+tok.AccessToken, "", nil); code != 401 || !strings.Contains(body, "expired") {
		t.Errorf("expired token: %d %s", code, body)
	}
}

// TestStrictPromptRegistry pins what the Unity Catalog prompt routes reject.
func TestStrictPromptRegistry(t *testing.T) {
	w := New(t)
	w.CreateUCSchema("main", "p")
	if _, err := w.AddPromptVersion("main.p.qa", "Hi {{ x }}", "first", map[string]string{"_mlflow_prompt_type": "text"}); err != nil {
		t.Fatal(err)
	}
	w.SetPromptAlias("main.p.qa", "prod", 1)
	if _, err := w.AddPromptVersion("qa", "x", "", nil); err == nil {
		t.Error("AddPromptVersion accepted a name without catalog and schema")
	}
	bearer := "Bearer " + w.Token
	ct := map[string]string{"Content-Type": "application/json"}
	const base = "/api/2.0/mlflow/unity-catalog/"
	for _, tc := range []struct {
		name, method, path, body string
		want                     int
		wantMsg                  string
	}{
		{"get version", "GET", "prompts/main.p.qa/versions/1?name=main.p.qa&version=1", "", 200, `"template":"\"Hi {{ x }}\""`},
		{"get version with its aliases", "GET", "prompts/main.p.qa/versions/1", "", 200, `"aliases":[{"alias":"prod","version":"1"}]`},
		{"get by alias", "GET", "prompts/main.p.qa/versions/by-alias/prod?name=main.p.qa&alias=prod", "", 200, `"version":"1"`},
		{"get prompt", "GET", "prompts/main.p.qa?name=main.p.qa", "", 200, `"name":"main.p.qa"`},
		{"missing version", "GET", "prompts/main.p.qa/versions/2", "", 404, "RESOURCE_DOES_NOT_EXIST"},
		{"missing alias", "GET", "prompts/main.p.qa/versions/by-alias/latest", "", 404, "RESOURCE_DOES_NOT_EXIST"},
		{"missing prompt", "GET", "prompts/main.p.nope/versions/1", "", 404, "RESOURCE_DOES_NOT_EXIST"},
		{"version not a number", "GET", "prompts/main.p.qa/versions/v1", "", 400, "INVALID_PARAMETER_VALUE"},
		{"unknown query parameter", "GET", "prompts/main.p.qa/versions/1?name=main.p.qa&versoin=1", "", 400, `no field \"versoin\"`},
		{"query differs from the path", "GET", "prompts/main.p.qa/versions/1?name=main.p.other&version=1", "", 400, "differs from the path"},
		{"create prompt", "POST", "prompts", `{"name": "main.p.new", "prompt": {"name": "main.p.new", "tags": [{"key": "a", "value": "b"}]}}`, 200, `"tags":[{"key":"a","value":"b"}]`},
		{"create existing prompt", "POST", "prompts", `{"name": "main.p.qa", "prompt": {"name": "main.p.qa"}}`, 409, "ALREADY_EXISTS"},
		{"create prompt, two-part name", "POST", "prompts", `{"prompt": {"name": "p.new"}}`, 400, "INVALID_PARAMETER_VALUE"},
		{"create prompt, unknown schema", "POST", "prompts", `{"prompt": {"name": "main.q.new"}}`, 404, "RESOURCE_DOES_NOT_EXIST"},
		{"create prompt, unknown field", "POST", "prompts", `{"prompt": {"name": "main.p.x", "experiment_id": "1"}}`, 400, "prompt.experiment_id: unknown field"},
		{"create version", "POST", "prompts/main.p.qa/versions", `{"name": "main.p.qa", "prompt_version": {"name": "main.p.qa", "template": "\"Bye\""}}`, 200, `"version":"2"`},
		{"create version without template", "POST", "prompts/main.p.qa/versions", `{"prompt_version": {"name": "main.p.qa"}}`, 400, "template"},
		{"create version, version given", "POST", "prompts/main.p.qa/versions", `{"version": "3", "prompt_version": {"template": "\"x\""}}`, 400, "version: unknown field"},
		{"set alias", "POST", "prompts/main.p.qa/aliases/prod", `{"name": "main.p.qa", "alias": "prod", "version": "2"}`, 200, "{}"},
		{"set alias, missing version", "POST", "prompts/main.p.qa/aliases/prod", `{"name": "main.p.qa", "alias": "prod", "version": "9"}`, 404, "RESOURCE_DOES_NOT_EXIST"},
		{"set alias, version an int", "POST", "prompts/main.p.qa/aliases/prod", `{"version": 2}`, 400, "MALFORMED_REQUEST"},
		{"set tag", "POST", "prompts/main.p.qa/tags", `{"name": "main.p.qa", "key": "_mlflow_experiment_ids", "value": ",7,"}`, 200, "{}"},
		{"set tag without key", "POST", "prompts/main.p.qa/tags", `{"name": "main.p.qa", "value": "x"}`, 400, "key"},
		{"link to trace, unknown trace", "POST", "prompt-versions/links-to-traces", `{"prompt_versions": [{"name": "main.p.qa", "version": "1"}], "trace_ids": ["tr-0123456789abcdef0123456789abcdef"]}`, 404, "Trace"},
		{"link to trace, entry without version", "POST", "prompt-versions/links-to-traces", `{"prompt_versions": [{"name": "main.p.qa"}], "trace_ids": ["tr-1"]}`, 400, "lacks"},
		{"link to model", "POST", "prompt-versions/links-to-models", `{"prompt_versions": [{"name": "main.p.qa", "version": "1"}], "model_ids": ["m-1"]}`, 200, "{}"},
		{"link to model, missing version", "POST", "prompt-versions/links-to-models", `{"prompt_versions": [{"name": "main.p.qa", "version": "7"}], "model_ids": ["m-1"]}`, 404, "RESOURCE_DOES_NOT_EXIST"},
		{"link to model, no models", "POST", "prompt-versions/links-to-models", `{"prompt_versions": [{"name": "main.p.qa", "version": "1"}]}`, 400, "model_ids"},
		{"unknown link route", "POST", "prompt-versions/links-to-experiments", `{}`, 404, "ENDPOINT_NOT_FOUND"},
		{"delete prompt: not modelled", "DELETE", "prompts/main.p.qa", "", 501, "NOT_IMPLEMENTED"},
	} {
		t.Run(tc.name, func(t *testing.T) {
			code, body := do(t, w, tc.method, w.URL+base+tc.path, bearer, tc.body, ct)
			if code != tc.want || !strings.Contains(body, tc.wantMsg) {
				t.Errorf("%d %s, want %d containing %q", code, body, tc.want, tc.wantMsg)
			}
		})
	}
	if got := w.PromptTags("main.p.qa"); got["_mlflow_experiment_ids"] != ",7," {
		t.Errorf("tags %v", got)
	}
	if got := w.PromptLinks(); len(got) != 1 || got[0].Kind != "models" || got[0].Versions[0] != "main.p.qa/1" || got[0].IDs[0] != "m-1" {
		t.Errorf("links %+v", got)
	}
	if code, _ := do(t, w, "GET", w.URL+base+"prompts/main.p.qa/versions/1", "", "", nil); code != 401 {
		t.Errorf("no token: %d", code)
	}
}

// TestLoggedModels pins GetLoggedModel and SetLoggedModelTags, the two
// LoggedModel routes a prompt's link to a model uses.
func TestLoggedModels(t *testing.T) {
	w := New(t)
	id := w.CreateLoggedModel("1001", "agent")
	bearer := "Bearer " + w.Token
	ct := map[string]string{"Content-Type": "application/json"}
	base := w.URL + "/api/2.0/mlflow/logged-models/"
	for _, tc := range []struct {
		name, method, path, body string
		want                     int
		wantMsg                  string
	}{
		{"get", "GET", id, "", 200, `"model_id":"` + id + `"`},
		{"get, allow_deleted", "GET", id + "?allow_deleted=true", "", 200, `"status":"LOGGED_MODEL_READY"`},
		{"get, unknown parameter", "GET", id + "?x=1", "", 400, "INVALID_PARAMETER_VALUE"},
		{"get missing", "GET", "m-nope", "", 404, "RESOURCE_DOES_NOT_EXIST"},
		{"set tags", "PATCH", id + "/tags", `{"tags": [{"key": "mlflow.linkedPrompts", "value": "[]"}]}`, 200, "{}"},
		{"set tags, unknown field", "PATCH", id + "/tags", `{"tags": [{"key": "a", "value": "b", "x": 1}]}`, 400, "unknown field"},
		{"set tags, no key", "PATCH", id + "/tags", `{"tags": [{"value": "b"}]}`, 400, "without a key"},
		{"set tags, missing model", "PATCH", "m-nope/tags", `{"tags": []}`, 404, "RESOURCE_DOES_NOT_EXIST"},
		{"create: not served", "POST", "", `{}`, 501, "NOT_IMPLEMENTED"},
	} {
		t.Run(tc.name, func(t *testing.T) {
			code, body := do(t, w, tc.method, base+tc.path, bearer, tc.body, ct)
			if code != tc.want || !strings.Contains(body, tc.wantMsg) {
				t.Errorf("%d %s, want %d containing %q", code, body, tc.want, tc.wantMsg)
			}
		})
	}
	if got := w.LoggedModelTags(id); len(got) != 1 || got["mlflow.linkedPrompts"] != "[]" {
		t.Errorf("tags %v", got)
	}
}

// TestFaultAfter: a fault lets the first After matching requests through,
// then answers Times of them, then none.
func TestFaultAfter(t *testing.T) {
	w := New(t)
	w.Fail(Fault{Method: "GET", PathPrefix: "/api/2.0/mlflow/experiments/get", Status: 503, After: 2, Times: 2})
	bearer := "Bearer " + w.Token
	var got []int
	for range 6 {
		code, _ := do(t, w, "GET", w.URL+"/api/2.0/mlflow/experiments/get?experiment_id=999", bearer, "", nil)
		got = append(got, code)
	}
	if want := []int{404, 404, 503, 503, 404, 404}; !slices.Equal(got, want) {
		t.Errorf("statuses %v, want %v", got, want)
	}
}
