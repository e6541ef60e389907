package dbauth

import (
	"context"
	"encoding/base64"
	"encoding/json"
	"fmt"
	"io"
	"net/http"
	"net/http/httptest"
	"net/url"
	"os"
	"path/filepath"
	"strings"
	"sync"
	"sync/atomic"
	"testing"
	"time"

	"go.uber.org/goleak"

	"github.com/mlflowtrace/mlflowtrace-go/internal/transport"
)

func TestMain(m *testing.M) { goleak.VerifyTestMain(m) }

const (
	secretToken  = "dapi-SECRET-token-0001"
	secretClient = "dose-SECRET-client-0002"
	secretPass   = "pw-SECRET-0003"
)

func envOf(m map[string]string) func(string) string { return func(k string) string { return m[k] } }

func writeFile(t *testing.T, dir, name, content string) string {
	t.Helper()
	p := filepath.Join(dir, name)
	if err := os.WriteFile(p, []byte(content), 0o600); err != nil {
		t.Fatal(err)
	}
	return p
}

func authHeader(t *testing.T, c transport.Credentials) string {
	t.Helper()
	r, _ := http.NewRequest("GET", "http://x/", nil)
	if err := c.Authorize(r); err != nil {
		t.Fatal(err)
	}
	return r.Header.Get("Authorization")
}

