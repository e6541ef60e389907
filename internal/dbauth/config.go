package dbauth

import (
	"errors"
	"fmt"
	"net/http"
	"net/url"
	"os"
	"path/filepath"
	"strings"
	"time"

	"gopkg.in/ini.v1"

	"github.com/mlflowtrace/mlflowtrace-go/internal/envconfig"
	"github.com/mlflowtrace/mlflowtrace-go/internal/transport"
)

// Names of the environment variables Resolve reads (Databricks' names),
// all read through package envconfig.
var (
	EnvHost              = envconfig.DatabricksHost.Name
	EnvToken             = envconfig.DatabricksToken.Name
	EnvClientID          = envconfig.DatabricksClientID.Name
	EnvClientSecret      = envconfig.DatabricksClientSecret.Name
	EnvUsername          = envconfig.DatabricksUsername.Name
	EnvPassword          = envconfig.DatabricksPassword.Name
	EnvAuthType          = envconfig.DatabricksAuthType.Name
	EnvConfigFile        = envconfig.DatabricksConfigFile.Name
	EnvConfigProfile     = envconfig.DatabricksProfile.Name
	EnvModelServing      = envconfig.ModelServing.Name
	EnvModelServingAlt   = envconfig.ModelServingAlt.Name
	EnvServingHost       = envconfig.ServingHost.Name
	EnvServingHostLegacy = envconfig.ServingHostLegacy.Name
	EnvServingCredsDir   = envconfig.ServingCredsDir.Name
)

// Auth types (the SDKs' names).
const (
	AuthCustom       = "custom"
	AuthPAT          = "pat"
	AuthBasic        = "basic"
	AuthOAuthM2M     = "oauth-m2m"
	AuthModelServing = "model-serving"
)

const (
	defaultConfigFile  = "~/.databrickscfg"
	defaultProfile     = "DEFAULT"
	settingsSection    = "__settings__" // the Databricks CLI's settings, not a profile
	settingsDefaultKey = "default_profile"
	servingTokenName   = "model-dependencies-oauth-token"
	defaultServingFile = "/var/credentials-secret/" + servingTokenName
)

// Options are the inputs of Resolve besides the environment.
type Options struct {
	// Getenv reads the environment (os.Getenv when nil).
	Getenv func(string) string
	// Host is an explicit workspace URL; it wins over every other source.
	Host string
	// Profile is the profile named by a databricks://<profile> tracking
	// URI; it wins over DATABRICKS_CONFIG_PROFILE.
	Profile string
	// Credentials, when set, authorises every request (auth type custom);
	// a host is still required.
	Credentials func(*http.Request) error
	// ServingTokenFile overrides the path of the Model Serving token file.
	ServingTokenFile string
	// HTTP configures the requests of the OAuth provider (discovery, token):
	// retries, timeouts, HTTPClient (e.g. a test server's TLS client). Its
	// URL and Credentials are ignored.
	HTTP transport.Config
	// Now is the clock (time.Now when nil).
	Now func() time.Time
}

// Config is a resolved workspace and its credentials.
type Config struct {
	// Host is the workspace URL: scheme and host[:port], no trailing slash.
	Host string
	// AuthType is one of the Auth* constants.
	AuthType string
	// Credentials authorise requests to Host; token credentials also
	// implement transport.Refresher.
	Credentials transport.Credentials
	// Source says where the configuration came from, for messages
	// ("environment", `profile "DEFAULT" in ~/.databrickscfg`, ...).
	Source string
	// Profile is the profile used, "" when none.
	Profile string

	closeIdle func() // the oauth-m2m provider's own HTTP client, nil otherwise
}

// CloseIdleConnections closes the idle connections the credentials opened
// themselves (the OAuth discovery and token requests of oauth-m2m), for the
// Shutdown of their user; the credentials stay usable.
func (c *Config) CloseIdleConnections() {
	if c.closeIdle != nil {
		c.closeIdle()
	}
}

// attr is one configuration value and where it came from (a variable or a
// profile key), so errors name what the user has to set.
type attr struct {
	value string
	from  string
}

type attrs struct {
	host, token, clientID, clientSecret, username, password, authType attr
}

func (a *attrs) anyAuth() bool {
	return a.token.value != "" || a.clientID.value != "" || a.clientSecret.value != "" ||
		a.username.value != "" || a.password.value != ""
}

