package transport

import (
	"net/http"
	"net/url"
	"strings"
)

// Credentials authorise the requests a Client sends to its base URL: Authorize
// sets the request's Authorization header (or whatever the scheme needs).
// The Client calls it once per attempt, so a credential that rotates (an
// OAuth token, a token file) is read fresh on every retry, possibly from
// several goroutines at once: implementations must be safe for concurrent
// use. An error fails the attempt and is not retried (a token source retries
// its own requests). Requests to absolute URLs (Request.URL) are never
// authorised.
type Credentials interface {
	Authorize(req *http.Request) error
}

// CredentialsFunc adapts a function to Credentials, e.g. the Authenticate
// method of databricks-sdk-go's config.Config.
type CredentialsFunc func(req *http.Request) error

// Authorize calls f(req).
func (f CredentialsFunc) Authorize(req *http.Request) error { return f(req) }

// Refresher is implemented by Credentials that cache a token. When the server
// answers 401 to a request, the Client calls Invalidate with the rejected
// request and sends the call once more (once per call). Invalidate drops the
// cached token if it is still the one the rejected request carried, so the
// next Authorize fetches a new one while concurrent callers that already hold
// a newer token keep it: N workers rejected with the same expired token cause
// one refresh.
type Refresher interface {
	Credentials
	Invalidate(rejected *http.Request)
}

// redactURL returns u without its query and fragment, for messages: signed
// URLs carry their signature (a secret) in the query.
func redactURL(u *url.URL) string {
	r := url.URL{Scheme: u.Scheme, Host: u.Host, Path: u.Path, RawPath: u.RawPath}
	return r.String()
}

// querySecrets returns the values of u's query parameters that may carry a
// secret (signed URLs: X-Amz-Signature, X-Goog-Signature, Azure SAS sig, ...);
// every value of at least 8 characters is treated as one.
func querySecrets(u *url.URL) []string {
	var out []string
	if u.RawQuery != "" {
		out = append(out, u.RawQuery)
	}
	for _, vs := range u.Query() {
		for _, v := range vs {
			if len(v) >= 8 {
				out = append(out, v, url.QueryEscape(v))
			}
		}
	}
	return out
}

// authSecrets returns the credential values Authorize put on hreq, to be
// scrubbed from this attempt's error.
func authSecrets(h http.Header) []string {
	var out []string
	for k, vs := range h {
		if !isSecretHeader(k) {
			continue
		}
		for _, v := range vs {
			if len(v) >= 3 {
				out = append(out, v)
			}
			if i := strings.LastIndexByte(v, ' '); i >= 0 && len(v)-i > 4 {
				out = append(out, v[i+1:])
			}
		}
	}
	return out
}