func TestResolvePrecedence(t *testing.T) {
	dir := t.TempDir()
	cfgFile := writeFile(t, dir, "databrickscfg", `
[DEFAULT]
host = default.cloud.databricks.com
token = `+secretToken+`

[sp]
host = https://sp.cloud.databricks.com/
client_id = sp-id
client_secret = `+secretClient+`

[tokenonly]
token = profile-token-xyz

[child.profile]
token = child-token
`)
	// The Databricks CLI's [__settings__] default_profile names the profile
	// used when none is named (databricks-sdk-py's Config, which MLflow
	// 3.17.2 resolves credentials with, reads it; it wins over [DEFAULT]).
	settingsFile := writeFile(t, dir, "settingscfg", `
[__settings__]
default_profile = sp

[DEFAULT]
host = default.cloud.databricks.com
token = `+secretToken+`

[sp]
host = https://sp.cloud.databricks.com/
client_id = sp-id
client_secret = `+secretClient+`

[tokenonly]
host = tok.cloud.databricks.com
token = profile-token-xyz
`)
	authTypeFile := writeFile(t, dir, "authtypecfg", "[both]\nhost = both.host\ntoken = tok\nclient_id = id\nclient_secret = sec\nauth_type = oauth-m2m\n")
	servingFile := writeFile(t, dir, "model-dependencies-oauth-token", `{"OAUTH_TOKEN":[{"oauthTokenValue":"serving-token-1"}]}`)

	for _, tc := range []struct {
		name              string
		env               map[string]string
		opts              Options
		wantHost, wantTyp string
		wantAuth          string
		wantSource        string
	}{
		{
			name:     "PAT from the environment",
			env:      map[string]string{EnvHost: "my.cloud.databricks.com", EnvToken: "env-tok-1"},
			wantHost: "https://my.cloud.databricks.com", wantTyp: AuthPAT, wantAuth: "Bearer env-tok-1", wantSource: "environment",
		},
		{
			name:     "http host kept, trailing slash and :443 dropped",
			env:      map[string]string{EnvHost: "https://w.example:443/", EnvToken: "t1"},
			wantHost: "https://w.example", wantTyp: AuthPAT, wantAuth: "Bearer t1",
		},
		{
			name:     "http host accepted",
			env:      map[string]string{EnvHost: "http://127.0.0.1:8080", EnvToken: "t1"},
			wantHost: "http://127.0.0.1:8080", wantTyp: AuthPAT, wantAuth: "Bearer t1",
		},
		{
			name:     "OAuth M2M from the environment",
			env:      map[string]string{EnvHost: "https://w", EnvClientID: "id", EnvClientSecret: "s"},
			wantHost: "https://w", wantTyp: AuthOAuthM2M,
		},
		{
			name:     "basic auth from the environment",
			env:      map[string]string{EnvHost: "https://w", EnvUsername: "u", EnvPassword: secretPass},
			wantHost: "https://w", wantTyp: AuthBasic, wantAuth: "Basic " + base64.StdEncoding.EncodeToString([]byte("u:"+secretPass)),
		},
		{
			name:     "DEFAULT profile when the environment sets nothing",
			env:      map[string]string{EnvConfigFile: cfgFile},
			wantHost: "https://default.cloud.databricks.com", wantTyp: AuthPAT, wantAuth: "Bearer " + secretToken,
			wantSource: `profile "DEFAULT" of ` + cfgFile,
		},
		{
			name:     "profile from DATABRICKS_CONFIG_PROFILE",
			env:      map[string]string{EnvConfigFile: cfgFile, EnvConfigProfile: "sp"},
			wantHost: "https://sp.cloud.databricks.com", wantTyp: AuthOAuthM2M,
		},
		{
			name:     "databricks://<profile> wins over DATABRICKS_CONFIG_PROFILE",
			env:      map[string]string{EnvConfigFile: cfgFile, EnvConfigProfile: "sp"},
			opts:     Options{Profile: "DEFAULT"},
			wantHost: "https://default.cloud.databricks.com", wantTyp: AuthPAT,
		},
		{
			name:     "[__settings__] default_profile when no profile is named",
			env:      map[string]string{EnvConfigFile: settingsFile},
			wantHost: "https://sp.cloud.databricks.com", wantTyp: AuthOAuthM2M,
			wantSource: `profile "sp" of ` + settingsFile,
		},
		{
			name:     "DATABRICKS_CONFIG_PROFILE wins over [__settings__] default_profile",
			env:      map[string]string{EnvConfigFile: settingsFile, EnvConfigProfile: "tokenonly"},
			wantHost: "https://tok.cloud.databricks.com", wantTyp: AuthPAT, wantAuth: "Bearer profile-token-xyz",
		},
		{
			name:     "[__settings__] not read when the environment configures the workspace",
			env:      map[string]string{EnvConfigFile: settingsFile, EnvHost: "env.host", EnvToken: "env-tok"},
			wantHost: "https://env.host", wantTyp: AuthPAT, wantAuth: "Bearer env-tok", wantSource: "environment",
		},
		{
			name: "DATABRICKS_AUTH_TYPE=pat picks the token among several methods",
			env: map[string]string{EnvHost: "https://w", EnvToken: "t1", EnvClientID: "id", EnvClientSecret: "s",
				EnvAuthType: "pat"},
			wantHost: "https://w", wantTyp: AuthPAT, wantAuth: "Bearer t1",
		},
		{
			name: "DATABRICKS_AUTH_TYPE=oauth-m2m picks the client credentials",
			env: map[string]string{EnvHost: "https://w", EnvToken: "t1", EnvClientID: "id", EnvClientSecret: "s",
				EnvAuthType: "oauth-m2m"},
			wantHost: "https://w", wantTyp: AuthOAuthM2M,
		},
		{
			name:     "auth_type of a profile",
			env:      map[string]string{EnvConfigFile: authTypeFile, EnvConfigProfile: "both"},
			wantHost: "https://both.host", wantTyp: AuthOAuthM2M,
		},
		{
			name:     "environment wins over a named profile's keys",
			env:      map[string]string{EnvConfigFile: cfgFile, EnvConfigProfile: "tokenonly", EnvHost: "env.host"},
			wantHost: "https://env.host", wantTyp: AuthPAT, wantAuth: "Bearer profile-token-xyz",
		},
		{
			name:     "file not read when the environment configures the workspace and names no profile",
			env:      map[string]string{EnvConfigFile: cfgFile, EnvHost: "env.host", EnvToken: "env-tok"},
			wantHost: "https://env.host", wantTyp: AuthPAT, wantAuth: "Bearer env-tok", wantSource: "environment",
		},
		{
			name:     "child profile does not inherit its parent section",
			env:      map[string]string{EnvConfigFile: cfgFile, EnvConfigProfile: "child.profile", EnvHost: "h"},
			wantHost: "https://h", wantTyp: AuthPAT, wantAuth: "Bearer child-token",
		},
		{
			name:     "explicit host option wins",
			env:      map[string]string{EnvHost: "env.host", EnvToken: "t"},
			opts:     Options{Host: "https://opt.host"},
			wantHost: "https://opt.host", wantTyp: AuthPAT,
		},
		{
			name: "custom credentials win over the environment's",
			env:  map[string]string{EnvHost: "env.host", EnvToken: "t", EnvClientID: "only-half"},
			opts: Options{Credentials: func(r *http.Request) error {
				r.Header.Set("Authorization", "Bearer from-sdk")
				return nil
			}},
			wantHost: "https://env.host", wantTyp: AuthCustom, wantAuth: "Bearer from-sdk",
		},
		{
			name:     "Model Serving: host and rotating token file",
			env:      map[string]string{EnvModelServing: "true", EnvServingHostLegacy: "https://serving.host"},
			opts:     Options{ServingTokenFile: servingFile},
			wantHost: "https://serving.host", wantTyp: AuthModelServing, wantAuth: "Bearer serving-token-1", wantSource: "Databricks Model Serving",
		},
		{
			name:     "Model Serving: SERVING_CREDENTIALS_DIR and the new host variable",
			env:      map[string]string{EnvModelServingAlt: "true", EnvServingHost: "https://new.host", EnvServingHostLegacy: "https://old.host", EnvServingCredsDir: dir},
			wantHost: "https://new.host", wantTyp: AuthModelServing, wantAuth: "Bearer serving-token-1",
		},
		{
			// databricks-sdk's model-serving provider sets the host only
			// when none is configured (cfg.host is None), and MLflow sends
			// its requests through that SDK config.
			name:     "Model Serving: a configured host wins over the serving host variables",
			env:      map[string]string{EnvModelServing: "true", EnvServingHost: "https://new.host", EnvServingHostLegacy: "https://old.host", EnvHost: "configured.host"},
			opts:     Options{ServingTokenFile: servingFile},
			wantHost: "https://configured.host", wantTyp: AuthModelServing, wantAuth: "Bearer serving-token-1",
		},
		{
			name:     "a PAT wins over Model Serving (last in the chain)",
			env:      map[string]string{EnvModelServing: "true", EnvServingHostLegacy: "https://serving.host", EnvHost: "pat.host", EnvToken: "t"},
			opts:     Options{ServingTokenFile: servingFile},
			wantHost: "https://pat.host", wantTyp: AuthPAT,
		},
	} {
		t.Run(tc.name, func(t *testing.T) {
			opts := tc.opts
			opts.Getenv = envOf(tc.env)
			cfg, err := Resolve(opts)
			if err != nil {
				t.Fatal(err)
			}
			if cfg.Host != tc.wantHost || cfg.AuthType != tc.wantTyp {
				t.Errorf("host %q type %q, want %q %q", cfg.Host, cfg.AuthType, tc.wantHost, tc.wantTyp)
			}
			if tc.wantAuth != "" {
				if got := authHeader(t, cfg.Credentials); got != tc.wantAuth {
					t.Errorf("Authorization = %q, want %q", got, tc.wantAuth)
				}
			}
			if tc.wantSource != "" && cfg.Source != tc.wantSource {
				t.Errorf("source = %q, want %q", cfg.Source, tc.wantSource)
			}
		})
	}
}