// Resolve finds the workspace and its credentials. It reads the environment
// and, when needed, the configuration file; it does no network I/O.
func Resolve(o Options) (*Config, error) {
	e := envconfig.New(o.Getenv)
	env := func(v envconfig.String) attr {
		return attr{value: v.Get(e), from: v.Name}
	}
	var a attrs
	if h := strings.TrimSpace(o.Host); h != "" {
		a.host = attr{h, "the explicit host option"}
	} else {
		a.host = env(envconfig.DatabricksHost)
	}
	a.token = env(envconfig.DatabricksToken)
	a.clientID = env(envconfig.DatabricksClientID)
	a.clientSecret = env(envconfig.DatabricksClientSecret)
	a.username = env(envconfig.DatabricksUsername)
	a.password = env(envconfig.DatabricksPassword)
	a.authType = env(envconfig.DatabricksAuthType)

	source := "environment"
	profile := strings.TrimSpace(o.Profile)
	if profile == "" {
		profile = envconfig.DatabricksProfile.Get(e)
	}
	usedProfile := ""
	// As in the SDKs: the file is only read when a profile is named, or when
	// nothing in the environment configures the workspace.
	if profile != "" || (!a.anyAuth() && a.host.value == "" && o.Credentials == nil) {
		p, src, err := loadProfile(e, profile, &a)
		if err != nil {
			return nil, err
		}
		if p != "" {
			usedProfile = p
			source = src
		}
	}

	cfg := &Config{Source: source, Profile: usedProfile}
	now := o.Now
	if now == nil {
		now = time.Now
	}

	// Custom credentials: the caller authenticates, we only need the host.
	if o.Credentials != nil {
		host, err := normalizeHost(a.host)
		if err != nil {
			return nil, err
		}
		if host == "" {
			return nil, fmt.Errorf("databricks: custom credentials need the workspace URL: set %s or the host option", EnvHost)
		}
		cfg.Host, cfg.AuthType = host, AuthCustom
		cfg.Credentials = customCredentials(o.Credentials)
		return cfg, nil
	}

	hasPAT := a.token.value != ""
	hasBasic := a.username.value != "" && a.password.value != ""
	hasM2M := a.clientID.value != "" && a.clientSecret.value != ""
	// An auth type (DATABRICKS_AUTH_TYPE, or auth_type of the profile)
	// picks one method and ignores the others' values, as in the SDKs.
	if at := strings.TrimSpace(a.authType.value); at != "" {
		var missing string
		switch at {
		case AuthPAT:
			hasBasic, hasM2M = false, false
			if !hasPAT {
				missing = a.token.from
			}
		case AuthOAuthM2M:
			hasPAT, hasBasic = false, false
			if !hasM2M {
				missing = a.clientID.from + " and " + a.clientSecret.from
			}
		case AuthBasic:
			hasPAT, hasM2M = false, false
			if !hasBasic {
				missing = a.username.from + " and " + a.password.from
			}
		default:
			return nil, fmt.Errorf("databricks: %s=%q is not supported: use %s, %s or %s (or leave it unset)",
				a.authType.from, at, AuthPAT, AuthOAuthM2M, AuthBasic)
		}
		if missing != "" {
			return nil, fmt.Errorf("databricks: %s=%q but %s not set", a.authType.from, at, missing)
		}
	} else if err := checkHalfSet(&a); err != nil {
		return nil, err
	}
	if n := count(hasPAT, hasBasic, hasM2M); n > 1 {
		var used []string
		if hasPAT {
			used = append(used, "a token ("+a.token.from+")")
		}
		if hasBasic {
			used = append(used, "a username and password ("+a.username.from+", "+a.password.from+")")
		}
		if hasM2M {
			used = append(used, "OAuth client credentials ("+a.clientID.from+", "+a.clientSecret.from+")")
		}
		return nil, fmt.Errorf("databricks: more than one authentication method configured: %s; keep one, or name it in %s (%s, %s or %s)",
			strings.Join(used, " and "), EnvAuthType, AuthPAT, AuthOAuthM2M, AuthBasic)
	}

	host, err := normalizeHost(a.host)
	if err != nil {
		return nil, err
	}
	switch {
	case hasPAT:
		if host == "" {
			return nil, missingHost(a.token.from)
		}
		cfg.Host, cfg.AuthType = host, AuthPAT
		cfg.Credentials = newStaticToken(a.token.value)
		return cfg, nil
	case hasBasic:
		if host == "" {
			return nil, missingHost(a.username.from)
		}
		cfg.Host, cfg.AuthType = host, AuthBasic
		cfg.Credentials = basicAuth(a.username.value, a.password.value)
		return cfg, nil
	case hasM2M:
		if host == "" {
			return nil, missingHost(a.clientID.from)
		}
		p, err := newOAuthM2M(host, a.clientID.value, a.clientSecret.value, o.HTTP, now)
		if err != nil {
			return nil, err
		}
		cfg.Host, cfg.AuthType, cfg.Credentials = host, AuthOAuthM2M, p
		cfg.closeIdle = p.http.CloseIdleConnections
		return cfg, nil
	}

	// Model Serving: the last provider of the chain, as in databricks-sdk,
	// which reads the newer variable only when the older one is unset.
	inServing, set := envconfig.ModelServing.Lookup(e)
	serving := EnvModelServing // the variable that says so, for the errors
	if !set {
		inServing, serving = envconfig.ModelServingAlt.Get(e), EnvModelServingAlt
	}
	if inServing {
		path := servingTokenPath(o.ServingTokenFile, e)
		if fi, err := os.Stat(path); err == nil && !fi.IsDir() {
			// As databricks-sdk: the serving variables only fill a host
			// that is not configured (MLflow's requests go through it).
			shost := a.host
			if shost.value == "" {
				shost = env(envconfig.ServingHost)
			}
			if shost.value == "" {
				shost = env(envconfig.ServingHostLegacy)
			}
			h, err := normalizeHost(shost)
			if err != nil {
				return nil, err
			}
			if h == "" {
				return nil, fmt.Errorf("databricks: in Model Serving (%s=true) the workspace URL comes from %s or %s: neither is set", serving, EnvServingHostLegacy, EnvServingHost)
			}
			cfg.Host, cfg.AuthType, cfg.Source = h, AuthModelServing, "Databricks Model Serving"
			cfg.Credentials = newServingToken(path, now)
			return cfg, nil
		}
		if host == "" {
			return nil, fmt.Errorf("databricks: %s=true but the Model Serving token file %s does not exist; outside Model Serving set %s and %s (or %s and %s)",
				serving, path, EnvHost, EnvToken, EnvClientID, EnvClientSecret)
		}
	}

	if host != "" {
		return nil, fmt.Errorf("databricks: the workspace URL is set (%s) but no credentials: set %s (personal access token), or %s and %s (service principal OAuth)",
			a.host.from, EnvToken, EnvClientID, EnvClientSecret)
	}
	return nil, errors.New("databricks: no workspace configured: set " + EnvHost + " and " + EnvToken +
		" (personal access token) or " + EnvClientID + " and " + EnvClientSecret +
		" (service principal OAuth), or a profile in " + defaultConfigFile + " (" + EnvConfigProfile + ", " + EnvConfigFile + ")")
}

