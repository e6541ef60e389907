package dbauth

import (
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"net/http"
	"strings"
	"sync"
	"time"

	"golang.org/x/oauth2"
	"golang.org/x/oauth2/clientcredentials"

	"github.com/mlflowtrace/mlflowtrace-go/internal/transport"
)

// Discovery and token endpoints (Databricks' unified auth).
const (
	pathHostMetadata  = "/.well-known/databricks-config"
	pathOIDCDiscovery = "/oidc/.well-known/oauth-authorization-server"
	pathTokenFallback = "/oidc/v1/token"
	wellKnownAuthzSrv = "/.well-known/oauth-authorization-server"
	scopeAllAPIs      = "all-apis"
)

// RefreshBefore is how long before its expiry an OAuth token is replaced.
const RefreshBefore = time.Minute

// refreshPause is how long a token whose early refresh failed is used
// before the refresh is tried again (it stays in use until it expires).
const refreshPause = 10 * time.Second

// oauthM2M is the OAuth machine-to-machine provider: client credentials of a
// service principal exchanged for short-lived tokens.
type oauthM2M struct {
	host     string
	clientID string
	cc       clientcredentials.Config // TokenURL filled on first use
	http     *transport.Client        // no credentials; discovery and token requests
	now      func() time.Time

	mu       sync.Mutex
	tok      *oauth2.Token
	inflight *fetch
	tokenURL string    // discovered, "" until then
	retryAt  time.Time // after a failed early refresh: keep tok until then
	fetches  int       // token requests made (tests)
}

// fetch is one token request in progress; concurrent callers wait for it.
type fetch struct {
	done chan struct{}
	tok  *oauth2.Token
	err  error
}

var _ transport.Refresher = (*oauthM2M)(nil)

func newOAuthM2M(host, clientID, secret string, hc transport.Config, now func() time.Time) (*oauthM2M, error) {
	hc.URL = host
	hc.Credentials = nil
	hc.Token, hc.Username, hc.Password = nil, nil, nil
	hc.Secrets = append(append([]string(nil), hc.Secrets...), secret)
	c, err := transport.New(hc)
	if err != nil {
		return nil, fmt.Errorf("databricks oauth: %w", err)
	}
	return &oauthM2M{
		host:     host,
		clientID: clientID,
		cc: clientcredentials.Config{
			ClientID:     clientID,
			ClientSecret: secret,
			Scopes:       []string{scopeAllAPIs},
			AuthStyle:    oauth2.AuthStyleInHeader,
		},
		http: c,
		now:  now,
	}, nil
}

// String and GoString never show the client secret or a token.
func (p *oauthM2M) String() string   { return "dbauth.oauth-m2m(" + p.clientID + ")" }
func (p *oauthM2M) GoString() string { return p.String() }

// Authorize sets "Authorization: Bearer <access token>", fetching a token
// first when there is none or it expires within RefreshBefore.
func (p *oauthM2M) Authorize(r *http.Request) error {
	tok, err := p.token(r.Context())
	if err != nil {
		return err
	}
	r.Header.Set("Authorization", tok.Type()+" "+tok.AccessToken)
	return nil
}

// Invalidate drops the cached token if rejected carried it.
func (p *oauthM2M) Invalidate(rejected *http.Request) {
	p.mu.Lock()
	defer p.mu.Unlock()
	if p.tok != nil && strings.HasSuffix(rejected.Header.Get("Authorization"), " "+p.tok.AccessToken) {
		p.tok, p.retryAt = nil, time.Time{}
	}
}

func (p *oauthM2M) fresh(t *oauth2.Token) bool {
	return t != nil && t.AccessToken != "" && (t.Expiry.IsZero() || p.now().Add(RefreshBefore).Before(t.Expiry))
}

// valid reports whether t has not expired yet (it may be due for refresh).
func (p *oauthM2M) valid(t *oauth2.Token) bool {
	return t != nil && t.AccessToken != "" && (t.Expiry.IsZero() || p.now().Before(t.Expiry))
}