func TestResolveErrorsNameVariablesNotSecrets(t *testing.T) {
	dir := t.TempDir()
	cfgFile := writeFile(t, dir, "cfg", "[half]\nhost = h\nclient_id = id\n")
	settingsFile := writeFile(t, dir, "settings", "[__settings__]\ndefault_profile = gone\n\n[DEFAULT]\nhost = h\ntoken = t\n")
	for _, tc := range []struct {
		name string
		env  map[string]string
		opts Options
		want []string
	}{
		{"nothing configured", map[string]string{EnvConfigFile: filepath.Join(dir, "none")},
			Options{}, []string{EnvHost, EnvToken, EnvClientID, EnvClientSecret, EnvConfigProfile}},
		{"host without credentials", map[string]string{EnvHost: "h"},
			Options{}, []string{EnvHost, EnvToken, EnvClientID, EnvClientSecret}},
		{"token without host", map[string]string{EnvToken: secretToken},
			Options{}, []string{EnvToken, EnvHost}},
		{"client id without secret", map[string]string{EnvHost: "h", EnvClientID: "id"},
			Options{}, []string{EnvClientID, EnvClientSecret}},
		{"client secret without id", map[string]string{EnvHost: "h", EnvClientSecret: secretClient},
			Options{}, []string{EnvClientSecret, EnvClientID}},
		{"password without username", map[string]string{EnvHost: "h", EnvPassword: secretPass},
			Options{}, []string{EnvPassword, EnvUsername}},
		{"token and client credentials", map[string]string{EnvHost: "h", EnvToken: secretToken, EnvClientID: "id", EnvClientSecret: secretClient},
			Options{}, []string{"more than one", EnvToken, EnvClientID, EnvClientSecret, EnvAuthType}},
		{"half-set profile", map[string]string{EnvConfigFile: cfgFile, EnvConfigProfile: "half"},
			Options{}, []string{`client_id in profile "half"`, `client_secret in profile "half"`}},
		{"named profile missing", map[string]string{EnvConfigFile: cfgFile},
			Options{Profile: "nope"}, []string{`profile "nope" not found`, EnvConfigProfile}},
		{"[__settings__] default_profile names a missing profile", map[string]string{EnvConfigFile: settingsFile},
			Options{}, []string{`profile "gone"`, "default_profile", "not found"}},
		{"[__settings__] is not a profile", map[string]string{EnvConfigFile: settingsFile, EnvConfigProfile: "__settings__"},
			Options{}, []string{"__settings__", "reserved"}},
		{"DATABRICKS_AUTH_TYPE=pat without a token", map[string]string{EnvHost: "h", EnvClientID: "id", EnvClientSecret: secretClient, EnvAuthType: "pat"},
			Options{}, []string{EnvAuthType, EnvToken}},
		{"DATABRICKS_AUTH_TYPE not supported", map[string]string{EnvHost: "h", EnvToken: secretToken, EnvAuthType: "azure-cli"},
			Options{}, []string{EnvAuthType, `"azure-cli"`, "not supported", "pat"}},
		{"named profile, no file", map[string]string{EnvConfigFile: filepath.Join(dir, "missing")},
			Options{Profile: "p"}, []string{"does not exist", EnvConfigFile}},
		{"host not a URL", map[string]string{EnvHost: "ftp://" + secretToken + "@h", EnvToken: "t"},
			Options{}, []string{EnvHost, "not a workspace URL"}},
		{"Model Serving without its token file", map[string]string{EnvModelServing: "true"},
			Options{ServingTokenFile: filepath.Join(dir, "absent")}, []string{EnvModelServing, "does not exist", EnvHost, EnvToken}},
		{"Model Serving (the newer variable) without its token file", map[string]string{EnvModelServingAlt: "true"},
			Options{ServingTokenFile: filepath.Join(dir, "absent")}, []string{EnvModelServingAlt + "=true", "does not exist"}},
		{"Model Serving (the newer variable) without a host", map[string]string{EnvModelServingAlt: "true"},
			Options{ServingTokenFile: cfgFile}, []string{"(" + EnvModelServingAlt + "=true)", EnvServingHostLegacy}},
		{"Model Serving without a host", map[string]string{EnvModelServing: "true"},
			Options{ServingTokenFile: cfgFile}, []string{EnvServingHostLegacy, EnvServingHost}},
		// databricks-sdk reads IS_IN_DB_MODEL_SERVING_ENV, and the newer
		// name only when that one is unset: "false" there is not serving.
		{"the newer Model Serving variable when the older one says false", map[string]string{EnvModelServing: "false", EnvModelServingAlt: "true", EnvServingHost: "h"},
			Options{ServingTokenFile: cfgFile}, []string{"no workspace configured", EnvHost}},
		{"custom credentials without a host", map[string]string{},
			Options{Credentials: func(*http.Request) error { return nil }}, []string{EnvHost}},
	} {
		t.Run(tc.name, func(t *testing.T) {
			opts := tc.opts
			opts.Getenv = envOf(tc.env)
			_, err := Resolve(opts)
			if err == nil {
				t.Fatal("want an error")
			}
			msg := err.Error()
			for _, w := range tc.want {
				if !strings.Contains(msg, w) {
					t.Errorf("error %q does not mention %q", msg, w)
				}
			}
			for _, s := range []string{secretToken, secretClient, secretPass} {
				if strings.Contains(msg, s) {
					t.Errorf("error leaks a secret: %s", msg)
				}
			}
		})
	}
}