func count(bs ...bool) int {
	n := 0
	for _, b := range bs {
		if b {
			n++
		}
	}
	return n
}

func missingHost(from string) error {
	return fmt.Errorf("databricks: %s is set but the workspace URL is not: set %s (e.g. https://<workspace>.cloud.databricks.com)", from, EnvHost)
}

// checkHalfSet reports a credential pair with one half missing.
func checkHalfSet(a *attrs) error {
	pairs := []struct{ x, y attr }{
		{a.clientID, a.clientSecret},
		{a.username, a.password},
	}
	for _, p := range pairs {
		if p.x.value != "" && p.y.value == "" {
			return fmt.Errorf("databricks: %s is set but %s is not: set both", p.x.from, p.y.from)
		}
		if p.y.value != "" && p.x.value == "" {
			return fmt.Errorf("databricks: %s is set but %s is not: set both", p.y.from, p.x.from)
		}
	}
	return nil
}

// normalizeHost adds https:// when the scheme is missing, drops a trailing
// slash and the default https port, and accepts only http(s) URLs. Errors
// name where the value came from, never the value (it might be a secret
// pasted into the wrong variable).
func normalizeHost(h attr) (string, error) {
	v := strings.TrimSpace(h.value)
	if v == "" {
		return "", nil
	}
	if !strings.Contains(v, "://") {
		v = "https://" + v
	}
	u, err := url.Parse(v)
	if err != nil || u.Host == "" || (u.Scheme != "https" && u.Scheme != "http") || u.User != nil {
		return "", fmt.Errorf("databricks: %s is not a workspace URL: want https://<workspace host> (http:// for local testing)", h.from)
	}
	if u.Port() == "443" && u.Scheme == "https" {
		u.Host = u.Hostname()
	}
	u.Path = strings.TrimRight(u.Path, "/")
	u.RawPath, u.RawQuery, u.Fragment = "", "", ""
	return u.String(), nil
}