// token returns a fresh token. One caller fetches; the others wait for its
// result. A waiter whose fetcher gave up because its own context ended
// fetches itself.
func (p *oauthM2M) token(ctx context.Context) (*oauth2.Token, error) {
	for {
		p.mu.Lock()
		if p.fresh(p.tok) || (p.valid(p.tok) && p.now().Before(p.retryAt)) {
			t := p.tok
			p.mu.Unlock()
			return t, nil
		}
		if f := p.inflight; f != nil {
			p.mu.Unlock()
			select {
			case <-f.done:
			case <-ctx.Done():
				return nil, ctx.Err()
			}
			if f.err == nil {
				return f.tok, nil
			}
			if isCtxErr(f.err) && ctx.Err() == nil {
				continue // the fetcher's caller went away, not ours
			}
			return nil, f.err
		}
		f := &fetch{done: make(chan struct{})}
		p.inflight = f
		p.fetches++
		p.mu.Unlock()

		f.tok, f.err = p.fetchToken(ctx)

		p.mu.Lock()
		switch {
		case f.err == nil:
			p.tok, p.retryAt = f.tok, time.Time{}
		case !isCtxErr(f.err) && p.valid(p.tok):
			// An early refresh failed: the current token still works
			// until it expires (as in databricks-sdk-py); try again later.
			f.tok, f.err = p.tok, nil
			p.retryAt = p.now().Add(refreshPause)
		}
		p.inflight = nil
		p.mu.Unlock()
		close(f.done)
		return f.tok, f.err
	}
}

func isCtxErr(err error) bool {
	return errors.Is(err, context.Canceled) || errors.Is(err, context.DeadlineExceeded)
}

func (p *oauthM2M) fetchToken(ctx context.Context) (*oauth2.Token, error) {
	tokenURL, err := p.discover(ctx)
	if err != nil {
		return nil, err
	}
	cc := p.cc
	cc.TokenURL = tokenURL
	tok, err := cc.Token(context.WithValue(ctx, oauth2.HTTPClient, p.http.HTTPClient()))
	if err != nil {
		return nil, fmt.Errorf("databricks oauth: get a token for client %s from %s: %s%s",
			p.clientID, tokenURL, p.http.Scrub(unwrapOAuthError(err)), tokenHint(err))
	}
	return tok, nil
}

// unwrapOAuthError drops the "oauth2: cannot fetch token: Post \"url\": "
// wrappers around our transport error.
func unwrapOAuthError(err error) string {
	var te *transport.Error
	if errors.As(err, &te) {
		return te.Error()
	}
	return err.Error()
}

func tokenHint(err error) string {
	switch transport.StatusCode(err) {
	case http.StatusBadRequest, http.StatusUnauthorized, http.StatusForbidden:
		return " (check DATABRICKS_CLIENT_ID and DATABRICKS_CLIENT_SECRET: the service principal's OAuth secret may be wrong, expired or revoked)"
	}
	return ""
}

// discover finds the token endpoint once: the host metadata's OIDC endpoint,
// else the workspace OIDC discovery document, else <host>/oidc/v1/token when
// the workspace serves no discovery document (404).
func (p *oauthM2M) discover(ctx context.Context) (string, error) {
	p.mu.Lock()
	u := p.tokenURL
	p.mu.Unlock()
	if u != "" {
		return u, nil
	}
	discovery := p.host + pathOIDCDiscovery
	var meta struct {
		OIDCEndpoint string `json:"oidc_endpoint"`
	}
	// The host metadata is a best-effort probe, asked once (as in
	// databricks-sdk-py): anything but a usable oidc_endpoint (an error
	// status, a login page, no answer) falls back to the workspace's
	// discovery document, which gets the retries.
	switch err := p.getJSON(ctx, p.host+pathHostMetadata, &meta, true); {
	case err == nil && meta.OIDCEndpoint != "" && !strings.Contains(meta.OIDCEndpoint, "{account_id}"):
		discovery = strings.TrimRight(meta.OIDCEndpoint, "/") + wellKnownAuthzSrv
	case err != nil && ctx.Err() != nil:
		return "", fmt.Errorf("databricks oauth: discover the token endpoint: %w", err)
	}
	var doc struct {
		TokenEndpoint string `json:"token_endpoint"`
	}
	err := p.getJSON(ctx, discovery, &doc, false)
	switch {
	case err == nil && doc.TokenEndpoint != "":
		u = doc.TokenEndpoint
	case err == nil || notFound(err):
		u = p.host + pathTokenFallback
	default:
		return "", fmt.Errorf("databricks oauth: discover the token endpoint: %w", err)
	}
	p.mu.Lock()
	p.tokenURL = u
	p.mu.Unlock()
	return u, nil
}

func notFound(err error) bool { return transport.StatusCode(err) == http.StatusNotFound }

func (p *oauthM2M) getJSON(ctx context.Context, url string, v any, once bool) error {
	resp, err := p.http.Do(ctx, &transport.Request{
		Method:  http.MethodGet,
		URL:     url,
		Header:  http.Header{"Accept": {"application/json"}},
		NoRetry: once,
	})
	if err != nil {
		return err
	}
	if err := json.Unmarshal(resp.Body, v); err != nil {
		return fmt.Errorf("get %s: malformed JSON", url)
	}
	return nil
}

// fetchCount returns how many token requests were made (tests).
func (p *oauthM2M) fetchCount() int {
	p.mu.Lock()
	defer p.mu.Unlock()
	return p.fetches
}