// oidcServer is a minimal workspace OIDC for the unit tests: discovery
// documents and a client-credentials token endpoint.
type oidcServer struct {
	*httptest.Server
	tokenRequests atomic.Int32
	discovery     atomic.Int32
	expiresIn     int
	noMetadata    bool
	metadata      func(http.ResponseWriter) // answers the host metadata when set
	noDiscovery   bool
	rejectSecret  bool
	failTokens    atomic.Bool // token requests answer 400 invalid_client
	mu            sync.Mutex
	lastForm      url.Values
	lastAuthUser  string
	lastAuthPass  string
}

func newOIDC(t *testing.T) *oidcServer {
	o := &oidcServer{expiresIn: 3600}
	o.Server = httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		switch r.URL.Path {
		case pathHostMetadata:
			o.discovery.Add(1)
			if o.noMetadata {
				http.NotFound(w, r)
				return
			}
			if o.metadata != nil {
				o.metadata(w)
				return
			}
			fmt.Fprintf(w, `{"oidc_endpoint":%q,"workspace_id":"123"}`, o.URL+"/oidc")
		case pathOIDCDiscovery:
			o.discovery.Add(1)
			if o.noDiscovery {
				http.NotFound(w, r)
				return
			}
			fmt.Fprintf(w, `{"issuer":%q,"token_endpoint":%q}`, o.URL+"/oidc", o.URL+"/oidc/v1/token")
		case pathTokenFallback:
			n := o.tokenRequests.Add(1)
			_ = r.ParseForm()
			u, p, _ := r.BasicAuth()
			o.mu.Lock()
			o.lastForm, o.lastAuthUser, o.lastAuthPass = r.PostForm, u, p
			o.mu.Unlock()
			if o.failTokens.Load() {
				w.WriteHeader(400)
				fmt.Fprint(w, `{"error":"invalid_client"}`)
				return
			}
			if o.rejectSecret {
				w.WriteHeader(401)
				fmt.Fprintf(w, `{"error":"invalid_client","error_description":"Client authentication failed for secret %s"}`, p)
				return
			}
			time.Sleep(20 * time.Millisecond) // let concurrent callers pile up
			w.Header().Set("Content-Type", "application/json")
			fmt.Fprintf(w, `{"access_token":"oauth-%d","token_type":"Bearer","expires_in":%d,"scope":"all-apis"}`, n, o.expiresIn)
		default:
			http.NotFound(w, r)
		}
	}))
	t.Cleanup(o.Close)
	return o
}