// loadProfile fills the unset attributes from a profile of the
// configuration file. It returns the profile used ("" when none) and a
// description of the source. profile is "" when no profile was named: then
// a missing file or DEFAULT section is not an error.
func loadProfile(e envconfig.Env, profile string, a *attrs) (string, string, error) {
	path := envconfig.DatabricksConfigFile.Get(e)
	shown := path
	if path == "" {
		path, shown = defaultConfigFile, defaultConfigFile
	}
	if strings.HasPrefix(path, "~/") || path == "~" {
		home, err := os.UserHomeDir()
		if err != nil {
			if profile == "" {
				return "", "", nil
			}
			return "", "", fmt.Errorf("databricks: profile %q: cannot find the home directory for %s", profile, shown)
		}
		path = filepath.Join(home, strings.TrimPrefix(path, "~"))
	}
	explicit := profile != ""
	if profile == settingsSection {
		return "", "", fmt.Errorf("databricks: profile %q: [%s] is a reserved section of %s, not a profile", profile, settingsSection, shown)
	}
	b, err := os.ReadFile(path)
	if err != nil {
		if !explicit && errors.Is(err, os.ErrNotExist) {
			return "", "", nil
		}
		if errors.Is(err, os.ErrNotExist) {
			return "", "", fmt.Errorf("databricks: profile %q: configuration file %s does not exist (%s sets its path)", profile, shown, EnvConfigFile)
		}
		return "", "", fmt.Errorf("databricks: read configuration file %s: %w", shown, err)
	}
	f, err := ini.LoadSources(ini.LoadOptions{InsensitiveKeys: true, IgnoreInlineComment: true}, b)
	if err != nil {
		return "", "", fmt.Errorf("databricks: configuration file %s is not a valid INI file", shown)
	}
	// With no profile named, the Databricks CLI's [__settings__]
	// default_profile names it (as databricks-sdk-py reads it for MLflow),
	// else [DEFAULT] is used when it has keys.
	named := "" // what named the profile, for messages
	if !explicit {
		if s, err := f.GetSection(settingsSection); err == nil {
			if p := strings.TrimSpace(s.KeysHash()[settingsDefaultKey]); p != "" { // own keys only
				if p == settingsSection {
					return "", "", fmt.Errorf("databricks: %s in [%s] of %s names the reserved section [%s], not a profile", settingsDefaultKey, settingsSection, shown, settingsSection)
				}
				profile, explicit = p, true
				named = fmt.Sprintf(" (named by %s in [%s])", settingsDefaultKey, settingsSection)
			}
		}
	}
	if profile == "" {
		profile = defaultProfile
	}
	sec, err := f.GetSection(profile)
	if err != nil || (profile == defaultProfile && len(sec.Keys()) == 0) {
		if !explicit {
			return "", "", nil
		}
		return "", "", fmt.Errorf("databricks: profile %q%s not found in %s (set %s to one of its [sections])", profile, named, shown, EnvConfigProfile)
	}
	keys := sec.KeysHash() // the section's own keys only (no inheritance)
	from := func(k string) string { return fmt.Sprintf("%s in profile %q of %s", k, profile, shown) }
	fill := func(dst *attr, k string) {
		if dst.value != "" {
			return // the environment wins
		}
		if v := strings.TrimSpace(keys[k]); v != "" {
			*dst = attr{v, from(k)}
		} else {
			dst.from += " (or " + from(k) + ")"
		}
	}
	fill(&a.host, "host")
	fill(&a.token, "token")
	fill(&a.clientID, "client_id")
	fill(&a.clientSecret, "client_secret")
	fill(&a.username, "username")
	fill(&a.password, "password")
	fill(&a.authType, "auth_type")
	return profile, fmt.Sprintf("profile %q of %s", profile, shown), nil
}

func servingTokenPath(override string, e envconfig.Env) string {
	if override != "" {
		return override
	}
	if dir := envconfig.ServingCredsDir.Get(e); dir != "" {
		return filepath.Join(dir, servingTokenName)
	}
	return defaultServingFile
}