func m2m(t *testing.T, o *oidcServer, now func() time.Time) *oauthM2M {
	t.Helper()
	cfg, err := Resolve(Options{
		Getenv: envOf(map[string]string{EnvHost: o.URL, EnvClientID: "sp-id", EnvClientSecret: secretClient}),
		HTTP:   transport.Config{MaxRetries: transport.Ptr(1), BackoffFactor: transport.Ptr(0.0), BackoffJitter: transport.Ptr(0.0)},
		Now:    now,
	})
	if err != nil {
		t.Fatal(err)
	}
	p := cfg.Credentials.(*oauthM2M)
	t.Cleanup(p.http.CloseIdleConnections)
	return p
}

func TestOAuthM2MTokenRequest(t *testing.T) {
	o := newOIDC(t)
	p := m2m(t, o, time.Now)
	if got := authHeader(t, p); got != "Bearer oauth-1" {
		t.Fatalf("Authorization = %q", got)
	}
	o.mu.Lock()
	defer o.mu.Unlock()
	if o.lastForm.Get("grant_type") != "client_credentials" || o.lastForm.Get("scope") != "all-apis" {
		t.Errorf("form = %v", o.lastForm)
	}
	if o.lastForm.Get("client_secret") != "" || o.lastAuthUser != "sp-id" || o.lastAuthPass != secretClient {
		t.Errorf("client credentials not in the Basic header: user %q form %v", o.lastAuthUser, o.lastForm)
	}
}

func TestOAuthM2MConcurrentCallersShareOneRefresh(t *testing.T) {
	o := newOIDC(t)
	clock := &fakeClock{t: time.Now()}
	p := m2m(t, o, clock.Now)
	const workers = 16
	var wg sync.WaitGroup
	got := make([]string, workers)
	for i := range workers {
		wg.Add(1)
		go func() {
			defer wg.Done()
			got[i] = authHeader(t, p)
		}()
	}
	wg.Wait()
	if n := o.tokenRequests.Load(); n != 1 {
		t.Errorf("%d workers made %d token requests, want 1", workers, n)
	}
	if n := o.discovery.Load(); n != 2 {
		t.Errorf("discovery requests = %d, want 2 (host metadata + OIDC document)", n)
	}
	for _, g := range got {
		if g != "Bearer oauth-1" {
			t.Fatalf("got %q", g)
		}
	}
	// The token expires: all workers again, one refresh.
	clock.Advance(time.Hour)
	for i := range workers {
		wg.Add(1)
		go func() {
			defer wg.Done()
			got[i] = authHeader(t, p)
		}()
	}
	wg.Wait()
	if n := o.tokenRequests.Load(); n != 2 || got[0] != "Bearer oauth-2" {
		t.Errorf("after expiry: %d token requests, token %q", n, got[0])
	}
}

type fakeClock struct {
	mu sync.Mutex
	t  time.Time
}

func (c *fakeClock) Now() time.Time {
	c.mu.Lock()
	defer c.mu.Unlock()
	return c.t
}

func (c *fakeClock) Advance(d time.Duration) {
	c.mu.Lock()
	c.t = c.t.Add(d)
	c.mu.Unlock()
}

func TestOAuthM2MRefreshBeforeExpiry(t *testing.T) {
	o := newOIDC(t)
	o.expiresIn = 300
	clock := &fakeClock{t: time.Now()}
	p := m2m(t, o, clock.Now)
	if got := authHeader(t, p); got != "Bearer oauth-1" {
		t.Fatal(got)
	}
	clock.Advance(300*time.Second - RefreshBefore - 5*time.Second) // still more than a minute left
	if got := authHeader(t, p); got != "Bearer oauth-1" {
		t.Errorf("refreshed too early: %s", got)
	}
	clock.Advance(10 * time.Second) // under a minute left: replaced before it expires
	if got := authHeader(t, p); got != "Bearer oauth-2" {
		t.Errorf("not refreshed before expiry: %s", got)
	}
	if n := o.discovery.Load(); n != 2 {
		t.Errorf("discovery repeated: %d requests", n)
	}
}

// TestOAuthM2MEarlyRefreshFailureKeepsValidToken: a refresh in the last
// minute of a token's life that fails leaves the token in use until it
// expires (as databricks-sdk-py's refreshable tokens do), tried again only
// after a pause, instead of failing requests a valid token could carry.
func TestOAuthM2MEarlyRefreshFailureKeepsValidToken(t *testing.T) {
	o := newOIDC(t)
	o.expiresIn = 300
	clock := &fakeClock{t: time.Now()}
	p := m2m(t, o, clock.Now)
	first := authHeader(t, p)
	o.failTokens.Store(true)
	clock.Advance(300*time.Second - 30*time.Second) // 30 s left: refreshed early, which fails
	if got := authHeader(t, p); got != first {
		t.Fatalf("after a failed early refresh: %q, want the still valid %q", got, first)
	}
	clock.Advance(time.Second)
	if got := authHeader(t, p); got != first {
		t.Fatalf("second call: %q", got)
	}
	if n := o.tokenRequests.Load(); n != 2 {
		t.Errorf("token requests = %d, want 2 (no new attempt right after a failure)", n)
	}
	clock.Advance(40 * time.Second) // expired
	r, _ := http.NewRequest("GET", "http://x/", nil)
	if err := p.Authorize(r); err == nil {
		t.Fatalf("an expired token was used: %s", r.Header.Get("Authorization"))
	}
	o.failTokens.Store(false)
	if got := authHeader(t, p); got == first || got == "" {
		t.Errorf("after the token endpoint recovered: %q", got)
	}
}

func TestOAuthM2MInvalidateAfter401(t *testing.T) {
	o := newOIDC(t)
	p := m2m(t, o, time.Now)
	first := authHeader(t, p)
	stale, _ := http.NewRequest("GET", "http://x/", nil)
	stale.Header.Set("Authorization", "Bearer some-older-token")
	p.Invalidate(stale) // not the cached token: kept
	if got := authHeader(t, p); got != first {
		t.Fatalf("an unrelated 401 dropped the token: %s", got)
	}
	rejected, _ := http.NewRequest("GET", "http://x/", nil)
	rejected.Header.Set("Authorization", first)
	p.Invalidate(rejected)
	p.Invalidate(rejected) // a second worker with the same rejected token
	if got := authHeader(t, p); got != "Bearer oauth-2" {
		t.Errorf("after 401: %s", got)
	}
	if n := o.tokenRequests.Load(); n != 2 {
		t.Errorf("token requests = %d, want 2", n)
	}
}

func TestOAuthM2MDiscoveryFallbacks(t *testing.T) {
	for _, tc := range []struct {
		name                    string
		noMetadata, noDiscovery bool
		wantDiscovery           int32
	}{
		{"host metadata", false, false, 2},
		{"no host metadata: workspace OIDC document", true, false, 2},
		{"no discovery at all: /oidc/v1/token", true, true, 2},
	} {
		t.Run(tc.name, func(t *testing.T) {
			o := newOIDC(t)
			o.noMetadata, o.noDiscovery = tc.noMetadata, tc.noDiscovery
			p := m2m(t, o, time.Now)
			if got := authHeader(t, p); got != "Bearer oauth-1" {
				t.Fatal(got)
			}
			if o.discovery.Load() != tc.wantDiscovery {
				t.Errorf("discovery requests = %d", o.discovery.Load())
			}
		})
	}
}

// The host metadata is a best-effort probe, as in databricks-sdk-py
// (Config._resolve_host_metadata, which MLflow 3.17.2 authenticates with):
// whatever it answers (an error status after the retries, a login page
// instead of JSON), the token endpoint is then found through the
// workspace's OIDC discovery document.
func TestOAuthM2MHostMetadataFailureFallsBack(t *testing.T) {
	status := func(code int) func(http.ResponseWriter) {
		return func(w http.ResponseWriter) { http.Error(w, "no", code) }
	}
	for _, tc := range []struct {
		name     string
		metadata func(http.ResponseWriter)
	}{
		{"403", status(http.StatusForbidden)},
		{"400", status(http.StatusBadRequest)},
		{"500", status(http.StatusInternalServerError)},
		{"503 after the retries", status(http.StatusServiceUnavailable)},
		{"HTML page", func(w http.ResponseWriter) {
			w.Header().Set("Content-Type", "text/html")
			fmt.Fprint(w, "<!doctype html><html>login</html>")
		}},
		{"JSON without oidc_endpoint", func(w http.ResponseWriter) { fmt.Fprint(w, `{"workspace_id":"1"}`) }},
		{"connection closed without an answer", func(w http.ResponseWriter) {
			if c, _, err := w.(http.Hijacker).Hijack(); err == nil {
				_ = c.Close()
			}
		}},
	} {
		t.Run(tc.name, func(t *testing.T) {
			o := newOIDC(t)
			o.metadata = tc.metadata
			p := m2m(t, o, time.Now)
			if got := authHeader(t, p); got != "Bearer oauth-1" {
				t.Fatalf("Authorization = %q, want the token found through the OIDC discovery document", got)
			}
			// One probe (not retried: it is best-effort), one discovery document.
			if n := o.discovery.Load(); n != 2 {
				t.Errorf("discovery requests = %d, want 2", n)
			}
		})
	}
}

func TestOAuthM2MErrorHasHintNotSecret(t *testing.T) {
	o := newOIDC(t)
	o.rejectSecret = true
	p := m2m(t, o, time.Now)
	r, _ := http.NewRequest("GET", "http://x/", nil)
	err := p.Authorize(r)
	if err == nil {
		t.Fatal("want an error")
	}
	msg := err.Error()
	if strings.Contains(msg, secretClient) {
		t.Errorf("error leaks the client secret: %s", msg)
	}
	for _, w := range []string{"sp-id", "invalid_client", "DATABRICKS_CLIENT_SECRET", "status 401"} {
		if !strings.Contains(msg, w) {
			t.Errorf("error %q does not mention %q", msg, w)
		}
	}
}

func TestServingTokenRotation(t *testing.T) {
	dir := t.TempDir()
	write := func(tok string) string {
		b, _ := json.Marshal(map[string]any{"OAUTH_TOKEN": []map[string]string{{"oauthTokenValue": tok}}})
		return writeFile(t, dir, servingTokenName, string(b))
	}
	path := write("rot-1")
	clock := &fakeClock{t: time.Now()}
	s := newServingToken(path, clock.Now)
	if got := authHeader(t, s); got != "Bearer rot-1" {
		t.Fatal(got)
	}
	write("rot-2") // the platform rotates the file
	clock.Advance(servingRefresh - time.Second)
	if got := authHeader(t, s); got != "Bearer rot-1" {
		t.Errorf("re-read before the refresh interval: %s", got)
	}
	clock.Advance(2 * time.Second)
	if got := authHeader(t, s); got != "Bearer rot-2" {
		t.Errorf("not re-read after the refresh interval: %s", got)
	}
	write("rot-3")
	rejected, _ := http.NewRequest("GET", "http://x/", nil)
	rejected.Header.Set("Authorization", "Bearer rot-2")
	s.Invalidate(rejected)
	if got := authHeader(t, s); got != "Bearer rot-3" {
		t.Errorf("a 401 did not make it re-read the file: %s", got)
	}
	// Mid-rotation garbage keeps the last good token.
	writeFile(t, dir, servingTokenName, `{"OAUTH_TOK`)
	clock.Advance(servingRefresh)
	if got := authHeader(t, s); got != "Bearer rot-3" {
		t.Errorf("unreadable file: %s", got)
	}
}

func TestServingTokenErrorsShowNoContent(t *testing.T) {
	dir := t.TempDir()
	for name, content := range map[string]string{
		"not json":  `OAUTH_TOKEN=` + secretToken,
		"no token":  `{"OAUTH_TOKEN":[]}`,
		"bad shape": `{"OAUTH_TOKEN":"` + secretToken + `"}`,
	} {
		t.Run(name, func(t *testing.T) {
			s := newServingToken(writeFile(t, dir, "f", content), time.Now)
			r, _ := http.NewRequest("GET", "http://x/", nil)
			err := s.Authorize(r)
			if err == nil || strings.Contains(err.Error(), secretToken) {
				t.Errorf("err = %v", err)
			}
		})
	}
	s := newServingToken(filepath.Join(dir, "absent"), time.Now)
	r, _ := http.NewRequest("GET", "http://x/", nil)
	if err := s.Authorize(r); err == nil {
		t.Error("missing file: want an error")
	}
}

// TestCredentialsThroughTransport: a 401 with an expired OAuth token makes
// the transport refresh it once and the call succeeds.
func TestCredentialsThroughTransport(t *testing.T) {
	o := newOIDC(t)
	p := m2m(t, o, time.Now)
	var calls atomic.Int32
	api := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		calls.Add(1)
		if r.Header.Get("Authorization") != "Bearer oauth-2" {
			w.WriteHeader(401)
			_, _ = io.WriteString(w, `{"error_code":"UNAUTHENTICATED","message":"Token expired"}`)
		}
	}))
	defer api.Close()
	c, err := transport.New(transport.Config{URL: api.URL, Credentials: p})
	if err != nil {
		t.Fatal(err)
	}
	defer c.CloseIdleConnections()
	if _, err := c.Do(context.Background(), &transport.Request{Path: "/api/2.0/x"}); err != nil {
		t.Fatal(err)
	}
	if calls.Load() != 2 || p.fetchCount() != 2 {
		t.Errorf("api calls %d, token fetches %d", calls.Load(), p.fetchCount())
	}
}

// TestCustomCredentialsAskedAgainAfter401: a caller's function (e.g.
// databricks-sdk-go's Authenticate) is asked again once after a 401; a
// function that keeps failing costs exactly one extra request.
func TestCustomCredentialsAskedAgainAfter401(t *testing.T) {
	tests := []struct {
		name      string
		tokens    []string // what the function returns, call after call
		wantErr   bool
		wantCalls int32
	}{
		{name: "function refreshed its token", tokens: []string{"stale", "good"}, wantCalls: 2},
		{name: "function keeps a rejected token", tokens: []string{"stale", "stale", "stale"}, wantErr: true, wantCalls: 2},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			var calls, asked atomic.Int32
			api := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
				calls.Add(1)
				if r.Header.Get("Authorization") != "Bearer good" {
					w.WriteHeader(401)
				}
			}))
			defer api.Close()
			cfg, err := Resolve(Options{Getenv: func(string) string { return "" }, Host: api.URL,
				Credentials: func(r *http.Request) error {
					n := int(asked.Add(1)) - 1
					r.Header.Set("Authorization", "Bearer "+tt.tokens[min(n, len(tt.tokens)-1)])
					return nil
				}})
			if err != nil {
				t.Fatal(err)
			}
			c, err := transport.New(transport.Config{URL: cfg.Host, Credentials: cfg.Credentials})
			if err != nil {
				t.Fatal(err)
			}
			defer c.CloseIdleConnections()
			_, err = c.Do(context.Background(), &transport.Request{Path: "/api/2.0/x"})
			if (err != nil) != tt.wantErr || calls.Load() != tt.wantCalls {
				t.Errorf("err %v, api calls %d; want error %v, %d calls", err, calls.Load(), tt.wantErr, tt.wantCalls)
			}
		})
	}
}

// TestCredentialsPrintNoSecret: a resolved configuration printed with fmt
// (a log line, a debug dump) shows no token, secret or password, also once
// the credentials have been used.
func TestCredentialsPrintNoSecret(t *testing.T) {
	dir := t.TempDir()
	b, _ := json.Marshal(map[string]any{"OAUTH_TOKEN": []map[string]string{{"oauthTokenValue": secretToken}}})
	servingFile := writeFile(t, dir, servingTokenName, string(b))
	for _, tc := range []struct {
		name string
		env  map[string]string
		opts Options
	}{
		{"pat", map[string]string{EnvHost: "h", EnvToken: secretToken}, Options{}},
		{"basic", map[string]string{EnvHost: "h", EnvUsername: "u", EnvPassword: secretPass}, Options{}},
		{"oauth-m2m", map[string]string{EnvHost: "h", EnvClientID: "id", EnvClientSecret: secretClient}, Options{}},
		{"model-serving", map[string]string{EnvModelServing: "true", EnvServingHost: "h"}, Options{ServingTokenFile: servingFile}},
	} {
		t.Run(tc.name, func(t *testing.T) {
			opts := tc.opts
			opts.Getenv = envOf(tc.env)
			cfg, err := Resolve(opts)
			if err != nil {
				t.Fatal(err)
			}
			if tc.name != "oauth-m2m" { // its token needs a server: the secret is what counts
				authHeader(t, cfg.Credentials)
			}
			got := fmt.Sprintf("%v %+v %#v", cfg.Credentials, *cfg, cfg.Credentials)
			for _, s := range []string{secretToken, secretClient, secretPass} {
				if strings.Contains(got, s) {
					t.Errorf("printed configuration shows a secret: %s", got)
				}
			}
		})
	}
}
